/**
 * The dialect-neutral entry point: `createOmnitenantFromConfig(config)` loads `./pg.js` or `./sqlite.js`
 * (and so the `postgres` or `better-sqlite3` driver) only for the dialect the config names, and returns the
 * operations both runtimes share. The CLI and tools that must not know the dialect go through here; apps
 * that want typed `tenantDb()` handles call `createOmnitenant` from `omnitenant/pg` or `omnitenant/sqlite`.
 *
 * It also holds `diagnose()`, the checks behind `omnitenant doctor`.
 */
import { existsSync, readdirSync } from "node:fs";
import type { Sql } from "postgres";
import { configPath, loadConfig, type OmnitenantConfig, type PgConfig, type SqliteConfig } from "./config.js";
import { ConfigError, describeCause } from "./errors.js";
import type { MigrationFile } from "./migrations/journal.js";
import { readMigrationFolder } from "./migrations/journal.js";
import type { TenantMigrationResult, TenantPlan } from "./migrations/pg-migrator.js";
import type { MigrateTenantsResult, MigrationProgress } from "./migrations/runner.js";
import type { Omnitenant as PgOmnitenant } from "./pg.js";
import type { CreateTenantInput, CreateTenantResult } from "./provision.js";
import type { SqliteOmnitenant } from "./sqlite.js";
import { type NamingOptions, tenantDatabaseName, tenantSchemaName } from "./tenant-id.js";
import type { Domain, IsolationMode, Tenant } from "./types.js";

export type Dialect = OmnitenantConfig["dialect"];

export interface RuntimeMigrateOptions {
  /** Only these tenants (default: all). */
  tenantIds?: string[];
  isolation?: IsolationMode;
  /** Tenants migrated at once (PostgreSQL; SQLite migrates one file after the other). */
  concurrency?: number;
  /** Stop after this migration tag. */
  to?: string;
  onProgress?: (event: MigrationProgress) => void;
}

/** What the PostgreSQL and SQLite runtimes have in common. */
export interface TenantOperations {
  listTenants(filter?: { isolation?: IsolationMode }): Promise<Tenant[]>;
  getTenant(tenantId: string): Promise<Tenant | undefined>;
  requireTenant(tenantId: string): Promise<Tenant>;
  domainsOf(tenantId: string): Promise<Domain[]>;
  withTenant<T>(tenantId: string, fn: () => T | Promise<T>): Promise<T>;
  tenantDb(tenant?: Tenant): unknown;
  masterDb(): unknown;
  createTenant(input: CreateTenantInput): Promise<CreateTenantResult>;
  deleteTenant(tenantId: string, options?: { dropData?: boolean }): Promise<void>;
  addDomain(tenantId: string, domain: string, options?: { primary?: boolean }): Promise<Domain>;
  removeDomain(domain: string): Promise<boolean>;
  storageExists(tenant: Tenant): Promise<boolean>;
  /** The tenant migrations (drizzle-kit's output folder), in order. */
  migrations(): MigrationFile[];
  planTenant(tenantId: string): Promise<TenantPlan>;
  planTenants(
    options?: Pick<RuntimeMigrateOptions, "tenantIds" | "isolation" | "concurrency">,
  ): Promise<TenantPlan[]>;
  migrateTenant(tenantId: string, options?: { to?: string }): Promise<TenantMigrationResult>;
  migrateTenants(options?: RuntimeMigrateOptions): Promise<MigrateTenantsResult>;
  close(): Promise<void>;
}

export type OmnitenantRuntime = TenantOperations & {
  readonly config: OmnitenantConfig;
  /** The isolation modes this app offers (`config.modes`, else every mode of the dialect). */
  readonly modes: readonly IsolationMode[];
} & (
    | { readonly dialect: "postgresql"; readonly native: PgOmnitenant }
    | { readonly dialect: "sqlite"; readonly native: SqliteOmnitenant }
  );

const DIALECT_MODES: Record<Dialect, readonly IsolationMode[]> = {
  postgresql: ["database", "schema", "table"],
  sqlite: ["database", "table"],
};

/** The isolation modes a config offers, in the order of `config.modes` (else the dialect's own order). */
export function isolationModes(config: OmnitenantConfig): IsolationMode[] {
  const supported = DIALECT_MODES[config.dialect];
  return (config.modes ?? [...supported]).filter((mode) => supported.includes(mode));
}

/**
 * Creates the runtime of the config's dialect, importing only that dialect's module and driver.
 *
 * @example
 * const omni = await createOmnitenantFromConfig(await loadConfig());
 * for (const tenant of await omni.listTenants()) console.log(tenant.tenantId);
 * await omni.close();
 */
