import { Redis } from "ioredis";
import { LruMap } from "../lru.js";
import { CacheConfigError, CacheDisposedError } from "./errors.js";
import {
  assertPrefix,
  type CachePlacement,
  type CacheStore,
  decodeValue,
  encodeValue,
  ttlOf,
} from "./store.js";

export interface RedisStoreOptions {
  /** Your ioredis client; you keep ownership (dispose() does not close it). */
  client?: Redis;
  /** Redis URL for a client the store opens (and closes on dispose). Never logged. Default 127.0.0.1:6379. */
  url?: string;
  /** Most extra clients kept open for tenants with their own Redis db or server; LRU beyond. Default 16. */
  maxClients?: number;
  /** SCAN COUNT hint and so UNLINK batch size for deleteByPrefix. Default 500. */
  batchSize?: number;
}

/** Escapes Redis glob characters (`* ? [ ] \`) so `text` matches itself literally in SCAN MATCH. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}

/**
 * A cache store over ioredis: values as JSON strings, TTL with `SET … PX`, `deleteByPrefix` with
 * `SCAN MATCH <escaped prefix>*` and `UNLINK` in batches (never `KEYS`, never `FLUSHDB`).
 *
 * `forPlacement({ db, url })` gives tenants whose `config.cache` names `redisDb` / `redisUrlEnv` their own
 * client, opened on first use, cached per db/URL (at most `maxClients`, least recently used closed once its
 * in-flight commands end) and closed by `dispose()`. Errors of clients the store opens are not logged; they
 * surface as rejected commands. Import it from `omnitenant/cache/redis`, so apps without Redis never load
 * ioredis.
 *
 * @example
 * import { createTenantCache } from "omnitenant/cache";
 * import { redisStore } from "omnitenant/cache/redis";
 * const cache = createTenantCache({ store: redisStore({ url: process.env.REDIS_URL }), prefix: "app:" });
 */
export function redisStore({
  client: given,
  url,
  maxClients = 16,
  batchSize = 500,
}: RedisStoreOptions = {}): CacheStore {
  for (const [name, value] of [
    ["maxClients", maxClients],
    ["batchSize", batchSize],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new CacheConfigError(`redisStore: ${name} must be a positive integer, got ${String(value)}.`);
    }
  }
  const client = given ?? quiet(url === undefined ? new Redis() : new Redis(url));
  const closing = new Set<Promise<void>>();
  const placed = new LruMap<string, Placed>(maxClients, (_id, entry) => {
    const done = entry.retire();
    closing.add(done);
    void done.finally(() => closing.delete(done));
  });
  let disposed = false;

  const open = (placement: CachePlacement): Redis => {
    if (placement.url === undefined) return quiet(client.duplicate({ db: placement.db }));
    if (placement.db === undefined) return quiet(new Redis(placement.url));
    // The tenant's redisDb wins over a db in the URL's path: parse the URL without connecting, then override.
    return quiet(
      new Redis(placement.url, { lazyConnect: true }).duplicate({ db: placement.db, lazyConnect: false }),
    );
  };

  const store: CacheStore = {
    ...verbs(client, batchSize),
    forPlacement(placement) {
      if (disposed) throw new CacheDisposedError();
      const { db, url: placeUrl } = placement;
      if (placeUrl === undefined && (db === undefined || db === (client.options.db ?? 0))) return store;
      const id = `${db ?? ""}\u0000${placeUrl ?? ""}`;
      let entry = placed.get(id);
      if (entry === undefined) {
        entry = tracked(open(placement), batchSize);
        placed.set(id, entry);
      }
      return entry.store;
    },
    async dispose() {
      disposed = true;
      placed.clear();
      await Promise.all([...closing, given === undefined ? close(client) : undefined]);
    },
  };
  return store;
}

interface Placed {
  store: CacheStore;
  /** Closes the client once no command of this store is in flight. */
  retire(): Promise<void>;
}

/** The five verbs over one client. */
function verbs(client: Redis, batchSize: number): Omit<CacheStore, "dispose" | "forPlacement"> {
  // ioredis adds keyPrefix to key arguments but not to SCAN patterns, and SCAN returns prefixed keys.
  const keyPrefix = client.options.keyPrefix ?? "";
  return {
    name: "redis",
    async get<T>(key: string) {
      return decodeValue<T>(await client.get(key), key);
    },
    async set(key, value, ttlMs) {
      const text = encodeValue(value);
      const ttl = ttlOf(ttlMs);
      if (ttl === undefined) await client.set(key, text);
      else await client.set(key, text, "PX", ttl);
    },
    async has(key) {
      return (await client.exists(key)) > 0;
    },
    async delete(key) {
      return (await client.unlink(key)) > 0;
    },
    async deleteByPrefix(prefix) {
      assertPrefix(prefix);
      const match = `${escapeGlob(keyPrefix + prefix)}*`;
      let cursor = "0";
      let removed = 0;
      do {
        const [next, keys] = await client.scan(cursor, "MATCH", match, "COUNT", batchSize);
        cursor = next;
        if (keys.length > 0)
          removed += await client.unlink(...keys.map((key) => key.slice(keyPrefix.length)));
      } while (cursor !== "0");
      return removed;
    },
  };
}

/** A store over a client the redis store opened, counting in-flight commands so eviction never cuts one. */
function tracked(client: Redis, batchSize: number): Placed {
  const inner = verbs(client, batchSize);
  let inFlight = 0;
  let onIdle: (() => void) | undefined;
  const run = async <R>(op: () => Promise<R>): Promise<R> => {
    inFlight++;
    try {
      return await op();
    } finally {
      if (--inFlight === 0) onIdle?.();
    }
  };
  const retire = async () => {
    if (inFlight > 0) {
      await new Promise<void>((resolve) => {
        onIdle = resolve;
      });
    }
    await close(client);
  };
  return {
    retire,
    store: {
      name: "redis",
      get: <T>(key: string) => run(() => inner.get<T>(key)),
      set: (key, value, ttlMs) => run(() => inner.set(key, value, ttlMs)),
      has: (key) => run(() => inner.has(key)),
      delete: (key) => run(() => inner.delete(key)),
      deleteByPrefix: (prefix) => run(() => inner.deleteByPrefix(prefix)),
      dispose: async () => {}, // owned by the parent store: closed by eviction or by its dispose()
    },
  };
}

/** Errors of clients we open surface as rejected commands, not as log lines (they could name the host). */
function quiet(client: Redis): Redis {
  client.on("error", () => {});
  return client;
}

async function close(client: Redis): Promise<void> {
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}
