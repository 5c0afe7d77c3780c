import { CacheConfigError } from "./errors.js";
import {
  assertPrefix,
  type CachePlacement,
  type CacheStore,
  decodeValue,
  encodeValue,
  ttlOf,
} from "./store.js";

export interface MemoryStoreOptions {
  /** Most entries kept; past it the least recently used go first. Default 10,000. */
  maxEntries?: number;
}

interface Entry {
  text: string;
  expiresAt: number;
}

/**
 * An in-process cache store: a `Map` holding JSON text, expired lazily (on read) and bounded by
 * `maxEntries` (least recently used out first). For tests and single-process apps.
 *
 * `forPlacement()` returns a separate memory store per Redis db / URL, so tenants configured with their own
 * Redis database stay apart the same way in tests.
 *
 * @example
 * import { createTenantCache, memoryStore } from "omnitenant/cache";
 * const cache = createTenantCache({ store: memoryStore({ maxEntries: 1_000 }) });
 */
export function memoryStore({ maxEntries = 10_000 }: MemoryStoreOptions = {}): CacheStore {
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new CacheConfigError(
      `memoryStore: maxEntries must be a positive integer, got ${String(maxEntries)}.`,
    );
  }
  const data = new Map<string, Entry>();
  const placed = new Map<string, CacheStore>();

  const live = (key: string): Entry | undefined => {
    const entry = data.get(key);
    if (entry !== undefined && entry.expiresAt <= Date.now()) {
      data.delete(key);
      return undefined;
    }
    return entry;
  };

  return {
    name: "memory",
    async get<T>(key: string) {
      const entry = live(key);
      if (entry === undefined) return undefined;
      data.delete(key); // re-insert: Map order doubles as recency
      data.set(key, entry);
      return decodeValue<T>(entry.text, key);
    },
    async set(key, value, ttlMs) {
      const text = encodeValue(value);
      const ttl = ttlOf(ttlMs);
      data.delete(key);
      data.set(key, { text, expiresAt: ttl === undefined ? Number.POSITIVE_INFINITY : Date.now() + ttl });
      for (const oldest of data.keys()) {
        if (data.size <= maxEntries) break;
        data.delete(oldest);
      }
    },
    async has(key) {
      return live(key) !== undefined;
    },
    async delete(key) {
      return live(key) !== undefined && data.delete(key);
    },
    async deleteByPrefix(prefix) {
      assertPrefix(prefix);
      const now = Date.now();
      let removed = 0;
      for (const [key, entry] of data) {
        if (!key.startsWith(prefix)) continue;
        data.delete(key);
        if (entry.expiresAt > now) removed++;
      }
      return removed;
    },
    forPlacement({ db, url }: CachePlacement) {
      const id = `${db ?? ""}\u0000${url ?? ""}`;
      let store = placed.get(id);
      if (store === undefined) {
        store = memoryStore({ maxEntries });
        placed.set(id, store);
      }
      return store;
    },
    async dispose() {
      data.clear();
      await Promise.all([...placed.values()].map((store) => store.dispose()));
      placed.clear();
    },
  };
}
