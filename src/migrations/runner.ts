/**
 * Migrates many PostgreSQL tenants concurrently over the targets' own clients (no client is created here).
 *
 * Fast path: schema-mode targets that share a client are planned together with `planSchemaTenants`: one
 * catalog query finds the schemas and journals, and one query per chunk of 200 journals (a `UNION ALL` over
 * them, compared with the folder in SQL) tells which tenants are complete. A no-op rerun therefore costs
 * 1 + ceil(tenants / 200) queries, and no connection, lock or DDL per tenant; only tenants with pending migrations are
 * locked and migrated.
 */
import type postgres from "postgres";
import type { MigrationFile } from "./journal.js";
import {
  assertKnownTag,
  buildPlan,
  DEFAULT_JOURNAL_TABLE,
  type JournalRow,
  journalName,
  type MigrateTenantOptions,
  migrateTenant,
  migrateWithPlan,
  type PgMigrationTarget,
  planTenant,
  schemaMissing,
  type TenantMigrationResult,
  type TenantPlan,
  UNPREPARED,
} from "./pg-migrator.js";

export interface MigrationProgress {
  /** Tenants finished so far (any status). */
  done: number;
  total: number;
  /** Tenants finished with status failed, drift or locked. */
  failed: number;
  result: TenantMigrationResult;
}

export interface MigrateTenantsOptions extends MigrateTenantOptions {
  /** Tenants migrated at the same time. Keep it at or below the pool size. Default 4. */
  concurrency?: number;
  onProgress?: (event: MigrationProgress) => void;
  /**
   * Plans from `planTenants` (by tenant id) to reuse instead of planning again, e.g. after showing them.
   * A stale plan is safe: every migration is re-checked under the lock before it runs.
   */
  plan?: ReadonlyMap<string, TenantPlan>;
}

export interface MigrateTenantsResult {
  /** One per target, in the targets' order. */
  results: TenantMigrationResult[];
  /** Tenants that got at least one migration. */
  applied: number;
  upToDate: number;
  /** Tenants with status failed, drift or locked (see each result's `error`). */
  failed: number;
  durationMs: number;
}

export interface PlanTenantsOptions {
  /** Database-mode tenants planned at the same time. Default 4. */
  concurrency?: number;
}

const CHUNK = 200;

/**
 * Migrates every target; one tenant's failure never stops the others (its result carries the error).
 *
 * @example
 * const { results, failed } = await migrateTenants(targets, readMigrationFolder("./drizzle/tenant"), {
 *   concurrency: 8,
 *   onProgress: ({ done, total }) => console.log(`${done}/${total}`),
 * });
 */
export async function migrateTenants(
  targets: Iterable<PgMigrationTarget> | AsyncIterable<PgMigrationTarget>,
  migrations: MigrationFile[],
  { concurrency = 4, onProgress, plan, ...options }: MigrateTenantsOptions = {},
): Promise<MigrateTenantsResult> {
  const started = performance.now();
  assertKnownTag(migrations, options.to);
  const list = await collect(targets);
  const plans = plan ? list.map((t) => plan.get(t.tenantId)) : await fastPlans(list, migrations);

  const results: TenantMigrationResult[] = new Array(list.length);
  let done = 0;
  let failed = 0;
  await pool(list.length, concurrency, async (i) => {
    const target = list[i]!;
    const known = plans[i];
    let result: TenantMigrationResult;
    try {
      result = known
        ? await migrateWithPlan(target, migrations, known, options)
        : await migrateTenant(target, migrations, options);
    } catch (error) {
      // migrateTenant reports tenant problems in the result; this is a bug, but it stays this tenant's.
      result = {
        tenantId: target.tenantId,
        status: "failed",
        applied: [],
        error: toError(error),
        durationMs: 0,
      };
    }
    results[i] = result;
    done++;
    if (isFailure(result)) failed++;
    onProgress?.({ done, total: list.length, failed, result });
  });

  return {
    results,
    applied: results.filter((r) => r.status === "applied").length,
    upToDate: results.filter((r) => r.status === "up-to-date").length,
    failed: results.filter(isFailure).length,
    durationMs: performance.now() - started,
  };
}

/**
 * Plans every target without changing anything. A tenant that cannot be planned gets a plan with `error`
 * (its pending list is then every migration).
 */
export async function planTenants(
  targets: Iterable<PgMigrationTarget> | AsyncIterable<PgMigrationTarget>,
  migrations: MigrationFile[],
  { concurrency = 4 }: PlanTenantsOptions = {},
): Promise<TenantPlan[]> {
  const list = await collect(targets);
  const plans = await fastPlans(list, migrations);
  await pool(list.length, concurrency, async (i) => {
    if (plans[i]) return;
    plans[i] = await planTenant(list[i]!, migrations).catch((error) =>
      failedPlan(list[i]!, migrations, error),
    );
  });
  return plans as TenantPlan[];
}

/**
 * Plans many tenants whose journals live in the database `sql` is connected to, in a number of queries that
 * does not depend on what they have applied: one catalog query, then one query per 200 journals (a
 * `UNION ALL` plans superlinearly: 1,000 journals in one query took ~5x longer than 5 queries of 200; a no-op
 * plan of 1,000 tenants takes ~0.2 s). Results are in the targets' order. A chunk that fails (a journal
 * dropped meanwhile, a broken journal table) falls back to planning its tenants one by one, so one tenant's
 * problem never hides the others' plans.
 */