export async function createOmnitenantFromConfig(config: OmnitenantConfig): Promise<OmnitenantRuntime> {
  if (config.dialect === "postgresql") {
    const { createOmnitenant } = await importDialect(() => import("./pg.js"), "postgresql", "postgres");
    const native: PgOmnitenant = createOmnitenant(config as PgConfig);
    const operations: TenantOperations = native;
    const modes = isolationModes(config);
    return {
      ...operations,
      config,
      modes,
      dialect: "postgresql",
      native,
    };
  }
  if (config.dialect === "sqlite") {
    const { createOmnitenant } = await importDialect(() => import("./sqlite.js"), "sqlite", "better-sqlite3");
    const native: SqliteOmnitenant = createOmnitenant(config as SqliteConfig);
    const operations: TenantOperations = native;
    return { ...operations, config, modes: isolationModes(config), dialect: "sqlite", native };
  }
  throw new ConfigError(
    `Unknown dialect ${JSON.stringify((config as { dialect?: unknown }).dialect)} in the config: use "postgresql" or "sqlite".`,
  );
}

/** `loadConfig(file, cwd)` then `createOmnitenantFromConfig`. */
export async function loadOmnitenant(file?: string, cwd?: string): Promise<OmnitenantRuntime> {
  return createOmnitenantFromConfig(await loadConfig(file, cwd));
}

async function importDialect<T>(load: () => Promise<T>, dialect: Dialect, driver: string): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ERR_MODULE_NOT_FOUND" && String((error as Error).message).includes(`'${driver}'`)) {
      throw new ConfigError(
        `The ${dialect} dialect needs the "${driver}" package, which is not installed: npm install ${driver}`,
        { cause: error },
      );
    }
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------------------
// doctor

export type DiagnosisLevel = "ok" | "warning" | "error";

export interface DiagnosisCheck {
  level: DiagnosisLevel;
  /** Stable identifier of the check, e.g. `MASTER_UNREACHABLE`, `ORPHAN_SCHEMA`. */
  code: string;
  message: string;
  /** What to do about it (absent for `ok`, and when the message says it already). */
  fix?: string;
  tenantId?: string;
}

export interface Diagnosis {
  /** No check of level `error`. */
  ok: boolean;
  checks: DiagnosisCheck[];
}

/**
 * Everything `omnitenant doctor` checks, changing nothing: the master database is reachable and migrated,
 * the migrations folders are readable, table mode's shared tables are protected by row-level security (and
 * the connection role cannot bypass it), every tenant row has its schema/database/file and every
 * tenant-looking schema/database/file has a row, and what each tenant has pending or drifted.
 */
export async function diagnose(omni: OmnitenantRuntime): Promise<Diagnosis> {
  const checks: DiagnosisCheck[] = [];
  const add = (check: DiagnosisCheck) => checks.push(check);
  const done = (): Diagnosis => ({ ok: checks.every((c) => c.level !== "error"), checks });

  // 1. The master database.
  try {
    if (omni.dialect === "postgresql") await omni.native.$client`select 1`;
    add({ level: "ok", code: "MASTER_REACHABLE", message: "The master database is reachable." });
  } catch (error) {
    add({
      level: "error",
      code: "MASTER_UNREACHABLE",
      message: `The master database cannot be reached (${connectionProblem(error)}).`,
      fix: "Check masterUrl in omnitenant.config.ts (and the environment variable it reads) and that the server is running.",
    });
    return done();
  }
  await checkMasterMigrations(omni, add);

  // 2. The tenant migrations folder.
  const tenantFolder = configPath(omni.config, omni.config.migrations.tenant);
  let migrationsReadable = false;
  try {
    const migrations = omni.migrations();
    migrationsReadable = true;
    if (migrations.length === 0) {
      add({
        level: "warning",
        code: "TENANT_MIGRATIONS_EMPTY",
        message: `The tenant migrations folder ${tenantFolder} has no migrations.`,
        fix: "Generate them from the tenant template: npx drizzle-kit generate --config drizzle.tenant.config.ts",
      });
    } else {
      add({
        level: "ok",
        code: "TENANT_MIGRATIONS",
        message: `Tenant migrations: ${migrations.length} in ${tenantFolder}.`,
      });
    }
  } catch (error) {
    add({
      level: "error",
      code: "TENANT_MIGRATIONS_UNREADABLE",
      message: describeCause(error),
      fix: "Generate them from the tenant template (npx drizzle-kit generate --config drizzle.tenant.config.ts) or fix migrations.tenant in the config.",
    });
  }

  // 3. The tenant rows.
  let tenants: Tenant[];
  try {
    tenants = await omni.listTenants();
    add({ level: "ok", code: "TENANTS_TABLE", message: `Tenants: ${tenants.length}.` });
  } catch (error) {
    add({
      level: "error",
      code: "TENANTS_TABLE_UNREADABLE",
      message: `The tenants table cannot be read (${describeCause(error)}).`,
      fix: "Apply the master migrations: npx drizzle-kit migrate (with the master drizzle config).",
    });
    return done();
  }

  // 4. Table mode: the shared tables and row-level security.
  if (omni.modes.includes("table")) await checkSharedTables(omni, tenants, add);

  // 5. Tenant rows without storage, storage without a tenant row.
  const missing = await checkStorage(omni, tenants, add);

  // 6. Migration state of every tenant that has its own migrations (and its storage).
  if (migrationsReadable) {
    await checkTenantMigrations(
      omni,
      tenants.filter((t) => !missing.has(t.tenantId)),
      add,
    );
  }
  return done();
}

