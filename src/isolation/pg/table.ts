/**
 * Table mode on PostgreSQL: shared tables, row-level security, one policy a table.
 *
 * Decisions (measured on PostgreSQL 15):
 * - The policy is the single comparison `tenant_id = (select nullif(current_setting('omnitenant.tenant_id',
 *   true), ''))`, which uses the `tenant_id` index. Cross-tenant reads are NOT an `OR <setting> = 'on'` arm
 *   of it: such an arm is not indexable and turned a 1.5 ms index scan into a 20 ms sequential scan for
 *   every tenant query. `crossTenantDb()` switches to a BYPASSRLS role instead.
 * - A statement runs as `BEGIN; SET LOCAL ...` + statement + `COMMIT` written together on a reserved
 *   connection: one round trip, where `sql.begin(tx => [...])` costs three.
 * - The tenant is set with `SET LOCAL omnitenant.tenant_id = '<id>'` (same effect as `set_config(..., true)`):
 *   the validated id as a literal needs no Describe round trip, and `SET` takes no snapshot, so drizzle's
 *   `SET TRANSACTION ISOLATION LEVEL` may still follow it in `db.transaction(fn, { isolationLevel })`.
 */
import { is } from "drizzle-orm";
import { getTableConfig, PgTable } from "drizzle-orm/pg-core";
import { drizzle } from "drizzle-orm/postgres-js";
import type { ReservedSql, Sql, TransactionSql } from "postgres";
import { isConnectionError, postgresShapedClient } from "../../drivers/postgres.js";
import {
  ConfigError,
  OmnitenantError,
  RlsBypassError,
  SharedTablesNotSecuredError,
  TenantExistsError,
} from "../../errors.js";
import { LruMap } from "../../lru.js";
import { TENANT_COLUMN, TENANT_POLICY, TENANT_SETTING } from "../../table/builder.js";
import { assertTenantId, quoteIdentifier } from "../../tenant-id.js";
import type { Tenant } from "../../types.js";
import { type PgRuntime, type PgStrategy, type PgTenantDb, pgErrorCode } from "./runtime.js";

export interface PgTableStrategyOptions {
  /**
   * A role WITHOUT `BYPASSRLS` that every table-mode transaction switches to (`SET LOCAL ROLE`, sent in the
   * same round trip), for apps whose connection role bypasses row-level security (a superuser, a
   * `BYPASSRLS` role). The connection role must be a member of it, and it needs privileges on the shared
   * tables: `createTableModeRole()` creates such a role. Leave it unset when the app connects as a role RLS
   * applies to (the tables' owner is fine: `secureSharedTables()` forces RLS on owners too).
   */
  role?: string;
  /**
   * The role `crossTenantDb()` switches to: it must bypass RLS (`BYPASSRLS`, created once by a superuser,
   * e.g. `createTableModeRole(sql, "omnitenant_reporting", { tables, crossTenant: true })`) and the
   * connection role must be a member of it. Unset: the connection role itself must bypass RLS.
   */
  crossTenantRole?: string;
  /** Called on every `crossTenantDb()`, with its reason (for an audit log). */
  onCrossTenantAccess?: (access: { reason: string }) => void;
  /** Tenants whose drizzle handle is kept. */
  maxCachedTenants?: number;
}

/** What `checkSharedTables()` found about one shared table. */
export interface SharedTableState {
  table: string;
  exists: boolean;
  rlsEnabled: boolean;
  rlsForced: boolean;
  hasPolicy: boolean;
  owner: string | null;
  /** Whether the effective role may select, insert, update and delete. */
  privileges: boolean;
}

export type SharedTableFindingCode =
  | "TABLE_MISSING"
  | "RLS_DISABLED"
  | "RLS_NOT_FORCED"
  | "POLICY_MISSING"
  | "ROLE_MISSING"
  | "ROLE_BYPASSES_RLS"
  | "ROLE_LACKS_PRIVILEGES";

