import type { PostgresJsDatabase } from "drizzle-orm/postgres-js";
import type { Sql, TransactionSql } from "postgres";
import type { MigrationFile } from "../../migrations/journal.js";
import type { PgMigrationTarget } from "../../migrations/pg-migrator.js";
import type { PgTemplate } from "../../template.js";
import type { NamingOptions } from "../../tenant-id.js";
import type { Tenant } from "../../types.js";
import type { IsolationStrategy } from "../strategy.js";

/** What the PostgreSQL strategies share: the master pool, the template and the migrations. */
export interface PgRuntime<TSchema extends Record<string, unknown>> {
  masterUrl: string;
  /** The master pool; schema-mode tenants share it (their SQL is schema-qualified). */
  master: Sql;
  template: PgTemplate<TSchema>;
  naming: NamingOptions;
  /** The tenant migrations, read lazily from drizzle-kit's output folder. */
  migrations(): MigrationFile[];
}

export type PgTenantDb<TSchema extends Record<string, unknown>> = PostgresJsDatabase<TSchema> & {
  $client: Sql;
};

export type PgStrategy<TSchema extends Record<string, unknown>> = IsolationStrategy<
  PgTenantDb<TSchema>,
  TransactionSql,
  PgMigrationTarget
>;

export function pgErrorCode(error: unknown): string | undefined {
  return (error as { code?: string } | undefined)?.code;
}

export type { Tenant };
