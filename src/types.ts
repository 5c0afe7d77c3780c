/** How a tenant's data is kept apart from the others'. */
export type IsolationMode = "database" | "schema" | "table";
export const ISOLATION_MODES: readonly IsolationMode[] = ["database", "schema", "table"];

/** What a tenant row may carry in its `config` column. Secrets belong in the environment, not here. */
export interface TenantConfig {
  /** Name of an environment variable holding the tenant database's URL (database mode, any server). */
  databaseUrlEnv?: string;
  /** Database name on the master's server (database mode); defaults to `<databasePrefix><id>`. */
  database?: string;
  /** Cache placement: a key prefix (default `<id>:`), a Redis database number or a Redis URL env var. */
  cache?: { prefix?: string; redisDb?: number; redisUrlEnv?: string };
  [key: string]: unknown;
}

/** The fields omnitenant relies on in a tenant record; user columns come on top. */
export interface Tenant {
  tenantId: string;
  name: string;
  isolation: IsolationMode;
  config: TenantConfig;
  createdAt: Date | string | number | null;
  [column: string]: unknown;
}

export interface Domain {
  domain: string;
  tenantId: string;
  isPrimary: boolean;
}