export interface SharedTableFinding {
  level: "error" | "warning";
  code: SharedTableFindingCode;
  table?: string;
  role?: string;
  message: string;
}

export interface SharedTablesReport {
  /** No finding of level `error`: table-mode tenants are isolated. */
  ok: boolean;
  /** The role table-mode queries run as (`table.role`, else the connection's role). */
  role: { name: string; superuser: boolean; bypassRls: boolean } | undefined;
  tables: SharedTableState[];
  findings: SharedTableFinding[];
}

/** The tables among a schema's exports (relations, enums and sequences are skipped). */
export function sharedTablesOf(schema: Record<string, unknown>): PgTable[] {
  return Object.values(schema).filter((value): value is PgTable => is(value, PgTable));
}

/** `"schema"."name"`, or `"name"` for an unqualified table (resolved by `search_path`, like drizzle's SQL). */
export function qualifiedName(table: PgTable): string {
  const { name, schema } = getTableConfig(table);
  return schema ? `${quoteIdentifier(schema)}.${quoteIdentifier(name)}` : quoteIdentifier(name);
}

/** Joins statements for one simple-protocol message, skipping empty ones. */
function statements(...parts: string[]): string {
  return parts.filter((part) => part.length > 0).join("; ");
}

/** `SET LOCAL` statements that make the rest of a transaction act for `tenantId` (as `role`, if given). */
export function tenantSetup(tenantId: string | undefined, role: string | undefined): string {
  const statements: string[] = [];
  if (role) statements.push(`set local role ${quoteIdentifier(role)}`);
  if (tenantId !== undefined) {
    // A validated DNS label, so a literal is safe; a literal (not a bind parameter) keeps the setup free of a
    // Describe round trip, and `SET` takes no snapshot, so `SET TRANSACTION ISOLATION LEVEL` may still follow.
    assertTenantId(tenantId);
    statements.push(`set local ${TENANT_SETTING} = '${tenantId.replace(/'/g, "''")}'`);
  }
  return statements.join("; ");
}

const STATE_QUERY = `
select r.rolname as role, r.rolsuper as superuser, r.rolbypassrls as bypass_rls,
  coalesce((
    select json_agg(json_build_object(
      'table', t.name,
      'exists', c.oid is not null,
      'rlsEnabled', coalesce(c.relrowsecurity, false),
      'rlsForced', coalesce(c.relforcerowsecurity, false),
      'hasPolicy', exists(select 1 from pg_catalog.pg_policy p where p.polrelid = c.oid and p.polname = $2),
      'owner', pg_catalog.pg_get_userbyid(c.relowner),
      'privileges', c.oid is not null
        and pg_catalog.has_table_privilege(c.oid, 'SELECT') and pg_catalog.has_table_privilege(c.oid, 'INSERT')
        and pg_catalog.has_table_privilege(c.oid, 'UPDATE') and pg_catalog.has_table_privilege(c.oid, 'DELETE')
    ) order by t.ord)
    from unnest($1::text[]) with ordinality as t(name, ord)
    left join pg_catalog.pg_class c on c.oid = pg_catalog.to_regclass(t.name)
  ), '[]'::json) as tables
from pg_catalog.pg_roles r where r.rolname = current_user`;

/** SET ROLE to a role that does not exist (22023) or that the connection role is not a member of (42501). */
const ROLE_ERRORS = new Set(["22023", "42501"]);

interface StateRow {
  role: string;
  superuser: boolean;
  bypass_rls: boolean;
  tables: SharedTableState[];
}

/**
 * Runs one statement in its own transaction, `BEGIN` + setup, the statement and `COMMIT` written together:
 * one round trip. (`sql.begin` would cost three: it awaits `BEGIN` alone, pipelines the array the callback
 * returns, then awaits `COMMIT`.) A failed setup aborts the transaction, so the statement cannot run outside
 * the tenant's context; a failed statement turns the `COMMIT` into a rollback.
 */
