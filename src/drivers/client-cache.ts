import type { Sql } from "postgres";

export interface ClientCacheOptions {
  /** Open clients at most (a hard cap): a new tenant evicts the least recently used idle client. */
  maxClients?: number;
  /** Milliseconds after which an unused client is closed by the sweep. 0 turns the sweep off. */
  idleTimeoutMs?: number;
  /** Milliseconds a query may wait for a client when every open client is busy. */
  acquireTimeoutMs?: number;
}

interface Entry {
  key: string;
  sql: Sql;
  inflight: number;
  lastUsed: number;
}

export class ClientPoolExhaustedError extends Error {
  readonly code = "CLIENT_POOL_EXHAUSTED";
}

/**
 * A bounded set of postgres.js clients, one a key (a tenant database). A hard cap that refuses tenant cap+1
 * is an outage, and evicting a client that still runs queries lets closing clients pile up past any bound,
 * so: at the cap, the least recently used client with nothing in flight is closed to make room; when every
 * client is busy, the caller waits (bounded) for one to become idle. Open clients never exceed the cap.
 */
export class ClientCache {
  // Map iteration order is insertion order: re-inserting on use keeps the least recently used first.
  readonly #entries = new Map<string, Entry>();
  readonly #waiters: Array<() => void> = [];
  readonly #closing = new Set<Promise<void>>();
  readonly #sweep: NodeJS.Timeout | undefined;
  readonly #maxClients: number;
  readonly #acquireTimeoutMs: number;
  #evictions = 0;
  #peak = 0;

  constructor(
    private readonly open: (key: string) => Sql,
    { maxClients = 50, idleTimeoutMs = 5 * 60_000, acquireTimeoutMs = 30_000 }: ClientCacheOptions = {},
  ) {
    if (!Number.isInteger(maxClients) || maxClients < 1)
      throw new RangeError("maxClients must be a positive integer");
    this.#maxClients = maxClients;
    this.#acquireTimeoutMs = acquireTimeoutMs;
    if (idleTimeoutMs > 0) {
      this.#sweep = setInterval(() => this.sweep(idleTimeoutMs), Math.min(idleTimeoutMs, 60_000));
      this.#sweep.unref();
    }
  }

  /** Runs `fn` with the client of `key`, which cannot be evicted until `fn` settles. */
  async use<T>(key: string, fn: (sql: Sql) => PromiseLike<T>): Promise<T> {
    // Claimed (inflight > 0) synchronously on lookup, so no concurrent eviction can pick it in between.
    const entry = this.#claim(key) ?? (await this.#make(key));
    try {
      return await fn(entry.sql);
    } finally {
      entry.inflight--;
      entry.lastUsed = Date.now();
      if (entry.inflight === 0) this.#waiters.shift()?.();
    }
  }

  has(key: string): boolean {
    return this.#entries.has(key);
  }

  /** Closes the client of `key` once its in-flight queries end; the next `use` opens a new one. */
  async evict(key: string): Promise<void> {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    await this.#close(entry);
  }

  sweep(idleTimeoutMs: number): void {
    const cutoff = Date.now() - idleTimeoutMs;
    for (const entry of [...this.#entries.values()]) {
      if (entry.inflight === 0 && entry.lastUsed < cutoff) {
        this.#entries.delete(entry.key);
        void this.#close(entry);
      }
    }
  }

  stats(): { open: number; peak: number; evictions: number; waiting: number } {
    return {
      open: this.#entries.size,
      peak: this.#peak,
      evictions: this.#evictions,
      waiting: this.#waiters.length,
    };
  }

  async close(): Promise<void> {
    if (this.#sweep) clearInterval(this.#sweep);
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.allSettled([...entries.map((e) => this.#close(e)), ...this.#closing]);
  }

  #claim(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#touch(entry);
    entry.inflight++;
    return entry;
  }

  async #make(key: string): Promise<Entry> {
    const deadline = Date.now() + this.#acquireTimeoutMs;
    for (;;) {
      const existing = this.#claim(key);
      if (existing) return existing;
      if (this.#entries.size < this.#maxClients || this.#evictIdle()) {
        const entry: Entry = { key, sql: this.open(key), inflight: 1, lastUsed: Date.now() };
        this.#entries.set(key, entry);
        this.#peak = Math.max(this.#peak, this.#entries.size);
        return entry;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new ClientPoolExhaustedError(
          `all ${this.#maxClients} tenant database clients stayed busy for ${this.#acquireTimeoutMs} ms; raise database.maxClients`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, remaining);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.#waiters.push(done);
      });
    }
  }

  #evictIdle(): boolean {
    for (const entry of this.#entries.values()) {
      if (entry.inflight === 0) {
        this.#entries.delete(entry.key);
        void this.#close(entry);
        return true;
      }
    }
    return false;
  }

  #touch(entry: Entry): void {
    this.#entries.delete(entry.key);
    this.#entries.set(entry.key, entry);
  }

  #close(entry: Entry): Promise<void> {
    this.#evictions++;
    const closing = entry.sql
      .end({ timeout: 30 })
      .catch(() => {})
      .finally(() => this.#closing.delete(closing));
    this.#closing.add(closing);
    return closing;
  }
}
