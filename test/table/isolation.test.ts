// Table mode on a SUPERUSER connection (the test server's `postgres`), made safe by `table.role`: every
// table-mode transaction switches to a role RLS applies to. Schema and database tenants live in the same app
// and run the same handler code.
import { eq, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/postgres-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TenantContext } from "../../src/context.js";
import { openPgClient } from "../../src/drivers/postgres.js";
import { ConfigError, RlsBypassError, TenantExistsError } from "../../src/errors.js";
import { createTableModeRole } from "../../src/isolation/pg/table.js";
import { createOmnitenant } from "../../src/pg.js";
import type { Tenant } from "../../src/types.js";
import { template } from "../fixtures/table-app/template.js";
import { countingSocket, setupTableApp, type TableApp, uniqueRole } from "./helpers.js";

const appRole = uniqueRole("ot_app");
const reportingRole = uniqueRole("ot_reporting");
let app: TableApp;
const tenants: Tenant[] = [];
const { projects, tasks } = template.sharedTables;

/**
 * What a query builder needs for a tenant: the schema's tables in schema mode, the shared tables in table
 * mode, the unqualified ones in database mode (which table mode could use too: they name the same tables).
 */
const tablesOf = (tenant: Tenant) =>
  tenant.isolation === "schema"
    ? template.forSchema(`tenant_${tenant.tenantId}`)
    : tenant.isolation === "table"
      ? template.sharedTables
      : template.tables;

/** The PostgreSQL error code of a failed query (drizzle wraps driver errors in a DrizzleQueryError). */
const codeOf = (promise: PromiseLike<unknown>) =>
  Promise.resolve(promise).then(
    () => "resolved",
    (error) => (error?.cause ?? error)?.code as string,
  );
/** The error drizzle wrapped. */
const causeOf = (promise: PromiseLike<unknown>) =>
  Promise.resolve(promise).then(
    () => undefined,
    (error) => error?.cause ?? error,
  );

/** Rows as stored, read as the superuser (which bypasses RLS). */
const stored = (table: "projects" | "tasks") =>
  app.database.sql<{ tenant_id: string; name?: string; title?: string }[]>`
    select * from ${app.database.sql(table)} order by tenant_id, id`;

beforeAll(async () => {
  app = await setupTableApp({ table: { role: appRole } });
  await createTableModeRole(app.database.sql, appRole, { tables: template.sharedTables });
  app.roles.push(appRole, reportingRole);
  const { created, failed } = await app.omni.createTenants(
    Array.from({ length: 20 }, (_, i) => ({ tenantId: `t${i + 1}`, name: `T${i + 1}`, isolation: "table" })),
    { concurrency: 4 },
  );
  expect(failed).toEqual([]);
  tenants.push(
    ...created
      .map((c) => c.tenant)
      .sort((a, b) => a.tenantId.localeCompare(b.tenantId, "en", { numeric: true })),
  );
});
afterAll(() => app?.teardown());