async function pipelined<T>(
  master: Sql,
  begin: string,
  statement: (sql: ReservedSql) => { execute(): PromiseLike<unknown> },
): Promise<T> {
  const reserved = await master.reserve();
  let healthy = true;
  try {
    const setup = reserved.unsafe(begin).simple().execute();
    const main = statement(reserved).execute();
    const commit = reserved.unsafe("commit").simple().execute();
    const [s, m, c] = await Promise.allSettled([setup, main, commit]);
    for (const outcome of [s, m, c]) {
      if (outcome.status === "rejected") {
        healthy = !isConnectionError(outcome.reason);
        throw outcome.reason;
      }
    }
    return (m as PromiseFulfilledResult<T>).value;
  } finally {
    // A connection that broke is already back in postgres.js's closed queue; releasing it would reopen it.
    if (healthy) reserved.release();
  }
}

/**
 * A postgres.js-shaped client (what drizzle's postgres-js driver calls: `unsafe().values()`, `begin`) whose
 * every statement runs in a transaction that first sets the tenant, pipelined into one round trip, and
 * whose `begin(fn)` sets the tenant once at the start of the caller's transaction.
 */
function scopedClient(
  master: Sql,
  { begin, setup, ready }: { begin: string; setup: string; ready: () => Promise<void> | undefined },
): Sql {
  const preparing = (master.options as { prepare?: boolean }).prepare !== false;
  const run = async (query: string, params: unknown[] | undefined, options: unknown, values: boolean) => {
    await ready();
    return pipelined(master, statements(begin, setup), (reserved) => {
      // Table mode's SQL names the shared tables, the same text for every tenant: prepared once a connection
      // (unless the pool says prepare: false), it skips the Describe round trip and PostgreSQL's parse and plan.
      const pending = reserved.unsafe(
        query,
        params as any[],
        { ...(options as object), prepare: preparing } as any,
      );
      return values ? pending.values() : pending;
    });
  };
  return postgresShapedClient({
    query: run,
    async begin(...args: unknown[]) {
      const fn = args.pop() as (tx: TransactionSql) => unknown;
      const mode = begin.replace(/^begin\s*/i, "");
      const options = [mode, typeof args[0] === "string" ? args[0] : ""].filter(Boolean).join(" ");
      await ready();
      return master.begin(options, async (tx) => {
        // Not awaited: it is sent before the caller's first statement, in the same round trip.
        const configured = setup ? tx.unsafe(setup).simple().execute() : undefined;
        const result = await fn(preparing ? preparedStatements(tx) : tx);
        await configured;
        return result;
      });
    },
    reserve() {
      throw new ConfigError(
        "reserve() is not available on a table-mode tenant's client: a reserved connection would outlive the transaction that scopes it to the tenant. Use db.transaction().",
      );
    },
  });
}

/** `tx` whose `unsafe` prepares its statements (drizzle asks for unnamed ones unless a query is `.prepare()`d). */
function preparedStatements(tx: TransactionSql): TransactionSql {
  const unsafe = (query: string, params?: unknown[], options?: object) =>
    tx.unsafe(query, params as any[], { ...options, prepare: true } as any);
  return new Proxy(tx, {
    get: (target, property, receiver) =>
      property === "unsafe" ? unsafe : Reflect.get(target, property, receiver),
  });
}

/**
 * Table mode: every tenant's rows in shared tables with a `tenant_id` column, kept apart by PostgreSQL
 * row-level security. Each statement of `tenantDb(tenant)` runs in a transaction that sets
 * `omnitenant.tenant_id` (and `SET LOCAL ROLE table.role`) first, pipelined into one round trip; nothing is
 * ever set on a session, so pooled connections (and PgBouncer in transaction mode) carry nothing over.
 *
 * Before the first statement a process checks, once, that every shared table has RLS enabled and forced and
 * the tenant policy, and that the role queries run as cannot bypass RLS.
 */
