import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import {
  getTableConfig,
  getViewConfig,
  integer,
  PgDialect,
  primaryKey,
  serial,
  text,
} from "drizzle-orm/pg-core";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { definePgTemplate } from "../../src/template.js";
import { template } from "../fixtures/table-app/template.js";

const dialect = new PgDialect();
const render = (query: ReturnType<typeof sql>) => dialect.sqlToQuery(query).sql;

describe("template.sharedTables (the table-mode builder)", () => {
  it("adds tenant_id (defaulting to the transaction's tenant), RLS and the tenant policy to every table", () => {
    for (const table of [template.sharedTables.projects, template.sharedTables.tasks]) {
      const config = getTableConfig(table);
      const tenantId = config.columns.find((c) => c.name === "tenant_id")!;
      expect(tenantId.notNull).toBe(true);
      expect(render(tenantId.default as ReturnType<typeof sql>)).toBe(
        "(nullif(current_setting('omnitenant.tenant_id', true), ''))",
      );
      expect(config.enableRLS).toBe(true);
      expect(config.policies).toHaveLength(1);
      const [policy] = config.policies;
      expect(policy).toMatchObject({ name: "omnitenant_tenant_isolation", for: "all", as: "permissive" });
      const expected = `"${config.name}"."tenant_id" = (select nullif(current_setting('omnitenant.tenant_id', true), ''))`;
      expect(render(policy!.using!)).toBe(expected);
      expect(render(policy!.withCheck!)).toBe(expected);
      // tenantKey led the primary key with tenant_id.
      expect(config.primaryKeys[0]!.columns.map((c) => c.name)).toEqual(["tenant_id", "id"]);
    }
    expect(
      getTableConfig(template.sharedTables.tasks)
        .foreignKeys[0]!.reference()
        .columns.map((c) => c.name),
    ).toEqual(["tenant_id", "project_id"]);
  });

  it("is memoised, and leaves the per-tenant tables alone", () => {
    expect(template.sharedTables).toBe(template.sharedTables);
    const perTenant = getTableConfig(template.tables.projects);
    expect(perTenant.columns.map((c) => c.name)).toEqual(["id", "name", "created_at"]);
    expect(perTenant.enableRLS).toBe(false);
    expect(perTenant.policies).toEqual([]);
    expect(perTenant.primaryKeys[0]!.columns.map((c) => c.name)).toEqual(["id"]);
  });

  it("indexes tenant_id unless a key already leads with it; builder.mode tells the modes apart", () => {
    const modes: string[] = [];
    const t = definePgTemplate((b) => {
      modes.push(b.mode);
      return {
        notes: b.table("notes", { id: serial("id").primaryKey(), body: text("body") }),
        keyed: b.table("keyed", { id: integer("id").notNull() }, (x) => [
          primaryKey({ columns: b.tenantKey(x, x.id) }),
        ]),
      };
    });
    expect(getTableConfig(t.sharedTables.notes).indexes.map((i) => i.config.name)).toEqual([
      "notes_tenant_id_idx",
    ]);
    expect(getTableConfig(t.sharedTables.keyed).indexes).toEqual([]);
    void t.tables;
    void t.forSchema("tenant_x");
    expect(modes).toEqual(["table", "per-tenant", "per-tenant"]);
  });

  it("refuses a template that declares tenant_id itself, and materialized views", () => {
    const own = definePgTemplate((b) => ({ t: b.table("t", { tenantId: text("tenant_id") }) }));
    expect(() => own.sharedTables).toThrow(ConfigError);
    const renamed = definePgTemplate((b) => ({ t: b.table("t", { owner: text("tenant_id") }) }));
    expect(() => renamed.sharedTables).toThrow(/declares "tenant_id"/);
    const materialized = definePgTemplate((b) => {
      const t = b.table("t", { id: serial("id").primaryKey() });
      return { t, mv: b.materializedView("mv", { one: integer("one") }).as(sql`select 1 as one`) };
    });
    expect(() => materialized.sharedTables).toThrow(/Materialized view "mv" cannot serve table mode/);
    expect(() => materialized.tables).not.toThrow();
  });

  it("builds views as security_invoker, so RLS applies through them", () => {
    const withView = definePgTemplate((b) => {
      const t = b.table("t", { id: serial("id").primaryKey() });
      return {
        t,
        v: b
          .view("v", { one: integer("one") })
          .with({ checkOption: "local" })
          .as(sql`select 1 as one`),
      };
    });
    expect(getViewConfig(withView.sharedTables.v).with).toEqual({
      checkOption: "local",
      securityInvoker: true,
    });
    expect(getViewConfig(withView.tables.v).with).toEqual({ checkOption: "local" });
  });
});

const fixture = fileURLToPath(new URL("../fixtures/table-app", import.meta.url));
const root = fileURLToPath(new URL("../..", import.meta.url));

describe("drizzle-kit 0.31 and the shared tables", () => {
  it("emits ENABLE ROW LEVEL SECURITY and the policy, but not FORCE", () => {
    const folder = join(fixture, "drizzle/master");
    const file = readdirSync(folder).find((f) => f.endsWith(".sql"))!;
    const text = readFileSync(join(folder, file), "utf8");
    expect(text).toContain('ALTER TABLE "projects" ENABLE ROW LEVEL SECURITY');
    expect(text).toContain('ALTER TABLE "tasks" ENABLE ROW LEVEL SECURITY');
    expect(text).toContain(
      `CREATE POLICY "omnitenant_tenant_isolation" ON "projects" AS PERMISSIVE FOR ALL TO public USING ("projects"."tenant_id" = (select nullif(current_setting('omnitenant.tenant_id', true), '')))`,
    );
    expect(text).not.toMatch(/FORCE ROW LEVEL SECURITY/i);
  });

  it("finds the committed master migrations up to date with the fixture", () => {
    const out = mkdtempSync(join(tmpdir(), "omnitenant-kit-"));
    cpSync(join(fixture, "drizzle/master"), out, { recursive: true });
    const before = readdirSync(out).sort();
    const run = spawnSync(
      join(root, "node_modules/.bin/drizzle-kit"),
      // drizzle-kit prefixes --out with "./": give it a path relative to the working directory
      [
        "generate",
        "--dialect",
        "postgresql",
        "--schema",
        relative(root, join(fixture, "master-schema.ts")),
      ].concat(["--out", relative(root, out), "--name", "check"]),
      { cwd: root, encoding: "utf8" },
    );
    expect(run.status).toBe(0);
    expect(`${run.stdout}${run.stderr}`).toMatch(/No schema changes/);
    expect(readdirSync(out).sort()).toEqual(before);
  });
});
