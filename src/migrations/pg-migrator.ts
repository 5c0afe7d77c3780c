/**
 * Applies drizzle-kit migrations to ONE PostgreSQL tenant.
 *
 * The journal is drizzle's (`id serial primary key, hash text not null, created_at bigint`, created_at = the
 * journal's `when`), so `drizzle-kit migrate` / drizzle's `migrate()` read it too. Unlike drizzle's migrator,
 * files are matched to journal rows by created_at AND hash: a file whose created_at is not in the journal is
 * pending even if it is older than the newest applied one (never silently skipped), and a stored hash that
 * differs from the file's is drift, which stops the tenant unless `allowDrift`.
 *
 * Locking: each migration runs in its own transaction that first takes a TRANSACTION-level advisory lock
 * (`pg_try_advisory_xact_lock`, polled until `lockTimeoutMs`) keyed on the journal's identity
 * (`journalSchema.journalTable`), then re-reads the journal row of that migration before applying it. So two
 * runners never apply the same migration twice, the lock is released by COMMIT/ROLLBACK even if the process
 * dies, and nothing is left on a pooled connection (a session-level lock on a pooled connection needs
 * `sql.reserve()` and leaks to the next user if the unlock is missed; it also breaks behind PgBouncer in
 * transaction mode). The key works for both modes: in schema mode every tenant has its own journal in one
 * database, in database mode advisory locks are per database anyway. Polling `try` (rather than a blocking
 * lock under `SET LOCAL lock_timeout`) leaves the DDL's own lock waits at the server's settings.
 *
 * Nothing here sets `search_path`: in schema mode every object is placed with `placeInSchema`.
 */
import type postgres from "postgres";
import { MigrationDriftError, MigrationError, MigrationLockedError } from "../errors.js";
import { quoteIdentifier } from "../tenant-id.js";
import { MigrationStatementError, TenantSchemaMissingError, UnknownMigrationError } from "./errors.js";
import type { MigrationFile } from "./journal.js";
import { placeInSchema } from "./qualify.js";

export interface PgMigrationTarget {
  tenantId: string;
  /** Client connected to the right database (the shared pool in schema mode). */
  sql: postgres.Sql;
  /** Schema mode: the tenant schema (objects are placed there). `undefined`: database mode, objects stay in public. */
  schema: string | undefined;
  /** Schema mode: same as `schema`; database mode: `"drizzle"` (drizzle's default). */
  journalSchema: string;
  /** Default `"__drizzle_migrations"`. */
  journalTable?: string;
}

export interface TenantPlan {
  tenantId: string;
  /** Tags of the migrations the journal records with the file's hash, in folder order. */
  applied: string[];
  /** Files whose created_at is not in the journal, in folder order. */
  pending: MigrationFile[];
  /** Tags whose stored hash differs from the file's: the file was edited after it was applied. */
  drifted: string[];
  /** Hashes of journal rows no file matches (a file deleted, or the tenant is ahead of this folder). */
  unknown: string[];
  /** Set by the bulk planners when this tenant could not be planned (e.g. its schema is missing). */
  error?: Error;
}

export interface TenantMigrationResult {
  tenantId: string;
  status: "applied" | "up-to-date" | "failed" | "drift" | "locked";
  /** Tags applied by this run, in order. */
  applied: string[];
  error?: Error;
  durationMs: number;
}

export interface MigrateTenantOptions {
  /** Stop after this tag (it is applied if pending). */
  to?: string;
  /** How long to wait for another runner migrating the same tenant. Default 60 s. */
  lockTimeoutMs?: number;
  /** Apply pending migrations even though applied ones were edited. */
  allowDrift?: boolean;
}

export const DEFAULT_JOURNAL_TABLE = "__drizzle_migrations";
const DEFAULT_LOCK_TIMEOUT_MS = 60_000;
/**
 * @internal For SQL whose text names one tenant's journal: a named prepared statement per tenant would pile
 * up on every pooled connection (thousands of tenants), so these run unnamed.
 */
export const UNPREPARED = { prepare: false } as const;

/** Journal rows as read from the database: `created_at` is bigint, so it arrives as text (or null). */
export interface JournalRow {
  hash: string;
  created_at: string | number | null;
}

