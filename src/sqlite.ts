import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type Database from "better-sqlite3";
import { eq } from "drizzle-orm";
import { type BetterSQLite3Database, drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { configPath, type SqliteConfig } from "./config.js";
import { TenantContext } from "./context.js";
import { openSqlite } from "./drivers/sqlite.js";
import {
  ConfigError,
  NoTenantContextError,
  TenantDatabaseUnavailableError,
  UnsupportedIsolationError,
} from "./errors.js";
import { type TenantEvents, tenantEvents } from "./events.js";
import { tenantDirectory } from "./instance.js";
import { sqliteDatabaseStrategy } from "./isolation/sqlite/database.js";
import type { SqliteRuntime, SqliteStrategy, SqliteTenantDb } from "./isolation/sqlite/runtime.js";
import { sqliteTableStrategy } from "./isolation/sqlite/table.js";
import { type MigrationFile, readMigrationFolder } from "./migrations/journal.js";
import type { TenantMigrationResult, TenantPlan } from "./migrations/pg-migrator.js";
import type { MigrateTenantsResult, MigrationProgress } from "./migrations/runner.js";
import { migrateSqlite, planSqlite } from "./migrations/sqlite-migrator.js";
import { sqliteTenantTables } from "./model/sqlite.js";
import { SqliteTenantStore } from "./model/sqlite-store.js";
import type { CreateTenantInput, ProvisionDeps } from "./provision.js";
import { TenantRegistry } from "./registry.js";
import { TENANT_FUNCTION } from "./template-sqlite.js";
import { assertTenantId } from "./tenant-id.js";
import type { IsolationMode, Tenant } from "./types.js";

const SQLITE_MODES: readonly IsolationMode[] = ["database", "table"];

export interface SqliteMigrateOptions {
  /** Only these tenants (default: all). */
  tenantIds?: string[];
  isolation?: IsolationMode;
  /** Stop after this migration tag. */
  to?: string;
  onProgress?: (event: MigrationProgress) => void;
}

/**
 * Creates the omnitenant runtime for SQLite (better-sqlite3): the master file, one file a database-mode
 * tenant (a bounded set of them open), the shared tables of table-mode tenants, the registry, provisioning
 * and migrations. Same API as the PostgreSQL runtime of `omnitenant/pg`.
 *
 * @example
 * export const omni = createOmnitenant(config);
 * export const { tenantDb, masterDb } = omni;
 */
export function createOmnitenant<
  TSchema extends Record<string, unknown>,
  TMaster extends Record<string, unknown>,
>(
  config: SqliteConfig<TSchema, TMaster>,
  { events = tenantEvents, master: masterClient }: { events?: TenantEvents; master?: Database.Database } = {},
) {
  if (!config.master?.file || config.master.file === ":memory:" || config.master.file.startsWith("file:")) {
    throw new ConfigError(
      "config.master.file must be a file path such as ./data/master.sqlite (table mode opens a second connection to it).",
    );
  }
  const tables = config.tables ?? sqliteTenantTables<{}, {}>();
  const masterFile = configPath(config, config.master.file);
  const busyTimeoutMs = config.busyTimeoutMs ?? 5000;
  if (!masterClient) mkdirSync(dirname(masterFile), { recursive: true });
  const master = masterClient ?? openSqlite(masterFile, { create: true, busyTimeoutMs });
  // Shared tables default tenant_id to this function; on the master connection no tenant is ever bound, so
  // an insert there must name tenant_id (a NOT NULL error otherwise, rather than "no such function").
  master.function(TENANT_FUNCTION, { deterministic: false }, () => null);
  const storeDb = drizzle({ client: master });
  const store = new SqliteTenantStore(storeDb, tables);
  const masterHandle = drizzle({ client: master, schema: (config.masterSchema ?? tables) as TMaster });

  let migrations: MigrationFile[] | undefined;
  const runtime: SqliteRuntime<TSchema> & { recordExists(tenantId: string): boolean } = {
    masterFile,
    master,
    masterDb: storeDb,
    template: config.template,
    busyTimeoutMs,
    migrations: () => {
      if (!migrations) migrations = readMigrationFolder(configPath(config, config.migrations.tenant));
      return migrations;
    },
    recordExists: (tenantId) =>
      storeDb
        .select({ id: tables.tenants.tenantId })
        .from(tables.tenants)
        .where(eq(tables.tenants.tenantId, tenantId))
        .get() !== undefined,
  };

  const databaseStrategy = sqliteDatabaseStrategy(
    runtime,
    configPath(config, config.tenantsDir ?? "./data/tenants"),
    config.database,
  );
  const all: Record<"database" | "table", SqliteStrategy<TSchema>> = {
    database: databaseStrategy,
    table: sqliteTableStrategy(runtime, config.table),
  };
  const tableStrategy = all.table as ReturnType<typeof sqliteTableStrategy<TSchema>>;
  const modes = (config.modes ?? SQLITE_MODES).filter((m): m is "database" | "table" => m in all);
  const strategies: Partial<Record<IsolationMode, SqliteStrategy<TSchema>>> = {};
  for (const mode of modes) strategies[mode] = all[mode];

  const registry = new TenantRegistry(store, config.registry, events);
  const deps: ProvisionDeps<SqliteRuntime<TSchema>["masterDb"]> = {
    strategies: strategies as ProvisionDeps<any>["strategies"],
    registry,
    events,
    // Synchronous underneath (better-sqlite3): the rows are written, or it threw, before this returns.
    insertRecord: (tx, record, domains) => {
      store.insert(tx, record, domains);
      return Promise.resolve();
    },
    deleteRecord: (tx, tenantId) => Promise.resolve(store.delete(tx, tenantId)),
  };
  const directory = tenantDirectory({
    ...deps,
    domains: { add: (domain) => store.addDomain(domain), remove: (domain) => store.removeDomain(domain) },
    checkInput: refuseSchema,
  });
  const { requireTenant, selectTenants } = directory;

  const strategyOf = (tenant: Tenant) => directory.strategyOf(tenant) as SqliteStrategy<TSchema>;

  function refuseSchema(input: CreateTenantInput): void {
    assertTenantId(input.tenantId);
    if (input.isolation === "schema") {
      throw new UnsupportedIsolationError(
        "schema",
        'SQLite has no schemas; use "database" (a file a tenant) or "table" (shared tables with a tenant_id column)',
      );
    }
  }

  /** Plans one tenant; table-mode tenants have no migrations of their own (their tables are the master's). */
  function planOf(tenant: Tenant): TenantPlan {
    const target = strategyOf(tenant).migrationTarget(tenant);
    if (!target) return { tenantId: tenant.tenantId, applied: [], pending: [], drifted: [], unknown: [] };
    return planSqlite(target.connection(), runtime.migrations(), { tenantId: tenant.tenantId });
  }

  function migrateOne(tenant: Tenant, to: string | undefined): TenantMigrationResult {
    const started = performance.now();
    const target = strategyOf(tenant).migrationTarget(tenant);
    if (!target) return { tenantId: tenant.tenantId, status: "up-to-date", applied: [], durationMs: 0 };
    let connection: Database.Database;
    try {
      connection = target.connection();
    } catch (error) {
      return {
        tenantId: tenant.tenantId,
        status: "failed",
        applied: [],
        error:
          error instanceof TenantDatabaseUnavailableError
            ? error
            : new TenantDatabaseUnavailableError(tenant.tenantId, error),
        durationMs: performance.now() - started,
      };
    }
    return migrateSqlite(connection, runtime.migrations(), {
      tenantId: tenant.tenantId,
      ...(to ? { to } : {}),
    });
  }

  const omnitenant = {
    ...directory,
    config,
    /** The master connection (better-sqlite3). */
    $client: master as Database.Database,

    /**
     * The typed Drizzle database of `tenant`, or of the tenant in TenantContext. It can only reach that
     * tenant's data: its own file in database mode, its rows of the shared tables in table mode.
     */
    tenantDb(tenant?: Tenant): SqliteTenantDb<TSchema> {
      if (tenant) return strategyOf(tenant).db(tenant);
      const state = TenantContext.state();
      if (state?.kind === "tenant") return strategyOf(state.tenant).db(state.tenant);
      if (state?.kind === "schema") {
        throw new UnsupportedIsolationError("schema", "SQLite has no schemas (TenantContext.useSchema)");
      }
      throw new NoTenantContextError("tenantDb()");
    },

    /** The master database: tenants, domains and the shared tables, unscoped. */
    masterDb(): BetterSQLite3Database<TMaster> & { $client: Database.Database } {
      return masterHandle;
    },

    /** The file of a database-mode tenant. */
    tenantFile: (tenantId: string) => databaseStrategy.fileOf(tenantId),
    migrations: () => runtime.migrations(),

    /**
     * Applies the master migrations (tenants, domains, shared tables) with drizzle's own better-sqlite3
     * migrator, as `drizzle-kit migrate` would.
     */
    async migrateMaster(): Promise<void> {
      if (!config.migrations.master) {
        throw new ConfigError(
          "config.migrations.master is not set: point it at drizzle-kit's output folder for the master schema.",
        );
      }
      migrate(storeDb, { migrationsFolder: configPath(config, config.migrations.master) });
    },

    /** What is pending (and drifted) for one tenant, changing nothing. */
    async planTenant(tenantId: string): Promise<TenantPlan> {
      return planOf(await requireTenant(assertId(tenantId)));
    },

    async planTenants(
      options: Pick<SqliteMigrateOptions, "tenantIds" | "isolation"> = {},
    ): Promise<TenantPlan[]> {
      const plans: TenantPlan[] = [];
      for (const tenant of await selectTenants(options)) {
        try {
          plans.push(planOf(tenant));
        } catch (error) {
          plans.push({
            tenantId: tenant.tenantId,
            applied: [],
            pending: [...runtime.migrations()],
            drifted: [],
            unknown: [],
            error: error as Error,
          });
        }
      }
      return plans;
    },

    async migrateTenant(tenantId: string, options: { to?: string } = {}): Promise<TenantMigrationResult> {
      const result = await omnitenant.migrateTenants({ tenantIds: [assertId(tenantId)], ...options });
      return result.results[0]!;
    },

    /**
     * Applies pending tenant migrations to every selected database-mode tenant, one file after the other
     * (SQLite writes are serial anyway); one tenant's failure never stops the others. Table-mode tenants are
     * reported up to date: their tables are the master's.
     */
    async migrateTenants(options: SqliteMigrateOptions = {}): Promise<MigrateTenantsResult> {
      const started = performance.now();
      const tenants = await selectTenants(options);
      const results: TenantMigrationResult[] = [];
      let failed = 0;
      for (const tenant of tenants) {
        const result = migrateOne(tenant, options.to);
        results.push(result);
        if (result.status === "failed" || result.status === "drift" || result.status === "locked") failed++;
        if (result.applied.length > 0)
          await events.emit("tenant:migrated", { tenant, applied: result.applied });
        options.onProgress?.({ done: results.length, total: tenants.length, failed, result });
        // Let requests in between: each file's migration is synchronous.
        await new Promise((resolve) => setImmediate(resolve));
      }
      return {
        results,
        applied: results.filter((r) => r.applied.length > 0).length,
        upToDate: results.filter((r) => r.status === "up-to-date").length,
        failed,
        durationMs: performance.now() - started,
      };
    },

    /** Closes every connection; call on shutdown. */
    async close(): Promise<void> {
      registry.close();
      await Promise.all(Object.values(all).map((s) => s.close()));
      if (!masterClient && master.open) master.close();
    },

    /** The connection table-mode tenants share, with no tenant bound: its views show nothing and writes to
     * shared tables are refused. For diagnostics. */
    sharedConnection: (): Database.Database => tableStrategy.connection(),

    /** Open files of database-mode tenants (for monitoring). */
    databaseStats: () => databaseStrategy.stats,
  };
  return omnitenant;
}

function assertId(tenantId: string): string {
  assertTenantId(tenantId);
  return tenantId;
}

export type SqliteOmnitenant<TSchema extends Record<string, unknown> = Record<string, unknown>> = ReturnType<
  typeof createOmnitenant<TSchema, Record<string, unknown>>
>;

export type { SqliteTenantDb } from "./isolation/sqlite/runtime.js";
export { ScopeViolationError } from "./isolation/sqlite/scope.js";
export { type SqliteTenantTables, sqliteTenantTables } from "./model/sqlite.js";
export { SqliteTenantStore } from "./model/sqlite-store.js";
export {
  defineSqliteTemplate,
  type SharedSchema,
  type SharedTable,
  type SqliteTemplate,
  type SqliteTemplateBuilder,
} from "./template-sqlite.js";
