import { describe, expect, it, vi } from "vitest";
import { CacheConfigError, createTenantCache, memoryStore } from "../../src/cache/index.js";
import { tenantCacheContract } from "./contract.js";
import { acme, fakeTenant, runPrefix } from "./helpers.js";

tenantCacheContract("memory", () => memoryStore(), runPrefix());

describe("memoryStore", () => {
  it("stays within maxEntries, dropping the least recently used", async () => {
    const store = memoryStore({ maxEntries: 3 });
    await store.set("a", 1);
    await store.set("b", 2);
    await store.set("c", 3);
    expect(await store.get("a")).toBe(1); // a is now the most recent
    await store.set("d", 4);
    expect(await store.has("b")).toBe(false);
    expect(await store.get("a")).toBe(1);
    expect(await store.get("c")).toBe(3);
    expect(await store.get("d")).toBe(4);
  });

  it("expires lazily and does not count expired keys as deleted", async () => {
    vi.useFakeTimers();
    try {
      const store = memoryStore();
      await store.set("a:1", "x", 100);
      await store.set("a:2", "y", 100);
      await store.set("a:3", "z");
      vi.advanceTimersByTime(150);
      expect(await store.has("a:1")).toBe(false);
      expect(await store.delete("a:1")).toBe(false);
      expect(await store.deleteByPrefix("a:")).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it("stores JSON, so callers never share (or mutate) a cached object", async () => {
    const store = memoryStore();
    const value = { list: [1] };
    await store.set("k", value);
    value.list.push(2);
    const read = await store.get<{ list: number[] }>("k");
    expect(read).toEqual({ list: [1] });
    read!.list.push(3);
    expect(await store.get("k")).toEqual({ list: [1] });
  });

  it("keeps tenants with their own Redis db or URL apart in separate maps", async () => {
    const name = `OMNITENANT_TEST_MEMORY_URL_${Date.now()}`;
    process.env[name] = "redis://example.invalid:6379";
    try {
      const cache = createTenantCache({ store: memoryStore() });
      await cache.forTenant(acme).set("k", "shared");
      await cache.forTenant(fakeTenant("acme", { redisUrlEnv: name })).set("k", "own server");
      expect(await cache.forTenant(acme).get("k")).toBe("shared");
      expect(await cache.forTenant(fakeTenant("acme", { redisUrlEnv: name })).get("k")).toBe("own server");
      await cache.dispose();
    } finally {
      delete process.env[name];
    }
  });

  it("rejects a bad maxEntries", () => {
    expect(() => memoryStore({ maxEntries: 0 })).toThrow(CacheConfigError);
  });
});
