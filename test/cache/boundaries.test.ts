import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CacheConfigError, type CacheStore, createTenantCache, memoryStore } from "../../src/cache/index.js";
import { acme, fakeTenant } from "./helpers.js";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../../src");

/** Every bare module reached by static imports from `entry` (relative imports followed). */
function bareImports(entry: string, seen = new Set<string>(), found = new Set<string>()): Set<string> {
  if (seen.has(entry)) return found;
  seen.add(entry);
  const source = readFileSync(entry, "utf8");
  for (const [, spec] of source.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"/gm)) {
    if (spec === undefined) continue;
    if (spec.startsWith(".")) bareImports(resolve(dirname(entry), spec.replace(/\.js$/, ".ts")), seen, found);
    else found.add(spec);
  }
  return found;
}

describe("cache boundaries", () => {
  it("omnitenant/cache never loads ioredis; omnitenant/cache/redis does", () => {
    expect([...bareImports(resolve(SRC, "cache/index.ts"))].filter((m) => m.includes("redis"))).toEqual([]);
    expect(bareImports(resolve(SRC, "cache/redis.ts")).has("ioredis")).toBe(true);
  });

  it("refuses a tenant that asks for its own Redis db when the store cannot place it", async () => {
    const { forPlacement: _, ...unplaceable }: CacheStore = memoryStore();
    const cache = createTenantCache({ store: unplaceable });
    await expect(cache.forTenant(fakeTenant("acme", { redisDb: 3 })).set("k", 1)).rejects.toBeInstanceOf(
      CacheConfigError,
    );
    await cache.forTenant(acme).set("k", 1);
    expect(await unplaceable.get("acme:k")).toBe(1); // no global prefix: "<tenant>:<key>"
  });

  it("lets storeFor pick a tenant's store, still under the tenant's prefix", async () => {
    const vip = memoryStore();
    const cache = createTenantCache({
      store: memoryStore(),
      prefix: "app:",
      storeFor: (tenant) => (tenant.tenantId === "acme" ? vip : undefined),
    });
    await cache.forTenant(acme).set("k", "vip");
    await cache.forTenant(fakeTenant("globex")).set("k", "default");
    expect(await vip.get("app:acme:k")).toBe("vip");
    expect(await vip.has("app:globex:k")).toBe(false);
    expect(await cache.forTenant(acme).clear()).toBe(1);
    await cache.dispose();
    expect(await vip.get("app:acme:k")).toBeUndefined(); // cleared, and vip is still usable (not disposed)
  });
});