export function pgTableStrategy<TSchema extends Record<string, unknown>>(
  runtime: PgRuntime<TSchema>,
  options: PgTableStrategyOptions = {},
) {
  const { role, crossTenantRole, onCrossTenantAccess, maxCachedTenants = 1000 } = options;
  if (role) quoteIdentifier(role);
  if (crossTenantRole) quoteIdentifier(crossTenantRole);
  const master = runtime.master;
  const handles = new LruMap<string, PgTenantDb<TSchema>>(maxCachedTenants);
  let tables: PgTable[] | undefined;
  const sharedTables = () => {
    tables ??= sharedTablesOf(runtime.template.sharedTables);
    return tables;
  };

  let verified = false;
  let verifying: Promise<void> | undefined;
  /** Once per process (again after `secure()`): the shared tables are secured and RLS applies to us. */
  const ready = (): Promise<void> | undefined => {
    if (verified) return undefined;
    verifying ??= check().then(
      (report) => {
        verifying = undefined;
        assertSecure(report);
        verified = true;
      },
      (error) => {
        verifying = undefined;
        throw error;
      },
    );
    return verifying;
  };

  function assertSecure(report: SharedTablesReport): void {
    const errors = report.findings.filter((f) => f.level === "error");
    const bypass = errors.find((f) => f.code === "ROLE_BYPASSES_RLS" || f.code === "ROLE_MISSING");
    if (bypass) throw new RlsBypassError(bypass.message);
    if (errors.length > 0) {
      throw new SharedTablesNotSecuredError(
        `Table-mode tenants are not isolated: ${errors.map((f) => f.message).join(" ")}`,
      );
    }
  }

  async function readState(asRole: string | undefined): Promise<StateRow> {
    const rows = await pipelined<StateRow[]>(
      master,
      statements("begin read only", tenantSetup(undefined, asRole)),
      (r) => r.unsafe(STATE_QUERY, [sharedTables().map(qualifiedName), TENANT_POLICY]),
    );
    return rows[0]!;
  }

  /** What protects table-mode tenants, as findings (for `doctor`); changes nothing. */
  async function check(): Promise<SharedTablesReport> {
    const findings: SharedTableFinding[] = [];
    let state: StateRow;
    try {
      state = await readState(role);
    } catch (error) {
      if (!role || !ROLE_ERRORS.has(pgErrorCode(error) ?? "")) throw error;
      findings.push({
        level: "error",
        code: "ROLE_MISSING",
        role,
        message: `The role "${role}" (config table.role) does not exist or the connection role may not switch to it. Create it with createTableModeRole(sql, "${role}", { tables }) or fix table.role.`,
      });
      state = await readState(undefined);
    }
    if (findings.length === 0 && (state.superuser || state.bypass_rls)) {
      findings.push({
        level: "error",
        code: "ROLE_BYPASSES_RLS",
        role: state.role,
        message: role
          ? `The role "${state.role}" (config table.role) is ${state.superuser ? "a superuser" : "BYPASSRLS"}, so row-level security does not apply to it. Use a role without SUPERUSER and BYPASSRLS.`
          : `The app connects as "${state.role}", which is ${state.superuser ? "a superuser" : "BYPASSRLS"}: row-level security never applies to it, so table-mode tenants would see each other's rows. Connect as a role without SUPERUSER/BYPASSRLS (the tables' owner is fine), or set table.role to such a role (createTableModeRole() makes one).`,
      });
    }
    for (const t of state.tables) {
      if (!t.exists) {
        findings.push({
          level: "error",
          code: "TABLE_MISSING",
          table: t.table,
          message: `Shared table ${t.table} does not exist: export template.sharedTables from the master schema and apply the master migrations (drizzle-kit generate + migrate).`,
        });
        continue;
      }
      if (!t.rlsEnabled || !t.rlsForced) {
        findings.push({
          level: "error",
          code: t.rlsEnabled ? "RLS_NOT_FORCED" : "RLS_DISABLED",
          table: t.table,
          message: `Row-level security is ${t.rlsEnabled ? "enabled but not forced" : "not enabled"} on ${t.table}${t.rlsEnabled ? ", so its owner bypasses it" : ""}: run omni.secureSharedTables() or \`omnitenant migrate-tenant\` (drizzle-kit does not emit FORCE ROW LEVEL SECURITY).`,
        });
      }
      if (!t.hasPolicy) {
        findings.push({
          level: "error",
          code: "POLICY_MISSING",
          table: t.table,
          message: `${t.table} has no policy "${TENANT_POLICY}": build it with the template's t.table in table mode (template.sharedTables) and apply the master migrations.`,
        });
      }
      if (!t.privileges && findings.every((f) => f.code !== "ROLE_MISSING")) {
        findings.push({
          level: "warning",
          code: "ROLE_LACKS_PRIVILEGES",
          table: t.table,
          role: state.role,
          message: `The role "${state.role}" lacks SELECT, INSERT, UPDATE or DELETE on ${t.table}.`,
        });
      }
    }
    return {
      ok: findings.every((f) => f.level !== "error"),
      role: { name: state.role, superuser: state.superuser, bypassRls: state.bypass_rls },
      tables: state.tables,
      findings,
    };
  }

  /** ENABLE + FORCE row-level security on every shared table that lacks it; idempotent. */
  async function secure(): Promise<{ changed: string[] }> {
    verified = false;
    return applySharedTableSecurity(master, sharedTables());
  }

  function db(tenant: Tenant): PgTenantDb<TSchema> {
    const id = tenant.tenantId;
    let handle = handles.get(id);
    if (!handle) {
      handle = drizzle({
        client: scopedClient(master, { begin: "begin", setup: tenantSetup(id, role), ready }),
        schema: runtime.template.sharedTables,
      }) as PgTenantDb<TSchema>;
      handles.set(id, handle);
    }
    return handle;
  }

  let crossTenantHandle: PgTenantDb<TSchema> | undefined;
  let crossTenantChecked: Promise<void> | undefined;
  const crossTenantReady = (): Promise<void> | undefined => {
    crossTenantChecked ??= readState(crossTenantRole).then(
      (state) => {
        if (!state.superuser && !state.bypass_rls) {
          throw new ConfigError(
            `crossTenantDb() needs a role that bypasses row-level security, and "${state.role}" does not. Create one once as a superuser (createTableModeRole(sql, "omnitenant_reporting", { tables, crossTenant: true })) and set table.crossTenantRole to it.`,
          );
        }
      },
      (error) => {
        throw ROLE_ERRORS.has(pgErrorCode(error) ?? "")
          ? new ConfigError(
              `The role "${crossTenantRole}" (config table.crossTenantRole) does not exist or the connection role may not switch to it.`,
              { cause: error },
            )
          : error;
      },
    );
    crossTenantChecked.catch(() => {
      crossTenantChecked = undefined;
    });
    return crossTenantChecked;
  };

  /**
   * Reads every tenant's rows of the shared tables, in READ ONLY transactions as `table.crossTenantRole`
   * (a `BYPASSRLS` role). For reporting and support tools; never reached by tenant code by accident.
   */
  function crossTenantDb({ reason }: { reason: string }): PgTenantDb<TSchema> {
    if (typeof reason !== "string" || reason.trim().length === 0) {
      throw new ConfigError("crossTenantDb() needs a reason (it is passed to table.onCrossTenantAccess).");
    }
    onCrossTenantAccess?.({ reason });
    crossTenantHandle ??= drizzle({
      client: scopedClient(master, {
        begin: "begin read only",
        setup: tenantSetup(undefined, crossTenantRole),
        ready: crossTenantReady,
      }),
      schema: runtime.template.sharedTables,
    }) as PgTenantDb<TSchema>;
    return crossTenantHandle;
  }

  /** Deletion order: tables that reference others first. */
  function deletionOrder(): PgTable[] {
    const all = new Set(sharedTables());
    const ordered: PgTable[] = [];
    const seen = new Set<PgTable>();
    const visit = (table: PgTable) => {
      if (seen.has(table)) return;
      seen.add(table);
      for (const fk of getTableConfig(table).foreignKeys) {
        const parent = fk.reference().foreignTable;
        if (all.has(parent)) visit(parent);
      }
      ordered.push(table);
    };
    for (const table of all) visit(table);
    return ordered.reverse();
  }

  const strategy: PgStrategy<TSchema> = {
    mode: "table",
    db,
    migrationTarget(tenant) {
      throw new OmnitenantError(
        `Tenant "${tenant.tenantId}" is in table mode: it has no migrations of its own. The shared tables are migrated with the master migrations (drizzle-kit), then secured with omni.secureSharedTables().`,
      );
    },

    // No storage to create: the record is the tenant. Refuses while the shared tables are not secured.
    async provision(tenant, { writeRecord }) {
      // drizzle-kit emits ENABLE but not FORCE ROW LEVEL SECURITY; securing is idempotent (no lock once
      // done), so the first table-mode tenant needs no separate step.
      await secure();
      await ready();
      return master.begin(async (tx) => {
        await writeRecord(tx);
        // Rows left by a deleted tenant with this id (deleted without dropData) would become this tenant's.
        const tables = sharedTables();
        if (tables.length > 0) {
          await tx.unsafe(tenantSetup(tenant.tenantId, role)).simple();
          const [row] = await tx.unsafe<{ leftover: boolean }[]>(
            `select ${tables.map((t) => `exists(select 1 from ${qualifiedName(t)})`).join(" or ")} as leftover`,
          );
          if (row?.leftover) {
            throw new TenantExistsError(
              tenant.tenantId,
              "the shared tables still hold rows of an earlier tenant with this id (deleted without dropData); choose another id or delete those rows first",
            );
          }
        }
        return { applied: [] };
      });
    },

    // The record and, with dropData, the tenant's rows go in one transaction. Rows are deleted in the
    // tenant's context (so RLS lets them through) and by an explicit tenant_id filter.
    async deprovision(tenant, { dropData, deleteRecord }) {
      await master.begin(async (tx) => {
        await deleteRecord(tx);
        if (!dropData) return;
        await tx.unsafe(tenantSetup(tenant.tenantId, role)).simple();
        for (const table of deletionOrder()) {
          await tx.unsafe(
            `delete from ${qualifiedName(table)} where ${quoteIdentifier(TENANT_COLUMN)} = $1`,
            [tenant.tenantId],
          );
        }
      });
      handles.delete(tenant.tenantId);
    },

    // The tenant's storage is the shared tables.
    async exists() {
      const names = sharedTables().map(qualifiedName);
      const [row] = await master<{ missing: number }[]>`
        select count(*)::int as missing from unnest(${names}::text[]) as t(name)
        where pg_catalog.to_regclass(t.name) is null`;
      return row?.missing === 0;
    },

    async release(tenantId) {
      handles.delete(tenantId);
    },

    async close() {
      handles.clear();
    },
  };
  return Object.assign(strategy, { check, secure, crossTenantDb, sharedTables });
}

