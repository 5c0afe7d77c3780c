export {
  CacheConfigError,
  CacheDisposedError,
  InvalidCacheKeyError,
  InvalidCacheTtlError,
  InvalidCacheValueError,
} from "./errors.js";
export { type MemoryStoreOptions, memoryStore } from "./memory.js";
export type { CachePlacement, CacheStore } from "./store.js";
export {
  createTenantCache,
  MAX_CACHE_KEY_LENGTH,
  type TenantCache,
  type TenantCacheOptions,
  type TenantCacheScope,
} from "./tenant-cache.js";
// The Redis store is `omnitenant/cache/redis` (src/cache/redis.ts), kept out of here so ioredis stays unloaded.
