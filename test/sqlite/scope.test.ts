import { getTableConfig, integer, text } from "drizzle-orm/sqlite-core";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import {
  ScopeViolationError,
  type SharedTableInfo,
  scopeStatement,
  statementKeywords,
} from "../../src/isolation/sqlite/scope.js";
import { defineSqliteTemplate } from "../../src/template-sqlite.js";
import { template } from "../fixtures/sqlite-app/template.js";

const info = (name: string, fillsTenant = true): SharedTableInfo => ({
  name,
  columns: [],
  primaryKey: ["id"],
  fillsTenant,
  references: [],
});
const tables = new Map([
  ["projects", info("projects")],
  ["tasks", info("tasks")],
  ["legacy", info("legacy", false)],
]);
type SharedRow = typeof template.sharedTables.projects.$inferSelect;

const scope = (source: string, inTransaction = false) => scopeStatement(source, tables, inTransaction);

describe("scopeStatement", () => {
  it("points the target of writes at the shared table and leaves everything else as written", () => {
    expect(scope('insert into "projects" ("id", "name") values (null, ?) returning "id"')).toBe(
      'insert into main."projects" ("id", "name") values (null, ?) returning "id"',
    );
    expect(scope('update "tasks" set "title" = ? where "tasks"."id" = ?')).toBe(
      'update main."tasks" set "title" = ? where "tasks"."id" = ?',
    );
    expect(scope('delete from "tasks" where "tasks"."project_id" in (select id from projects)')).toBe(
      'delete from main."tasks" where "tasks"."project_id" in (select id from projects)',
    );
    expect(scope("  -- note\n/* c */ INSERT OR REPLACE INTO Projects (name) values ('x')")).toBe(
      "  -- note\n/* c */ INSERT OR REPLACE INTO main.\"projects\" (name) values ('x')",
    );
    expect(scope("replace into `projects` (name) values ('x')")).toBe(
      "replace into main.\"projects\" (name) values ('x')",
    );
    expect(scope("update or ignore [tasks] set title = 'x'")).toBe(
      "update or ignore main.\"tasks\" set title = 'x'",
    );
    expect(scope("with x as (select ')' as v, (1) as w) insert into projects (name) select v from x")).toBe(
      "with x as (select ')' as v, (1) as w) insert into main.\"projects\" (name) select v from x",
    );
    // Reads, other tables, already qualified targets and tables whose tenant_id has no default stay as they are.
    for (const source of [
      "select * from projects",
      "insert into other (x) values (1)",
      "insert into temp.projects (name) values ('x')",
      "insert into legacy (name) values ('x')",
      "with p as (select 1) select * from p",
      "explain update projects set name = 'x'",
    ]) {
      expect(scope(source)).toBe(source);
    }
    expect(scope("update legacy set name = 'x'")).toBe("update main.\"legacy\" set name = 'x'");
  });

  it("refuses main.<table>, DDL, pragmas, ATTACH and transactions opened by hand", () => {
    for (const source of [
      "select * from main.projects",
      'select * from "MAIN" . "tenants"',
      "drop table projects",
      "create temp view projects as select * from main.projects",
      "alter table projects add x",
      "pragma recursive_triggers = off",
      "attach 'x' as y",
      "detach y",
      "begin immediate",
      "commit",
      "end",
      "vacuum",
      "savepoint a",
      "rollback",
    ]) {
      expect(() => scope(source), source).toThrow(ScopeViolationError);
    }
    // Inside a transaction (drizzle's nested transactions), savepoints are fine.
    expect(scope("savepoint sp0", true)).toBe("savepoint sp0");
    expect(scope("rollback to savepoint sp0", true)).toBe("rollback to savepoint sp0");
    // Strings and names that merely contain "main" are not references to the main schema.
    expect(scope("select 'main.projects', domain from projects where name = 'main'")).toContain(
      "main.projects",
    );
    expect(scope('select "mainly"."x" from projects as "mainly"')).toContain("mainly");
  });

  it("finds each statement's first keyword", () => {
    expect(statementKeywords("select 1; -- x\n ATTACH 'f' as y; 'str;'")).toEqual(["select", "attach", ""]);
  });
});

describe("defineSqliteTemplate", () => {
  it("builds plain tables for tenant files and shared tables with tenant_id and an index leading with it", () => {
    const plain = getTableConfig(template.tables.tasks);
    expect(plain.columns.map((c) => c.name)).toEqual(["id", "project_id", "title", "status"]);
    const shared = getTableConfig(template.sharedTables.tasks);
    expect(shared.columns.map((c) => c.name)).toEqual(["id", "project_id", "title", "status", "tenant_id"]);
    const tenantId = shared.columns.find((c) => c.name === "tenant_id")!;
    expect(tenantId.notNull).toBe(true);
    expect(
      shared.indexes.map((i) => [i.config.name, i.config.columns.map((c) => (c as { name: string }).name)]),
    ).toEqual([
      ["tasks_tenant_id_idx", ["tenant_id"]],
      ["tasks_project_idx", ["project_id"]],
    ]);
    expect(template.tableNames).toEqual(["projects", "tasks"]);
    // Typed: the shared table has tenantId, the tenant table has not.
    const sharedTenant: SharedRow["tenantId"] = "acme";
    expect(sharedTenant).toBe("acme");
    // @ts-expect-error database-mode tables have no tenantId
    const noTenant: (typeof template.tables.projects.$inferSelect)["tenantId"] = undefined;
    expect(noTenant).toBeUndefined();
  });

  it("tells the factory which copy it builds, and refuses a template that declares tenant_id itself", () => {
    const modes: string[] = [];
    const t = defineSqliteTemplate((b) => {
      modes.push(b.mode);
      return { items: b.table("items", { id: integer().primaryKey() }) };
    });
    void t.tables;
    void t.sharedTables;
    expect(modes).toEqual(["database", "table"]);
    const bad = defineSqliteTemplate((b) => ({ items: b.table("items", { owner: text("tenant_id") }) }));
    expect(bad.tables.items).toBeDefined();
    expect(() => bad.sharedTables).toThrow(ConfigError);
  });
});
