// Figure 2: migrate-all at scale. A 10-table template with 5 drizzle-kit migrations applied to N schema
// tenants by omnitenant's migrateTenants(), beside the floor measured in the same run: the same SQL (placed in
// each schema with the library's placeInSchema) applied by a small hand-written postgres.js loop, concurrency
// 4, each migration file in its own transaction. Then the no-op rerun.
import { fileURLToPath } from "node:url";
import type { Sql } from "postgres";
import { defineConfig } from "../../src/config.js";
import { openPgClient, type PgPoolOptions } from "../../src/drivers/postgres.js";
import { type MigrationFile, readMigrationFolder } from "../../src/migrations/journal.js";
import { placeInSchema } from "../../src/migrations/qualify.js";
import { createOmnitenant } from "../../src/pg.js";
import * as masterSchema from "../fixtures/master/schema.js";
import { LATEST, migrateTemplate } from "../fixtures/migrate/template.js";
import { createMasterDatabase } from "../lib/app.js";
import { cleanup } from "../lib/env.js";
import { setupClient } from "../lib/pg.js";
import { fmt, type Row } from "../lib/report.js";
import { forEachLimit, median } from "../lib/stats.js";
import type { Suite, SuiteContext } from "../lib/suite.js";

const FIXTURE = fileURLToPath(new URL("../fixtures/migrate/", import.meta.url));
const CONCURRENCY = 4;
/** The same postgres.js settings for omnitenant's master pool and the floor's client. */
const POOL: PgPoolOptions = { max: 10, idleTimeout: 0 };
const id = (i: number) => `m${String(i).padStart(4, "0")}`;

/** Tenant rows and empty schemas, in bulk (provisioning is figure 3): 100 schemas a transaction. */
async function bulkTenants(url: string, count: number, { records }: { records: boolean }): Promise<string[]> {
  const sql = setupClient(url, 1);
  const schemas = Array.from({ length: count }, (_, i) => `tenant_${id(i)}`);
  try {
    if (records) {
      await sql`insert into tenants (tenant_id, name, isolation)
        select id, id, 'schema' from unnest(${schemas.map((_, i) => id(i))}::text[]) as id`;
    }
    for (let offset = 0; offset < count; offset += 100) {
      await sql.begin(async (tx) => {
        for (const schema of schemas.slice(offset, offset + 100))
          await tx.unsafe(`create schema "${schema}"`);
      });
    }
  } finally {
    await sql.end();
  }
  return schemas;
}

/** The floor: a plain loop, 4 tenants at a time, one transaction a migration file. */
async function floorMigrate(
  sql: Sql,
  schemas: readonly string[],
  migrations: readonly MigrationFile[],
  onTenant?: () => void,
): Promise<void> {
  await forEachLimit(schemas.length, CONCURRENCY, async (i) => {
    const schema = schemas[i]!;
    for (const migration of migrations) {
      await sql.begin(async (tx) => {
        for (const statement of migration.statements)
          await tx.unsafe(placeInSchema(statement, schema)).simple();
      });
    }
    onTenant?.();
  });
}

