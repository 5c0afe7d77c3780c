import fs from "node:fs";
import path from "node:path";
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate as drizzleMigrate } from "drizzle-orm/postgres-js/migrator";
import type postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MigrationDriftError, MigrationError, MigrationLockedError } from "../../src/errors.js";
import {
  MigrationStatementError,
  TenantSchemaMissingError,
  UnknownMigrationError,
} from "../../src/migrations/errors.js";
import { type MigrationFile, readMigrationFolder } from "../../src/migrations/journal.js";
import {
  applyMigrationsInTransaction,
  migrateTenant,
  type PgMigrationTarget,
  planTenant,
} from "../../src/migrations/pg-migrator.js";
import { createTestDatabase, type TestDatabase } from "../helpers/pg.js";
import { copyFolder, PG_FOLDER, PG_TAGS, removeTmpCopies } from "./fixtures.js";

let db: TestDatabase;
let sql: postgres.Sql;
let migrations: MigrationFile[];

beforeAll(async () => {
  db = await createTestDatabase();
  sql = db.sql;
  migrations = readMigrationFolder(PG_FOLDER);
});

afterAll(async () => {
  await db?.drop();
  removeTmpCopies();
});

async function schemaTenant(id: string, create = true): Promise<PgMigrationTarget> {
  const schema = `tenant_${id}`;
  if (create) await sql.unsafe(`create schema "${schema}"`);
  return { tenantId: id, sql, schema, journalSchema: schema };
}

async function journal(target: PgMigrationTarget) {
  return sql.unsafe<{ hash: string; created_at: string }[]>(
    `select hash, created_at::text as created_at from "${target.journalSchema}"."__drizzle_migrations" order by id`,
  );
}

