import { type TenantEvents, tenantEvents } from "./events.js";
import { LruMap } from "./lru.js";
import { assertTenantId, normalizeDomain } from "./tenant-id.js";
import type { Domain, IsolationMode, Tenant } from "./types.js";

/** Where tenant records are kept (the master database); one implementation a dialect. */
export interface TenantStore<T extends Tenant = Tenant> {
  byId(tenantId: string): Promise<T | undefined>;
  byDomain(domain: string): Promise<T | undefined>;
  list(filter?: { isolation?: IsolationMode }): Promise<T[]>;
  domainsOf(tenantId: string): Promise<Domain[]>;
}

export interface RegistryOptions {
  /** Milliseconds a lookup is trusted; bounds how stale another process's change can be seen. */
  ttlMs?: number;
  /** Lookups kept at most. */
  maxEntries?: number;
}

interface Cached<T> {
  value: T | undefined;
  expires: number;
}

/**
 * Tenant lookup by id and by domain, cached with a TTL and a size bound (unknown hosts are cached too, so
 * a flood of them does not reach the database). Changes made through omnitenant invalidate it at once.
 */
export class TenantRegistry<T extends Tenant = Tenant> {
  readonly #cache: LruMap<string, Cached<T>>;
  readonly #inflight = new Map<string, Promise<T | undefined>>();
  readonly #ttlMs: number;

  readonly #unsubscribe: Array<() => void>;

  constructor(
    readonly store: TenantStore<T>,
    { ttlMs = 30_000, maxEntries = 10_000 }: RegistryOptions = {},
    events: TenantEvents = tenantEvents,
  ) {
    this.#ttlMs = ttlMs;
    this.#cache = new LruMap(maxEntries);
    // Changes made through any omnitenant instance in this process are seen at once; other processes'
    // changes after at most ttlMs.
    const invalidate = () => this.invalidate();
    this.#unsubscribe = (["tenant:created", "tenant:updated", "tenant:deleted"] as const).map((event) =>
      events.on(event, invalidate),
    );
  }

  /** Stops listening to lifecycle events (called by the instance's close()). */
  close(): void {
    for (const off of this.#unsubscribe) off();
    this.invalidate();
  }

  /** The tenant with this id, or undefined. Throws `InvalidTenantIdError` before any SQL for a bad id. */
  async get(tenantId: string): Promise<T | undefined> {
    assertTenantId(tenantId);
    return this.#cached(`id:${tenantId}`, () => this.store.byId(tenantId));
  }

  /** The tenant owning `domain` (port, case and a leading `www.` ignored), or undefined. */
  async getByDomain(domain: string): Promise<T | undefined> {
    const host = normalizeDomain(domain);
    return this.#cached(`domain:${host}`, () => this.store.byDomain(host));
  }

  /**
   * The cached lookup of `domain` when it is fresh: `{ value }` (value undefined for a known-unknown host),
   * else undefined. Synchronous, so request middleware can skip promises on the hot path.
   */
  cachedByDomain(domain: string): { value: T | undefined } | undefined {
    const hit = this.#cache.get(`domain:${normalizeDomain(domain)}`);
    return hit && hit.expires > Date.now() ? hit : undefined;
  }

  list(filter?: { isolation?: IsolationMode }): Promise<T[]> {
    return this.store.list(filter);
  }

  async domainsOf(tenantId: string): Promise<Domain[]> {
    assertTenantId(tenantId);
    return this.store.domainsOf(tenantId);
  }

  /** Drops every cached lookup (tenant or domain changes are rare; being precise is not worth the risk). */
  invalidate(): void {
    this.#cache.clear();
    this.#inflight.clear();
  }

  #cached(key: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
    const hit = this.#cache.get(key);
    if (hit && hit.expires > Date.now()) return Promise.resolve(hit.value);
    const pending = this.#inflight.get(key);
    if (pending) return pending;
    const loading = load().then(
      (value) => {
        if (this.#inflight.get(key) === loading) {
          this.#cache.set(key, { value, expires: Date.now() + this.#ttlMs });
          this.#inflight.delete(key);
        }
        return value;
      },
      (error: unknown) => {
        this.#inflight.delete(key);
        throw error;
      },
    );
    this.#inflight.set(key, loading);
    return loading;
  }
}
