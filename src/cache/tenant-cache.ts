import { TenantContext } from "../context.js";
import { assertTenantId } from "../tenant-id.js";
import type { Tenant } from "../types.js";
import { CacheConfigError, CacheDisposedError, InvalidCacheKeyError } from "./errors.js";
import { type CachePlacement, type CacheStore, decodeValue, encodeValue, ttlOf } from "./store.js";

/** Longest key accepted, in characters (the tenant and global prefixes come on top). */
export const MAX_CACHE_KEY_LENGTH = 1024;
const MAX_PREFIX_LENGTH = 128;
const PREFIX_CHARS = /^[\x21-\x7e]*$/; // printable ASCII, no spaces
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface TenantCacheOptions {
  /** Where keys go; the cache owns it and disposes it (with the per-db/URL clients it opened). */
  store: CacheStore;
  /** Global prefix in front of every tenant's prefix: `app:` gives `app:acme:key`. Default none. */
  prefix?: string;
  /**
   * Picks a store per tenant, before `config.cache.redisDb` / `redisUrlEnv` are looked at; return
   * `undefined` for the default. Stores it returns stay yours (not disposed). Keys are prefixed there too.
   */
  storeFor?: (tenant: Tenant) => CacheStore | undefined;
}

/** The cache verbs, bound to one tenant. */
export interface TenantCacheScope {
  get<T = unknown>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown, options?: { ttlMs?: number }): Promise<void>;
  has(key: string): Promise<boolean>;
  delete(key: string): Promise<boolean>;
  /** Deletes this tenant's keys only (a prefix scan, also in a dedicated Redis db); returns how many. */
  clear(): Promise<number>;
  /** The cached value, or `fn()`'s result stored for `ttlMs` (concurrent misses in this process share one call). */
  remember<T>(key: string, ttlMs: number, fn: () => T | Promise<T>): Promise<T>;
}

export interface TenantCache extends TenantCacheScope {
  /** The same verbs for an explicit tenant, e.g. from a job or an admin task without a tenant context. */
  forTenant(tenant: Tenant): TenantCacheScope;
  /** Disposes the store (closing clients it opened). */
  dispose(): Promise<void>;
}

/**
 * A cache where every tenant has its own key space: `<prefix><tenantId>:<key>`, or the tenant's
 * `config.cache.prefix`, in the tenant's own Redis database (`config.cache.redisDb`) or server
 * (`config.cache.redisUrlEnv`, the name of an environment variable holding the URL) when its config says so.
 *
 * The tenant is the current one (`TenantContext`) or an explicit one (`forTenant`); with neither, every verb
 * rejects with `NoTenantContextError`: nothing is ever written to an unprefixed, shared key space.
 * `clear()` always deletes by prefix scan, also in a Redis database dedicated to the tenant (it never runs
 * `FLUSHDB`, which would take keys that are not the cache's). Values are JSON (see `CacheStore`); custom
 * prefixes must end with `:` and must not be a prefix of another tenant's.
 *
 * @example
 * import { TenantContext } from "omnitenant";
 * import { createTenantCache, memoryStore } from "omnitenant/cache";
 *
 * const cache = createTenantCache({ store: memoryStore(), prefix: "app:" });
 * const tenant = { tenantId: "acme", name: "Acme", isolation: "schema", config: {}, createdAt: null } as const;
 * await TenantContext.use(tenant, async () => {
 *   await cache.set("plan", { seats: 10 }, { ttlMs: 60_000 }); // key "app:acme:plan"
 *   const plan = await cache.remember("plan", 60_000, () => ({ seats: 10 }));
 *   await cache.clear(); // acme's keys only
 * });
 * await cache.forTenant(tenant).get("plan"); // undefined
 */
