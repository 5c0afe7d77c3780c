import fs from "node:fs";
import path from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MigrationDriftError } from "../../src/errors.js";
import { MigrationStatementError, TenantSchemaMissingError } from "../../src/migrations/errors.js";
import { type MigrationFile, readMigrationFolder } from "../../src/migrations/journal.js";
import { type PgMigrationTarget, planTenant, type TenantPlan } from "../../src/migrations/pg-migrator.js";
import {
  type MigrationProgress,
  migrateTenants,
  planSchemaTenants,
  planTenants,
} from "../../src/migrations/runner.js";
import { createTestDatabase, type TestDatabase } from "../helpers/pg.js";
import { addMigration, copyFolder, PG_FOLDER, PG_TAGS, removeTmpCopies } from "./fixtures.js";

let db: TestDatabase;
let migrations: MigrationFile[];
/** A second client on the same database that counts the queries it sends. */
let counted: postgres.Sql;
let queries = 0;

beforeAll(async () => {
  db = await createTestDatabase();
  migrations = readMigrationFolder(PG_FOLDER);
  counted = postgres(db.url, { max: 4, onnotice: () => {}, debug: () => void queries++ });
  await counted`select 1`; // the first connection also fetches postgres.js's array types
});

afterAll(async () => {
  await counted?.end();
  await db?.drop();
  removeTmpCopies();
});

const schemaTarget = (id: string, sql: postgres.Sql = db.sql): PgMigrationTarget => ({
  tenantId: id,
  sql,
  schema: `tenant_${id}`,
  journalSchema: `tenant_${id}`,
});

async function countQueries<T>(fn: () => Promise<T>): Promise<{ value: T; queries: number }> {
  const before = queries;
  const value = await fn();
  return { value, queries: queries - before };
}

const summary = (plan: TenantPlan) => ({
  applied: plan.applied,
  pending: plan.pending.map((m) => m.tag),
  drifted: plan.drifted,
  unknown: plan.unknown,
  error: plan.error?.name,
});

describe("migrateTenants", () => {
  it("migrates schema and database tenants concurrently, reporting progress", async () => {
    const tenantDb = await createTestDatabase();
    try {
      for (const id of ["r1", "r2", "r3"]) await db.sql.unsafe(`create schema "tenant_${id}"`);
      const dbTarget: PgMigrationTarget = {
        tenantId: "own-db",
        sql: tenantDb.sql,
        schema: undefined,
        journalSchema: "drizzle",
      };
      async function* targets() {
        yield schemaTarget("r1");
        yield dbTarget;
        yield schemaTarget("r2");
        yield schemaTarget("r3");
      }
      const events: MigrationProgress[] = [];
      const run = await migrateTenants(targets(), migrations, {
        concurrency: 2,
        onProgress: (e) => events.push(e),
      });
      expect(run.results.map((r) => [r.tenantId, r.status, r.applied.length])).toEqual([
        ["r1", "applied", 4],
        ["own-db", "applied", 4],
        ["r2", "applied", 4],
        ["r3", "applied", 4],
      ]);
      expect(run).toMatchObject({ applied: 4, upToDate: 0, failed: 0 });
      expect(events.map((e) => e.done)).toEqual([1, 2, 3, 4]);
      expect(events.every((e) => e.total === 4 && e.failed === 0)).toBe(true);

      const again = await migrateTenants([schemaTarget("r1"), dbTarget], migrations);
      expect(again).toMatchObject({ applied: 0, upToDate: 2, failed: 0 });
    } finally {
      await tenantDb.drop();
    }
  });

  it("one tenant's failure does not stop the others; a fixed file then applies only what is missing", async () => {
    const targets = ["r1", "r2", "r3"].map((id) => schemaTarget(id));
    // r2's data breaks the new constraint
    await db.sql`insert into "tenant_r2"."users" (email) values ('not-an-email')`;
    const dir = copyFolder(PG_FOLDER);
    addMigration(
      dir,
      "0004_email_check",
      `ALTER TABLE "users" ADD COLUMN "verified" boolean DEFAULT false;--> statement-breakpoint
ALTER TABLE "users" ADD CONSTRAINT "users_email_at" CHECK ("email" LIKE '%@%');`,
    );
    const run = await migrateTenants(targets, readMigrationFolder(dir), { concurrency: 3 });
    expect(run.results.map((r) => [r.tenantId, r.status, r.applied])).toEqual([
      ["r1", "applied", ["0004_email_check"]],
      ["r2", "failed", []],
      ["r3", "applied", ["0004_email_check"]],
    ]);
    expect(run).toMatchObject({ applied: 2, failed: 1 });
    const error = run.results[1]!.error as MigrationStatementError;
    expect(error).toBeInstanceOf(MigrationStatementError);
    expect(error.message).toContain('tenant "r2" at 0004_email_check');
    expect(error.statementIndex).toBe(1);
    expect((error.cause as { code?: string }).code).toBe("23514");
    // r2 keeps 0000-0003, and the failed migration left nothing behind
    const plan = await planTenant(targets[1]!, readMigrationFolder(dir));
    expect(plan.applied).toEqual(PG_TAGS);
    expect(plan.pending.map((m) => m.tag)).toEqual(["0004_email_check"]);
    const [column] = await db.sql`
      select count(*)::int as n from information_schema.columns
       where table_schema = 'tenant_r2' and table_name = 'users' and column_name = 'verified'`;
    expect(column!.n).toBe(0);

    fs.writeFileSync(
      path.join(dir, "0004_email_check.sql"),
      `ALTER TABLE "users" ADD COLUMN "verified" boolean DEFAULT false;--> statement-breakpoint
ALTER TABLE "users" ADD CONSTRAINT "users_email_at" CHECK ("email" LIKE '%@%') NOT VALID;`,
    );
    const rerun = await migrateTenants(targets, readMigrationFolder(dir));
    expect(rerun.results.map((r) => [r.tenantId, r.status, r.applied])).toEqual([
      ["r1", "drift", []], // r1 and r3 ran the earlier version of 0004: reported, not re-run
      ["r2", "applied", ["0004_email_check"]],
      ["r3", "drift", []],
    ]);
    expect(rerun.results[0]!.error).toBeInstanceOf(MigrationDriftError);
  });
});