/** What the tenant has applied, without changing anything (no DDL, no lock). */
export async function planTenant(
  target: PgMigrationTarget,
  migrations: MigrationFile[],
): Promise<TenantPlan> {
  const { plan } = await readPlan(target, migrations);
  return plan;
}

/**
 * Applies the pending migrations of one tenant, each in its own transaction. Never throws for a tenant's
 * problem (the result carries it); throws `UnknownMigrationError` for a `to` that is not in `migrations`.
 *
 * @example
 * const result = await migrateTenant(
 *   { tenantId: "acme", sql, schema: "tenant_acme", journalSchema: "tenant_acme" },
 *   readMigrationFolder("./drizzle/tenant"),
 * );
 */
export async function migrateTenant(
  target: PgMigrationTarget,
  migrations: MigrationFile[],
  options: MigrateTenantOptions = {},
): Promise<TenantMigrationResult> {
  const started = performance.now();
  assertKnownTag(migrations, options.to);
  let read: { plan: TenantPlan; journalExists: boolean };
  try {
    read = await readPlan(target, migrations);
  } catch (error) {
    return result(target, "failed", [], started, asMigrationError(target, undefined, error));
  }
  return migrateWithPlan(target, migrations, read.plan, options, started, read.journalExists);
}

/**
 * Applies every pending migration inside the caller's transaction (provisioning: the tenant's record, its
 * schema and its tables commit or roll back together). Returns the applied tags; throws `MigrationDriftError`,
 * `MigrationLockedError` or `MigrationError`. Note PostgreSQL refuses to use an enum value added by
 * `ALTER TYPE ... ADD VALUE` in the same transaction, so a history that adds a value and later uses it in a
 * default cannot be provisioned in one transaction; use `migrateTenant` after creating the schema instead.
 */
export async function applyMigrationsInTransaction(
  tx: postgres.TransactionSql,
  target: PgMigrationTarget,
  migrations: MigrationFile[],
): Promise<string[]> {
  await lockJournal(tx, target, DEFAULT_LOCK_TIMEOUT_MS);
  await ensureJournal(tx, target);
  const rows = await tx.unsafe<JournalRow[]>(
    `select hash, created_at::text as created_at from ${journalName(target)}`,
    [],
    UNPREPARED,
  );
  const plan = buildPlan(target.tenantId, rows, migrations);
  if (plan.drifted.length > 0) throw new MigrationDriftError(target.tenantId, plan.drifted);
  const applied: string[] = [];
  for (const migration of plan.pending) {
    await runMigration(tx, target, migration);
    applied.push(migration.tag);
  }
  return applied;
}

// ---------------------------------------------------------------------------------------------------------
// internals shared with the runner

/** @internal Applies `plan.pending` (re-checked under the lock). Never throws for a tenant's problem. */
export async function migrateWithPlan(
  target: PgMigrationTarget,
  migrations: MigrationFile[],
  plan: TenantPlan,
  options: MigrateTenantOptions,
  started = performance.now(),
  journalExists = false,
): Promise<TenantMigrationResult> {
  if (plan.error) return result(target, "failed", [], started, plan.error);
  if (plan.drifted.length > 0 && !options.allowDrift) {
    return result(target, "drift", [], started, new MigrationDriftError(target.tenantId, plan.drifted));
  }
  const pending = pendingUpTo(plan.pending, migrations, options.to);
  if (pending.length === 0) return result(target, "up-to-date", [], started);

  const lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const applied: string[] = [];
  let ensured = journalExists;
  let current: MigrationFile | undefined;
  try {
    for (const migration of pending) {
      current = migration;
      const ran = await target.sql.begin(async (tx) => {
        // The journal row of this migration is read in the same round trip as the lock, by a statement that
        // runs after it (so with a snapshot taken under the lock); it counts only once the lock is held.
        const check = ensured
          ? `select hash from ${journalName(target)} where created_at = ${Math.trunc(migration.createdAt)}`
          : undefined;
        let stored = await lockJournal(tx, target, lockTimeoutMs, check);
        if (!ensured) {
          await ensureJournal(tx, target);
          stored = await tx
            .unsafe<{ hash: string }[]>(
              `select hash from ${journalName(target)} where created_at = ${Math.trunc(migration.createdAt)}`,
            )
            .simple();
        }
        if (stored.length > 0) {
          // Applied meanwhile by another runner (same hash), or by something else with other contents.
          if (stored.some((row) => row.hash === migration.hash)) return false;
          if (!options.allowDrift) throw new MigrationDriftError(target.tenantId, [migration.tag]);
          return false;
        }
        await runMigration(tx, target, migration);
        return true;
      });
      ensured = true;
      if (ran) applied.push(migration.tag);
    }
  } catch (error) {
    if (error instanceof MigrationLockedError) return result(target, "locked", applied, started, error);
    if (error instanceof MigrationDriftError) return result(target, "drift", applied, started, error);
    return result(target, "failed", applied, started, asMigrationError(target, current?.tag, error));
  }
  return result(target, applied.length > 0 ? "applied" : "up-to-date", applied, started);
}