type Add = (check: DiagnosisCheck) => void;

async function checkMasterMigrations(omni: OmnitenantRuntime, add: Add): Promise<void> {
  const folder = omni.config.migrations.master;
  if (!folder) {
    add({
      level: "warning",
      code: "MASTER_MIGRATIONS_UNSET",
      message: "config.migrations.master is not set, so the master migrations cannot be checked.",
      fix: "Set migrations.master to the out folder of the master drizzle config (e.g. ./drizzle/master).",
    });
    return;
  }
  const path = configPath(omni.config, folder);
  let migrations: MigrationFile[];
  try {
    migrations = readMigrationFolder(path);
  } catch (error) {
    add({
      level: "error",
      code: "MASTER_MIGRATIONS_UNREADABLE",
      message: describeCause(error),
      fix: "Generate the master migrations: npx drizzle-kit generate (with the master drizzle config).",
    });
    return;
  }
  let applied: Set<string>;
  try {
    applied = await appliedMasterMigrations(omni);
  } catch {
    add({
      level: "warning",
      code: "MASTER_MIGRATIONS_UNKNOWN",
      message: "drizzle's journal of the master migrations (__drizzle_migrations) was not found.",
      fix: "Apply the master migrations: npx drizzle-kit migrate (with the master drizzle config).",
    });
    return;
  }
  const pending = migrations.filter((m) => !applied.has(`${m.createdAt}:${m.hash}`));
  if (pending.length > 0) {
    add({
      level: "warning",
      code: "MASTER_MIGRATIONS_PENDING",
      message: `Master migrations not applied: ${pending.map((m) => m.tag).join(", ")}.`,
      fix: "Apply them: npx drizzle-kit migrate (with the master drizzle config).",
    });
  } else {
    add({
      level: "ok",
      code: "MASTER_MIGRATIONS",
      message: `Master migrations: ${migrations.length} applied.`,
    });
  }
}

/** `created_at:hash` of every row of drizzle's journal in the master database (drizzle-kit's defaults). */
async function appliedMasterMigrations(omni: OmnitenantRuntime): Promise<Set<string>> {
  if (omni.dialect === "postgresql") {
    const rows = await omni.native.$client.unsafe<{ created_at: string; hash: string }[]>(
      `select created_at::text as created_at, hash from "drizzle"."__drizzle_migrations"`,
    );
    return new Set(rows.map((r) => `${r.created_at}:${r.hash}`));
  }
  const rows = omni.native.$client
    .prepare(`select cast(created_at as text) as created_at, hash from "__drizzle_migrations"`)
    .all() as { created_at: string; hash: string }[];
  return new Set(rows.map((r) => `${r.created_at}:${r.hash}`));
}

