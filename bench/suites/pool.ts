// Figure 4: database mode's bound on open clients. N tenant databases (2,000; quick 200) touched in random
// order by 8 workers with a cap of 50 open clients (one connection each): peak open connections seen in
// pg_stat_activity, latency of a warm tenant (client open) and a cold one (connect + evict), process memory.
import { fileURLToPath } from "node:url";
import { eq } from "drizzle-orm";
import { defineConfig } from "../../src/config.js";
import { readMigrationFolder } from "../../src/migrations/journal.js";
import { createOmnitenant } from "../../src/pg.js";
import { tenantDatabaseName } from "../../src/tenant-id.js";
import type { Tenant } from "../../src/types.js";
import * as masterSchema from "../fixtures/master/schema.js";
import { template } from "../fixtures/query/template.js";
import { createMasterDatabase } from "../lib/app.js";
import { cleanup, createBenchDatabase, quote, RUN_ID, urlFor } from "../lib/env.js";
import { applyMigrationFiles, sampleBackends, setupClient, waitForConnections } from "../lib/pg.js";
import { fmt, type Row } from "../lib/report.js";
import { collectGarbage, forEachLimit, percentile, randomInt, rng } from "../lib/stats.js";
import type { Suite, SuiteContext } from "../lib/suite.js";

const QUERY_FIXTURE = fileURLToPath(new URL("../fixtures/query/", import.meta.url));
const CAP = 50;
const WORKERS = 8;