export function createTenantCache({ store, prefix = "", storeFor }: TenantCacheOptions): TenantCache {
  checkPrefix(prefix, "createTenantCache: prefix");
  let disposed = false;
  const pending = new WeakMap<CacheStore, Map<string, Promise<unknown>>>();

  /** Store and full key prefix of a tenant, resolved afresh for every call (config or env may change). */
  const target = (tenant: Tenant): { store: CacheStore; prefix: string } => {
    if (disposed) throw new CacheDisposedError();
    assertTenantId(tenant?.tenantId);
    const config: unknown = tenant.config?.cache ?? {};
    if (typeof config !== "object") throw tenantConfigError(tenant, "config.cache must be an object");
    const { prefix: own, redisDb, redisUrlEnv } = config as Record<string, unknown>;
    if (own !== undefined) checkPrefix(own, `tenant "${tenant.tenantId}": config.cache.prefix`, true);
    const full = `${prefix}${(own as string | undefined) ?? `${tenant.tenantId}:`}`;
    const chosen = storeFor?.(tenant);
    if (chosen !== undefined) return { store: chosen, prefix: full };
    const placement: CachePlacement = {};
    if (redisDb !== undefined) {
      if (!Number.isSafeInteger(redisDb) || (redisDb as number) < 0) {
        throw tenantConfigError(tenant, "config.cache.redisDb must be a non-negative integer");
      }
      placement.db = redisDb as number;
    }
    if (redisUrlEnv !== undefined) {
      if (typeof redisUrlEnv !== "string" || !ENV_NAME.test(redisUrlEnv)) {
        throw tenantConfigError(
          tenant,
          "config.cache.redisUrlEnv must be the name of an environment variable",
        );
      }
      const url = process.env[redisUrlEnv];
      if (!url) {
        throw tenantConfigError(
          tenant,
          `the environment variable ${redisUrlEnv} (config.cache.redisUrlEnv) is not set`,
        );
      }
      placement.url = url;
    }
    if (placement.db === undefined && placement.url === undefined) return { store, prefix: full };
    if (store.forPlacement === undefined) {
      throw tenantConfigError(
        tenant,
        `config.cache names its own Redis database or server, which the "${store.name}" store cannot provide; use redisStore() or pass storeFor`,
      );
    }
    return { store: store.forPlacement(placement), prefix: full };
  };

  const scope = (tenantOf: () => Tenant): TenantCacheScope => {
    const at = (key: string) => {
      const { store: where, prefix: keyPrefix } = target(tenantOf());
      checkKey(key);
      return { where, key: keyPrefix + key };
    };
    return {
      async get<T>(key: string) {
        const { where, key: full } = at(key);
        return where.get<T>(full);
      },
      async set(key, value, options) {
        const { where, key: full } = at(key);
        await where.set(full, value, options?.ttlMs);
      },
      async has(key) {
        const { where, key: full } = at(key);
        return where.has(full);
      },
      async delete(key) {
        const { where, key: full } = at(key);
        return where.delete(full);
      },
      async clear() {
        const { store: where, prefix: keyPrefix } = target(tenantOf());
        return where.deleteByPrefix(keyPrefix);
      },
      async remember<T>(key: string, ttlMs: number, fn: () => T | Promise<T>): Promise<T> {
        ttlOf(ttlMs);
        const { where, key: full } = at(key);
        const hit = await where.get<T>(full);
        if (hit !== undefined) return hit;
        let inFlight = pending.get(where);
        if (inFlight === undefined) {
          inFlight = new Map();
          pending.set(where, inFlight);
        }
        const running = inFlight.get(full);
        if (running !== undefined) return running as Promise<T>;
        const compute = (async () => {
          const value = await fn();
          if (value === undefined) return value;
          const text = encodeValue(value);
          await at(key).where.set(full, value, ttlMs); // re-resolved: the store may have been evicted meanwhile
          return decodeValue<T>(text, full) as T; // what later hits will return, so a miss looks the same
        })();
        inFlight.set(full, compute);
        try {
          return await compute;
        } finally {
          inFlight.delete(full);
        }
      },
    };
  };

  const current = scope(() => TenantContext.require("The tenant cache"));
  return {
    ...current,
    forTenant(tenant) {
      assertTenantId(tenant?.tenantId);
      return scope(() => tenant);
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await store.dispose();
    },
  };
}

function checkKey(key: unknown): asserts key is string {
  if (typeof key !== "string") throw new InvalidCacheKeyError(key, `it must be a string, got ${typeof key}`);
  if (key.length === 0) throw new InvalidCacheKeyError(key, "it is empty");
  if (key.length > MAX_CACHE_KEY_LENGTH) {
    throw new InvalidCacheKeyError(
      key,
      `it is ${key.length} characters long (at most ${MAX_CACHE_KEY_LENGTH})`,
    );
  }
}

function checkPrefix(value: unknown, what: string, tenantPrefix = false): asserts value is string {
  const fail = (reason: string) => new CacheConfigError(`${what} ${reason}.`);
  if (typeof value !== "string") throw fail("must be a string");
  if (value.length > MAX_PREFIX_LENGTH) throw fail(`must be at most ${MAX_PREFIX_LENGTH} characters`);
  if (!PREFIX_CHARS.test(value)) throw fail("may only contain printable ASCII characters without spaces");
  if (tenantPrefix && !/^.+:$/.test(value)) {
    throw fail(
      `must be non-empty and end with ":" (e.g. "acme:"), or clearing it would also match other keys`,
    );
  }
}

function tenantConfigError(tenant: Tenant, reason: string): CacheConfigError {
  return new CacheConfigError(`The cache of tenant "${tenant.tenantId}" cannot be placed: ${reason}.`);
}