describe("table mode isolation", () => {
  it("query builder, relational queries and raw SQL see only the tenant's rows", async () => {
    const [a, b] = tenants as [Tenant, Tenant];
    for (const tenant of [a, b]) {
      const db = app.omni.tenantDb(tenant);
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
      const rows = await db.query.projects.findMany({
        with: { tasks: { orderBy: (x, { asc }) => [asc(x.id)] } },
      });
      expect(rows).toHaveLength(1);
      expect(rows[0]!.name).toBe(`${tenant.tenantId} project`);
      expect(rows[0]!.tasks.map((x) => x.title)).toEqual([
        `${tenant.tenantId} task 1`,
        `${tenant.tenantId} task 2`,
      ]);

      const raw = await db.execute<{ title: string; tenant_id: string }>(
        sql`select title, tenant_id from tasks order by id`,
      );
      expect(raw.map((r) => r.title)).toEqual([`${tenant.tenantId} task 1`, `${tenant.tenantId} task 2`]);
      expect(new Set(raw.map((r) => r.tenant_id))).toEqual(new Set([tenant.tenantId]));

      const done = await db.select().from(tasks).where(eq(tasks.status, "done"));
      expect(done.map((x) => x.title)).toEqual([`${tenant.tenantId} task 2`]);
      // The unqualified template tables (no tenant_id in their type) reach the same shared tables.
      const plain = await db.select({ name: template.tables.projects.name }).from(template.tables.projects);
      expect(plain.map((p) => p.name)).toEqual([`${tenant.tenantId} project`]);
    }
    // Each project and task is stored under its own tenant's id.
    expect((await stored("tasks")).map((r) => [r.tenant_id, r.title])).toEqual([
      [a.tenantId, `${a.tenantId} task 1`],
      [a.tenantId, `${a.tenantId} task 2`],
      [b.tenantId, `${b.tenantId} task 1`],
      [b.tenantId, `${b.tenantId} task 2`],
    ]);
  });

  it("an insert without tenant_id lands in the current tenant; one naming another tenant is rejected", async () => {
    const [, , c, d] = tenants as [Tenant, Tenant, Tenant, Tenant];
    const db = app.omni.tenantDb(c);
    await db.insert(projects).values({ name: "defaulted" });
    const [row] = await app.database.sql<{ tenant_id: string }[]>`
      select tenant_id from projects where name = 'defaulted'`;
    expect(row!.tenant_id).toBe(c.tenantId);

    const foreign = { name: "smuggled", tenantId: d.tenantId } as typeof projects.$inferInsert;
    expect(await codeOf(db.insert(projects).values(foreign))).toBe("42501"); // new row violates RLS policy
    expect(
      await codeOf(
        db.execute(sql`insert into projects (tenant_id, name) values (${d.tenantId}, 'smuggled')`),
      ),
    ).toBe("42501");
    // Moving an own row to another tenant is a write naming that tenant too.
    expect(
      await codeOf(db.execute(sql`update projects set tenant_id = ${d.tenantId} where name = 'defaulted'`)),
    ).toBe("42501");
    // A task of c cannot point at a project of d: the foreign key is (tenant_id, project_id).
    const [dProject] = await app.omni.tenantDb(d).insert(projects).values({ name: "d's" }).returning();
    expect(await codeOf(db.insert(tasks).values({ projectId: dProject!.id, title: "x" }))).toBe("23503");
    expect(await app.database.sql`select 1 from projects where name = 'smuggled'`).toHaveLength(0);
  });

  it("with no tenant set, nothing is visible and inserts are rejected (fail closed)", async () => {
    const visible = await app.master.begin(async (tx) => {
      await tx.unsafe(`set local role "${appRole}"`);
      const [count] = await tx<{ n: number }[]>`select count(*)::int as n from projects`;
      const [tasksCount] = await tx<{ n: number }[]>`select count(*)::int as n from tasks`;
      return count!.n + tasksCount!.n;
    });
    expect(visible).toBe(0);
    expect((await stored("projects")).length).toBeGreaterThan(0);
    // tenant_id defaults to NULL, which the policy's WITH CHECK (and NOT NULL) refuse; so is any named id.
    for (const insert of [
      "insert into projects (name) values ('orphan')",
      "insert into projects (tenant_id, name) values ('t1', 'orphan')",
    ]) {
      const attempt = app.master.begin(async (tx) => {
        await tx.unsafe(`set local role "${appRole}"`);
        await tx.unsafe(insert);
      });
      expect(await codeOf(attempt)).toBe("42501");
    }
  });

  it("leaves nothing on pooled connections: no tenant, no role", async () => {
    const [a] = tenants as [Tenant];
    await Promise.all(Array.from({ length: 40 }, () => app.omni.tenantDb(a).query.projects.findMany()));
    const states = await Promise.all(
      Array.from({ length: 10 }, () =>
        app.master.begin(async (tx) => {
          const [row] = await tx<{ role: string; setting: string | null }[]>`
            select current_user as role, current_setting('omnitenant.tenant_id', true) as setting, pg_sleep(0.01)`;
          return row!;
        }),
      ),
    );
    for (const state of states) {
      expect(state.role).toBe("postgres");
      expect(state.setting ?? "").toBe("");
    }
  });

  it("1,000 concurrent interleaved operations over 20 tenants: every read sees only its own tenant", async () => {
    expect(tenants).toHaveLength(20);
    const operations = Array.from({ length: 1000 }, (_, i) => {
      const tenant = tenants[(i * 7) % tenants.length]!;
      return TenantContext.use(tenant, async () => {
        const db = app.omni.tenantDb();
        if (i % 3 === 0) await db.insert(projects).values({ name: `${tenant.tenantId}#${i}` });
        const rows =
          i % 2 === 0
            ? await db.select({ name: projects.name }).from(projects)
            : await db.query.projects.findMany({ columns: { name: true } });
        for (const row of rows) {
          const owner = row.name.split(/[# ']/)[0];
          if (owner !== tenant.tenantId && row.name !== "defaulted" && row.name !== "d's") {
            throw new Error(`${tenant.tenantId} saw ${row.name}`);
          }
        }
        return rows.length;
      });
    });
    expect(await Promise.all(operations)).toHaveLength(1000);
    // Every insert is stored under its tenant, and visible to it.
    const rows = await app.database.sql<{ tenant_id: string; name: string }[]>`
      select tenant_id, name from projects where name like '%#%'`;
    expect(rows).toHaveLength(334);
    for (const row of rows) expect(row.name.startsWith(`${row.tenant_id}#`)).toBe(true);
    let total = 0;
    for (const tenant of tenants) {
      total += (await app.omni.tenantDb(tenant).select().from(projects)).filter((r) =>
        r.name.includes("#"),
      ).length;
    }
    expect(total).toBe(334);
  });

  it("a user transaction sets the tenant once, and is isolated", async () => {
    const [, b, , , e] = tenants as [Tenant, Tenant, Tenant, Tenant, Tenant];
    const before = app.statements.length;
    const seen = await app.omni.tenantDb(e).transaction(async (tx) => {
      await tx.delete(projects); // the rows of earlier tests
      const [project] = await tx.insert(projects).values({ name: "e tx" }).returning();
      await tx.insert(tasks).values({ projectId: project!.id, title: "e tx task" });
      await tx.transaction(async (nested) => {
        await nested.insert(tasks).values({ projectId: project!.id, title: "e nested task" });
      });
      return tx.query.projects.findMany({ with: { tasks: true } });
    });
    const sent = app.statements.slice(before);
    expect(sent.filter((s) => s.includes("omnitenant.tenant_id"))).toHaveLength(1);
    expect(sent.filter((s) => /^begin/i.test(s))).toHaveLength(1);
    expect(seen.map((p) => p.name)).toEqual(["e tx"]);
    expect(seen[0]!.tasks.map((t) => t.title).sort()).toEqual(["e nested task", "e tx task"]);

    // A failing transaction leaves nothing, and an isolation level can still be set (SET takes no snapshot).
    await expect(
      app.omni.tenantDb(e).transaction(async (tx) => {
        await tx.insert(projects).values({ name: "rolled back" });
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    const serializable = await app.omni
      .tenantDb(b)
      .transaction(
        async (tx) =>
          tx.execute<{ level: string }>(
            sql`select current_setting('transaction_isolation') as level, current_user as role`,
          ),
        {
          isolationLevel: "serializable",
        },
      );
    expect(serializable[0]).toMatchObject({ level: "serializable", role: appRole });
    expect(await app.database.sql`select 1 from projects where name = 'rolled back'`).toHaveLength(0);
  });

  it("a statement costs one round trip: BEGIN, setup, statement and COMMIT are written together", async () => {
    const { counter, socket } = countingSocket(app.url);
    const sent: string[] = [];
    const client = openPgClient(app.url, {
      max: 1,
      extra: { socket, debug: (_c: number, query: string) => sent.push(query) } as never,
    });
    const omni = createOmnitenant(app.config, { master: client });
    /** Socket writes (each one waits for the server's reply before the next) and statements of `run`. */
    const measure = async (run: () => PromiseLike<unknown>) => {
      await run(); // first use: the one-time check of the shared tables, statements prepared if named
      counter.writes = 0;
      sent.length = 0;
      await run();
      return { writes: counter.writes, sent: [...sent] };
    };
    try {
      const tenant = tenants[6]!;
      const db = omni.tenantDb(tenant);
      await db.insert(projects).values({ name: `${tenant.tenantId} rt` });
      const setup = `begin; set local role "${appRole}"; set local omnitenant.tenant_id = '${tenant.tenantId}'`;

      // A statement without parameters: everything in one write, one round trip.
      const plain = await measure(() => db.select().from(projects));
      expect(plain.writes).toBe(1);
      expect(plain.sent).toEqual([setup, expect.stringMatching(/^select .* from "projects"$/), "commit"]);

      // A named prepared statement: also one round trip once prepared on the connection.
      const byName = db
        .select()
        .from(projects)
        .where(eq(projects.name, sql.placeholder("name")))
        .prepare("projects_by_name");
      const prepared = await measure(() => byName.execute({ name: `${tenant.tenantId} rt` }));
      expect(prepared.writes).toBe(1);
      expect(prepared.sent).toHaveLength(3);

      // An unnamed statement with parameters: bare, postgres.js first asks the server for the parameter
      // types (Parse/Describe, a round trip of its own). Table mode prepares its statements (the same text for
      // every tenant), so once prepared on the connection it is one round trip, fewer than bare drizzle.
      const query = () =>
        db
          .select()
          .from(projects)
          .where(eq(projects.name, `${tenant.tenantId} rt`));
      const bare = await measure(() =>
        drizzle({ client, schema: template.sharedTables })
          .select()
          .from(projects)
          .where(eq(projects.name, "x")),
      );
      const wrapped = await measure(query);
      expect(bare.writes).toBe(2);
      expect(wrapped.writes).toBe(1);

      // For contrast: postgres.js's sql.begin pipelines the statements its callback returns, but awaits
      // BEGIN and COMMIT on their own: three round trips for a statement without parameters.
      const begin = await measure(() => client.begin((tx) => [tx`select 1`]));
      expect(begin.writes).toBe(3);
    } finally {
      await omni.close();
      await client.end({ timeout: 5 });
    }
  });

  it("crossTenantDb() reads every tenant, read-only, only when asked by name", async () => {
    const reasons: string[] = [];
    const omni = createOmnitenant(
      { ...app.config, table: { role: appRole, onCrossTenantAccess: ({ reason }) => reasons.push(reason) } },
      { master: app.master },
    );
    const all = await omni.crossTenantDb({ reason: "usage report" }).select().from(projects);
    const owners = new Set(all.map((p) => (p as { tenantId?: string }).tenantId));
    expect(owners.size).toBeGreaterThanOrEqual(20);
    expect(all.length).toBe((await stored("projects")).length);
    expect(reasons).toEqual(["usage report"]);
    // read-only transaction
    expect(await codeOf(omni.crossTenantDb({ reason: "oops" }).insert(projects).values({ name: "x" }))).toBe(
      "25006",
    );
    expect(() => omni.crossTenantDb({ reason: " " })).toThrow(ConfigError);

    // With a dedicated BYPASSRLS role, as an app connecting as a non-bypass role would use it.
    await createTableModeRole(app.database.sql, reportingRole, {
      tables: template.sharedTables,
      crossTenant: true,
    });
    const viaRole = createOmnitenant(
      { ...app.config, table: { role: appRole, crossTenantRole: reportingRole } },
      { master: app.master },
    );
    const rows = await viaRole
      .crossTenantDb({ reason: "report" })
      .transaction(async (tx) =>
        tx.execute<{ role: string; n: number }>(
          sql`select current_user as role, count(*)::int as n from projects`,
        ),
      );
    expect(rows[0]).toEqual({ role: reportingRole, n: all.length });
  });

  it("deleteTenant({ dropData: true }) removes only that tenant's rows", async () => {
    const [a, b] = tenants as [Tenant, Tenant];
    const before = await stored("tasks");
    const otherRows = before.filter((r) => r.tenant_id !== a.tenantId);
    expect(before.some((r) => r.tenant_id === a.tenantId)).toBe(true);
    await app.omni.deleteTenant(a.tenantId, { dropData: true });
    expect(await stored("tasks")).toEqual(otherRows);
    expect((await stored("projects")).some((r) => r.tenant_id === a.tenantId)).toBe(false);
    expect((await stored("projects")).some((r) => r.tenant_id === b.tenantId)).toBe(true);
    expect(await app.omni.getTenant(a.tenantId)).toBeUndefined();

    // Deleted without dropData, the rows stay, and the id cannot be reused (they would become its rows).
    await app.omni.deleteTenant(b.tenantId);
    expect((await stored("projects")).some((r) => r.tenant_id === b.tenantId)).toBe(true);
    await expect(
      app.omni.createTenant({ tenantId: b.tenantId, name: "again", isolation: "table" }),
    ).rejects.toThrow(TenantExistsError);
    expect(await app.omni.getTenant(b.tenantId)).toBeUndefined();
    // The id of a tenant deleted with its data is free again, and the new tenant starts empty.
    await app.omni.createTenant({ tenantId: a.tenantId, name: "again", isolation: "table" });
    expect(
      await app.omni
        .tenantDb(await app.omni.requireTenant(a.tenantId))
        .select()
        .from(projects),
    ).toEqual([]);
  });
});

describe("one app, three modes, one handler", () => {
  it("schema, database and table tenants run the same code and see only their own rows", async () => {
    const mixed: Tenant[] = [];
    for (const isolation of ["schema", "database", "table"] as const) {
      const { tenant } = await app.omni.createTenant({
        tenantId: `mixed-${isolation}`,
        name: isolation,
        isolation,
      });
      mixed.push(tenant);
    }
    const handler = async (tenant: Tenant) =>
      TenantContext.use(tenant, async () => {
        const db = app.omni.tenantDb();
        const t = tablesOf(tenant);
        const [project] = await db
          .insert(t.projects)
          .values({ name: `${tenant.tenantId} p` })
          .returning();
        await db.insert(t.tasks).values({ projectId: project!.id, title: `${tenant.tenantId} task` });
        return db.query.projects.findMany({ with: { tasks: true } });
      });
    for (const tenant of mixed) {
      const rows = await handler(tenant);
      expect(rows.map((p) => [p.name, p.tasks.map((x) => x.title)])).toEqual([
        [`${tenant.tenantId} p`, [`${tenant.tenantId} task`]],
      ]);
    }
  });

  it("migrateTenants reports table tenants up to date (and secures the shared tables); plans are empty", async () => {
    const result = await app.omni.migrateTenants({ tenantIds: ["mixed-schema", "mixed-table", "t3"] });
    expect(result.results.map((r) => [r.tenantId, r.status])).toEqual([
      ["mixed-schema", "up-to-date"],
      ["mixed-table", "up-to-date"],
      ["t3", "up-to-date"],
    ]);
    expect(result.failed).toBe(0);
    // A table-mode tenant's storage is the shared tables.
    expect(await app.omni.storageExists(await app.omni.requireTenant("t3"))).toBe(true);
    expect(await app.omni.planTenant("t3")).toEqual({
      tenantId: "t3",
      applied: [],
      pending: [],
      drifted: [],
      unknown: [],
    });
    const plans = await app.omni.planTenants({ tenantIds: ["mixed-database", "t3"] });
    expect(plans.map((p) => [p.tenantId, p.applied.length, p.pending.length])).toEqual([
      ["mixed-database", 1, 0],
      ["t3", 0, 0],
    ]);
  });
});

describe("a connection role that bypasses RLS", () => {
  it("is refused without table.role (RlsBypassError), and reported by checkSharedTables()", async () => {
    const omni = createOmnitenant({ ...app.config, table: {} }, { master: app.master });
    const [, , c] = tenants as [Tenant, Tenant, Tenant];
    const refused = await causeOf(omni.tenantDb(c).select().from(projects));
    expect(refused).toBeInstanceOf(RlsBypassError);
    expect(refused.message).toMatch(/"postgres", which is a superuser.*table\.role/s);
    await expect(
      omni.createTenant({ tenantId: "bypass", name: "x", isolation: "table" }),
    ).rejects.toBeInstanceOf(RlsBypassError);
    expect(await omni.getTenant("bypass")).toBeUndefined();
    const report = await omni.checkSharedTables();
    expect(report.ok).toBe(false);
    expect(report.role).toMatchObject({ name: "postgres", superuser: true });
    expect(report.findings.map((f) => f.code)).toEqual(["ROLE_BYPASSES_RLS"]);
  });

  it("with table.role, the check passes; a missing role is reported", async () => {
    const report = await app.omni.checkSharedTables();
    expect(report).toMatchObject({ ok: true, findings: [], role: { name: appRole, superuser: false } });
    expect(report.tables.map((t) => [t.table, t.rlsEnabled, t.rlsForced, t.hasPolicy, t.privileges])).toEqual(
      [
        ['"projects"', true, true, true, true],
        ['"tasks"', true, true, true, true],
      ],
    );
    const omni = createOmnitenant(
      { ...app.config, table: { role: "no_such_role_here" } },
      { master: app.master },
    );
    const missing = await omni.checkSharedTables();
    expect(missing.findings.map((f) => f.code)).toContain("ROLE_MISSING");
    expect(await causeOf(omni.tenantDb(tenants[3]!).select().from(projects))).toBeInstanceOf(RlsBypassError);
  });
});
