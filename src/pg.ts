import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import type { Sql, TransactionSql } from "postgres";
import { configPath, type PgConfig } from "./config.js";
import { TenantContext } from "./context.js";
import { openPgClient } from "./drivers/postgres.js";
import { NoTenantContextError, SharedTablesNotSecuredError } from "./errors.js";
import { type TenantEvents, tenantEvents } from "./events.js";
import { tenantDirectory } from "./instance.js";
import { pgDatabaseStrategy } from "./isolation/pg/database.js";
import type { PgRuntime, PgStrategy, PgTenantDb } from "./isolation/pg/runtime.js";
import { pgSchemaStrategy } from "./isolation/pg/schema.js";
import { pgTableStrategy, type SharedTablesReport } from "./isolation/pg/table.js";
import { type MigrationFile, readMigrationFolder } from "./migrations/journal.js";
import {
  type PgMigrationTarget,
  planTenant,
  type TenantMigrationResult,
  type TenantPlan,
} from "./migrations/pg-migrator.js";
import { type MigrateTenantsResult, migrateTenants, planTenants } from "./migrations/runner.js";
import { pgTenantTables } from "./model/pg.js";
import { PgTenantStore } from "./model/pg-store.js";
import type { ProvisionDeps } from "./provision.js";
import { TenantRegistry } from "./registry.js";
import { assertTenantId } from "./tenant-id.js";
import type { IsolationMode, Tenant } from "./types.js";

export interface MigrateOptions {
  /** Only these tenants (default: all). */
  tenantIds?: string[];
  isolation?: IsolationMode;
  /** Tenants migrated at once (default `config.migrate.concurrency`, else 4). */
  concurrency?: number;
  /** Stop after this migration tag. */
  to?: string;
  onProgress?: Parameters<typeof migrateTenants>[2] extends infer O
    ? O extends { onProgress?: infer P }
      ? P
      : never
    : never;
}

/**
 * Creates the omnitenant runtime for PostgreSQL: one master pool (shared by schema-mode tenants), a bounded
 * set of clients for database-mode tenants, the registry, provisioning and migrations.
 *
 * @example
 * export const omni = createOmnitenant(config);
 * export const { tenantDb, masterDb } = omni;
 */
export function createOmnitenant<
  TSchema extends Record<string, unknown>,
  TMaster extends Record<string, unknown>,
