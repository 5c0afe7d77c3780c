import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const PG_FOLDER = path.resolve(here, "../fixtures/migrations/pg");
export const SQLITE_FOLDER = path.resolve(here, "../fixtures/migrations/sqlite");

export const PG_TAGS = ["0000_init", "0001_tasks_and_priority", "0002_cascade_and_roles", "0003_seed_data"];
export const SQLITE_TAGS = ["0000_init", "0001_tasks"];

const tmpDirs: string[] = [];

/** A throw-away copy of a fixture folder, to edit. Removed by `removeTmpCopies()`. */
export function copyFolder(folder: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "omnitenant-migrations-"));
  tmpDirs.push(dir);
  fs.cpSync(folder, dir, { recursive: true });
  return dir;
}

export function removeTmpCopies(): void {
  for (const dir of tmpDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** Adds a migration to a copied folder's journal, `whenOffset` ms after the last one. */
export function addMigration(folder: string, tag: string, sql: string, whenOffset = 1000): void {
  const journalPath = path.join(folder, "meta", "_journal.json");
  const journal = JSON.parse(fs.readFileSync(journalPath, "utf8"));
  const last = journal.entries.at(-1);
  journal.entries.push({ ...last, idx: last.idx + 1, tag, when: last.when + whenOffset });
  fs.writeFileSync(journalPath, JSON.stringify(journal, null, 2));
  fs.writeFileSync(path.join(folder, `${tag}.sql`), sql);
}
