import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  CacheConfigError,
  CacheDisposedError,
  type CacheStore,
  createTenantCache,
  InvalidCacheKeyError,
  InvalidCacheTtlError,
  InvalidCacheValueError,
  MAX_CACHE_KEY_LENGTH,
  type TenantCache,
} from "../../src/cache/index.js";
import { TenantContext } from "../../src/context.js";
import { InvalidTenantIdError, NoTenantContextError } from "../../src/errors.js";
import { acme, fakeTenant } from "./helpers.js";

const acme2 = fakeTenant("acme-2");
const globex = fakeTenant("globex");
const acmeDb10 = fakeTenant("acme", { redisDb: 10 });

/**
 * The isolation guarantees every store must give through the tenant cache. `makeStore` returns a fresh
 * store; `runPrefix` is unique to the run, each test adds its own segment and deletes it afterwards.
 */
export function tenantCacheContract(label: string, makeStore: () => CacheStore, runPrefix: string): void {
  describe(`tenant cache over the ${label} store`, () => {
    let n = 0;
    let p: string;
    let store: CacheStore;
    let cache: TenantCache;

    beforeEach(() => {
      p = `${runPrefix}${n++}:`;
      store = makeStore();
      cache = createTenantCache({ store, prefix: p });
    });

    afterEach(async () => {
      await store.deleteByPrefix(p);
      await store.forPlacement?.({ db: 10 }).deleteByPrefix(p);
      await cache.dispose();
    });

    it("gives two tenants setting the same key their own values", async () => {
      await TenantContext.use(acme, () => cache.set("plan", "gold"));
      await TenantContext.use(globex, () => cache.set("plan", { tier: "silver" }));

      expect(await TenantContext.use(acme, () => cache.get("plan"))).toBe("gold");
      expect(await TenantContext.use(globex, () => cache.get("plan"))).toEqual({ tier: "silver" });
      expect(await cache.forTenant(globex).get("plan")).toEqual({ tier: "silver" });
      expect(await TenantContext.use(acme, () => cache.has("plan"))).toBe(true);
      expect(await TenantContext.use(acme2, () => cache.has("plan"))).toBe(false);
      // layout: <global prefix><tenant id>:<key>
      expect(await store.get(`${p}acme:plan`)).toBe("gold");
      expect(await store.get(`${p}globex:plan`)).toEqual({ tier: "silver" });

      expect(await TenantContext.use(acme, () => cache.delete("plan"))).toBe(true);
      expect(await TenantContext.use(acme, () => cache.delete("plan"))).toBe(false);
      expect(await cache.forTenant(globex).get("plan")).toEqual({ tier: "silver" });
    });

    it("uses the explicit tenant of forTenant() over the current one", async () => {
      await TenantContext.use(acme, () => cache.forTenant(globex).set("k", 1));
      expect(await cache.forTenant(acme).get("k")).toBeUndefined();
      expect(await cache.forTenant(globex).get("k")).toBe(1);
    });

    it("clear() deletes the current tenant's keys only, even next to a tenant whose id it prefixes", async () => {
      await TenantContext.use(acme, async () => {
        await cache.set("a", 1);
        await cache.set("b", 2, { ttlMs: 60_000 });
      });
      await cache.forTenant(acme2).set("a", "acme-2's");
      await cache.forTenant(globex).set("a", "globex's");
      // unrelated keys that share text with acme's prefix
      await store.set(`${p}acme-2:raw`, "raw");
      await store.set(`${p}acmeish`, "raw");
      await store.set(`${p}acme`, "raw");

      expect(await TenantContext.use(acme, () => cache.clear())).toBe(2);

      expect(await cache.forTenant(acme).get("a")).toBeUndefined();
      expect(await cache.forTenant(acme).get("b")).toBeUndefined();
      expect(await cache.forTenant(acme2).get("a")).toBe("acme-2's");
      expect(await cache.forTenant(globex).get("a")).toBe("globex's");
      for (const key of [`${p}acme-2:raw`, `${p}acmeish`, `${p}acme`])
        expect(await store.get(key)).toBe("raw");
    });

    it("lets keys with a TTL expire and keeps the others", async () => {
      const scoped = cache.forTenant(acme);
      await scoped.set("short", "soon gone", { ttlMs: 40 });
      await scoped.remember("computed", 40, () => "also soon gone");
      await scoped.set("long", "stays");
      expect(await scoped.get("short")).toBe("soon gone");

      await vi.waitFor(
        async () => {
          expect(await scoped.get("short")).toBeUndefined();
          expect(await scoped.has("computed")).toBe(false);
        },
        { timeout: 5_000, interval: 20 },
      );
      expect(await scoped.get("long")).toBe("stays");
    });

    it("fails closed without a tenant: NoTenantContextError, and nothing written", async () => {
      const verbs = [
        () => cache.get("k"),
        () => cache.set("k", 1),
        () => cache.has("k"),
        () => cache.delete("k"),
        () => cache.clear(),
        () => cache.remember("k", 1_000, () => 1),
      ];
      for (const verb of verbs) {
        await expect(verb()).rejects.toBeInstanceOf(NoTenantContextError);
        await expect(TenantContext.useMaster(verb)).rejects.toBeInstanceOf(NoTenantContextError);
      }
      expect(await store.deleteByPrefix(p)).toBe(0);
    });

    it("remember() computes on a miss, once for concurrent misses, and returns what a hit would", async () => {
      const scoped = cache.forTenant(acme);
      const fn = vi.fn(async () => ({ at: new Date(0), n: 1 }));
      const [first, second] = await Promise.all([
        scoped.remember("r", 60_000, fn),
        scoped.remember("r", 60_000, fn),
      ]);
      expect(fn).toHaveBeenCalledTimes(1);
      expect(first).toEqual({ at: "1970-01-01T00:00:00.000Z", n: 1 }); // JSON, like a later hit
      expect(second).toEqual(first);
      expect(await scoped.remember("r", 60_000, fn)).toEqual(first);
      expect(fn).toHaveBeenCalledTimes(1);
      expect(await cache.forTenant(globex).remember("r", 60_000, () => "globex's")).toBe("globex's");

      expect(await scoped.remember("u", 60_000, () => undefined)).toBeUndefined();
      expect(await scoped.has("u")).toBe(false);
      await expect(scoped.remember("e", 60_000, () => Promise.reject(new Error("boom")))).rejects.toThrow(
        "boom",
      );
      expect(await scoped.has("e")).toBe(false);
    });

    it("puts a tenant with config.cache.redisDb: 10 in database 10", async () => {
      await cache.forTenant(acmeDb10).set("plan", "db10");
      await cache.forTenant(acme).set("plan", "default db");

      const db10 = store.forPlacement!({ db: 10 });
      expect(await db10.get(`${p}acme:plan`)).toBe("db10");
      expect(await store.get(`${p}acme:plan`)).toBe("default db");
      expect(await cache.forTenant(acmeDb10).get("plan")).toBe("db10");

      await db10.set(`${p}acme-2:x`, "neighbour in db 10");
      expect(await TenantContext.use(acmeDb10, () => cache.clear())).toBe(1);
      expect(await db10.get(`${p}acme-2:x`)).toBe("neighbour in db 10");
      expect(await store.get(`${p}acme:plan`)).toBe("default db");
    });

    it("honours config.cache.prefix and rejects one that could match other keys", async () => {
      const custom = fakeTenant("acme", { prefix: "customer-17:" });
      await cache.forTenant(custom).set("k", "v");
      expect(await store.get(`${p}customer-17:k`)).toBe("v");
      expect(await cache.forTenant(acme).get("k")).toBeUndefined();

      for (const prefix of ["acme", "", "a b:", 5]) {
        const bad = fakeTenant("acme", { prefix } as any);
        await expect(cache.forTenant(bad).set("k", 1)).rejects.toBeInstanceOf(CacheConfigError);
      }
      const badDb = fakeTenant("acme", { redisDb: -1 });
      await expect(cache.forTenant(badDb).get("k")).rejects.toBeInstanceOf(CacheConfigError);
    });

    it("rejects a tenant whose redisUrlEnv names an unset variable, without guessing a place", async () => {
      const name = `OMNITENANT_TEST_UNSET_${Date.now()}`;
      const tenant = fakeTenant("acme", { redisUrlEnv: name });
      const error = await cache
        .forTenant(tenant)
        .set("k", 1)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CacheConfigError);
      expect((error as Error).message).toContain(name);
    });

    it("escapes glob characters of the global prefix when clearing", async () => {
      const globby = `${p}g[ab]*?\\:`;
      const other = createTenantCache({ store, prefix: globby });
      await other.forTenant(acme).set("k1", 1);
      await other.forTenant(acme).set("k2", 2);
      await other.forTenant(acme2).set("k1", "acme-2's");
      // would match the unescaped pattern `<p>g[ab]*?\:acme:*`
      await store.set(`${p}gaXYZ:acme:decoy`, "decoy");
      await store.set(`${p}gb?:acme:decoy`, "decoy");

      expect(await other.forTenant(acme).clear()).toBe(2);
      expect(await store.get(`${globby}acme:k1`)).toBeUndefined();
      expect(await store.get(`${globby}acme-2:k1`)).toBe("acme-2's");
      expect(await store.get(`${p}gaXYZ:acme:decoy`)).toBe("decoy");
      expect(await store.get(`${p}gb?:acme:decoy`)).toBe("decoy");
    });

    it("clears more than 1,000 keys (several scan batches)", async () => {
      const scoped = cache.forTenant(acme);
      const keys = Array.from({ length: 2_500 }, (_, i) => `item:${i}`);
      for (let i = 0; i < keys.length; i += 500) {
        await Promise.all(keys.slice(i, i + 500).map((key) => scoped.set(key, i)));
      }
      await cache.forTenant(acme2).set("item:1", "kept");

      expect(await scoped.clear()).toBe(2_500);
      expect(await scoped.has("item:0")).toBe(false);
      expect(await scoped.has("item:2499")).toBe(false);
      expect(await cache.forTenant(acme2).get("item:1")).toBe("kept");
      expect(await scoped.clear()).toBe(0);
    });

    it("validates keys, values, TTLs, tenant ids and the global prefix", async () => {
      const scoped = cache.forTenant(acme);
      for (const key of ["", 5, null, "x".repeat(MAX_CACHE_KEY_LENGTH + 1)]) {
        await expect(scoped.set(key as any, 1)).rejects.toBeInstanceOf(InvalidCacheKeyError);
        await expect(scoped.get(key as any)).rejects.toBeInstanceOf(InvalidCacheKeyError);
      }
      await scoped.set("x".repeat(MAX_CACHE_KEY_LENGTH), "longest");
      expect(await scoped.get("x".repeat(MAX_CACHE_KEY_LENGTH))).toBe("longest");

      const circular: Record<string, unknown> = {};
      circular.self = circular;
      for (const value of [undefined, () => 1, 10n, circular]) {
        await expect(scoped.set("v", value)).rejects.toBeInstanceOf(InvalidCacheValueError);
      }
      for (const ttlMs of [0, -5, Number.NaN, Number.POSITIVE_INFINITY, "10" as any]) {
        await expect(scoped.set("t", 1, { ttlMs })).rejects.toBeInstanceOf(InvalidCacheTtlError);
        await expect(scoped.remember("t", ttlMs, () => 1)).rejects.toBeInstanceOf(InvalidCacheTtlError);
      }
      expect(await scoped.has("t")).toBe(false);

      expect(() => cache.forTenant(fakeTenant("Bad_Id"))).toThrow(InvalidTenantIdError);
      await expect(TenantContext.use(fakeTenant("a:b"), () => cache.get("k"))).rejects.toBeInstanceOf(
        InvalidTenantIdError,
      );
      expect(() => createTenantCache({ store, prefix: "has space:" })).toThrow(CacheConfigError);
      await expect(store.deleteByPrefix("")).rejects.toBeInstanceOf(InvalidCacheKeyError);
    });

    it("refuses to work after dispose()", async () => {
      const own = createTenantCache({ store: makeStore(), prefix: p });
      await own.forTenant(acme).set("k", 1);
      await own.forTenant(acme).clear();
      await own.dispose();
      await own.dispose();
      await expect(own.forTenant(acme).get("k")).rejects.toBeInstanceOf(CacheDisposedError);
    });
  });
}
