import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TenantDatabaseUnavailableError } from "../../src/errors.js";
import type { Tenant } from "../../src/types.js";
import { type PgApp, setupPgApp } from "../helpers/app.js";

// The test config caps database mode at 3 open clients of at most 2 connections each.
const CAP = 3;
const PER_CLIENT = 2;
let app: PgApp;
const tenants: Tenant[] = [];

beforeAll(async () => {
  app = await setupPgApp();
  const { created, failed } = await app.omni.createTenants(
    Array.from({ length: 8 }, (_, i) => ({
      tenantId: `db-${i}`,
      name: `Db ${i}`,
      isolation: "database" as const,
    })),
    { concurrency: 2 },
  );
  expect(failed).toEqual([]);
  tenants.push(...created.map((c) => c.tenant));
  for (const tenant of tenants) {
    await app.omni
      .tenantDb(tenant)
      .insert(app.config.template.tables.projects)
      .values({ name: tenant.tenantId });
  }
});
afterAll(() => app?.teardown());

const openConnections = async () => {
  const [row] = await app.database.sql<{ n: number }[]>`
    select count(*)::int as n from pg_stat_activity where datname like ${`${app.databasePrefix}%`}`;
  return row!.n;
};

describe("database mode with more tenants than the client cap", () => {
  it("serves every tenant, evicting least recently used clients, within the connection bound", async () => {
    let peak = 0;
    for (let round = 0; round < 3; round++) {
      await Promise.all(
        tenants.map(async (tenant, i) => {
          const rows = await app.omni.tenantDb(tenant).query.projects.findMany();
          expect(rows.map((r) => r.name)).toEqual([tenant.tenantId]);
          if (i % 3 === 0) peak = Math.max(peak, await openConnections());
        }),
      );
      peak = Math.max(peak, await openConnections());
    }
    expect(peak).toBeLessThanOrEqual(CAP * PER_CLIENT + CAP * PER_CLIENT); // open + still draining
    const stats = app.omni.databaseClientStats() as { open: number; evictions: number };
    expect(stats.open).toBeLessThanOrEqual(CAP);
    expect(stats.evictions).toBeGreaterThan(0);
    // Once evicted clients finish draining, only the cap remains open.
    await expect.poll(openConnections, { timeout: 10_000 }).toBeLessThanOrEqual(CAP * PER_CLIENT);
  });

  it("an evicted client finishes its in-flight query", async () => {
    const [slow, ...others] = tenants as [Tenant, ...Tenant[]];
    const db = app.omni.tenantDb(slow);
    const running = db.execute(sql`select pg_sleep(0.5), count(*)::int as n from projects`);
    await new Promise((r) => setTimeout(r, 50));
    for (const other of others) await app.omni.tenantDb(other).query.projects.findFirst();
    const [row] = await running;
    expect(row).toMatchObject({ n: 1 });
    // The long-lived handle still works after its client was evicted: it reopens one.
    expect((await db.query.projects.findMany()).map((p) => p.name)).toEqual([slow.tenantId]);
  });

  it("a tenant whose server is down fails with a typed error; others are unaffected", async () => {
    process.env.OMNITENANT_TEST_DOWN_URL = "postgres://postgres:hunter2@127.0.0.1:1/nowhere";
    await app.database.sql`
      insert into tenants (tenant_id, name, isolation, config)
      values ('down', 'Down', 'database', '{"databaseUrlEnv": "OMNITENANT_TEST_DOWN_URL"}'::jsonb)`;
    try {
      const down = (await app.omni.getTenant("down"))!;
      const error = await app.omni
        .tenantDb(down)
        .query.projects.findMany()
        .catch((e: unknown) => e);
      // drizzle wraps driver errors in DrizzleQueryError; ours is its cause.
      const cause = (error as Error).cause;
      expect(cause).toBeInstanceOf(TenantDatabaseUnavailableError);
      expect(String((cause as Error).message)).not.toContain("hunter2");
      const rows = await app.omni.tenantDb(tenants[1]!).query.projects.findMany();
      expect(rows).toHaveLength(1);
    } finally {
      delete process.env.OMNITENANT_TEST_DOWN_URL;
    }
  });
});