>(
  config: PgConfig<TSchema, TMaster>,
  { events = tenantEvents, master: masterClient }: { events?: TenantEvents; master?: Sql } = {},
) {
  const tables = config.tables ?? pgTenantTables<{}, {}>();
  const master = masterClient ?? openPgClient(config.masterUrl, config.pool);
  let migrations: MigrationFile[] | undefined;
  const runtime: PgRuntime<TSchema> = {
    masterUrl: config.masterUrl,
    master,
    template: config.template,
    naming: config.naming ?? {},
    migrations: () => {
      if (!migrations) migrations = readMigrationFolder(configPath(config, config.migrations.tenant));
      return migrations;
    },
  };

  const schemaStrategy = pgSchemaStrategy(runtime, config.schema);
  const tableStrategy = pgTableStrategy(runtime, config.table);
  const all: Record<"schema" | "database" | "table", PgStrategy<TSchema>> = {
    schema: schemaStrategy,
    database: pgDatabaseStrategy(runtime, config.database),
    table: tableStrategy,
  };
  const modes = (config.modes ?? (Object.keys(all) as IsolationMode[])).filter((m) => m in all);
  const strategies: Partial<Record<IsolationMode, PgStrategy<TSchema>>> = {};
  for (const mode of modes) strategies[mode] = all[mode as keyof typeof all];

  const store = new PgTenantStore(master, tables);
  const registry = new TenantRegistry(store, config.registry, events);
  const deps: ProvisionDeps<TransactionSql> = {
    strategies: strategies as ProvisionDeps<any>["strategies"],
    registry,
    events,
    insertRecord: (tx, record, domains) => store.insert(tx, record, domains),
    deleteRecord: (tx, tenantId) => store.delete(tx, tenantId),
  };
  const directory = tenantDirectory({
    ...deps,
    domains: { add: (domain) => store.addDomain(domain), remove: (domain) => store.removeDomain(domain) },
  });
  const { requireTenant, selectTenants } = directory;
  const masterHandle = drizzle({ client: master, schema: (config.masterSchema ?? tables) as TMaster });

  const strategyOf = (tenant: Tenant) => directory.strategyOf(tenant) as PgStrategy<TSchema>;

  function targetOf(tenant: Tenant): PgMigrationTarget {
    return strategyOf(tenant).migrationTarget(tenant);
  }

  // Table-mode tenants have no migrations of their own: their tables are the master's shared tables,
  // created by the master migrations. Migrating them means securing those tables (ENABLE + FORCE RLS).
  const ownsMigrations = (tenant: Tenant) => strategyOf(tenant) !== tableStrategy;
  const sharedPlan = (tenantId: string): TenantPlan => ({
    tenantId,
    applied: [],
    pending: [],
    drifted: [],
    unknown: [],
  });
  async function migrateShared(tenants: Tenant[]): Promise<TenantMigrationResult[]> {
    if (tenants.length === 0) return [];
    const started = performance.now();
    let error: Error | undefined;
    try {
      await tableStrategy.secure();
      const report = await tableStrategy.check();
      const problem = report.findings.find((f) => f.level === "error");
      if (problem) error = new SharedTablesNotSecuredError(problem.message);
    } catch (cause) {
      error = cause instanceof Error ? cause : new Error(String(cause));
    }
    const durationMs = performance.now() - started;
    return tenants.map((t) => ({
      tenantId: t.tenantId,
      status: error ? "failed" : "up-to-date",
      applied: [],
      ...(error ? { error } : {}),
      durationMs,
    }));
  }

  const omnitenant = {
    ...directory,
    config,
    /** The master pool (postgres.js). */
    $client: master,

    /**
     * The typed Drizzle database of `tenant`, or of the tenant in TenantContext. It can only reach that
     * tenant's data: schema-qualified tables in schema mode, the tenant's own database in database mode, the
     * shared tables under row-level security in table mode (each statement in a transaction that sets the
     * tenant, pipelined into one round trip).
     */
    tenantDb(tenant?: Tenant): PgTenantDb<TSchema> {
      if (tenant) return strategyOf(tenant).db(tenant);
      const state = TenantContext.state();
      if (state?.kind === "tenant") return strategyOf(state.tenant).db(state.tenant);
      if (state?.kind === "schema") return schemaStrategy.forSchema(state.schema);
      throw new NoTenantContextError("tenantDb()");
    },

    /** The master database: tenants, domains and the app's shared tables. */
    masterDb(): PostgresJsDatabase<TMaster> & { $client: Sql } {
      return masterHandle;
    },

    migrations: () => runtime.migrations(),

    /** What is pending (and drifted) for one tenant, changing nothing. */
    async planTenant(tenantId: string): Promise<TenantPlan> {
      const tenant = await requireTenant(tenantId);
      if (!ownsMigrations(tenant)) return sharedPlan(tenant.tenantId);
      return planTenant(targetOf(tenant), runtime.migrations());
    },

    async planTenants(
      options: Pick<MigrateOptions, "tenantIds" | "isolation" | "concurrency"> = {},
    ): Promise<TenantPlan[]> {
      const tenants = await selectTenants(options);
      const own = tenants.filter(ownsMigrations);
      const plans = await planTenants(own.map(targetOf), runtime.migrations(), {
        concurrency: options.concurrency ?? config.migrate?.concurrency ?? 4,
      });
      const byId = new Map(plans.map((p) => [p.tenantId, p]));
      return tenants.map((t) => byId.get(t.tenantId) ?? sharedPlan(t.tenantId));
    },

    async migrateTenant(tenantId: string, options: { to?: string } = {}) {
      const result = await omnitenant.migrateTenants({ tenantIds: [assertId(tenantId)], ...options });
      return result.results[0]!;
    },

    /**
     * Applies pending tenant migrations to every selected tenant, concurrently; failures never stop others.
     * Table-mode tenants have none: for them the shared tables are secured (`secureSharedTables()`) and
     * checked once, and they are reported up to date (or failed, with what is wrong).
     */
    async migrateTenants(options: MigrateOptions = {}): Promise<MigrateTenantsResult> {
      const started = performance.now();
      const tenants = await selectTenants(options);
      const byId = new Map(tenants.map((t) => [t.tenantId, t]));
      const own = tenants.filter(ownsMigrations);
      const shared = await migrateShared(tenants.filter((t) => !ownsMigrations(t)));
      const total = tenants.length;
      let failedShared = 0;
      shared.forEach((result, i) => {
        if (result.status === "failed") failedShared++;
        options.onProgress?.({ done: i + 1, total, failed: failedShared, result });
      });
      const onProgress = options.onProgress;
      const ownResult = await migrateTenants(own.map(targetOf), runtime.migrations(), {
        concurrency: options.concurrency ?? config.migrate?.concurrency ?? 4,
        ...(options.to ? { to: options.to } : {}),
        ...(onProgress
          ? {
              onProgress: (event) =>
                onProgress({
                  ...event,
                  done: event.done + shared.length,
                  total,
                  failed: event.failed + failedShared,
                }),
            }
          : {}),
      });
      const resultsById = new Map([...ownResult.results, ...shared].map((r) => [r.tenantId, r]));
      const results = tenants.map((t) => resultsById.get(t.tenantId)!);
      const result: MigrateTenantsResult = {
        results,
        applied: ownResult.applied,
        upToDate: ownResult.upToDate + shared.length - failedShared,
        failed: ownResult.failed + failedShared,
        durationMs: performance.now() - started,
      };
      for (const r of result.results) {
        const tenant = byId.get(r.tenantId);
        if (tenant && r.applied.length > 0)
          await events.emit("tenant:migrated", { tenant, applied: r.applied });
      }
      return result;
    },

    /**
     * Table mode: `ENABLE` and `FORCE ROW LEVEL SECURITY` on every shared table that lacks them (drizzle-kit
     * emits ENABLE but not FORCE; without FORCE the tables' owner bypasses the policy). Idempotent; run it
     * after the master migrations as the tables' owner. `migrateTenants()` runs it for table-mode tenants.
     */
    async secureSharedTables(): Promise<{ changed: string[] }> {
      return tableStrategy.secure();
    },

    /**
     * Table mode: what protects the shared tables, as findings (RLS not enabled or not forced, policy or
     * table missing, a connection role that bypasses RLS). Changes nothing; for `doctor`.
     */
    checkSharedTables(): Promise<SharedTablesReport> {
      return tableStrategy.check();
    },

    /**
     * Every tenant's rows of the shared tables (table mode), for reporting and support tools: a named,
     * explicit API, never reached by tenant code by accident. Statements run in READ ONLY transactions as
     * `config.table.crossTenantRole`, a role with BYPASSRLS (or, unset, as the connection role, which must
     * then bypass RLS itself). The tenant policy stays a single indexable comparison, so tenant queries pay
     * nothing for this. `reason` goes to `config.table.onCrossTenantAccess`.
     *
     * @example
     * const all = await omni.crossTenantDb({ reason: "monthly usage report" }).select().from(projects);
     */
    crossTenantDb(options: { reason: string }): PgTenantDb<TSchema> {
      return tableStrategy.crossTenantDb(options);
    },

    /** Closes every pool; call on shutdown. */
    async close(): Promise<void> {
      registry.close();
      await Promise.all(Object.values(all).map((s) => s.close()));
      if (!masterClient) await master.end({ timeout: 5 });
    },

    /** Open clients of database-mode tenants (for monitoring). */
    databaseClientStats: () => (all.database as unknown as { stats: unknown }).stats,
  };
  return omnitenant;
}

function assertId(tenantId: string): string {
  assertTenantId(tenantId);
  return tenantId;
}

export type Omnitenant<TSchema extends Record<string, unknown> = Record<string, unknown>> = ReturnType<
  typeof createOmnitenant<TSchema, Record<string, unknown>>
>;

export type { PgTenantDb } from "./isolation/pg/runtime.js";
export {
  applySharedTableSecurity,
  type CreateTableModeRoleOptions,
  createTableModeRole,
  type PgTableStrategyOptions,
  type SharedTableFinding,
  type SharedTableFindingCode,
  type SharedTableState,
  type SharedTablesReport,
  sharedTablesOf,
} from "./isolation/pg/table.js";
export { type PgTenantTables, pgTenantTables } from "./model/pg.js";
export { definePgTemplate, type PgTemplate, type PgTemplateBuilder } from "./template.js";
