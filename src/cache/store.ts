import { InvalidCacheKeyError, InvalidCacheTtlError, InvalidCacheValueError } from "./errors.js";

/** Where a tenant's cache lives when its `config.cache` names its own Redis database or server. */
export interface CachePlacement {
  /** Redis logical database number (`config.cache.redisDb`). */
  db?: number;
  /** Redis URL read from the environment (`config.cache.redisUrlEnv`). Held in memory only, never logged. */
  url?: string;
}

/**
 * A cache store: a few verbs over raw keys. Tenancy (prefixes, placement) is the tenant cache's job.
 *
 * Values are serialized with `JSON.stringify` and read back with `JSON.parse`, in every store (the memory
 * store too, so it behaves like Redis): a `Date` comes back as a string, a `Map` as `{}`, `undefined`,
 * functions, symbols, `BigInt` and cycles cannot be stored.
 */
export interface CacheStore {
  readonly name: string;
  /** The value, or `undefined` when the key is missing or expired. */
  get<T = unknown>(key: string): Promise<T | undefined>;
  /** Stores `value`, replacing any previous value and TTL; `ttlMs` omitted means no expiry. */
  set(key: string, value: unknown, ttlMs?: number): Promise<void>;
  has(key: string): Promise<boolean>;
  /** Whether a key was removed. */
  delete(key: string): Promise<boolean>;
  /** Removes every key starting with `prefix` (non-empty); returns how many. Never flushes a database. */
  deleteByPrefix(prefix: string): Promise<number>;
  /** A store for a dedicated Redis database or server; stores that cannot place keys leave it out. */
  forPlacement?(placement: CachePlacement): CacheStore;
  /** Releases what the store opened (clients it created, timers, memory). */
  dispose(): Promise<void>;
}

/** Serializes a value for storage; throws `InvalidCacheValueError` for what JSON cannot carry. */
export function encodeValue(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (cause) {
    throw new InvalidCacheValueError(
      `Cannot cache this value: ${cause instanceof Error ? cause.message : String(cause)}. Cache values must be JSON-serializable.`,
      { cause },
    );
  }
  if (text === undefined) {
    throw new InvalidCacheValueError(
      `Cannot cache a value of type ${typeof value}: cache values must be JSON-serializable (use delete() to remove a key).`,
    );
  }
  return text;
}

/** Parses a stored value; `null`/`undefined` (missing) reads as `undefined`. */
export function decodeValue<T>(text: string | null | undefined, key: string): T | undefined {
  if (text === null || text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch (cause) {
    throw new InvalidCacheValueError(
      `The cached value under ${JSON.stringify(key.slice(0, 80))} is not JSON: was it written by something other than omnitenant? Delete the key or use another prefix.`,
      { cause },
    );
  }
}

/** Validates a TTL and rounds it up to whole milliseconds; `undefined` means no expiry. */
export function ttlOf(ttlMs: number | undefined): number | undefined {
  if (ttlMs === undefined) return undefined;
  if (typeof ttlMs !== "number" || !Number.isFinite(ttlMs) || ttlMs <= 0)
    throw new InvalidCacheTtlError(ttlMs);
  return Math.ceil(ttlMs);
}

/** A `deleteByPrefix` prefix must be a non-empty string: an empty one would delete every key. */
export function assertPrefix(prefix: string): void {
  if (typeof prefix !== "string" || prefix.length === 0) {
    throw new InvalidCacheKeyError(
      prefix,
      "a deletion prefix must be a non-empty string (an empty one would match every key)",
    );
  }
}
