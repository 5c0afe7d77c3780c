import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenantCache } from "../../src/cache/index.js";
import { escapeGlob, redisStore } from "../../src/cache/redis.js";
import { tenantCacheContract } from "./contract.js";
import { acme, fakeTenant, runPrefix } from "./helpers.js";

// A server without a db in the URL; tests use databases 9 (default), 10 and 11, under a prefix unique to the run.
const SERVER = process.env.OMNITENANT_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const RUN = runPrefix();
const url = (db: number) => `${SERVER}/${db}`;

const raw = new Map<number, Redis>();
const rawDb = (db: number): Redis => {
  let client = raw.get(db);
  if (client === undefined) {
    client = new Redis(SERVER, { db });
    raw.set(db, client);
  }
  return client;
};

beforeAll(async () => {
  expect(await rawDb(9).ping()).toBe("PONG");
});

afterAll(async () => {
  for (const db of [9, 10, 11]) {
    const client = rawDb(db);
    let cursor = "0";
    do {
      const [next, keys] = await client.scan(cursor, "MATCH", `${RUN}*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) await client.unlink(...keys);
    } while (cursor !== "0");
  }
  await Promise.all([...raw.values()].map((client) => client.quit()));
});

tenantCacheContract("redis", () => redisStore({ url: url(9) }), RUN);

describe("redisStore", () => {
  it("escapes every Redis glob character", () => {
    expect(escapeGlob("a*b?c[d]e\\f")).toBe("a\\*b\\?c\\[d\\]e\\\\f");
    expect(escapeGlob("plain-prefix:")).toBe("plain-prefix:");
  });

  it("writes JSON under <prefix><tenant>:<key>, with PX for a TTL", async () => {
    const p = `${RUN}layout:`;
    const cache = createTenantCache({ store: redisStore({ url: url(9) }), prefix: p });
    await cache.forTenant(acme).set("plan", { seats: 3 }, { ttlMs: 60_000 });
    await cache.forTenant(acme).set("forever", true);
    expect(await rawDb(9).get(`${p}acme:plan`)).toBe('{"seats":3}');
    const pttl = await rawDb(9).pttl(`${p}acme:plan`);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(60_000);
    expect(await rawDb(9).pttl(`${p}acme:forever`)).toBe(-1);
    await cache.dispose();
  });

  it("puts a redisDb: 10 tenant in database 10 and clears it there by prefix, not by FLUSHDB", async () => {
    const p = `${RUN}db10:`;
    const cache = createTenantCache({ store: redisStore({ url: url(9) }), prefix: p });
    const tenant = fakeTenant("acme", { redisDb: 10 });
    await cache.forTenant(tenant).set("k", "in 10");
    expect(await rawDb(10).get(`${p}acme:k`)).toBe('"in 10"');
    expect(await rawDb(9).exists(`${p}acme:k`)).toBe(0);

    await rawDb(10).set(`${p}unrelated`, "x");
    await rawDb(10).set(`${p}acme-2:k`, "x");
    expect(await cache.forTenant(tenant).clear()).toBe(1);
    expect(await rawDb(10).exists(`${p}unrelated`, `${p}acme-2:k`)).toBe(2);
    await cache.dispose();
  });

  it("reads a tenant's own server from the env var named by redisUrlEnv; its redisDb wins over the URL's", async () => {
    const p = `${RUN}url:`;
    const name = `OMNITENANT_TEST_REDIS_URL_${Date.now()}`;
    process.env[name] = url(11);
    try {
      const cache = createTenantCache({ store: redisStore({ url: url(9) }), prefix: p });
      await cache.forTenant(fakeTenant("acme", { redisUrlEnv: name })).set("k", "server 11");
      await cache.forTenant(fakeTenant("globex", { redisUrlEnv: name, redisDb: 10 })).set("k", "server 10");
      expect(await rawDb(11).get(`${p}acme:k`)).toBe('"server 11"');
      expect(await rawDb(10).get(`${p}globex:k`)).toBe('"server 10"');
      expect(await rawDb(9).exists(`${p}acme:k`, `${p}globex:k`)).toBe(0);
      await cache.dispose();
    } finally {
      delete process.env[name];
    }
  });

  it("opens one client per placement, leaves the caller's client open and closes its own on dispose", async () => {
    const p = `${RUN}clients:`;
    const connectionName = `omnitenant-test-${RUN.slice(-13, -1)}`;
    const client = new Redis(SERVER, { db: 9, connectionName });
    const cache = createTenantCache({ store: redisStore({ client }), prefix: p });
    const tenant = fakeTenant("acme", { redisDb: 10 });
    for (let i = 0; i < 5; i++) await cache.forTenant(tenant).set(`k${i}`, i);
    await cache
      .forTenant(fakeTenant("globex", { redisDb: 9 }))
      .set("k", "same db as the client: no new client");

    const named = async () =>
      String(await rawDb(9).client("LIST"))
        .split("\n")
        .filter((line) => line.includes(`name=${connectionName}`)).length;
    expect(await named()).toBe(2); // the caller's + one for db 10 (duplicate() keeps the connection name)
    await cache.dispose();
    expect(await named()).toBe(1);
    expect(client.status).toBe("ready");
    expect(await client.get(`${p}globex:k`)).toBe('"same db as the client: no new client"');
    await client.quit();
  });

  it("evicts placement clients beyond maxClients only after their in-flight commands end", async () => {
    const p = `${RUN}evict:`;
    const cache = createTenantCache({
      store: redisStore({ url: url(9), maxClients: 1, batchSize: 50 }),
      prefix: p,
    });
    const in10 = cache.forTenant(fakeTenant("acme", { redisDb: 10 }));
    const in11 = cache.forTenant(fakeTenant("acme", { redisDb: 11 }));
    const keys = Array.from({ length: 1_200 }, (_, i) => `k${i}`);
    await Promise.all(keys.map((key) => in10.set(key, 1)));

    const clearing = in10.clear(); // many SCAN rounds on the db-10 client...
    await in11.set("k", "evicts the db-10 client"); // ...which this evicts (maxClients: 1)
    expect(await clearing).toBe(1_200);
    expect(await in11.get("k")).toBe("evicts the db-10 client");
    expect(await in10.get("k0")).toBeUndefined(); // reopened
    await in11.clear();
    await cache.dispose();
  });

  it("honours the keyPrefix of a caller's client", async () => {
    const keyPrefix = `${RUN}kp:`;
    const client = new Redis(SERVER, { db: 9, keyPrefix });
    const cache = createTenantCache({ store: redisStore({ client }) });
    await cache.forTenant(acme).set("a", 1);
    await cache.forTenant(fakeTenant("acme-2")).set("a", 2);
    expect(await rawDb(9).get(`${keyPrefix}acme:a`)).toBe("1");
    expect(await cache.forTenant(acme).clear()).toBe(1);
    expect(await rawDb(9).get(`${keyPrefix}acme-2:a`)).toBe("2");
    await cache.dispose();
    await client.quit();
  });
});