export async function planSchemaTenants(
  sql: postgres.Sql,
  targets: readonly PgMigrationTarget[],
  migrations: MigrationFile[],
): Promise<TenantPlan[]> {
  const plans: TenantPlan[] = new Array(targets.length);
  if (targets.length === 0) return plans;

  // 1. Which tenants lack their schema or their journal (only those rows come back).
  const missing = await sql.unsafe<{ i: number; has_schema: boolean }[]>(
    `select s.ord::int - 1 as i,
            exists(select 1 from pg_catalog.pg_namespace n where n.nspname = s.schema_name) as has_schema
       from unnest($1::text[], $2::text[], $3::text[]) with ordinality as s(schema_name, journal_schema, journal_table, ord)
      where not exists (
        select 1 from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
         where n.nspname = s.journal_schema and c.relname = s.journal_table and c.relkind in ('r', 'p'))`,
    [
      targets.map((t) => t.schema ?? t.journalSchema),
      targets.map((t) => t.journalSchema),
      targets.map((t) => t.journalTable ?? DEFAULT_JOURNAL_TABLE),
    ],
  );
  for (const { i, has_schema } of missing) {
    const target = targets[i]!;
    plans[i] =
      target.schema !== undefined && !has_schema
        ? failedPlan(target, migrations, schemaMissing(target))
        : buildPlan(target.tenantId, [], migrations);
  }

  // 2. The journals that exist, compared with the folder in SQL: a complete journal is a single row.
  const withJournal = targets.map((_, i) => i).filter((i) => !plans[i]);
  for (let offset = 0; offset < withJournal.length; offset += CHUNK) {
    const chunk = withJournal.slice(offset, offset + CHUNK);
    try {
      const rows = await sql.unsafe<{ i: number; hash: string | null; created_at: string | null }[]>(
        journalsQuery(chunk.map((i) => targets[i]!)),
        [migrations.map((m) => m.createdAt), migrations.map((m) => m.hash), migrations.length],
        UNPREPARED,
      );
      const byTenant = new Map<number, JournalRow[]>();
      const complete = new Set<number>();
      for (const row of rows) {
        if (row.hash === null && row.created_at === null) complete.add(row.i);
        else {
          const journalRow = { hash: row.hash ?? "", created_at: row.created_at };
          const list = byTenant.get(row.i);
          if (list) list.push(journalRow);
          else byTenant.set(row.i, [journalRow]);
        }
      }
      chunk.forEach((targetIndex, k) => {
        const tenantId = targets[targetIndex]!.tenantId;
        plans[targetIndex] = complete.has(k)
          ? { tenantId, applied: migrations.map((m) => m.tag), pending: [], drifted: [], unknown: [] }
          : buildPlan(tenantId, byTenant.get(k) ?? [], migrations);
      });
    } catch {
      for (const i of chunk) {
        plans[i] = await planTenant(targets[i]!, migrations).catch((error) =>
          failedPlan(targets[i]!, migrations, error),
        );
      }
    }
  }
  return plans;
}

/**
 * `$1` created_at[], `$2` hash[] of the folder, `$3` its length. Per journal: one row `(i, null, null)` when
 * it holds exactly the folder's migrations, otherwise all its rows.
 */
function journalsQuery(targets: readonly PgMigrationTarget[]): string {
  const union = targets
    .map((t, k) => `select ${k} as i, hash, created_at from ${journalName(t)}`)
    .join("\n union all ");
  return `with f(created_at, hash) as (select * from unnest($1::bigint[], $2::text[])),
  j as (${union}),
  s as (
    select j.i, count(distinct j.created_at) filter (where f.hash is not null) as matched,
           bool_and(f.hash is not null) as all_matched
      from j left join f on f.created_at = j.created_at and f.hash = j.hash
     group by j.i)
  select s.i, null::text as hash, null::text as created_at from s where s.all_matched and s.matched = $3
  union all
  select j.i, j.hash, j.created_at::text from j join s on s.i = j.i where not (s.all_matched and s.matched = $3)`;
}

/** Plans of schema-mode targets, grouped by client; `undefined` for the others (planned one by one). */
async function fastPlans(
  list: readonly PgMigrationTarget[],
  migrations: MigrationFile[],
): Promise<(TenantPlan | undefined)[]> {
  const plans: (TenantPlan | undefined)[] = new Array(list.length);
  const groups = new Map<postgres.Sql, number[]>();
  list.forEach((target, i) => {
    if (target.schema === undefined) return;
    const group = groups.get(target.sql);
    if (group) group.push(i);
    else groups.set(target.sql, [i]);
  });
  await Promise.all(
    [...groups].map(async ([sql, indexes]) => {
      const groupTargets = indexes.map((i) => list[i]!);
      let groupPlans: TenantPlan[];
      try {
        groupPlans = await planSchemaTenants(sql, groupTargets, migrations);
      } catch {
        return; // the database is unreachable: leave these to the per-tenant path, which reports it per tenant
      }
      indexes.forEach((targetIndex, k) => {
        plans[targetIndex] = groupPlans[k];
      });
    }),
  );
  return plans;
}

function failedPlan(target: PgMigrationTarget, migrations: MigrationFile[], error: unknown): TenantPlan {
  return { ...buildPlan(target.tenantId, [], migrations), error: toError(error) };
}

async function pool(
  count: number,
  concurrency: number,
  work: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, worker));
}

async function collect<T>(items: Iterable<T> | AsyncIterable<T>): Promise<T[]> {
  const list: T[] = [];
  for await (const item of items) list.push(item);
  return list;
}

function isFailure(result: TenantMigrationResult): boolean {
  return result.status === "failed" || result.status === "drift" || result.status === "locked";
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