/** @internal Matches journal rows to files: by created_at, then by hash. */
export function buildPlan(
  tenantId: string,
  rows: readonly JournalRow[],
  migrations: MigrationFile[],
): TenantPlan {
  const stored = new Map<number, Set<string>>();
  for (const row of rows) {
    if (row.created_at === null) continue;
    const createdAt = Number(row.created_at);
    const hashes = stored.get(createdAt);
    if (hashes) hashes.add(row.hash);
    else stored.set(createdAt, new Set([row.hash]));
  }
  const plan: TenantPlan = { tenantId, applied: [], pending: [], drifted: [], unknown: [] };
  const known = new Set<number>();
  for (const migration of migrations) {
    known.add(migration.createdAt);
    const hashes = stored.get(migration.createdAt);
    if (!hashes) plan.pending.push(migration);
    else if (hashes.has(migration.hash)) plan.applied.push(migration.tag);
    else plan.drifted.push(migration.tag);
  }
  for (const row of rows) {
    if (row.created_at === null || !known.has(Number(row.created_at))) plan.unknown.push(row.hash);
  }
  return plan;
}

/** @internal */
export function pendingUpTo(pending: MigrationFile[], migrations: MigrationFile[], to: string | undefined) {
  if (to === undefined) return pending;
  const last = migrations.findIndex((m) => m.tag === to);
  const allowed = new Set(migrations.slice(0, last + 1));
  return pending.filter((m) => allowed.has(m));
}

/** @internal */
export function assertKnownTag(migrations: MigrationFile[], to: string | undefined): void {
  if (to !== undefined && !migrations.some((m) => m.tag === to)) {
    throw new UnknownMigrationError(
      to,
      migrations.map((m) => m.tag),
    );
  }
}

/** @internal `"schema"."table"` of the target's journal. */
export function journalName(target: PgMigrationTarget): string {
  return `${quoteIdentifier(target.journalSchema)}.${quoteIdentifier(target.journalTable ?? DEFAULT_JOURNAL_TABLE)}`;
}

/** @internal */
export function schemaMissing(target: PgMigrationTarget): TenantSchemaMissingError {
  return new TenantSchemaMissingError(target.tenantId, target.schema ?? target.journalSchema);
}

async function readPlan(
  target: PgMigrationTarget,
  migrations: MigrationFile[],
): Promise<{ plan: TenantPlan; journalExists: boolean }> {
  const [state] = await target.sql.unsafe<{ has_schema: boolean; has_journal: boolean }[]>(
    "select exists(select 1 from pg_catalog.pg_namespace where nspname = $1) as has_schema, " +
      "to_regclass($2) is not null as has_journal",
    [target.schema ?? target.journalSchema, journalName(target)],
  );
  if (target.schema !== undefined && !state?.has_schema) throw schemaMissing(target);
  const rows = state?.has_journal
    ? await target.sql.unsafe<JournalRow[]>(
        `select hash, created_at::text as created_at from ${journalName(target)} order by id`,
        [],
        UNPREPARED,
      )
    : [];
  return { plan: buildPlan(target.tenantId, rows, migrations), journalExists: state?.has_journal ?? false };
}

