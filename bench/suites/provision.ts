// Figure 3: provisioning a schema tenant with a 20-table template (createTenant: schema, tables, journal and
// tenant row in one transaction), one at a time and 100 in bulk (createTenants). Beside it, the floor in the
// same run: the same SQL by hand (CREATE SCHEMA, the migration placed with placeInSchema, the tenant row) in
// one postgres.js transaction.
import { fileURLToPath } from "node:url";
import type { Sql } from "postgres";
import { defineConfig } from "../../src/config.js";
import { openPgClient, type PgPoolOptions } from "../../src/drivers/postgres.js";
import { type MigrationFile, readMigrationFolder } from "../../src/migrations/journal.js";
import { placeInSchema } from "../../src/migrations/qualify.js";
import { createOmnitenant } from "../../src/pg.js";
import * as masterSchema from "../fixtures/master/schema.js";
import { template } from "../fixtures/provision/template.js";
import { createMasterDatabase } from "../lib/app.js";
import { cleanup } from "../lib/env.js";
import { fmt, type Row } from "../lib/report.js";
import { median, percentile } from "../lib/stats.js";
import type { Suite, SuiteContext } from "../lib/suite.js";

const FIXTURE = fileURLToPath(new URL("../fixtures/provision/", import.meta.url));
const POOL: PgPoolOptions = { max: 10, idleTimeout: 0 };
const TARGET_MS = 300;

/** The floor of one schema tenant: everything createTenant writes, by hand, in one transaction. */
async function floorCreate(sql: Sql, tenantId: string, migrations: readonly MigrationFile[]): Promise<void> {
  const schema = `floor_${tenantId}`;
  await sql.begin(async (tx) => {
    await tx.unsafe(`create schema "${schema}"`);
    for (const migration of migrations) {
      for (const statement of migration.statements)
        await tx.unsafe(placeInSchema(statement, schema)).simple();
    }
    await tx`insert into tenants (tenant_id, name, isolation) values (${`f-${tenantId}`}, ${tenantId}, 'schema')`;
  });
}

export const provisionSuite: Suite = {
  id: "provision",
  figure: "3 provisioning",
  async run({ quick, admin, log }: SuiteContext): Promise<Row[]> {
    const singles = quick ? 6 : 20;
    const bulk = quick ? 30 : 100;
    const migrations = readMigrationFolder(`${FIXTURE}drizzle`);
    const databases: string[] = [];
    const closers: Array<() => Promise<unknown>> = [];
    try {
      const database = await createMasterDatabase(admin, "p");
      databases.push(database.name);
      const omni = createOmnitenant(
        defineConfig({
          dialect: "postgresql",
          masterUrl: database.url,
          template,
          tables: masterSchema,
          root: FIXTURE,
          migrations: { tenant: "./drizzle" },
          pool: POOL,
          modes: ["schema"],
        }),
      );
      closers.push(() => omni.close());
      const floorSql = openPgClient(database.url, POOL);
      closers.push(() => floorSql.end({ timeout: 5 }));

      // One at a time, omnitenant and the floor alternating (ABBA).
      const one: number[] = [];
      const floor: number[] = [];
      const timeOne = async (i: number) => {
        const started = performance.now();
        const { applied } = await omni.createTenant({
          tenantId: `one-${i}`,
          name: `One ${i}`,
          isolation: "schema",
        });
        one.push(performance.now() - started);
        if (applied.length !== migrations.length)
          throw new Error(`bench: createTenant applied ${applied.length}`);
      };
      const timeFloor = async (i: number) => {
        const started = performance.now();
        await floorCreate(floorSql, `one-${i}`, migrations);
        floor.push(performance.now() - started);
      };
      await timeOne(-1); // first use: reading the migration folder, opening connections
      await timeFloor(-1);
      one.length = 0;
      floor.length = 0;
      for (let i = 0; i < singles; i++) {
        if (i % 2 === 0) {
          await timeOne(i);
          await timeFloor(i);
        } else {
          await timeFloor(i);
          await timeOne(i);
        }
      }
      log(`createTenant: median ${fmt.ms(median(one))}, floor ${fmt.ms(median(floor))}`);

      const started = performance.now();
      const result = await omni.createTenants(
        Array.from({ length: bulk }, (_, i) => ({
          tenantId: `bulk-${i}`,
          name: `Bulk ${i}`,
          isolation: "schema" as const,
        })),
      );
      const bulkMs = performance.now() - started;
      if (result.failed.length > 0)
        throw new Error(`bench: createTenants: ${result.failed[0]!.error.message}`);
      log(`createTenants(${bulk}): ${fmt.s(bulkMs / 1000)}`);
      const [tables] = await omni.$client<{ n: number }[]>`
        select count(*)::int as n from pg_tables where schemaname = 'tenant_bulk-0'`;

      return [
        {
          figure: "3 provisioning",
          name: `createTenant, ${tables!.n - 1}-table template (one at a time)`,
          result: fmt.ms(median(one)),
          baseline: fmt.ms(median(floor)),
          ratio: median(one) / median(floor),
          target: `< ${TARGET_MS} ms`,
          met: median(one) < TARGET_MS,
          note: `median of ${singles} (p90 ${fmt.ms(percentile(one, 90))}); floor = the same SQL by hand in one transaction (p90 ${fmt.ms(percentile(floor, 90))})`,
          data: { runsMs: one, floorMs: floor },
        },
        {
          figure: "3 provisioning",
          name: `createTenants, ${bulk} in bulk (concurrency 4)`,
          result: `${fmt.ms(bulkMs / bulk)} a tenant`,
          target: `< ${TARGET_MS} ms`,
          met: bulkMs / bulk < TARGET_MS,
          note: `${fmt.s(bulkMs / 1000)} for ${bulk}`,
          data: { tenants: bulk, totalMs: bulkMs },
        },
      ];
    } finally {
      for (const close of closers.reverse()) await close().catch(() => {});
      await cleanup.dropDatabases(databases);
    }
  },
};