export type PgTableStrategy<TSchema extends Record<string, unknown>> = ReturnType<
  typeof pgTableStrategy<TSchema>
>;

/**
 * `ENABLE` and `FORCE ROW LEVEL SECURITY` on every table that lacks either (drizzle-kit emits ENABLE but not
 * FORCE, and without FORCE the tables' owner bypasses every policy). Idempotent: secured tables are not
 * touched, so a rerun takes no lock. Run it as the tables' owner (or a superuser), after the master migrations.
 */
export async function applySharedTableSecurity(
  sql: Sql,
  tables: readonly PgTable[],
): Promise<{ changed: string[] }> {
  const names = tables.map(qualifiedName);
  if (names.length === 0) return { changed: [] };
  return sql.begin(async (tx) => {
    const rows = await tx.unsafe<{ name: string; exists: boolean; secured: boolean }[]>(
      `select t.name, c.oid is not null as exists, coalesce(c.relrowsecurity and c.relforcerowsecurity, false) as secured
         from unnest($1::text[]) with ordinality as t(name, ord)
         left join pg_catalog.pg_class c on c.oid = pg_catalog.to_regclass(t.name) order by t.ord`,
      [names],
    );
    const missing = rows.filter((r) => !r.exists).map((r) => r.name);
    if (missing.length > 0) {
      throw new SharedTablesNotSecuredError(
        `Shared tables ${missing.join(", ")} do not exist: apply the master migrations first (they create the shared tables).`,
      );
    }
    const changed = rows.filter((r) => !r.secured).map((r) => r.name);
    for (const name of changed) {
      await tx.unsafe(`alter table ${name} enable row level security, force row level security`);
    }
    return { changed };
  });
}

