import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { readMigrationFiles } from "drizzle-orm/migrator";
import { afterAll, describe, expect, it } from "vitest";
import { MigrationFolderError } from "../../src/migrations/errors.js";
import { readMigrationFolder } from "../../src/migrations/journal.js";
import { copyFolder, PG_FOLDER, PG_TAGS, removeTmpCopies, SQLITE_FOLDER, SQLITE_TAGS } from "./fixtures.js";

afterAll(removeTmpCopies);

describe("readMigrationFolder", () => {
  it("reads drizzle-kit's journal in order, with drizzle's hash and folderMillis", () => {
    const migrations = readMigrationFolder(PG_FOLDER);
    expect(migrations.map((m) => m.tag)).toEqual(PG_TAGS);
    expect(migrations.map((m) => m.index)).toEqual([0, 1, 2, 3]);
    const drizzle = readMigrationFiles({ migrationsFolder: PG_FOLDER });
    migrations.forEach((m, i) => {
      const file = fs.readFileSync(path.join(PG_FOLDER, `${m.tag}.sql`), "utf8");
      expect(m.hash).toBe(createHash("sha256").update(file).digest("hex"));
      expect(m.hash).toBe(drizzle[i]!.hash);
      expect(m.createdAt).toBe(drizzle[i]!.folderMillis);
    });
    expect(readMigrationFolder(SQLITE_FOLDER).map((m) => m.tag)).toEqual(SQLITE_TAGS);
  });

  it("splits on statement breakpoints and drops empty chunks", () => {
    const [init] = readMigrationFolder(PG_FOLDER);
    expect(init!.statements).toHaveLength(8);
    expect(init!.statements[0]).toBe(`CREATE TYPE "public"."status" AS ENUM('todo', 'doing', 'done');`);
    for (const statement of init!.statements) {
      expect(statement).not.toContain("statement-breakpoint");
      expect(statement).toBe(statement.trim());
    }
  });

  it("sees a file edited after it was read (cache keyed on size and mtime)", () => {
    const dir = copyFolder(PG_FOLDER);
    const before = readMigrationFolder(dir);
    expect(readMigrationFolder(dir)).toEqual(before);
    fs.appendFileSync(path.join(dir, "0001_tasks_and_priority.sql"), "\n-- edited\n");
    const after = readMigrationFolder(dir);
    expect(after[1]!.hash).not.toBe(before[1]!.hash);
    expect(after[0]!.hash).toBe(before[0]!.hash);
  });

  it("names the folder and suggests drizzle-kit generate when the folder or journal is missing", () => {
    const missing = path.join(PG_FOLDER, "nope");
    expect(() => readMigrationFolder(missing)).toThrow(MigrationFolderError);
    expect(() => readMigrationFolder(missing)).toThrow(missing);
    expect(() => readMigrationFolder(missing)).toThrow(/drizzle-kit generate/);
    const dir = copyFolder(PG_FOLDER);
    fs.rmSync(path.join(dir, "meta", "_journal.json"));
    expect(() => readMigrationFolder(dir)).toThrow(/meta\/_journal\.json/);
  });

  it("rejects a journal that lists a missing file or two migrations with the same 'when'", () => {
    const dir = copyFolder(PG_FOLDER);
    fs.rmSync(path.join(dir, "0002_cascade_and_roles.sql"));
    expect(() => readMigrationFolder(dir)).toThrow(/0002_cascade_and_roles\.sql is missing/);

    const dup = copyFolder(PG_FOLDER);
    const journalPath = path.join(dup, "meta", "_journal.json");
    const journal = JSON.parse(fs.readFileSync(journalPath, "utf8"));
    journal.entries[1].when = journal.entries[0].when;
    fs.writeFileSync(journalPath, JSON.stringify(journal));
    expect(() => readMigrationFolder(dup)).toThrow(/same "when"/);
  });
});
