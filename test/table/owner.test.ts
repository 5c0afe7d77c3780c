// The production shape: the app connects as a NON-superuser login role that owns the tables (it ran the
// master migrations). Owners bypass RLS unless the table FORCEs it: drizzle-kit does not emit FORCE, so
// until secureSharedTables() (or migrate-tenant) runs, table-mode tenants are refused.
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, SharedTablesNotSecuredError } from "../../src/errors.js";
import type { Tenant } from "../../src/types.js";
import { template } from "../fixtures/table-app/template.js";
import { setupTableApp, type TableApp } from "./helpers.js";

let app: TableApp;
const { projects, tasks } = template.sharedTables;

const causeOf = (promise: PromiseLike<unknown>) =>
  Promise.resolve(promise).then(
    () => undefined,
    (error) => error?.cause ?? error,
  );

beforeAll(async () => {
  app = await setupTableApp({ asOwner: true, secure: false });
});
afterAll(() => app?.teardown());

/** As the owner, with no tenant set: what a raw master query on the shared tables sees. */
const ownerSeesWithoutTenant = async () => {
  const [row] = await app.master<{ n: number }[]>`select count(*)::int as n from projects`;
  return row!.n;
};

describe("an app connected as the tables' owner (not a superuser)", () => {
  it("runs as the owner of the shared tables, which drizzle-kit left without FORCE", async () => {
    const [row] = await app.master<{ role: string; superuser: boolean; owner: string }[]>`
      select current_user as role, r.rolsuper as superuser, pg_get_userbyid(c.relowner) as owner
      from pg_roles r, pg_class c where r.rolname = current_user and c.oid = 'projects'::regclass`;
    expect(row!.superuser).toBe(false);
    expect(row!.owner).toBe(row!.role);

    const report = await app.omni.checkSharedTables();
    expect(report.ok).toBe(false);
    expect(report.role).toMatchObject({ name: row!.role, superuser: false, bypassRls: false });
    expect(report.findings.map((f) => [f.code, f.table])).toEqual([
      ["RLS_NOT_FORCED", '"projects"'],
      ["RLS_NOT_FORCED", '"tasks"'],
    ]);

    // Without FORCE the owner reads every tenant's rows: this is what the check guards against.
    await app.database
      .sql`insert into projects (tenant_id, name) values ('x1', 'x1 seeded'), ('x2', 'x2 seeded')`;
    expect(await ownerSeesWithoutTenant()).toBe(2);
  });

  it("refuses table-mode queries while the shared tables are not secured", async () => {
    const fake = { tenantId: "x1", name: "x1", isolation: "table", config: {}, createdAt: null } as Tenant;
    const refused = await causeOf(app.omni.tenantDb(fake).select().from(projects));
    expect(refused).toBeInstanceOf(SharedTablesNotSecuredError);
    expect(refused.message).toMatch(
      /enabled but not forced on "projects".*secureSharedTables\(\).*migrate-tenant/s,
    );
  });

  it("creating the first table-mode tenant secures the shared tables; then the owner without a tenant sees nothing", async () => {
    await app.omni.createTenant({ tenantId: "early", name: "Early", isolation: "table" });
    expect(await app.omni.secureSharedTables()).toEqual({ changed: [] });
    expect((await app.omni.checkSharedTables()).findings).toEqual([]);

    expect(await ownerSeesWithoutTenant()).toBe(0);
    await expect(app.master`insert into projects (name) values ('no tenant')`).rejects.toMatchObject({
      code: "42501",
    });
    await expect(
      app.master`insert into projects (tenant_id, name) values ('x1', 'named, no tenant')`,
    ).rejects.toMatchObject({ code: "42501" });
  });

  it("isolates table-mode tenants: query builder, relational queries, raw SQL, foreign ids", async () => {
    const made: Tenant[] = [];
    for (const id of ["acme", "globex"]) {
      made.push((await app.omni.createTenant({ tenantId: id, name: id, isolation: "table" })).tenant);
    }
    for (const tenant of made) {
      await app.omni.tenantDb(tenant).transaction(async (tx) => {
        const [project] = await tx
          .insert(projects)
          .values({ name: `${tenant.tenantId} project` })
          .returning();
        await tx.insert(tasks).values({ projectId: project!.id, title: `${tenant.tenantId} task` });
      });
    }
    for (const tenant of made) {
      const db = app.omni.tenantDb(tenant);
      const rows = await db.query.projects.findMany({ with: { tasks: true } });
      expect(rows.map((p) => [p.name, p.tasks.map((t) => t.title)])).toEqual([
        [`${tenant.tenantId} project`, [`${tenant.tenantId} task`]],
      ]);
      const raw = await db.execute<{ tenant_id: string; n: number }>(
        sql`select tenant_id, count(*)::int as n from projects group by tenant_id`,
      );
      expect([...raw]).toEqual([{ tenant_id: tenant.tenantId, n: 1 }]);
      const other = made.find((t) => t !== tenant)!.tenantId;
      const smuggled = await causeOf(
        db.execute(sql`insert into projects (tenant_id, name) values (${other}, 'x')`),
      );
      expect(smuggled).toMatchObject({ code: "42501" });
      // The seeded rows of x1/x2 are invisible to both.
      expect((await db.select().from(projects)).map((p) => p.name)).toEqual([`${tenant.tenantId} project`]);
    }
    // Stored under the right ids, seen by the superuser.
    const stored = await app.database.sql<{ tenant_id: string }[]>`
      select tenant_id from projects where tenant_id in ('acme', 'globex') order by tenant_id`;
    expect(stored.map((r) => r.tenant_id)).toEqual(["acme", "globex"]);
  });

  it("crossTenantDb() needs a role that bypasses RLS, which the owner is not", async () => {
    const refused = await causeOf(app.omni.crossTenantDb({ reason: "report" }).select().from(projects));
    expect(refused).toBeInstanceOf(ConfigError);
    expect(refused.message).toMatch(/crossTenantRole/);
  });

  it("deleteTenant({ dropData: true }) deletes the tenant's rows as the owner, under RLS", async () => {
    await app.omni.deleteTenant("acme", { dropData: true });
    const left = await app.database.sql<{ tenant_id: string }[]>`
      select distinct tenant_id from tasks union select distinct tenant_id from projects order by 1`;
    expect(left.map((r) => r.tenant_id)).toEqual(["globex", "x1", "x2"]);
  });
});
