import { existsSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { PgPoolOptions } from "./drivers/postgres.js";
import { ConfigError } from "./errors.js";
import type { PgDatabaseStrategyOptions } from "./isolation/pg/database.js";
import type { PgSchemaStrategyOptions } from "./isolation/pg/schema.js";
import type { PgTableStrategyOptions } from "./isolation/pg/table.js";
import type { SqliteDatabaseStrategyOptions } from "./isolation/sqlite/database.js";
import type { SqliteTableStrategyOptions } from "./isolation/sqlite/table.js";
import type { PgTenantTables } from "./model/pg.js";
import type { SqliteTenantTables } from "./model/sqlite.js";
import type { RegistryOptions } from "./registry.js";
import type { PgTemplate } from "./template.js";
import type { SqliteTemplate } from "./template-sqlite.js";
import type { NamingOptions } from "./tenant-id.js";
import type { IsolationMode } from "./types.js";

interface CommonConfig {
  /** Folder that relative paths are resolved from; set by `loadConfig` to the config file's folder. */
  root?: string;
  migrations: {
    /** drizzle-kit's output folder for the tenant template. */
    tenant: string;
    /** drizzle-kit's output folder for the master schema (applied with drizzle-kit as usual). */
    master?: string;
  };
  /** Isolation modes this app offers; defaults to every mode the dialect supports. */
  modes?: IsolationMode[];
  registry?: RegistryOptions;
  migrate?: { concurrency?: number };
}

export interface PgConfig<
  TSchema extends Record<string, unknown> = Record<string, unknown>,
  TMaster extends Record<string, unknown> = Record<string, unknown>,
> extends CommonConfig {
  dialect: "postgresql";
  /** The master database: tenants and domains tables, shared tables, and schema-mode tenants' schemas. */
  masterUrl: string;
  /** The tables every tenant has (see `definePgTemplate`). */
  template: PgTemplate<TSchema>;
  /** The app's tenants/domains tables when it built them with its own columns (`pgTenantTables`). */
  tables?: Pick<PgTenantTables, "tenants" | "domains">;
  /** Everything `masterDb()` should know for relational queries (tables and relations of the master schema). */
  masterSchema?: TMaster;
  naming?: NamingOptions;
  /** The master pool, shared by schema-mode tenants. */
  pool?: PgPoolOptions;
  schema?: PgSchemaStrategyOptions;
  database?: PgDatabaseStrategyOptions;
  /** Table mode (shared tables, row-level security): the role queries run as, cross-tenant access. */
  table?: PgTableStrategyOptions;
}

export interface SqliteConfig<
  TSchema extends Record<string, unknown> = Record<string, unknown>,
  TMaster extends Record<string, unknown> = Record<string, unknown>,
> extends CommonConfig {
  dialect: "sqlite";
  /** The master file: tenants and domains tables, and the shared tables of table mode. */
  master: {
    /** e.g. `./data/master.sqlite` (a file: table mode opens a second connection to it). */
    file: string;
  };
  /** Folder of database-mode tenants' files, `<tenantsDir>/<tenantId>.sqlite`. Default `./data/tenants`. */
  tenantsDir?: string;
  /** The tables every tenant has (see `defineSqliteTemplate`). */
  template: SqliteTemplate<TSchema>;
  /** The app's tenants/domains tables when it built them with its own columns (`sqliteTenantTables`). */
  tables?: Pick<SqliteTenantTables, "tenants" | "domains">;
  /** Everything `masterDb()` should know for relational queries (tables and relations of the master schema). */
  masterSchema?: TMaster;
  /** Milliseconds a statement waits for another connection's write lock. Default 5000. */
  busyTimeoutMs?: number;
  /** Database mode: open tenant files at most (least recently used ones are closed). */
  database?: SqliteDatabaseStrategyOptions;
  /** Table mode: tenant handles kept. */
  table?: SqliteTableStrategyOptions;
}

export type OmnitenantConfig = PgConfig<any, any> | SqliteConfig<any, any>;

/** Identity with types: `export default defineConfig({...})` in `omnitenant.config.ts`. */
export function defineConfig<C extends OmnitenantConfig>(config: C): C {
  return config;
}

export const CONFIG_FILES = [
  "omnitenant.config.ts",
  "omnitenant.config.mts",
  "omnitenant.config.js",
  "omnitenant.config.mjs",
];

/** Finds `omnitenant.config.*` in `cwd` or its parents. */
export function findConfigFile(cwd = process.cwd()): string | undefined {
  let dir = resolve(cwd);
  for (;;) {
    for (const name of CONFIG_FILES) {
      const candidate = resolve(dir, name);
      if (existsSync(candidate)) return candidate;
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Loads the app's config, TypeScript included (through jiti, no build step). */
export async function loadConfig(file?: string, cwd = process.cwd()): Promise<OmnitenantConfig> {
  const path = file ? resolve(cwd, file) : findConfigFile(cwd);
  if (!path || !existsSync(path)) {
    throw new ConfigError(
      file
        ? `Config file ${file} does not exist.`
        : "No omnitenant.config.ts found in this folder or its parents. Run `npx omnitenant init` or pass --config.",
    );
  }
  const { createJiti } = await import("jiti");
  const jiti = createJiti(pathToFileURL(path).href, { interopDefault: true, moduleCache: true });
  let loaded: unknown;
  try {
    loaded = await jiti.import(path, { default: true });
  } catch (error) {
    throw new ConfigError(`Could not load ${path}: ${(error as Error).message}`, { cause: error });
  }
  const config = (
    typeof loaded === "function" ? await (loaded as () => unknown)() : loaded
  ) as OmnitenantConfig;
  if (!config || typeof config !== "object" || !("dialect" in config)) {
    throw new ConfigError(`${path} must default-export defineConfig({...}) with a dialect.`);
  }
  return { ...config, root: config.root ?? dirname(path) };
}

/** Resolves a path of the config against its root. */
export function configPath(config: { root?: string }, path: string): string {
  return isAbsolute(path) ? path : resolve(config.root ?? process.cwd(), path);
}
