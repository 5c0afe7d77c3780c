import { OmnitenantError } from "../errors.js";

/** A cache key (or key prefix) that is not a non-empty string of bounded length. */
export class InvalidCacheKeyError extends OmnitenantError {
  override readonly code = "INVALID_CACHE_KEY";
  constructor(
    readonly key: unknown,
    reason: string,
  ) {
    super(`Invalid cache key ${JSON.stringify(String(key)).slice(0, 80)}: ${reason}.`);
  }
}

/** A value the cache cannot store: values are serialized with JSON. */
export class InvalidCacheValueError extends OmnitenantError {
  override readonly code = "INVALID_CACHE_VALUE";
}

/** A TTL that is not a positive, finite number of milliseconds. */
export class InvalidCacheTtlError extends OmnitenantError {
  override readonly code = "INVALID_CACHE_TTL";
  constructor(readonly ttlMs: unknown) {
    super(
      `Invalid cache TTL ${String(ttlMs)}: it must be a positive, finite number of milliseconds. Omit it for no expiry.`,
    );
  }
}

/** Cache options or a tenant's `config.cache` that cannot be honoured. Never carries a Redis URL. */
export class CacheConfigError extends OmnitenantError {
  override readonly code = "CACHE_CONFIG";
}

/** The cache (or its store) was used after `dispose()`. */
export class CacheDisposedError extends OmnitenantError {
  override readonly code = "CACHE_DISPOSED";
  constructor() {
    super("The cache was used after dispose(). Create a new one, or dispose it only at shutdown.");
  }
}