describe("schema mode", () => {
  let a: PgMigrationTarget;
  let b: PgMigrationTarget;

  beforeAll(async () => {
    a = await schemaTenant("a");
    b = await schemaTenant("b");
  });

  it("plans without changing anything", async () => {
    const plan = await planTenant(a, migrations);
    expect(plan).toMatchObject({ tenantId: "a", applied: [], drifted: [], unknown: [] });
    expect(plan.pending.map((m) => m.tag)).toEqual(PG_TAGS);
    const [row] = await sql`select to_regclass('"tenant_a"."__drizzle_migrations"') as journal`;
    expect(row!.journal).toBeNull();
  });

  it("applies every migration, each tenant in its own schema", async () => {
    for (const target of [a, b]) {
      const result = await migrateTenant(target, migrations);
      expect(result.error).toBeUndefined();
      expect(result).toMatchObject({ tenantId: target.tenantId, status: "applied", applied: PG_TAGS });
    }
  });

  it("points each tenant's foreign keys at its own tables", async () => {
    const fks = await sql`
      select n.nspname as schema, c.conname, rn.nspname as referenced_schema, r.relname as referenced_table
        from pg_constraint c
        join pg_class t on t.oid = c.conrelid join pg_namespace n on n.oid = t.relnamespace
        join pg_class r on r.oid = c.confrelid join pg_namespace rn on rn.oid = r.relnamespace
       where c.contype = 'f' and n.nspname in ('tenant_a', 'tenant_b')
       order by 1, 2`;
    expect(fks.map((r) => ({ ...r }))).toEqual(
      ["tenant_a", "tenant_b"].flatMap((schema) => [
        {
          schema,
          conname: "projects_owner_id_users_id_fk",
          referenced_schema: schema,
          referenced_table: "users",
        },
        {
          schema,
          conname: "tasks_project_id_projects_id_fk",
          referenced_schema: schema,
          referenced_table: "projects",
        },
      ]),
    );
  });

  it("types each tenant's enum columns with its own enums", async () => {
    const columns = await sql`
      select n.nspname as schema, t.relname || '.' || a.attname as column,
             coalesce(elemn.nspname, tn.nspname) as type_schema, coalesce(elem.typname, ty.typname) as type_name
        from pg_attribute a
        join pg_class t on t.oid = a.attrelid join pg_namespace n on n.oid = t.relnamespace
        join pg_type ty on ty.oid = a.atttypid join pg_namespace tn on tn.oid = ty.typnamespace
        left join pg_type elem on elem.oid = ty.typelem and ty.typcategory = 'A'
        left join pg_namespace elemn on elemn.oid = elem.typnamespace
       where n.nspname in ('tenant_a', 'tenant_b') and t.relkind = 'r' and a.attnum > 0
         and coalesce(elem.typtype, ty.typtype) = 'e'
       order by 1, 2`;
    expect(columns.map((r) => ({ ...r }))).toEqual(
      ["tenant_a", "tenant_b"].flatMap((schema) => [
        { schema, column: "projects.priority", type_schema: schema, type_name: "priority" },
        { schema, column: "projects.status", type_schema: schema, type_name: "status" },
        { schema, column: "tasks.tags", type_schema: schema, type_name: "status" },
        { schema, column: "users.role", type_schema: schema, type_name: "role" },
      ]),
    );
    const enums = await sql`
      select n.nspname as schema, t.typname, array_agg(e.enumlabel order by e.enumsortorder)::text[] as labels
        from pg_type t join pg_namespace n on n.oid = t.typnamespace join pg_enum e on e.enumtypid = t.oid
       where n.nspname = 'tenant_a' group by 1, 2 order by 2`;
    expect(enums.map((r) => [r.typname, r.labels])).toEqual([
      ["priority", ["low", "high"]],
      ["role", ["owner", "member"]],
      ["status", ["todo", "doing", "done", "archived"]],
    ]);
  });

  it("puts sequences, indexes and the view in the tenant schema, and nothing in public", async () => {
    for (const schema of ["tenant_a", "tenant_b"]) {
      const relations = await sql`
        select c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where n.nspname = ${schema} and c.relkind in ('S', 'i', 'v') order by 1`;
      expect(relations.map((r) => `${r.relkind}:${r.relname}`).sort()).toEqual([
        "S:__drizzle_migrations_id_seq",
        "S:invoice_number_seq",
        "S:projects_id_seq",
        "S:tasks_id_seq",
        "S:users_id_seq",
        "i:__drizzle_migrations_pkey",
        "i:projects_owner_idx",
        "i:projects_pkey",
        "i:tasks_pkey",
        "i:tasks_project_idx",
        "i:tasks_title_idx",
        "i:users_email_idx",
        "i:users_pkey",
        "v:active_projects",
      ]);
      const [seq] =
        await sql`select increment_by from pg_sequences where schemaname = ${schema} and sequencename = 'invoice_number_seq'`;
      expect(Number(seq!.increment_by)).toBe(10);
    }
    const [publicObjects] = await sql`
      select (select count(*) from pg_class where relnamespace = 'public'::regnamespace)::int as relations,
             (select count(*) from pg_type where typnamespace = 'public'::regnamespace)::int as types`;
    expect(publicObjects).toEqual({ relations: 0, types: 0 });
    const [drizzleSchema] = await sql`select to_regnamespace('drizzle') as oid`;
    expect(drizzleSchema!.oid).toBeNull();
  });

  it("keeps literals and isolates data: each tenant's view reads its own table", async () => {
    const [def] = await sql`
      select pg_get_expr(d.adbin, d.adrelid) as expr from pg_attrdef d
        join pg_attribute a on a.attrelid = d.adrelid and a.attnum = d.adnum
       where d.adrelid = '"tenant_a"."users"'::regclass and a.attname = 'note'`;
    expect(def!.expr).toBe(`'public.x "public".y'::text`);
    const seeded = await sql`select email, role::text from "tenant_b"."users"`;
    expect(seeded.map((r) => ({ ...r }))).toEqual([{ email: "seed@example.com", role: "owner" }]);

    const [owner] = await sql`select id from "tenant_a"."users"`;
    await sql`insert into "tenant_a"."projects" (owner_id, name, status) values (${owner!.id}, 'alpha', 'doing')`;
    expect((await sql`select name from "tenant_a"."active_projects"`).map((r) => r.name)).toEqual(["alpha"]);
    expect(await sql`select name from "tenant_b"."active_projects"`).toHaveLength(0);
  });

  it("records drizzle-compatible journal rows and a rerun applies nothing", async () => {
    expect(await journal(a)).toEqual(
      migrations.map((m) => ({ hash: m.hash, created_at: String(m.createdAt) })),
    );
    const rerun = await migrateTenant(a, migrations);
    expect(rerun).toMatchObject({ status: "up-to-date", applied: [] });
    expect(await journal(a)).toHaveLength(PG_TAGS.length);
    expect(await planTenant(a, migrations)).toMatchObject({
      applied: PG_TAGS,
      pending: [],
      drifted: [],
      unknown: [],
    });
  });

  it("stops after `to`, then continues from there", async () => {
    const c = await schemaTenant("c");
    const first = await migrateTenant(c, migrations, { to: PG_TAGS[1] });
    expect(first).toMatchObject({ status: "applied", applied: PG_TAGS.slice(0, 2) });
    expect((await planTenant(c, migrations)).pending.map((m) => m.tag)).toEqual(PG_TAGS.slice(2));
    expect(await migrateTenant(c, migrations, { to: PG_TAGS[0] })).toMatchObject({ status: "up-to-date" });
    expect(await migrateTenant(c, migrations)).toMatchObject({
      status: "applied",
      applied: PG_TAGS.slice(2),
    });
    await expect(migrateTenant(c, migrations, { to: "9999_nope" })).rejects.toThrow(UnknownMigrationError);
  });

  it("plans a migration older than the newest applied one as pending instead of skipping it", async () => {
    const g = await schemaTenant("gap");
    expect((await migrateTenant(g, migrations, { to: PG_TAGS[0] })).status).toBe("applied");
    // e.g. 0002 came in through another branch and was applied first
    await sql.unsafe(`insert into "tenant_gap"."__drizzle_migrations" (hash, created_at) values ($1, $2)`, [
      migrations[2]!.hash,
      migrations[2]!.createdAt,
    ]);
    const plan = await planTenant(g, migrations);
    expect(plan.applied).toEqual([PG_TAGS[0], PG_TAGS[2]]);
    expect(plan.pending.map((m) => m.tag)).toEqual([PG_TAGS[1], PG_TAGS[3]]);
  });

  it("reports a migration edited after it was applied as drift and applies nothing", async () => {
    const d = await schemaTenant("d");
    const dir = copyFolder(PG_FOLDER);
    expect((await migrateTenant(d, readMigrationFolder(dir), { to: PG_TAGS[2] })).status).toBe("applied");
    fs.appendFileSync(path.join(dir, `${PG_TAGS[1]}.sql`), "\n-- edited after it was applied\n");
    const edited = readMigrationFolder(dir);
    const plan = await planTenant(d, edited);
    expect(plan.drifted).toEqual([PG_TAGS[1]]);
    expect(plan.unknown).toEqual([]); // the row's created_at matches a file: drift, not unknown
    expect(plan.pending.map((m) => m.tag)).toEqual([PG_TAGS[3]]);

    const result = await migrateTenant(d, edited);
    expect(result).toMatchObject({ status: "drift", applied: [] });
    expect(result.error).toBeInstanceOf(MigrationDriftError);
    expect(result.error!.message).toContain(PG_TAGS[1]);
    expect(await journal(d)).toHaveLength(3);

    const forced = await migrateTenant(d, edited, { allowDrift: true });
    expect(forced).toMatchObject({ status: "applied", applied: [PG_TAGS[3]] });

    // a journal row no file matches (a deleted file, or a newer deployment) is reported, not fatal
    await sql`insert into "tenant_d"."__drizzle_migrations" (hash, created_at) values ('feed', 1)`;
    expect((await planTenant(d, migrations)).unknown).toEqual(["feed"]);
    expect((await migrateTenant(d, migrations)).status).toBe("up-to-date");
  });

  it("a failing migration fails the tenant, keeps the earlier ones, and a fixed file finishes the job", async () => {
    const e = await schemaTenant("e");
    const dir = copyFolder(PG_FOLDER);
    const file = path.join(dir, `${PG_TAGS[2]}.sql`);
    const original = fs.readFileSync(file, "utf8");
    fs.writeFileSync(file, original.replace(`USING btree ("title")`, `USING btree ("no_such_column")`));

    const result = await migrateTenant(e, readMigrationFolder(dir));
    expect(result).toMatchObject({ status: "failed", applied: PG_TAGS.slice(0, 2) });
    expect(result.error).toBeInstanceOf(MigrationStatementError);
    expect(result.error).toBeInstanceOf(MigrationError);
    const error = result.error as MigrationStatementError;
    expect(error.migration).toBe(PG_TAGS[2]);
    expect(error.statement).toContain("no_such_column");
    expect((error.cause as { code?: string }).code).toBe("42703");
    // the failed migration rolled back as a whole: its first statement (CREATE TYPE role) left nothing
    const [role] = await sql`select to_regtype('"tenant_e"."role"') as t`;
    expect(role!.t).toBeNull();
    expect((await journal(e)).map((r) => r.hash)).toEqual(migrations.slice(0, 2).map((m) => m.hash));

    fs.writeFileSync(file, original);
    const fixed = await migrateTenant(e, readMigrationFolder(dir));
    expect(fixed).toMatchObject({ status: "applied", applied: PG_TAGS.slice(2) });
  });

  it("two concurrent runners on one tenant never apply a migration twice", async () => {
    for (const id of ["race-1", "race-2", "race-3"]) {
      const target = await schemaTenant(id);
      const results = await Promise.all([
        migrateTenant(target, migrations),
        migrateTenant(target, migrations),
        migrateTenant({ ...target }, migrations),
      ]);
      for (const r of results) {
        expect(r.error).toBeUndefined();
        expect(["applied", "up-to-date"]).toContain(r.status);
      }
      expect(results.flatMap((r) => r.applied).sort()).toEqual(PG_TAGS);
      expect(await journal(target)).toHaveLength(PG_TAGS.length);
    }
  });

  it("gives up with status locked when another runner holds the tenant too long", async () => {
    const target = await schemaTenant("busy");
    await sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(hashtext('omnitenant:migrate'), hashtext('tenant_busy.__drizzle_migrations'))`;
      const result = await migrateTenant(target, migrations, { lockTimeoutMs: 100 });
      expect(result).toMatchObject({ status: "locked", applied: [] });
      expect(result.error).toBeInstanceOf(MigrationLockedError);
    });
    expect((await migrateTenant(target, migrations)).status).toBe("applied");
  });

  it("fails clearly when the tenant schema does not exist", async () => {
    const ghost = await schemaTenant("ghost", false);
    const result = await migrateTenant(ghost, migrations);
    expect(result.status).toBe("failed");
    expect(result.error).toBeInstanceOf(TenantSchemaMissingError);
    expect(result.error!.message).toContain("tenant_ghost");
    await expect(planTenant(ghost, migrations)).rejects.toThrow(TenantSchemaMissingError);
  });
});

describe("applyMigrationsInTransaction", () => {
  it("provisions a tenant in the caller's transaction, all or nothing", async () => {
    const target: PgMigrationTarget = { tenantId: "p", sql, schema: "tenant_p", journalSchema: "tenant_p" };
    const applied = await sql.begin(async (tx) => {
      await tx.unsafe(`create schema "tenant_p"`);
      return applyMigrationsInTransaction(tx, target, migrations);
    });
    expect(applied).toEqual(PG_TAGS);
    expect((await planTenant(target, migrations)).pending).toEqual([]);

    const rolledBack: PgMigrationTarget = {
      tenantId: "q",
      sql,
      schema: "tenant_q",
      journalSchema: "tenant_q",
    };
    await expect(
      sql.begin(async (tx) => {
        await tx.unsafe(`create schema "tenant_q"`);
        await applyMigrationsInTransaction(tx, rolledBack, migrations);
        throw new Error("provisioning failed later");
      }),
    ).rejects.toThrow("provisioning failed later");
    const [q] = await sql`select to_regnamespace('tenant_q') as oid`;
    expect(q!.oid).toBeNull();
  });
});

describe("database mode", () => {
  let tenantDb: TestDatabase;
  let target: PgMigrationTarget;

  beforeAll(async () => {
    tenantDb = await createTestDatabase();
    target = { tenantId: "solo", sql: tenantDb.sql, schema: undefined, journalSchema: "drizzle" };
  });
  afterAll(() => tenantDb?.drop());

  it("keeps objects in public and the journal in drizzle.__drizzle_migrations", async () => {
    expect(await migrateTenant(target, migrations)).toMatchObject({ status: "applied", applied: PG_TAGS });
    const objects = await tenantDb.sql`
      select n.nspname as schema, count(*)::int as n from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname in ('public', 'drizzle') group by 1 order by 1`;
    expect(objects.map((r) => r.schema)).toEqual(["drizzle", "public"]);
    const [fk] = await tenantDb.sql`
      select rn.nspname as schema from pg_constraint c join pg_class r on r.oid = c.confrelid
        join pg_namespace rn on rn.oid = r.relnamespace where c.conname = 'tasks_project_id_projects_id_fk'`;
    expect(fk!.schema).toBe("public");
    const rows = await tenantDb.sql`select hash, created_at from drizzle.__drizzle_migrations order by id`;
    expect(rows.map((r) => r.hash)).toEqual(migrations.map((m) => m.hash));
    expect(await migrateTenant(target, migrations)).toMatchObject({ status: "up-to-date", applied: [] });
  });

  it("stays compatible with drizzle's own migrator", async () => {
    // drizzle's migrate() finds nothing newer than the last created_at: it must not re-run anything
    await drizzleMigrate(drizzle(tenantDb.sql), { migrationsFolder: PG_FOLDER });
    const [count] = await tenantDb.sql`select count(*)::int as n from drizzle.__drizzle_migrations`;
    expect(count!.n).toBe(PG_TAGS.length);
  });
});
