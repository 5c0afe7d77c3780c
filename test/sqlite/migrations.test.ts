import { rmSync } from "node:fs";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TenantDatabaseUnavailableError } from "../../src/errors.js";
import { tenantEvents } from "../../src/events.js";
import type { MigrationProgress } from "../../src/migrations/runner.js";
import { template } from "../fixtures/sqlite-app/template.js";
import { type SqliteApp, setupSqliteApp } from "./helpers.js";

const { projects } = template.tables;

describe("per-tenant migrations", () => {
  let app: SqliteApp;
  beforeAll(async () => {
    app = await setupSqliteApp();
    for (const id of ["m-one", "m-two", "m-three"]) {
      await app.omni.createTenant({ tenantId: id, name: id, isolation: "database", migrate: false });
    }
    await app.omni.createTenant({ tenantId: "m-table", name: "Table", isolation: "table" });
  });
  afterAll(() => app?.teardown());

  it("plans without changing anything", async () => {
    const plan = await app.omni.planTenant("m-one");
    expect(plan.applied).toEqual([]);
    expect(plan.pending.map((m) => m.tag)).toEqual(["0000_init", "0001_project_description"]);
    const plans = await app.omni.planTenants();
    expect(plans.map((p) => [p.tenantId, p.pending.length])).toEqual([
      ["m-one", 2],
      ["m-table", 0],
      ["m-three", 2],
      ["m-two", 2],
    ]);
    expect((await app.omni.planTenant("m-one")).pending).toHaveLength(2);
  });

  it("migrates each file up to a tag, then to the end; reruns are no-ops; events and progress are reported", async () => {
    const migrated: string[] = [];
    const off = tenantEvents.on("tenant:migrated", ({ tenant, applied }) => {
      migrated.push(`${tenant.tenantId}:${applied.join(",")}`);
    });
    try {
      const first = await app.omni.migrateTenants({ isolation: "database", to: "0000_init" });
      expect(first.results.map((r) => [r.tenantId, r.status, r.applied])).toEqual([
        ["m-one", "applied", ["0000_init"]],
        ["m-three", "applied", ["0000_init"]],
        ["m-two", "applied", ["0000_init"]],
      ]);
      const progress: MigrationProgress[] = [];
      const second = await app.omni.migrateTenants({ onProgress: (p) => progress.push(p) });
      expect(second.applied).toBe(3);
      expect(second.failed).toBe(0);
      expect(second.results.find((r) => r.tenantId === "m-table")).toMatchObject({
        status: "up-to-date",
        applied: [],
      });
      expect(progress.map((p) => p.done)).toEqual([1, 2, 3, 4]);
      expect(migrated).toContain("m-one:0000_init");
      expect(migrated).toContain("m-one:0001_project_description");
      const rerun = await app.omni.migrateTenants();
      expect(rerun.applied).toBe(0);
      expect(rerun.upToDate).toBe(4);
      // The migrated file works through the tenant's handle, the new column included.
      const db = app.omni.tenantDb((await app.omni.getTenant("m-two"))!);
      db.insert(projects).values({ name: "p", description: "after 0001" }).run();
      expect(db.select({ description: projects.description }).from(projects).all()).toEqual([
        { description: "after 0001" },
      ]);
      expect(await app.omni.migrateTenant("m-two")).toMatchObject({ status: "up-to-date" });
    } finally {
      off();
    }
  });

  it("one tenant's failure does not stop the others", async () => {
    await app.omni.createTenant({ tenantId: "m-lost", name: "Lost", isolation: "database", migrate: false });
    await app.omni.createTenant({ tenantId: "m-late", name: "Late", isolation: "database", migrate: false });
    const lost = (await app.omni.getTenant("m-lost"))!;
    await app.omni.close(); // release the open file before removing it
    rmSync(app.omni.tenantFile("m-lost"));
    const result = await app.omni.migrateTenants();
    const byId = Object.fromEntries(result.results.map((r) => [r.tenantId, r]));
    expect(byId["m-lost"]?.status).toBe("failed");
    expect(byId["m-lost"]?.error).toBeInstanceOf(TenantDatabaseUnavailableError);
    expect(byId["m-late"]?.applied).toEqual(["0000_init", "0001_project_description"]);
    expect(result.failed).toBe(1);
    expect(() => app.omni.tenantDb(lost).select().from(projects).all()).toThrow(
      TenantDatabaseUnavailableError,
    );
  });

  it("the master migrations are drizzle's: applying them again changes nothing", async () => {
    await app.omni.migrateMaster();
    expect(app.master.prepare("select count(*) from __drizzle_migrations").pluck().get()).toBe(2);
  });
});

describe("database mode keeps a bounded set of open files", () => {
  let app: SqliteApp;
  beforeAll(async () => {
    app = await setupSqliteApp({ database: { maxOpen: 3 } });
  });
  afterAll(() => app?.teardown());

  it("evicts the least recently used file and reopens it behind the same handle", async () => {
    const ids = Array.from({ length: 7 }, (_, i) => `lru-${i}`);
    for (const id of ids) await app.omni.createTenant({ tenantId: id, name: id, isolation: "database" });
    const first = (await app.omni.getTenant("lru-0"))!;
    const prepared = app.omni.tenantDb(first).select({ name: projects.name }).from(projects).prepare();
    for (let round = 0; round < 3; round++) {
      for (const id of ids) {
        const db = app.omni.tenantDb((await app.omni.getTenant(id))!);
        db.insert(projects)
          .values({ name: `${id}/${round}` })
          .run();
        expect(app.omni.databaseStats().open).toBeLessThanOrEqual(3);
      }
    }
    expect(app.omni.databaseStats().evictions).toBeGreaterThan(10);
    for (const id of ids) {
      const rows = await app.omni
        .tenantDb((await app.omni.getTenant(id))!)
        .all<{ name: string }>(sql`select name from projects`);
      expect(rows.map((r) => r.name)).toEqual([0, 1, 2].map((round) => `${id}/${round}`));
    }
    // A statement prepared before its file was closed runs on the reopened file.
    expect(prepared.all().map((r) => r.name)).toEqual(["lru-0/0", "lru-0/1", "lru-0/2"]);
  });
});