async function checkSharedTables(omni: OmnitenantRuntime, tenants: Tenant[], add: Add): Promise<void> {
  const tableTenants = tenants.filter((t) => t.isolation === "table").length;
  // Without table-mode tenants nothing is exposed yet: problems are warnings until the first one exists.
  const severity: DiagnosisLevel = tableTenants > 0 ? "error" : "warning";
  if (omni.dialect === "postgresql") {
    let report: Awaited<ReturnType<PgOmnitenant["checkSharedTables"]>>;
    try {
      report = await omni.native.checkSharedTables();
    } catch (error) {
      add({
        level: severity,
        code: "SHARED_TABLES_UNCHECKED",
        message: `The shared tables of table mode could not be checked (${describeCause(error)}).`,
        fix: "Apply the master migrations (they create the shared tables) and check the connection role.",
      });
      return;
    }
    for (const finding of report.findings) {
      // The library's messages say what to do already.
      add({
        level: finding.level === "error" ? severity : "warning",
        code: finding.code,
        message: finding.message,
      });
    }
    if (report.findings.length === 0) {
      const role = report.role ? ` as role "${report.role.name}"` : "";
      add({
        level: "ok",
        code: "SHARED_TABLES_SECURED",
        message: `Table mode: ${report.tables.length} shared tables with row-level security enabled and forced; queries run${role}, which cannot bypass it.`,
      });
    }
    return;
  }
  const probe = {
    tenantId: "doctor",
    name: "doctor",
    isolation: "table",
    config: {},
    createdAt: null,
  } as Tenant;
  if (await omni.storageExists(probe)) {
    add({
      level: "ok",
      code: "SHARED_TABLES",
      message: "Table mode: the shared tables exist in the master file.",
    });
  } else {
    add({
      level: severity,
      code: "TABLE_MISSING",
      message: "Table mode: the shared tables are missing from the master file.",
      fix: "Export template.sharedTables from the master schema, then npx drizzle-kit generate && npx drizzle-kit migrate.",
    });
  }
}

/** Reports tenant rows without storage and storage without a row; returns the ids of the former. */
async function checkStorage(omni: OmnitenantRuntime, tenants: Tenant[], add: Add): Promise<Set<string>> {
  const missing = new Set<string>();
  for (const tenant of tenants) {
    if (tenant.isolation === "table") continue; // the shared tables, checked above
    let exists: boolean;
    try {
      exists = await omni.storageExists(tenant);
    } catch (error) {
      add({
        level: "error",
        code: "TENANT_STORAGE_UNREACHABLE",
        tenantId: tenant.tenantId,
        message: `Tenant "${tenant.tenantId}": its ${storageNoun(omni, tenant)} cannot be checked (${connectionProblem(error)}).`,
        fix: "Check the tenant's server and connection settings (databaseUrlEnv).",
      });
      missing.add(tenant.tenantId);
      continue;
    }
    if (!exists) {
      missing.add(tenant.tenantId);
      add({
        level: "error",
        code: "TENANT_STORAGE_MISSING",
        tenantId: tenant.tenantId,
        message: `Tenant "${tenant.tenantId}" (${tenant.isolation}) has a tenant row but its ${storageNoun(omni, tenant)} does not exist.`,
        fix: `Restore it from a backup, or remove the row (omnitenant delete-tenant --tenant-id ${tenant.tenantId}) and create the tenant again.`,
      });
    }
  }
  if (missing.size === 0) {
    add({
      level: "ok",
      code: "TENANT_STORAGE",
      message: "Every tenant row has its schema, database or file.",
    });
  }

  const orphans = await findOrphans(omni, tenants);
  for (const orphan of orphans) add(orphan);
  return missing;
}

function storageNoun(omni: OmnitenantRuntime, tenant: Tenant): string {
  if (omni.dialect === "sqlite") return "database file";
  return tenant.isolation === "schema" ? "schema" : "database";
}

