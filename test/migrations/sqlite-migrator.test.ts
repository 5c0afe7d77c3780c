import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { migrate as drizzleMigrate } from "drizzle-orm/better-sqlite3/migrator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MigrationDriftError, MigrationLockedError } from "../../src/errors.js";
import { MigrationStatementError, UnknownMigrationError } from "../../src/migrations/errors.js";
import { type MigrationFile, readMigrationFolder } from "../../src/migrations/journal.js";
import { migrateSqlite, planSqlite } from "../../src/migrations/sqlite-migrator.js";
import { copyFolder, removeTmpCopies, SQLITE_FOLDER, SQLITE_TAGS } from "./fixtures.js";

let dir: string;
let migrations: MigrationFile[];
const open: Database.Database[] = [];

function tenantFile(name: string, options?: Database.Options): Database.Database {
  const db = new Database(path.join(dir, `${name}.db`), options);
  open.push(db);
  return db;
}

const tables = (db: Database.Database) =>
  (
    db.prepare("select name from sqlite_master where type = 'table' order by name").all() as {
      name: string;
    }[]
  ).map((r) => r.name);

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "omnitenant-sqlite-"));
  migrations = readMigrationFolder(SQLITE_FOLDER);
});

afterAll(() => {
  for (const db of open) db.close();
  fs.rmSync(dir, { recursive: true, force: true });
  removeTmpCopies();
});

describe("migrateSqlite", () => {
  it("plans, applies each migration once, and reruns as a no-op", () => {
    const db = tenantFile("acme");
    expect(planSqlite(db, migrations, { tenantId: "acme" }).pending.map((m) => m.tag)).toEqual(SQLITE_TAGS);
    expect(tables(db)).toEqual([]); // planning creates nothing

    const result = migrateSqlite(db, migrations, { tenantId: "acme" });
    expect(result).toMatchObject({ tenantId: "acme", status: "applied", applied: SQLITE_TAGS });
    expect(tables(db)).toEqual(["__drizzle_migrations", "projects", "sqlite_sequence", "tasks", "users"]);
    expect(db.prepare("select hash, created_at from __drizzle_migrations order by id").all()).toEqual(
      migrations.map((m) => ({ hash: m.hash, created_at: m.createdAt })),
    );
    expect(migrateSqlite(db, migrations, { tenantId: "acme" })).toMatchObject({
      status: "up-to-date",
      applied: [],
    });

    // drizzle's own migrator agrees there is nothing to do
    drizzleMigrate(drizzle(db), { migrationsFolder: SQLITE_FOLDER });
    expect(db.prepare("select count(*) as n from __drizzle_migrations").get()).toEqual({ n: 2 });
  });

  it("stops after `to`", () => {
    const db = tenantFile("partial");
    expect(migrateSqlite(db, migrations, { tenantId: "partial", to: SQLITE_TAGS[0] })).toMatchObject({
      status: "applied",
      applied: [SQLITE_TAGS[0]],
    });
    expect(tables(db)).not.toContain("tasks");
    expect(migrateSqlite(db, migrations, { tenantId: "partial" }).applied).toEqual([SQLITE_TAGS[1]]);
    expect(() => migrateSqlite(db, migrations, { tenantId: "partial", to: "nope" })).toThrow(
      UnknownMigrationError,
    );
  });

  it("reports drift when an applied file was edited", () => {
    const copy = copyFolder(SQLITE_FOLDER);
    const db = tenantFile("drift");
    migrateSqlite(db, readMigrationFolder(copy), { tenantId: "drift" });
    fs.appendFileSync(path.join(copy, `${SQLITE_TAGS[0]}.sql`), "\n-- edited\n");
    const edited = readMigrationFolder(copy);
    expect(planSqlite(db, edited, { tenantId: "drift" }).drifted).toEqual([SQLITE_TAGS[0]]);
    const result = migrateSqlite(db, edited, { tenantId: "drift" });
    expect(result).toMatchObject({ status: "drift", applied: [] });
    expect(result.error).toBeInstanceOf(MigrationDriftError);
  });

  it("a failing migration rolls back alone; the fixed file applies only what is missing", () => {
    const copy = copyFolder(SQLITE_FOLDER);
    const file = path.join(copy, `${SQLITE_TAGS[1]}.sql`);
    const original = fs.readFileSync(file, "utf8");
    fs.writeFileSync(file, original.replace("ALTER TABLE `projects` ADD", "ALTER TABLE `no_such_table` ADD"));
    const db = tenantFile("broken");
    const result = migrateSqlite(db, readMigrationFolder(copy), { tenantId: "broken" });
    expect(result).toMatchObject({ status: "failed", applied: [SQLITE_TAGS[0]] });
    expect(result.error).toBeInstanceOf(MigrationStatementError);
    expect((result.error as MigrationStatementError).statementIndex).toBe(1);
    expect(tables(db)).not.toContain("tasks"); // the first statement of the failed migration was rolled back

    fs.writeFileSync(file, original);
    expect(migrateSqlite(db, readMigrationFolder(copy), { tenantId: "broken" })).toMatchObject({
      status: "applied",
      applied: [SQLITE_TAGS[1]],
    });
  });

  it("reports locked while another connection holds the write lock", () => {
    const db = tenantFile("busy", { timeout: 50 });
    const other = tenantFile("busy");
    other.exec("BEGIN IMMEDIATE");
    try {
      const result = migrateSqlite(db, migrations, { tenantId: "busy" });
      expect(result).toMatchObject({ status: "locked", applied: [] });
      expect(result.error).toBeInstanceOf(MigrationLockedError);
    } finally {
      other.exec("ROLLBACK");
    }
    expect(migrateSqlite(db, migrations, { tenantId: "busy" }).status).toBe("applied");
  });
});