describe("bulk planning of schema tenants (fast path)", () => {
  const COUNT = 200;
  const ids = Array.from({ length: COUNT }, (_, i) => `fp${String(i).padStart(3, "0")}`);
  const fileRows = (indexes: number[], override: Record<number, string> = {}) =>
    indexes.map((k) => `('${override[k] ?? migrations[k]!.hash}', ${migrations[k]!.createdAt})`).join(", ");
  /** What each tenant's journal holds, by i % 8. */
  const expected = (i: number) => {
    const all = {
      applied: PG_TAGS,
      pending: [] as string[],
      drifted: [] as string[],
      unknown: [] as string[],
    };
    switch (i % 8) {
      case 3:
        return { ...all, applied: PG_TAGS.slice(0, 2), pending: PG_TAGS.slice(2) };
      case 4:
      case 5:
        return { ...all, applied: [], pending: PG_TAGS };
      case 6:
        return { ...all, applied: [PG_TAGS[0]!, PG_TAGS[2]!, PG_TAGS[3]!], drifted: [PG_TAGS[1]!] };
      case 7:
        return {
          ...all,
          applied: [PG_TAGS[0]!, PG_TAGS[2]!, PG_TAGS[3]!],
          pending: [PG_TAGS[1]!],
          unknown: ["x"],
        };
      default:
        return all;
    }
  };

  beforeAll(async () => {
    // journals only (no tables): planning reads nothing else
    const statements = ids.map((id, i) => {
      const schema = `"tenant_${id}"`;
      const create = `create schema ${schema};`;
      if (i % 8 === 4) return create;
      const table = `${schema}."__drizzle_migrations"`;
      const rows = {
        0: fileRows([0, 1, 2, 3]),
        1: fileRows([0, 1, 2, 3]),
        2: fileRows([3, 2, 1, 0, 0]), // order and a duplicate row do not matter
        3: fileRows([0, 1]),
        5: "",
        6: fileRows([0, 1, 2, 3], { 1: "edited" }),
        7: `${fileRows([0, 2, 3])}, ('x', 1)`,
      }[i % 8];
      return `${create} create table ${table} (id serial primary key, hash text not null, created_at bigint);${
        rows ? ` insert into ${table} (hash, created_at) values ${rows};` : ""
      }`;
    });
    await db.sql.unsafe(statements.join("\n")).simple();
  });

  it("plans 200 tenants in two queries, exactly like planning them one by one", async () => {
    const targets = ids.map((id) => schemaTarget(id, counted));
    const { value: plans, queries: bulkQueries } = await countQueries(() =>
      planSchemaTenants(counted, targets, migrations),
    );
    expect(bulkQueries).toBe(2);
    plans.forEach((plan, i) => {
      expect(plan.tenantId).toBe(ids[i]);
      expect(summary(plan)).toEqual({ ...expected(i), error: undefined });
    });
    for (const [i, target] of targets.entries()) {
      expect(summary(plans[i]!)).toEqual(summary(await planTenant(target, migrations)));
    }
    // the number of queries does not grow with what tenants have applied, only by one per 200 journals
    const few = await countQueries(() => planSchemaTenants(counted, targets.slice(0, 20), migrations));
    expect(few.queries).toBe(2);
    const many = await countQueries(() =>
      planSchemaTenants(counted, [...targets, ...targets, ...targets], migrations),
    );
    expect(many.queries).toBe(1 + 3);
    many.value.forEach((plan, i) => {
      expect(summary(plan)).toEqual({ ...expected(i % COUNT), error: undefined });
    });
  });

  it("a no-op rerun of migrateTenants runs no per-tenant query, lock or DDL", async () => {
    const complete = ids.filter((_, i) => i % 8 <= 2).map((id) => schemaTarget(id, counted));
    const { value: run, queries: runQueries } = await countQueries(() =>
      migrateTenants(complete, migrations, { concurrency: 4 }),
    );
    expect(run).toMatchObject({ applied: 0, upToDate: complete.length, failed: 0 });
    expect(runQueries).toBe(2);

    // plans from planTenants can be reused: then not even those two queries run
    const plans = await planTenants(complete, migrations);
    const reused = await countQueries(() =>
      migrateTenants(complete, migrations, { plan: new Map(plans.map((p) => [p.tenantId, p])) }),
    );
    expect(reused.value.upToDate).toBe(complete.length);
    expect(reused.queries).toBe(0);
  });

  it("reports drift and missing schemas per tenant without touching the others", async () => {
    const targets = [
      ...ids.slice(0, 8).map((id) => schemaTarget(id, counted)),
      schemaTarget("nowhere", counted),
    ];
    const plans = await planTenants(targets, migrations);
    expect(plans[8]!.error).toBeInstanceOf(TenantSchemaMissingError);
    expect(plans[8]!.pending).toHaveLength(PG_TAGS.length);

    // only the drifted (6) and missing (8) tenants are reported; migrating the partial ones fails on the
    // fake journals (their tables do not exist), which is fine here: we look at what was attempted
    const run = await migrateTenants(targets, migrations, { to: PG_TAGS[0] });
    expect(run.results.map((r) => r.status)).toEqual([
      "up-to-date",
      "up-to-date",
      "up-to-date",
      "up-to-date", // 3: has 0000
      "applied", // 4: no journal: 0000 creates the first tables
      "applied", // 5: empty journal
      "drift",
      "up-to-date", // 7: has 0000
      "failed",
    ]);
    expect(run.results[8]!.error).toBeInstanceOf(TenantSchemaMissingError);
  });

  it("falls back to one-by-one planning when a journal breaks the bulk query", async () => {
    await db.sql
      .unsafe(`create schema "tenant_broken"; create table "tenant_broken"."__drizzle_migrations" (id int)`)
      .simple();
    const targets = [
      schemaTarget("fp000", counted),
      schemaTarget("broken", counted),
      schemaTarget("fp003", counted),
    ];
    const plans = await planSchemaTenants(counted, targets, migrations);
    expect(summary(plans[0]!)).toEqual({ ...expected(0), error: undefined });
    expect(plans[1]!.error).toBeDefined();
    expect(summary(plans[2]!)).toEqual({ ...expected(3), error: undefined });
  });
});
