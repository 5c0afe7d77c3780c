/**
 * Applies drizzle-kit SQLite migrations to one better-sqlite3 database (a tenant's file, or a shared file).
 *
 * Same rules as the PostgreSQL migrator: drizzle's journal table (`__drizzle_migrations`: id integer primary
 * key, hash text not null, created_at numeric), files matched by created_at and hash, edited files reported as
 * drift, each migration in its own transaction. `BEGIN IMMEDIATE` takes SQLite's write lock up front, so it is
 * the per-tenant lock: a second writer waits for the connection's busy timeout, then gets status "locked".
 * Like drizzle's migrator, statements run inside the transaction, where `PRAGMA foreign_keys=OFF` (emitted by
 * drizzle-kit when it recreates a table) has no effect.
 */
import type BetterSqlite3 from "better-sqlite3";
import { MigrationDriftError, MigrationError, MigrationLockedError } from "../errors.js";
import { quoteIdentifier } from "../tenant-id.js";
import { MigrationStatementError } from "./errors.js";
import type { MigrationFile } from "./journal.js";
import {
  assertKnownTag,
  buildPlan,
  DEFAULT_JOURNAL_TABLE,
  type JournalRow,
  pendingUpTo,
  type TenantMigrationResult,
  type TenantPlan,
} from "./pg-migrator.js";

export interface SqlitePlanOptions {
  tenantId: string;
  /** Default `"__drizzle_migrations"`. */
  journalTable?: string;
}

export interface SqliteMigrateOptions extends SqlitePlanOptions {
  /** Stop after this tag. */
  to?: string;
  /** Apply pending migrations even though applied ones were edited. */
  allowDrift?: boolean;
}

/** What the database has applied, without changing anything. */
export function planSqlite(
  db: BetterSqlite3.Database,
  migrations: MigrationFile[],
  { tenantId, journalTable = DEFAULT_JOURNAL_TABLE }: SqlitePlanOptions,
): TenantPlan {
  const exists = db
    .prepare("select 1 from sqlite_master where type = 'table' and name = ?")
    .get(journalTable);
  const rows = exists
    ? (db
        .prepare(`select hash, created_at from ${quoteIdentifier(journalTable)} order by id`)
        .all() as JournalRow[])
    : [];
  return buildPlan(tenantId, rows, migrations);
}

/**
 * Applies the pending migrations, each in its own `BEGIN IMMEDIATE` transaction. Tenant problems end up in
 * the result; an unknown `to` throws `UnknownMigrationError`.
 *
 * @example
 * const result = migrateSqlite(new Database("data/acme.db"), readMigrationFolder("./drizzle/tenant-sqlite"), {
 *   tenantId: "acme",
 * });
 */
export function migrateSqlite(
  db: BetterSqlite3.Database,
  migrations: MigrationFile[],
  { tenantId, journalTable = DEFAULT_JOURNAL_TABLE, to, allowDrift = false }: SqliteMigrateOptions,
): TenantMigrationResult {
  const started = performance.now();
  assertKnownTag(migrations, to);
  const applied: string[] = [];
  const done = (status: TenantMigrationResult["status"], error?: Error): TenantMigrationResult => ({
    tenantId,
    status,
    applied,
    ...(error ? { error } : {}),
    durationMs: performance.now() - started,
  });

  let plan: TenantPlan;
  try {
    plan = planSqlite(db, migrations, { tenantId, journalTable });
  } catch (error) {
    return done("failed", new MigrationError(tenantId, undefined, error));
  }
  if (plan.drifted.length > 0 && !allowDrift)
    return done("drift", new MigrationDriftError(tenantId, plan.drifted));
  const pending = pendingUpTo(plan.pending, migrations, to);
  if (pending.length === 0) return done("up-to-date");

  const journal = quoteIdentifier(journalTable);
  for (const migration of pending) {
    try {
      db.exec("BEGIN IMMEDIATE");
    } catch (error) {
      if ((error as { code?: string }).code?.startsWith("SQLITE_BUSY")) {
        return done("locked", new MigrationLockedError(tenantId));
      }
      return done("failed", new MigrationError(tenantId, migration.tag, error));
    }
    try {
      db.exec(
        `CREATE TABLE IF NOT EXISTS ${journal} (id integer PRIMARY KEY, hash text NOT NULL, created_at numeric)`,
      );
      const stored = db
        .prepare(`select hash from ${journal} where created_at = ?`)
        .all(migration.createdAt) as {
        hash: string;
      }[];
      if (stored.length === 0) {
        for (const [index, statement] of migration.statements.entries()) {
          try {
            db.exec(statement);
          } catch (error) {
            throw new MigrationStatementError(tenantId, migration.tag, index, statement, error);
          }
        }
        db.prepare(`insert into ${journal} (hash, created_at) values (?, ?)`).run(
          migration.hash,
          migration.createdAt,
        );
        applied.push(migration.tag);
      } else if (!stored.some((row) => row.hash === migration.hash) && !allowDrift) {
        throw new MigrationDriftError(tenantId, [migration.tag]);
      }
      db.exec("COMMIT");
    } catch (error) {
      if (db.inTransaction) db.exec("ROLLBACK");
      if (applied.at(-1) === migration.tag) applied.pop();
      if (error instanceof MigrationDriftError) return done("drift", error);
      return done(
        "failed",
        error instanceof MigrationError ? error : new MigrationError(tenantId, migration.tag, error),
      );
    }
  }
  return done(applied.length > 0 ? "applied" : "up-to-date");
}
