/**
 * The only module that knows drizzle-kit's output layout (drizzle-kit 0.x): `meta/_journal.json` lists the
 * migrations (`tag`, `when`), each in `<tag>.sql`, statements separated by `--> statement-breakpoint`.
 * drizzle-kit 1.0 replaces the journal with a folder per migration; that change belongs here and nowhere else.
 */
import fs from "node:fs";
import path from "node:path";
import { readMigrationFiles } from "drizzle-orm/migrator";
import { MigrationFolderError } from "./errors.js";

export interface MigrationFile {
  /** drizzle-kit's name of the migration, e.g. `0001_add_tasks` (its file is `<tag>.sql`). */
  tag: string;
  /** Position in the journal (`idx`). */
  index: number;
  /** The journal's `when`: what drizzle's migrators store in `created_at` (their `folderMillis`). */
  createdAt: number;
  /** sha256 of the file, exactly as drizzle computes it (so journals written by drizzle match). */
  hash: string;
  /** The statements, split on `--> statement-breakpoint`, trimmed, empty ones dropped. */
  statements: string[];
}

interface JournalEntry {
  idx: number;
  when: number;
  tag: string;
}

const cache = new Map<string, { signature: string; migrations: readonly MigrationFile[] }>();

/**
 * Reads a drizzle-kit migrations folder, in journal order. Cached per folder until the journal or one of the
 * `.sql` files changes (size or mtime).
 *
 * @example
 * const migrations = readMigrationFolder("./drizzle/tenant");
 */
export function readMigrationFolder(folder: string): MigrationFile[] {
  const dir = path.resolve(folder);
  const journalPath = path.join(dir, "meta", "_journal.json");
  if (!isDirectory(dir)) throw new MigrationFolderError(dir, "the folder does not exist");
  const journalStat = statOrUndefined(journalPath);
  if (!journalStat) throw new MigrationFolderError(dir, "it has no meta/_journal.json");

  const entries = readJournal(dir, journalPath);
  const signature = [
    stamp(journalStat),
    ...entries.map((entry) => {
      const sqlStat = statOrUndefined(path.join(dir, `${entry.tag}.sql`));
      if (!sqlStat)
        throw new MigrationFolderError(
          dir,
          `the journal lists "${entry.tag}" but ${entry.tag}.sql is missing`,
        );
      return stamp(sqlStat);
    }),
  ].join("|");
  const cached = cache.get(dir);
  if (cached?.signature === signature) return [...cached.migrations];

  let metas: ReturnType<typeof readMigrationFiles>;
  try {
    metas = readMigrationFiles({ migrationsFolder: dir });
  } catch (cause) {
    throw new MigrationFolderError(dir, cause instanceof Error ? cause.message : String(cause), { cause });
  }
  if (metas.length !== entries.length) {
    throw new MigrationFolderError(
      dir,
      "drizzle read a different number of migrations than the journal lists",
    );
  }
  const migrations = entries.map((entry, i): MigrationFile => {
    const meta = metas[i]!;
    if (meta.folderMillis !== entry.when) {
      throw new MigrationFolderError(dir, `drizzle and the journal disagree about "${entry.tag}"`);
    }
    return Object.freeze({
      tag: entry.tag,
      index: entry.idx,
      createdAt: entry.when,
      hash: meta.hash,
      statements: Object.freeze(meta.sql.map((s) => s.trim()).filter((s) => s.length > 0)) as string[],
    });
  });
  cache.set(dir, { signature, migrations });
  return [...migrations];
}

function readJournal(dir: string, journalPath: string): JournalEntry[] {
  let journal: unknown;
  try {
    journal = JSON.parse(fs.readFileSync(journalPath, "utf8"));
  } catch (cause) {
    throw new MigrationFolderError(dir, "meta/_journal.json is not valid JSON", { cause });
  }
  const entries = (journal as { entries?: unknown })?.entries;
  if (!Array.isArray(entries)) throw new MigrationFolderError(dir, "meta/_journal.json has no entries list");
  const seenWhen = new Map<number, string>();
  return entries.map((raw, i): JournalEntry => {
    const entry = raw as Partial<JournalEntry>;
    if (typeof entry.tag !== "string" || !/^[\w.-]+$/.test(entry.tag) || typeof entry.when !== "number") {
      throw new MigrationFolderError(dir, `journal entry ${i} has no valid "tag" and "when"`);
    }
    const clash = seenWhen.get(entry.when);
    if (clash !== undefined) {
      // created_at is how applied migrations are matched to files, so it must be unique.
      throw new MigrationFolderError(
        dir,
        `"${clash}" and "${entry.tag}" have the same "when" (${entry.when})`,
      );
    }
    seenWhen.set(entry.when, entry.tag);
    return { idx: typeof entry.idx === "number" ? entry.idx : i, when: entry.when, tag: entry.tag };
  });
}

function isDirectory(p: string): boolean {
  return statOrUndefined(p)?.isDirectory() ?? false;
}

function statOrUndefined(p: string): fs.BigIntStats | undefined {
  return fs.statSync(p, { bigint: true, throwIfNoEntry: false });
}

function stamp(stat: fs.BigIntStats): string {
  return `${stat.size}:${stat.mtimeNs}:${stat.ino}`;
}
