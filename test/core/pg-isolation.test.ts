import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TenantContext } from "../../src/context.js";
import { NoTenantContextError } from "../../src/errors.js";
import type { IsolationMode, Tenant } from "../../src/types.js";
import { type PgApp, setupPgApp } from "../helpers/app.js";

let app: PgApp;
const tenantsByMode: Record<"schema" | "database", Tenant[]> = { schema: [], database: [] };

beforeAll(async () => {
  app = await setupPgApp();
  for (const mode of ["schema", "database"] as const) {
    for (const n of [1, 2]) {
      const { tenant } = await app.omni.createTenant({
        tenantId: `${mode}-${n}`,
        name: `${mode} ${n}`,
        isolation: mode,
        domains: [`${mode}-${n}.example.test`],
      });
      tenantsByMode[mode].push(tenant);
    }
  }
});
afterAll(() => app?.teardown());

describe.each(["schema", "database"] as const)("%s mode isolation", (mode: IsolationMode) => {
  it("query builder, relational queries and raw SQL see only the tenant's rows", async () => {
    const [a, b] = tenantsByMode[mode as "schema" | "database"] as [Tenant, Tenant];
    for (const tenant of [a, b]) {
      const db = app.omni.tenantDb(tenant);
      const { projects, tasks } = app.config.template.tables;
      const [project] = await db
        .insert(projects)
        .values({ name: `${tenant.tenantId} project` })
        .returning();
      await db.insert(tasks).values([
        { projectId: project!.id, title: `${tenant.tenantId} task 1` },
        { projectId: project!.id, title: `${tenant.tenantId} task 2`, status: "done" },
      ]);
    }
    for (const tenant of [a, b]) {
      const db = app.omni.tenantDb(tenant);
      const t = app.config.template.forSchema;
      void t;
      // Query builder, with the tables of the db's own schema (relational query below uses them implicitly).
      const rows = await db.query.projects.findMany({
        with: { tasks: { orderBy: (x, { asc }) => [asc(x.id)] } },
      });
      expect(rows).toHaveLength(1);
      expect(rows[0]!.name).toBe(`${tenant.tenantId} project`);
      expect(rows[0]!.tasks.map((x) => x.title)).toEqual([
        `${tenant.tenantId} task 1`,
        `${tenant.tenantId} task 2`,
      ]);

      const raw = await db.execute<{ title: string }>(
        sql`select title from ${tablesOf(tenant).tasks} order by id`,
      );
      expect(raw.map((r) => r.title)).toEqual([`${tenant.tenantId} task 1`, `${tenant.tenantId} task 2`]);

      const done = await db
        .select()
        .from(tablesOf(tenant).tasks)
        .where(eq(tablesOf(tenant).tasks.status, "done"));
      expect(done.map((x) => x.title)).toEqual([`${tenant.tenantId} task 2`]);
    }
  });

  it("tenantDb() without arguments follows TenantContext and refuses without a tenant", async () => {
    const [a] = tenantsByMode[mode as "schema" | "database"] as [Tenant];
    const names = await TenantContext.use(a, async () => {
      const rows = await app.omni.tenantDb().query.projects.findMany();
      return rows.map((r) => r.name);
    });
    expect(names).toEqual([`${a.tenantId} project`]);
    expect(() => app.omni.tenantDb()).toThrow(NoTenantContextError);
    expect(() => TenantContext.useMaster(() => app.omni.tenantDb())).toThrow(NoTenantContextError);
  });
});

/** The tables a tenant's db is bound to (schema-qualified in schema mode). */
function tablesOf(tenant: Tenant) {
  return tenant.isolation === "schema"
    ? app.config.template.forSchema(`tenant_${tenant.tenantId}`)
    : app.config.template.tables;
}