export const migrateSuite: Suite = {
  id: "migrate",
  figure: "2 migrate-all",
  async run({ quick, admin, log }: SuiteContext): Promise<Row[]> {
    const tenants = quick ? 100 : 1000;
    const migrations = readMigrationFolder(`${FIXTURE}drizzle`);
    const databases: string[] = [];
    const closers: Array<() => Promise<unknown>> = [];
    try {
      // Phase A, each alone (wall times): the floor, then omnitenant. Phase B, the two at the same time on
      // databases of their own, so whatever else loads the machine loads both alike: the ratio is taken from
      // their rates while both run. The no-op rerun is on phase A's omnitenant database.
      log(`creating ${quick ? 3 : 4} × ${tenants} tenant schemas in bulk…`);
      const dbs: Record<"fa" | "oa" | "fb" | "ob", { name: string; url: string; schemas: string[] }> =
        {} as never;
      for (const part of quick ? (["oa", "fb", "ob"] as const) : (["fa", "oa", "fb", "ob"] as const)) {
        const database = await createMasterDatabase(admin, `m_${part}`);
        databases.push(database.name);
        dbs[part] = {
          ...database,
          schemas: await bulkTenants(database.url, tenants, { records: part.startsWith("o") }),
        };
      }
      // A throwaway run first: the first DDL after the setup pays for what the setup left behind (WAL
      // segments, full-page writes after a checkpoint), which would otherwise land on one side only.
      {
        const warm = await createMasterDatabase(admin, "m_warm");
        databases.push(warm.name);
        const schemas = await bulkTenants(warm.url, 20, { records: false });
        const sql = openPgClient(warm.url, POOL);
        await floorMigrate(sql, schemas, migrations);
        await sql.end({ timeout: 5 });
      }

      let statements = 0;
      const omniFor = (url: string) => {
        const master = openPgClient(url, { ...POOL, extra: { debug: () => statements++ } as never });
        closers.push(() => master.end({ timeout: 5 }));
        const omni = createOmnitenant(
          defineConfig({
            dialect: "postgresql",
            masterUrl: url,
            template: migrateTemplate(LATEST),
            tables: masterSchema,
            root: FIXTURE,
            migrations: { tenant: "./drizzle" },
            migrate: { concurrency: CONCURRENCY },
            modes: ["schema"],
          }),
          { master },
        );
        closers.push(() => omni.close());
        return omni;
      };
      /** Runs both sides; `done` counts finished tenants, for the rates. */
      const runFloor = async (db: (typeof dbs)["fa"], progress: { done: number }) => {
        const sql = openPgClient(db.url, POOL);
        try {
          const started = performance.now();
          await floorMigrate(sql, db.schemas, migrations, () => progress.done++);
          return performance.now() - started;
        } finally {
          await sql.end({ timeout: 5 });
        }
      };
      const runOmni = async (omni: ReturnType<typeof omniFor>, progress: { done: number }) => {
        const started = performance.now();
        const result = await omni.migrateTenants({
          onProgress: () => {
            progress.done++;
          },
        });
        const ms = performance.now() - started;
        if (result.failed > 0 || result.applied !== tenants) {
          const failure = result.results.find((r) => r.error);
          throw new Error(
            `bench: migrateTenants applied ${result.applied}/${tenants}: ${failure?.error?.message}`,
          );
        }
        return ms;
      };

      // (quick mode skips the floor alone: the ratio comes from phase B)
      const floorAlone = quick ? Number.NaN : await runFloor(dbs.fa, { done: 0 });
      if (!quick) log(`floor alone: ${fmt.s(floorAlone / 1000)}`);
      const omniA = omniFor(dbs.oa.url);
      const omniAlone = await runOmni(omniA, { done: 0 });
      log(`omnitenant alone: ${fmt.s(omniAlone / 1000)}`);

      const floorProgress = { done: 0 };
      const omniProgress = { done: 0 };
      let firstDone: { at: number; floor: number; omni: number } | undefined;
      const started = performance.now();
      const mark = () => {
        firstDone ??= { at: performance.now() - started, floor: floorProgress.done, omni: omniProgress.done };
      };
      const [floorTogether, omniTogether] = await Promise.all([
        runFloor(dbs.fb, floorProgress).finally(mark),
        runOmni(omniFor(dbs.ob.url), omniProgress).finally(mark),
      ]);
      // time a tenant, while both ran: omnitenant's ÷ the floor's
      const ratio = firstDone!.floor / firstDone!.omni;
      log(
        `together: floor ${fmt.s(floorTogether / 1000)}, omnitenant ${fmt.s(omniTogether / 1000)}; after ${fmt.s(firstDone!.at / 1000)} floor had ${firstDone!.floor}, omnitenant ${firstDone!.omni}: ${fmt.ratio(ratio)}`,
      );

      // No-op reruns on a database of N migrated tenants: the same call, nothing to do.
      const noop: number[] = [];
      let noopStatements = 0;
      for (let i = 0; i < 5; i++) {
        const before = statements;
        const t0 = performance.now();
        const result = await omniA.migrateTenants();
        noop.push(performance.now() - t0);
        noopStatements = statements - before;
        if (result.upToDate !== tenants)
          throw new Error(`bench: no-op rerun found ${result.upToDate} up to date`);
      }
      log(`no-op rerun: ${noop.map((ms) => fmt.ms(ms)).join(", ")} (${noopStatements} statements)`);

      const relations = await (async () => {
        const sql = setupClient(dbs.oa.url, 1);
        const [row] = await sql<{ n: number }[]>`
          select count(*)::int as n from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = 'tenant_m0000'`;
        await sql.end();
        return row!.n;
      })();
      const noopMs = median(noop);
      return [
        {
          figure: "2 migrate-all",
          name: `${tenants} tenants × 5 migrations, migrateTenants()`,
          result: fmt.s(omniAlone / 1000),
          ...(quick ? {} : { baseline: fmt.s(floorAlone / 1000) }),
          ratio,
          target: "≤ 1.00× floor",
          met: ratio <= 1,
          note: `ratio from a run of both at once (time a tenant while both ran: omnitenant ${fmt.ms(firstDone!.at / firstDone!.omni)}, floor ${fmt.ms(firstDone!.at / firstDone!.floor)}); alone, one after the other: omnitenant ${fmt.s(omniAlone / 1000)}${quick ? "" : `, floor ${fmt.s(floorAlone / 1000)} (${fmt.ratio(omniAlone / floorAlone)})`}; ${relations} relations a tenant incl. omnitenant's journal; concurrency ${CONCURRENCY}`,
          data: {
            tenants,
            omniAloneMs: omniAlone,
            floorAloneMs: floorAlone,
            together: { floorMs: floorTogether, omniMs: omniTogether, firstDone },
            relationsPerTenant: relations,
            concurrency: CONCURRENCY,
          },
        },
        {
          figure: "2 migrate-all",
          name: `no-op rerun, ${tenants} tenants`,
          result: fmt.ms(noopMs),
          target: "≤ 500 ms",
          met: noopMs <= 500,
          note: `${noopStatements} statements on the master pool for ${tenants} tenants (median of 5 runs: ${noop.map((ms) => fmt.ms(ms)).join(", ")})`,
          data: { tenants, runsMs: noop, statements: noopStatements },
        },
      ];
    } finally {
      for (const close of closers.reverse()) await close().catch(() => {});
      await cleanup.dropDatabases(databases);
    }
  },
};