export interface CreateTableModeRoleOptions {
  /** The shared tables to grant on (`template.sharedTables` or its tables). */
  tables: readonly PgTable[] | Record<string, unknown>;
  /**
   * A role for `crossTenantDb()`: `BYPASSRLS` (needs a superuser to create) and SELECT only. Default false:
   * a role RLS applies to, with SELECT, INSERT, UPDATE, DELETE and the tables' sequences.
   */
  crossTenant?: boolean;
}

/**
 * Creates (if missing) a NOLOGIN role for table mode and grants it what it needs on the shared tables, then
 * lets the connection role switch to it (`GRANT role TO current_user`). Use it for `table.role` when the app
 * connects as a superuser/BYPASSRLS role, or for `table.crossTenantRole` with `crossTenant: true`.
 *
 * @example
 * await createTableModeRole(sql, "app_tenant", { tables: template.sharedTables });
 * // omnitenant.config.ts: table: { role: "app_tenant" }
 */
export async function createTableModeRole(
  sql: Sql,
  name: string,
  { tables, crossTenant = false }: CreateTableModeRoleOptions,
): Promise<void> {
  const role = quoteIdentifier(name);
  const list = Array.isArray(tables) ? tables : sharedTablesOf(tables as Record<string, unknown>);
  const names = list.map(qualifiedName);
  await sql.begin(async (tx) => {
    const [existing] = await tx<{ bypass: boolean }[]>`
      select rolbypassrls or rolsuper as bypass from pg_catalog.pg_roles where rolname = ${name}`;
    if (!existing) {
      await tx.unsafe(`create role ${role} nologin nosuperuser ${crossTenant ? "bypassrls" : "nobypassrls"}`);
    } else if (existing.bypass !== crossTenant) {
      throw new ConfigError(
        `Role "${name}" exists and ${existing.bypass ? "bypasses" : "does not bypass"} row-level security; ${crossTenant ? "a cross-tenant role must bypass it" : "a table-mode role must not"}.`,
      );
    }
    const schemas = [...new Set(list.map((t) => getTableConfig(t).schema ?? "public"))];
    for (const schema of schemas)
      await tx.unsafe(`grant usage on schema ${quoteIdentifier(schema)} to ${role}`);
    if (names.length > 0) {
      const rights = crossTenant ? "select" : "select, insert, update, delete";
      await tx.unsafe(`grant ${rights} on ${names.join(", ")} to ${role}`);
      if (!crossTenant) {
        // serial and identity columns draw from sequences the tables own
        const sequences = await tx.unsafe<{ name: string }[]>(
          `select distinct format('%I.%I', n.nspname, s.relname) as name
             from pg_catalog.pg_depend d
             join pg_catalog.pg_class s on s.oid = d.objid and s.relkind = 'S'
             join pg_catalog.pg_namespace n on n.oid = s.relnamespace
            where d.refobjid = any(select pg_catalog.to_regclass(x) from unnest($1::text[]) as x)
              and d.deptype in ('a', 'i')`,
          [names],
        );
        if (sequences.length > 0) {
          await tx.unsafe(
            `grant usage, select on sequence ${sequences.map((s) => s.name).join(", ")} to ${role}`,
          );
        }
      }
    }
    await tx.unsafe(`grant ${role} to current_user`);
  });
}