describe("schema mode SQL", () => {
  it("is schema-qualified and never sets search_path", async () => {
    const [a] = tenantsByMode.schema as [Tenant];
    const before = app.statements.length;
    await app.omni.tenantDb(a).query.projects.findMany({ with: { tasks: true } });
    await app.omni.tenantDb(a).select().from(tablesOf(a).projects);
    const sent = app.statements.slice(before);
    expect(sent.length).toBeGreaterThan(0);
    for (const statement of sent) {
      expect(statement).toContain('"tenant_schema-1"');
      expect(statement.toLowerCase()).not.toContain("search_path");
    }
  });

  it("a pooled connection used by tenant work is clean for master work", async () => {
    // Saturate every pooled connection with tenant work, then check what master work sees on each.
    const [a] = tenantsByMode.schema as [Tenant];
    await Promise.all(Array.from({ length: 30 }, () => app.omni.tenantDb(a).query.projects.findMany()));
    const states = await Promise.all(
      Array.from({ length: 10 }, () =>
        app.master.begin(async (tx) => {
          const [row] = await tx<{ path: string; role: string; setting: string | null }[]>`
            select current_setting('search_path') as path, current_user as role,
                   current_setting('omnitenant.tenant_id', true) as setting, pg_sleep(0.01)`;
          return row!;
        }),
      ),
    );
    for (const state of states) {
      expect(state.path).toBe('"$user", public');
      expect(state.setting ?? "").toBe("");
    }
    const master = await app.omni.masterDb().query.tenants.findMany({ with: { domains: true } });
    expect(master.map((t) => t.tenantId).sort()).toEqual([
      "database-1",
      "database-2",
      "schema-1",
      "schema-2",
    ]);
    expect(master.find((t) => t.tenantId === "schema-1")?.plan).toBe("free");
  });

  it("TenantContext.useSchema binds tenantDb() to a named schema", async () => {
    const names = await TenantContext.useSchema("tenant_schema-2", async () =>
      (await app.omni.tenantDb().query.projects.findMany()).map((p) => p.name),
    );
    expect(names).toEqual(["schema-2 project"]);
  });
});

describe("1,000 concurrent interleaved operations over 20 tenants", () => {
  it("every read sees only its own tenant", async () => {
    const extra: Tenant[] = [];
    const modes: IsolationMode[] = ["schema", "database"];
    const { created, failed } = await app.omni.createTenants(
      Array.from({ length: 16 }, (_, i) => ({
        tenantId: `load-${i}`,
        name: `Load ${i}`,
        isolation: modes[i % 2]!,
      })),
      { concurrency: 4 },
    );
    expect(failed).toEqual([]);
    extra.push(...created.map((c) => c.tenant));
    const all = [...tenantsByMode.schema, ...tenantsByMode.database, ...extra];
    expect(all).toHaveLength(20);

    const operations = Array.from({ length: 1000 }, (_, i) => {
      const tenant = all[(i * 7) % all.length]!;
      return TenantContext.use(tenant, async () => {
        const db = app.omni.tenantDb();
        const { projects } = tablesOf(tenant);
        if (i % 3 === 0) {
          await db.insert(projects).values({ name: `${tenant.tenantId}#${i}` });
        }
        const rows = await db.select({ name: projects.name }).from(projects);
        for (const row of rows) {
          const owner = row.name.split(/[# ]/)[0];
          if (owner !== tenant.tenantId) throw new Error(`${tenant.tenantId} saw ${row.name}`);
        }
        return rows.length;
      });
    });
    const counts = await Promise.all(operations);
    expect(counts).toHaveLength(1000);
    // Every insert is visible to its own tenant afterwards, and only there.
    let total = 0;
    for (const tenant of all) {
      const rows = await app.omni.tenantDb(tenant).select().from(tablesOf(tenant).projects);
      total += rows.filter((r) => r.name.includes("#")).length;
    }
    expect(total).toBe(334);
  });
});

describe("schema mode with the app's unqualified template tables", () => {
  it("places update targets, joins and aliases in the tenant's schema", async () => {
    const [a, b] = tenantsByMode.schema as [Tenant, Tenant];
    const { projects, tasks } = app.config.template.tables;
    const db = app.omni.tenantDb(a);
    const updateSql = db.update(tasks).set({ status: "done" }).where(eq(tasks.title, "x")).toSQL().sql;
    expect(updateSql).toContain('update "tenant_schema-1"."tasks"');
    const joined = await db
      .select({ project: projects.name, task: tasks.title })
      .from(tasks)
      .innerJoin(projects, eq(tasks.projectId, projects.id));
    expect(joined.length).toBeGreaterThan(0);
    for (const row of joined) expect(row.project.startsWith("schema-1")).toBe(true);
    await db.update(tasks).set({ title: "renamed by schema-1" }).where(eq(tasks.status, "done"));
    const other = await app.omni.tenantDb(b).select().from(tasks);
    expect(other.some((t) => t.title === "renamed by schema-1")).toBe(false);
  });
});