export const poolSuite: Suite = {
  id: "pool",
  figure: "4 database-mode pool bound",
  async run({ quick, admin, log }: SuiteContext): Promise<Row[]> {
    const count = quick ? 200 : 2000;
    const randomTouches = quick ? 1500 : 8000;
    const warmTouches = quick ? 3000 : 20_000;
    const databases: string[] = [];
    const closers: Array<() => Promise<unknown>> = [];
    try {
      await waitForConnections(admin, CAP + 6, log);
      // A small template database with the tenant tables and a few rows, cloned N times.
      const tpl = await createBenchDatabase(admin, "pool_tpl");
      databases.push(tpl.name);
      {
        const sql = setupClient(tpl.url, 1);
        await applyMigrationFiles(sql, readMigrationFolder(`${QUERY_FIXTURE}drizzle/tenant`));
        await sql`insert into projects (name) select 'project ' || g from generate_series(1, 40) g`;
        await sql.end();
      }
      const databasePrefix = `${RUN_ID}_pool_`;
      const ids = Array.from({ length: count }, (_, i) => `d${String(i).padStart(4, "0")}`);
      log(`creating ${count} tenant databases from a template…`);
      const createStarted = performance.now();
      const creator = setupClient(urlFor("postgres"), 4);
      try {
        await forEachLimit(count, 4, async (i) => {
          const name = cleanup.database(tenantDatabaseName(ids[i]!, { databasePrefix }));
          databases.push(name);
          await creator.unsafe(`create database ${quote(name)} template ${quote(tpl.name)}`);
        });
      } finally {
        await creator.end();
      }
      const createMs = performance.now() - createStarted;
      log(`${count} databases in ${fmt.s(createMs / 1000)} (${fmt.ms(createMs / count)} each, 4 at a time)`);

      const master = await createMasterDatabase(admin, "pool");
      databases.push(master.name);
      const omni = createOmnitenant(
        defineConfig({
          dialect: "postgresql",
          masterUrl: master.url,
          template,
          tables: masterSchema,
          root: QUERY_FIXTURE,
          migrations: { tenant: "./drizzle/tenant" },
          naming: { databasePrefix },
          modes: ["database"],
          pool: { max: 4 },
          database: { maxClients: CAP, pool: { max: 1 } },
        }),
      );
      closers.push(() => omni.close());
      await omni.$client`insert into tenants (tenant_id, name, isolation)
        select id, id, 'database' from unnest(${ids}::text[]) as id`;
      const tenants: Tenant[] = await omni.listTenants();
      const { projects } = template.tables;
      const touch = (tenant: Tenant, random: () => number) =>
        omni
          .tenantDb(tenant)
          .select()
          .from(projects)
          .where(eq(projects.id, 1 + randomInt(random, 40)));

      const memory = async () => {
        await collectGarbage();
        return process.memoryUsage();
      };
      const before = await memory();
      const sampler = sampleBackends(admin, `${databasePrefix}%`, 5);

      // Phase 1, random order over all N: almost every touch finds its tenant's client closed (cold).
      // A mirror of the cache's LRU order tells warm touches from cold ones.
      const mirror = new Map<string, true>();
      const cold: number[] = [];
      const warmInRandom: number[] = [];
      let errors = 0;
      let firstError: unknown;
      const randoms = Array.from({ length: WORKERS }, (_, w) => rng(40 + w));
      let done = 0;
      const randomStarted = performance.now();
      await Promise.all(
        randoms.map(async (random) => {
          while (done < randomTouches) {
            done++;
            const tenant = tenants[randomInt(random, tenants.length)]!;
            const wasOpen = mirror.has(tenant.tenantId);
            const started = performance.now();
            try {
              await touch(tenant, random);
            } catch (error) {
              errors++;
              firstError ??= error;
            }
            (wasOpen ? warmInRandom : cold).push((performance.now() - started) * 1000);
            mirror.delete(tenant.tenantId);
            mirror.set(tenant.tenantId, true);
            if (mirror.size > CAP) mirror.delete(mirror.keys().next().value!);
          }
        }),
      );
      const randomMs = performance.now() - randomStarted;
      const afterRandom = await memory();
      log(
        `random: ${randomTouches} touches in ${fmt.s(randomMs / 1000)}, cold p50 ${fmt.ms(percentile(cold, 50) / 1000)}`,
      );

      // Phase 2, warm: 40 tenants (fewer than the cap) touched at random, after one touch each.
      const hot = tenants.slice(0, 40);
      for (const tenant of hot) await touch(tenant, randoms[0]!);
      const warm: number[] = [];
      done = 0;
      await Promise.all(
        randoms.map(async (random) => {
          while (done < warmTouches) {
            done++;
            const tenant = hot[randomInt(random, hot.length)]!;
            const started = performance.now();
            try {
              await touch(tenant, random);
            } catch (error) {
              errors++;
              firstError ??= error;
            }
            warm.push((performance.now() - started) * 1000);
          }
        }),
      );
      const peak = await sampler.stop();
      const afterWarm = await memory();
      const stats = omni.databaseClientStats() as { open: number; peak: number; evictions: number };
      log(`warm p50 ${fmt.ms(percentile(warm, 50) / 1000)}; peak backends ${peak}; ${JSON.stringify(stats)}`);

      const lat = (values: number[]) =>
        `p50 ${fmt.ms(percentile(values, 50) / 1000)}, p99 ${fmt.ms(percentile(values, 99) / 1000)}`;
      const mb = (m: NodeJS.MemoryUsage) => `rss ${fmt.mb(m.rss)}, heap ${fmt.mb(m.heapUsed)}`;
      const grew = (m: NodeJS.MemoryUsage) => `+${fmt.mb(m.heapUsed - before.heapUsed)} heap`;
      return [
        {
          figure: "4 database-mode pool",
          name: `peak connections, ${count} tenant DBs, cap ${CAP}`,
          result: `${peak}`,
          target: `≤ ${CAP}`,
          met: peak <= CAP && errors === 0,
          note: `pg_stat_activity sampled every 5 ms; client cache: peak ${stats.peak} open, ${stats.evictions} evictions; ${errors} errors${firstError ? ` (${String((firstError as Error).message ?? firstError)})` : ""}`,
          data: { databases: count, cap: CAP, peakBackends: peak, ...stats, errors },
        },
        {
          figure: "4 database-mode pool",
          name: "cold tenant (connect + evict), 8 workers",
          result: lat(cold),
          note: `${cold.length} cold touches in random order over ${count} (${warmInRandom.length} found their client open); ${Math.round((randomTouches * 1000) / randomMs)} touches/s`,
          data: {
            p50Us: percentile(cold, 50),
            p99Us: percentile(cold, 99),
            samples: cold.length,
            touchesPerS: (randomTouches * 1000) / randomMs,
          },
        },
        {
          figure: "4 database-mode pool",
          name: "warm tenant (client open), 8 workers",
          result: lat(warm),
          data: { p50Us: percentile(warm, 50), p99Us: percentile(warm, 99), samples: warm.length },
        },
        {
          figure: "4 database-mode pool",
          name: "process memory (after GC)",
          result: `${grew(afterRandom)} after ${count} tenants`,
          note: `heap after the random phase ${fmt.mb(afterRandom.heapUsed)} (${grew(afterRandom)} over the start), after the warm phase ${mb(afterWarm)}; at the start ${mb(before)} (the process also holds the earlier suites' leftovers)`,
          data: { before, afterRandom, afterWarm },
        },
        {
          figure: "4 database-mode pool",
          name: `creating ${count} databases from a template`,
          result: `${fmt.ms(createMs / count)} each`,
          note: `CREATE DATABASE … TEMPLATE, 4 at a time: ${fmt.s(createMs / 1000)} (setup, not a target)`,
          data: { createMs },
        },
      ];
    } finally {
      for (const close of closers.reverse()) await close().catch(() => {});
      log(`dropping ${databases.length} databases…`);
      await cleanup.dropDatabases(databases);
    }
  },
};
