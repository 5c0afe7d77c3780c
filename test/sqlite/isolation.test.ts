import { and, eq, like, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TenantContext } from "../../src/context.js";
import { NoTenantContextError } from "../../src/errors.js";
import type { Tenant } from "../../src/types.js";
import * as master from "../fixtures/sqlite-app/master-schema.js";
import { template } from "../fixtures/sqlite-app/template.js";
import { jitter, type SqliteApp, setupSqliteApp } from "./helpers.js";

const { projects, tasks } = template.tables;

/** The first error in a chain (drizzle wraps driver errors in DrizzleQueryError) whose message matches. */
function messages(error: unknown): string {
  const parts: string[] = [];
  for (let e = error as { message?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    parts.push(String(e.message));
  }
  return parts.join(" <- ");
}

describe.each(["database", "table"] as const)("%s mode", (mode) => {
  let app: SqliteApp;
  let a: Tenant;
  let b: Tenant;
  const idA = `alpha-${mode}`;
  const idB = `beta-${mode}`;

  beforeAll(async () => {
    app = await setupSqliteApp();
    a = (await app.omni.createTenant({ tenantId: idA, name: "Alpha", isolation: mode })).tenant;
    b = (await app.omni.createTenant({ tenantId: idB, name: "Beta", isolation: mode })).tenant;
    for (const [tenant, names] of [
      [a, ["a1", "a2"]],
      [b, ["b1"]],
    ] as const) {
      const db = app.omni.tenantDb(tenant);
      for (const name of names) {
        const [project] = await db.insert(projects).values({ name }).returning();
        await db.insert(tasks).values([
          { projectId: project!.id, title: `${name}-t1` },
          { projectId: project!.id, title: `${name}-t2`, status: "done" },
        ]);
      }
    }
  });
  afterAll(() => app?.teardown());

  it("query builder: each tenant sees, updates and deletes only its own rows (awaited and synchronous)", async () => {
    const dbA = app.omni.tenantDb(a);
    const dbB = app.omni.tenantDb(b);
    expect((await dbA.select().from(projects).orderBy(projects.name)).map((p) => p.name)).toEqual([
      "a1",
      "a2",
    ]);
    expect(dbB.select({ name: projects.name }).from(projects).all()).toEqual([{ name: "b1" }]);
    expect(
      dbB
        .select()
        .from(tasks)
        .all()
        .map((t) => t.title),
    ).toEqual(["b1-t1", "b1-t2"]);

    // B aims at A's rows by id: nothing happens to them.
    const aIds = dbA
      .select({ id: projects.id })
      .from(projects)
      .all()
      .map((p) => p.id);
    const missed = dbB.update(projects).set({ name: "hijacked" }).where(eq(projects.id, aIds[0]!)).run();
    const bId = dbB.select({ id: projects.id }).from(projects).get()!.id;
    if (mode === "table") {
      expect(missed.changes).toBe(0);
      expect(await dbB.delete(tasks).where(eq(tasks.projectId, aIds[0]!)).returning()).toEqual([]);
    } else {
      // Database mode: ids are per file, so B's "id" can only ever be one of B's own rows.
      expect(aIds[0]).toBe(bId);
      await dbB.update(projects).set({ name: "b1" }).where(eq(projects.id, bId));
    }
    expect((await dbA.select().from(projects).orderBy(projects.name)).map((p) => p.name)).toEqual([
      "a1",
      "a2",
    ]);
    expect(dbA.select().from(tasks).all()).toHaveLength(4);

    // Unfiltered writes stay inside the tenant, and report exact counts and RETURNING rows.
    const touched = dbB.update(tasks).set({ status: "open" }).run();
    expect(touched.changes).toBe(2);
    expect(dbA.select().from(tasks).where(eq(tasks.status, "done")).all()).toHaveLength(2);
    const updated = await dbA
      .update(projects)
      .set({ description: "seen by alpha" })
      .returning({ id: projects.id, description: projects.description });
    expect(updated).toHaveLength(2);
    expect(updated.every((r) => r.description === "seen by alpha")).toBe(true);
    expect(dbB.select().from(projects).get()!.description).toBeNull();
  });

  it("insert returning gives the generated id and defaults; lastInsertRowid and changes are exact", async () => {
    const db = app.omni.tenantDb(a);
    const [row] = await db.insert(projects).values({ name: "a-returning" }).returning();
    expect(row!.id).toBeGreaterThan(0);
    expect(row!.createdAt).toBeInstanceOf(Date);
    const result = db
      .insert(projects)
      .values([{ name: "a-run-1" }, { name: "a-run-2" }])
      .run();
    expect(result.changes).toBe(2);
    expect(Number(result.lastInsertRowid)).toBe(row!.id + 2);
    const deleted = db.delete(projects).where(like(projects.name, "a-r%")).run();
    expect(deleted.changes).toBe(3);
  });

  it("relational queries: with-relations only reach the tenant's rows", async () => {
    for (const [tenant, expected] of [
      [a, { a1: ["a1-t1", "a1-t2"], a2: ["a2-t1", "a2-t2"] }],
      [b, { b1: ["b1-t1", "b1-t2"] }],
    ] as const) {
      const db = app.omni.tenantDb(tenant);
      const found = await db.query.projects.findMany({ with: { tasks: true }, orderBy: projects.name });
      expect(Object.fromEntries(found.map((p) => [p.name, p.tasks.map((t) => t.title).sort()]))).toEqual(
        expected,
      );
      const task = db.query.tasks
        .findFirst({ with: { project: true }, where: eq(tasks.title, "b1-t1") })
        .sync();
      expect(task?.project.name).toBe(tenant === b ? "b1" : undefined);
    }
  });

  it("raw SQL (all/get/run/values) is scoped the same way", async () => {
    const dbA = app.omni.tenantDb(a);
    const dbB = app.omni.tenantDb(b);
    const rows = dbA.all<{ name: string }>(sql`select name from projects order by name`);
    expect(rows.map((r) => r.name)).toEqual(["a1", "a2"]);
    expect(await dbB.get<{ n: number }>(sql`select count(*) as n from tasks`)).toEqual({ n: 2 });
    expect(
      dbB.values(
        sql`select p.name, count(t.id) from projects p join tasks t on t.project_id = p.id group by p.name`,
      ),
    ).toEqual([["b1", 2]]);
    const run = dbB.run(sql`update tasks set title = title || '!' where title like '%t1'`);
    expect(run.changes).toBe(1);
    expect(dbA.all(sql`select title from tasks where title like '%!'`)).toEqual([]);
    dbB.run(sql`update tasks set title = replace(title, '!', '')`);
    // Subqueries and CTEs are scoped too.
    expect(
      dbB.all(
        sql`with p as (select id from projects) select count(*) as n from tasks where project_id in (select id from p)`,
      ),
    ).toEqual([{ n: 2 }]);
    expect(
      dbB.all(sql`select count(*) as n from tasks where project_id not in (select id from projects)`),
    ).toEqual([{ n: 0 }]);
  });

  it("1,000 interleaved operations across 20 tenants, each read checked", async () => {
    const tenants: Tenant[] = [];
    const { created, failed } = await app.omni.createTenants(
      Array.from({ length: 20 }, (_, i) => ({
        tenantId: `load-${mode}-${i}`,
        name: `Load ${i}`,
        isolation: mode,
      })),
    );
    expect(failed).toEqual([]);
    tenants.push(...created.map((c) => c.tenant));
    const inserted = new Map<string, Set<string>>(tenants.map((t) => [t.tenantId, new Set()]));
    let checkedReads = 0;

    // Every row a read returns must be the tenant's; every row the tenant finished inserting before the read
    // started must be there.
    const checkRead = (tenantId: string, names: string[], expected: Set<string>) => {
      for (const name of names) expect(name.startsWith(`${tenantId}#`), name).toBe(true);
      for (const name of expected) expect(names).toContain(name);
      checkedReads++;
    };

    const operation = (i: number) => {
      const tenant = tenants[(i * 7) % tenants.length]!;
      return TenantContext.use(tenant, async () => {
        const own = inserted.get(tenant.tenantId)!;
        await jitter(i);
        const db = app.omni.tenantDb();
        const name = `${tenant.tenantId}#${i}`;
        switch (i % 5) {
          case 0: {
            const [row] = await db.insert(projects).values({ name }).returning();
            own.add(name);
            await jitter(i + 1);
            // The context survived the awaits, and the row is there.
            expect(TenantContext.current()?.tenantId).toBe(tenant.tenantId);
            expect(
              app.omni.tenantDb().select().from(projects).where(eq(projects.id, row!.id)).get()?.name,
            ).toBe(name);
            break;
          }
          case 1: {
            db.insert(projects).values({ name }).run();
            own.add(name);
            await jitter(i + 2);
            const project = db.select().from(projects).where(eq(projects.name, name)).get()!;
            await db.insert(tasks).values({ projectId: project.id, title: `task of ${name}` });
            break;
          }
          case 2: {
            const expected = new Set(own);
            const rows = await app.omni.tenantDb().query.projects.findMany({ with: { tasks: true } });
            checkRead(
              tenant.tenantId,
              rows.map((r) => r.name),
              expected,
            );
            for (const row of rows)
              for (const task of row.tasks) expect(task.title).toBe(`task of ${row.name}`);
            break;
          }
          case 3: {
            const expected = new Set(own);
            const rows = app.omni.tenantDb().all<{ name: string }>(sql`select name from projects`);
            checkRead(
              tenant.tenantId,
              rows.map((r) => r.name),
              expected,
            );
            break;
          }
          default: {
            const expected = new Set(own);
            await jitter(i);
            const rows = await app.omni.tenantDb().select({ name: projects.name }).from(projects);
            checkRead(
              tenant.tenantId,
              rows.map((r) => r.name),
              expected,
            );
            const titles = app.omni.tenantDb().all<{ title: string }>(sql`select title from tasks`);
            for (const { title } of titles)
              expect(title.startsWith(`task of ${tenant.tenantId}#`)).toBe(true);
          }
        }
      });
    };

    await Promise.all(Array.from({ length: 1000 }, (_, i) => operation(i)));
    expect(checkedReads).toBe(600);
    for (const tenant of tenants) {
      const names = app.omni.tenantDb(tenant).select({ name: projects.name }).from(projects).all();
      expect(new Set(names.map((n) => n.name))).toEqual(inserted.get(tenant.tenantId));
    }
    expect([...inserted.values()].reduce((n, s) => n + s.size, 0)).toBe(400);
  });

  it("without a tenant in context tenantDb() refuses instead of guessing", () => {
    expect(() => app.omni.tenantDb()).toThrow(NoTenantContextError);
    expect(() => TenantContext.useMaster(() => app.omni.tenantDb())).toThrow(NoTenantContextError);
  });

  it("a transaction (synchronous, as better-sqlite3's) commits or rolls back inside the tenant", () => {
    const db = app.omni.tenantDb(b);
    expect(() =>
      db.transaction((tx) => {
        tx.insert(projects).values({ name: "b-rolled-back" }).run();
        throw new Error("stop");
      }),
    ).toThrow("stop");
    const count = db.transaction((tx) => {
      tx.insert(projects).values({ name: "b-committed" }).run();
      tx.transaction((nested) => nested.insert(projects).values({ name: "b-nested" }).run());
      return tx.select().from(projects).all().length;
    });
    expect(count).toBe(3);
    expect(app.omni.tenantDb(a).select().from(projects).where(like(projects.name, "b-%")).all()).toEqual([]);
    db.delete(projects)
      .where(and(like(projects.name, "b-%")))
      .run();
  });

  it("ATTACH is refused, so a tenant's raw SQL cannot open another file", () => {
    const db = app.omni.tenantDb(a);
    const file = mode === "database" ? app.omni.tenantFile(idB) : app.config.master.file;
    expect(messages(catchError(() => db.run(sql.raw(`attach '${file}' as other`))))).toMatch(/ATTACH|attach/);
    if (mode === "database")
      expect(() => db.$client.exec(`select 1; attach '${file}' as other`)).toThrow(/ATTACH/);
  });
});

describe("table mode: what the library enforces beyond scoping reads", () => {
  let app: SqliteApp;
  let a: Tenant;
  let b: Tenant;
  beforeAll(async () => {
    app = await setupSqliteApp();
    a = (await app.omni.createTenant({ tenantId: "ta", name: "A", isolation: "table" })).tenant;
    b = (await app.omni.createTenant({ tenantId: "tb", name: "B", isolation: "table" })).tenant;
  });
  afterAll(() => app?.teardown());

  it("inserts without a tenant id land in the current tenant", async () => {
    await TenantContext.use(a, async () => {
      await app.omni.tenantDb().insert(projects).values({ name: "from template table" });
      await app.omni.tenantDb().insert(master.projects).values({ name: "from shared table" });
      app.omni.tenantDb().run(sql`insert into projects (name) values ('from raw sql')`);
      app.omni
        .tenantDb()
        .run(sql`with x as (select 'from a cte' as n) insert into projects (name) select n from x`);
    });
    const stored = app.omni
      .masterDb()
      .select({ name: master.projects.name, tenantId: master.projects.tenantId })
      .from(master.projects)
      .all();
    expect(stored).toHaveLength(4);
    expect(stored.every((r) => r.tenantId === "ta")).toBe(true);
  });

  it("writes naming another tenant are rejected", () => {
    const dbA = app.omni.tenantDb(a);
    const dbB = app.omni.tenantDb(b);
    const bProject = dbB.insert(projects).values({ name: "b's" }).returning().get();
    const aProject = dbA.select().from(projects).get()!;
    const attempts: Array<[string, () => unknown]> = [
      ["insert naming B", () => dbA.insert(master.projects).values({ name: "x", tenantId: "tb" }).run()],
      ["raw insert naming B", () => dbA.run(sql`insert into projects (name, tenant_id) values ('x', 'tb')`)],
      ["moving a row to B", () => dbA.update(master.projects).set({ tenantId: "tb" }).run()],
      ["raw move to B", () => dbA.run(sql`update projects set tenant_id = 'tb' where id = ${aProject.id}`)],
      [
        "a task under B's project",
        () => dbA.insert(tasks).values({ projectId: bProject.id, title: "x" }).run(),
      ],
      [
        "re-parenting a task to B's project",
        () => {
          const task = dbA.insert(tasks).values({ projectId: aProject.id, title: "mine" }).returning().get();
          dbA.update(tasks).set({ projectId: bProject.id }).where(eq(tasks.id, task.id)).run();
        },
      ],
      [
        "replacing B's row",
        () => dbA.run(sql`insert or replace into projects (id, name) values (${bProject.id}, 'x')`),
      ],
    ];
    for (const [label, attempt] of attempts) {
      expect(attempt, label).toThrow();
    }
    expect(messages(catchError(attempts[0]![1]))).toMatch(/names another tenant/);
    expect(messages(catchError(attempts[2]![1]))).toMatch(/cannot move to another tenant/);
    expect(messages(catchError(attempts[4]![1]))).toMatch(/not this tenant's/);
    // An upsert that collides with B's key neither inserts nor touches B's row.
    expect(
      dbA.all(
        sql`insert into projects (id, name) values (${bProject.id}, 'x') on conflict (id) do update set name = excluded.name returning *`,
      ),
    ).toEqual([]);
    expect(dbB.select().from(projects).all()).toEqual([bProject]);
    expect(app.master.prepare("select count(*) from projects where tenant_id = 'tb'").pluck().get()).toBe(1);
  });

  it("a statement with no tenant bound sees nothing and cannot write", () => {
    // The connection every table-mode handle runs on, used directly: no statement of a tenant is running.
    const raw = app.omni.sharedConnection();
    expect(app.master.prepare("select count(*) from projects").pluck().get()).toBeGreaterThan(0);
    expect(raw.prepare("select * from projects").all()).toEqual([]);
    expect(raw.prepare("select * from tasks").all()).toEqual([]);
    expect(() => raw.prepare("insert into projects (name) values ('nobody')").run()).toThrow(
      /no tenant is bound/,
    );
    expect(() => raw.prepare("insert into main.projects (name, tenant_id) values ('x', 'ta')").run()).toThrow(
      /no tenant is bound/,
    );
    expect(() => raw.prepare("update main.projects set name = 'x'").run()).toThrow(/no tenant is bound/);
    expect(() => raw.prepare("delete from main.tasks").run()).toThrow(/no tenant is bound/);
    // A tenant's statement binds its tenant only while it runs.
    app.omni.tenantDb(a).select().from(projects).all();
    expect(raw.prepare("select count(*) from projects").pluck().get()).toBe(0);
    // On the master connection, an insert into a shared table must name its tenant.
    expect(() => app.omni.masterDb().insert(master.projects).values({ name: "x" }).run()).toThrow(/NOT NULL/);
  });

  it("tenant handles cannot reach the master's own tables, main.<table>, DDL or open transactions", async () => {
    const db = app.omni.tenantDb(a);
    expect(db.all(sql`select * from tenants`)).toEqual([]);
    expect(db.all(sql`select * from domains`)).toEqual([]);
    expect(db.all(sql`select * from __drizzle_migrations`)).toEqual([]);
    expect(() => db.run(sql`insert into domains (domain, tenant_id) values ('x.test', 'ta')`)).toThrow();
    for (const statement of [
      "select * from main.projects",
      'select * from "main"."tenants"',
      "delete from main.projects",
      "drop view projects",
      "create table x (id integer)",
      "pragma foreign_keys = off",
      "begin",
      "commit",
      "savepoint x",
    ]) {
      expect(messages(catchError(() => db.run(sql.raw(statement)))), statement).toMatch(/table-mode tenant/);
    }
    expect(() => db.$client.exec("select 1")).toThrow(/exec\(\) is not available/);
    expect(() => db.$client.close()).toThrow(/not available/);
    expect(() => db.$client.function("omnitenant_tenant", () => "tb")).toThrow(/not available/);
    // Strings mentioning main. are data, not names.
    expect(db.all(sql`select 'main.projects' as s`)).toEqual([{ s: "main.projects" }]);
  });

  it("statement objects prepared by a tenant stay that tenant's, iterators included", async () => {
    const dbA = app.omni.tenantDb(a);
    const dbB = app.omni.tenantDb(b);
    const preparedA = dbA.select({ name: projects.name }).from(projects).prepare();
    const iterator = dbA.$client.prepare("select tenant_id from projects").iterate() as IterableIterator<{
      tenant_id: string;
    }>;
    const first = iterator.next();
    await jitter(1);
    const rest = [...iterator];
    expect([first.value, ...rest].every((r) => r.tenant_id === "ta")).toBe(true);
    expect(
      dbB
        .select()
        .from(projects)
        .all()
        .map((p) => p.name),
    ).toEqual(["b's"]);
    expect(preparedA.all().map((p) => p.name)).not.toContain("b's");
  });

  it("a master migration run elsewhere is picked up: views and triggers follow the new schema", async () => {
    const other = app.master;
    other.exec("alter table projects add column color text");
    const db = app.omni.tenantDb(b);
    const row = db.get<{ color: string | null; tenant_id: string }>(sql`select * from projects`);
    expect(row).toMatchObject({ color: null, tenant_id: "tb" });
    // temp.projects is the view itself: this insert goes through its INSTEAD OF trigger, rebuilt for the new column.
    db.run(sql`insert into temp.projects (name, color) values ('colored', 'red')`);
    expect(db.all(sql`select color from projects where name = 'colored'`)).toEqual([{ color: "red" }]);
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error");
}