/** Schemas, databases and files named like a tenant's that no tenant row claims. */
async function findOrphans(omni: OmnitenantRuntime, tenants: Tenant[]): Promise<DiagnosisCheck[]> {
  const found: DiagnosisCheck[] = [];
  if (omni.dialect === "sqlite") {
    const dir = configPath(omni.config, (omni.config as SqliteConfig).tenantsDir ?? "./data/tenants");
    if (!existsSync(dir)) return found;
    const known = new Set(
      tenants.filter((t) => t.isolation === "database").map((t) => `${t.tenantId}.sqlite`),
    );
    for (const file of readdirSync(dir)) {
      if (!file.endsWith(".sqlite") || known.has(file)) continue;
      found.push({
        level: "warning",
        code: "ORPHAN_FILE",
        message: `${dir}/${file} looks like a tenant's database file, but no tenant row claims it.`,
        fix: "Delete the file (and its -wal/-shm companions) once you are sure nothing in it is needed, or recreate its tenant row.",
      });
    }
    return found;
  }

  const config = omni.config as PgConfig;
  const naming: NamingOptions = config.naming ?? {};
  const sql: Sql = omni.native.$client;
  const schemaPrefix = naming.schemaPrefix ?? "tenant_";
  const databasePrefix = naming.databasePrefix ?? "tenant_";
  const knownSchemas = new Set(
    tenants.filter((t) => t.isolation === "schema").map((t) => tenantSchemaName(t.tenantId, naming)),
  );
  const knownDatabases = new Set<string>();
  for (const tenant of tenants) {
    if (tenant.isolation !== "database") continue;
    const env = tenant.config?.databaseUrlEnv;
    const url = env ? process.env[env] : undefined;
    if (env) {
      if (url) knownDatabases.add(safely(() => databaseOf(url)) ?? "");
    } else if (tenant.config?.database) knownDatabases.add(String(tenant.config.database));
    else knownDatabases.add(tenantDatabaseName(tenant.tenantId, naming));
  }
  const [schemas, databases] = await Promise.all([
    sql<{ name: string }[]>`
      select nspname as name from pg_catalog.pg_namespace
       where left(nspname, length(${schemaPrefix})) = ${schemaPrefix} order by 1`,
    sql<{ name: string }[]>`
      select datname as name from pg_catalog.pg_database
       where left(datname, length(${databasePrefix})) = ${databasePrefix} order by 1`,
  ]);
  for (const { name } of schemas) {
    if (knownSchemas.has(name)) continue;
    found.push({
      level: "warning",
      code: "ORPHAN_SCHEMA",
      message: `Schema "${name}" looks like a tenant schema, but no tenant row claims it.`,
      fix: `Drop it (DROP SCHEMA "${name}" CASCADE) once you are sure nothing in it is needed, or recreate its tenant row.`,
    });
  }
  for (const { name } of databases) {
    if (knownDatabases.has(name) || name === safely(() => databaseOf(config.masterUrl))) continue;
    found.push({
      level: "warning",
      code: "ORPHAN_DATABASE",
      message: `Database "${name}" looks like a tenant database, but no tenant row claims it.`,
      fix: `Drop it (DROP DATABASE "${name}") once you are sure nothing in it is needed, or recreate its tenant row.`,
    });
  }
  return found;
}

function safely<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

/** The database a URL names (`postgres` when none). Kept here: drivers/postgres.js would load the driver. */
function databaseOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, "")) || "postgres";
}

async function checkTenantMigrations(omni: OmnitenantRuntime, tenants: Tenant[], add: Add): Promise<void> {
  const own = tenants.filter((t) => t.isolation !== "table");
  if (own.length === 0) return;
  let plans: TenantPlan[];
  try {
    plans = await omni.planTenants({ tenantIds: own.map((t) => t.tenantId) });
  } catch (error) {
    add({
      level: "error",
      code: "MIGRATIONS_UNPLANNED",
      message: `The tenants' migrations could not be planned (${describeCause(error)}).`,
      fix: "omnitenant show-migrations shows each tenant's state.",
    });
    return;
  }
  let clean = 0;
  for (const plan of plans) {
    if (plan.error) {
      add({
        level: "error",
        code: "MIGRATIONS_UNREADABLE",
        tenantId: plan.tenantId,
        message: `Tenant "${plan.tenantId}": its migrations could not be read (${describeCause(plan.error)}).`,
        fix: `omnitenant show-migrations --tenant-id ${plan.tenantId} shows the details.`,
      });
    } else if (plan.drifted.length > 0) {
      add({
        level: "error",
        code: "MIGRATIONS_DRIFTED",
        tenantId: plan.tenantId,
        message: `Tenant "${plan.tenantId}": applied migrations changed since: ${plan.drifted.join(", ")}.`,
        fix: "Restore the original migration files and put the change in a new migration (drizzle-kit generate).",
      });
    } else if (plan.pending.length > 0) {
      add({
        level: "warning",
        code: "MIGRATIONS_PENDING",
        tenantId: plan.tenantId,
        message: `Tenant "${plan.tenantId}": ${plan.pending.length} migration(s) pending (${plan.pending.map((m) => m.tag).join(", ")}).`,
        fix: "omnitenant migrate-all-tenants",
      });
    } else clean++;
  }
  if (clean === plans.length) {
    add({
      level: "ok",
      code: "MIGRATIONS",
      message: `Every tenant is up to date (${plans.length} with their own migrations).`,
    });
  }
}

/** A connection failure, described without any part of the URL (host, user, password). */
export function connectionProblem(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  const known: Record<string, string> = {
    ECONNREFUSED: "connection refused",
    ENOTFOUND: "host not found",
    EHOSTUNREACH: "host unreachable",
    ETIMEDOUT: "timed out",
    CONNECT_TIMEOUT: "connection timed out",
    "28P01": "password authentication failed",
    "28000": "the role may not log in",
    "3D000": "the database does not exist",
  };
  if (typeof code === "string" && known[code]) return `${known[code]}, ${code}`;
  return describeCause(error);
}