async function lockJournal(
  tx: postgres.TransactionSql,
  target: PgMigrationTarget,
  timeoutMs: number,
  then?: string,
): Promise<{ hash: string }[]> {
  const key = `${target.journalSchema}.${target.journalTable ?? DEFAULT_JOURNAL_TABLE}`;
  const deadline = Date.now() + timeoutMs;
  let wait = 5;
  for (;;) {
    const [[row], after] = await Promise.all([
      tx.unsafe<{ locked: boolean }[]>(
        "select pg_try_advisory_xact_lock(hashtext('omnitenant:migrate'), hashtext($1)) as locked",
        [key],
      ),
      then ? tx.unsafe<{ hash: string }[]>(then).simple() : Promise.resolve([]),
    ]);
    if (row?.locked) return after as { hash: string }[];
    const left = deadline - Date.now();
    if (left <= 0) throw new MigrationLockedError(target.tenantId);
    await new Promise((resolve) => setTimeout(resolve, Math.min(wait, left)));
    wait = Math.min(wait * 2, 250);
  }
}

/** Creates the journal (and, in database mode, its schema) if missing. Call under the lock. */
async function ensureJournal(tx: postgres.TransactionSql, target: PgMigrationTarget): Promise<void> {
  const [state] = await tx.unsafe<{ has_schema: boolean; has_journal: boolean }[]>(
    "select exists(select 1 from pg_catalog.pg_namespace where nspname = $1) as has_schema, " +
      "to_regclass($2) is not null as has_journal",
    [target.journalSchema, journalName(target)],
  );
  if (state?.has_journal) return;
  if (!state?.has_schema) {
    if (target.schema !== undefined) throw schemaMissing(target);
    await tx.unsafe(`create schema if not exists ${quoteIdentifier(target.journalSchema)}`, [], UNPREPARED);
  }
  await tx.unsafe(
    `create table if not exists ${journalName(target)} (id serial primary key, hash text not null, created_at bigint)`,
    [],
    UNPREPARED,
  );
}

async function runMigration(
  tx: postgres.TransactionSql,
  target: PgMigrationTarget,
  migration: MigrationFile,
) {
  const texts = migration.statements.map((statement) =>
    target.schema === undefined ? statement : placeInSchema(statement, target.schema),
  );
  // Written together (postgres.js pipelines what is not awaited): one round trip for the whole file and its
  // journal row. Simple protocol: a hand-written chunk may hold several statements; the journal row's values
  // are our own hash (hex) and the journal's created_at (an integer), so literals are safe. After a failure
  // the transaction is aborted and the statements behind it fail too (25P02); the first failure is reported.
  const outcomes = await Promise.allSettled([
    ...texts.map((text) => tx.unsafe(text).simple().execute()),
    tx
      .unsafe(
        `insert into ${journalName(target)} (hash, created_at) values ('${hexOnly(migration.hash)}', ${Math.trunc(migration.createdAt)})`,
      )
      .simple()
      .execute(),
  ]);
  const failed = outcomes.findIndex((outcome) => outcome.status === "rejected");
  if (failed === -1) return;
  const error = (outcomes[failed] as PromiseRejectedResult).reason;
  if (failed < texts.length)
    throw new MigrationStatementError(target.tenantId, migration.tag, failed, texts[failed]!, error);
  throw error;
}

function hexOnly(hash: string): string {
  if (!/^[0-9a-f]+$/i.test(hash))
    throw new Error(`omnitenant: unexpected migration hash ${JSON.stringify(hash)}`);
  return hash;
}

function asMigrationError(target: PgMigrationTarget, tag: string | undefined, error: unknown): Error {
  if (error instanceof MigrationError || error instanceof TenantSchemaMissingError) return error;
  return new MigrationError(target.tenantId, tag, error);
}

function result(
  target: PgMigrationTarget,
  status: TenantMigrationResult["status"],
  applied: string[],
  started: number,
  error?: Error,
): TenantMigrationResult {
  return {
    tenantId: target.tenantId,
    status,
    applied,
    ...(error ? { error } : {}),
    durationMs: performance.now() - started,
  };
}
