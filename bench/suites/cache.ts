// Figure 6: the tenant cache over Redis (createTenantCache + redisStore) against raw ioredis doing the same
// work (JSON.stringify/parse of the value, a key of the same length), get and set, at concurrency 1
// (alternating blocks of operations) and 32 (alternating slices).
import { Redis } from "ioredis";
import { redisStore } from "../../src/cache/redis.js";
import { createTenantCache } from "../../src/cache/tenant-cache.js";
import type { Tenant } from "../../src/types.js";
import { cleanup, REDIS_URL, RUN_ID } from "../lib/env.js";
import { type Comparison, compare, compareLatency } from "../lib/measure.js";
import { fmt, type Row } from "../lib/report.js";
import { randomInt, rng } from "../lib/stats.js";
import type { Suite, SuiteContext } from "../lib/suite.js";

const KEYS = 1000;
const VALUE = { id: 42, name: "Acme project", tags: ["a", "b"], plan: { seats: 10, active: true } };

export const cacheSuite: Suite = {
  id: "cache",
  figure: "6 cache",
  async run({ quick, log }: SuiteContext): Promise<Row[]> {
    const prefix = `${RUN_ID}:`;
    const raw = new Redis(REDIS_URL, { lazyConnect: false });
    const forCache = new Redis(REDIS_URL, { lazyConnect: false });
    const cache = createTenantCache({ store: redisStore({ client: forCache }), prefix });
    const clean = async () => {
      for (const client of [raw]) {
        let cursor = "0";
        do {
          const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
          cursor = next;
          if (keys.length > 0) await client.unlink(...keys);
        } while (cursor !== "0");
      }
    };
    cleanup.onClose(async () => {
      await clean().catch(() => {});
      raw.disconnect();
      forCache.disconnect();
    });
    try {
      const tenant: Tenant = {
        tenantId: "acme",
        name: "Acme",
        isolation: "schema",
        config: {},
        createdAt: null,
      };
      const scope = cache.forTenant(tenant);
      // The same key length on both sides: "<prefix>acme:k<n>" vs "<prefix>raw0:k<n>".
      const rawKey = (n: number) => `${prefix}raw0:k${n}`;
      for (let n = 0; n < KEYS; n++) {
        await scope.set(`k${n}`, VALUE);
        await raw.set(rawKey(n), JSON.stringify(VALUE));
      }
      const randoms = Array.from({ length: 32 }, (_, w) => rng(600 + w));
      const ops = {
        get: {
          raw: async (w: number) => JSON.parse((await raw.get(rawKey(randomInt(randoms[w]!, KEYS))))!),
          cache: (w: number) => scope.get(`k${randomInt(randoms[w]!, KEYS)}`),
        },
        set: {
          raw: (w: number) =>
            raw.set(rawKey(randomInt(randoms[w]!, KEYS)), JSON.stringify(VALUE), "PX", 60_000),
          cache: (w: number) => scope.set(`k${randomInt(randoms[w]!, KEYS)}`, VALUE, { ttlMs: 60_000 }),
        },
      };
      const rows: Row[] = [];
      for (const [verb, { raw: baseline, cache: subject }] of Object.entries(ops)) {
        for (const concurrency of [1, 32]) {
          const result: Comparison =
            concurrency === 1
              ? await compareLatency(baseline, subject, { durationMs: quick ? 500 : 3000, warmupMs: 100 })
              : await compare(baseline, subject, {
                  concurrency,
                  pairs: quick ? 4 : 12,
                  sliceMs: quick ? 100 : 250,
                });
          const throughput = concurrency > 1;
          log(`cache ${verb} c=${concurrency}: ${fmt.ratio(result.ratio)}`);
          rows.push({
            figure: "6 cache",
            name: `tenant cache ${verb} c=${concurrency}`,
            result: throughput ? fmt.ops(result.subjectOps!) : fmt.us(result.subjectUs),
            baseline: throughput ? fmt.ops(result.baselineOps!) : fmt.us(result.baselineUs),
            ratio: result.ratio,
            ...(result.errors > 0 ? { note: `${result.errors} errors` } : {}),
            data: { verb, concurrency, ...result, firstError: undefined },
          });
        }
      }
      rows[0]!.note = "ratio = time per operation ÷ raw ioredis (1.00 = free); raw does the same JSON work";
      return rows;
    } finally {
      await clean().catch(() => {});
      await cache.dispose();
      raw.disconnect();
      forCache.disconnect();
    }
  },
};
