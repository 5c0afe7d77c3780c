import type Database from "better-sqlite3";
import type { BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import type { MigrationFile } from "../../migrations/journal.js";
import type { SqliteMasterTx } from "../../model/sqlite-store.js";
import type { SqliteTemplate } from "../../template-sqlite.js";
import type { Tenant } from "../../types.js";
import type { IsolationStrategy } from "../strategy.js";

/** What the SQLite strategies share. */
export interface SqliteRuntime<TSchema extends Record<string, unknown>> {
  /** Absolute path of the master file. */
  masterFile: string;
  /** The master connection (tenants, domains, shared tables seen whole). */
  master: Database.Database;
  /** A drizzle handle on the master connection, given to `writeRecord`/`deleteRecord`. */
  masterDb: SqliteMasterTx;
  template: SqliteTemplate<TSchema>;
  busyTimeoutMs: number;
  /** The tenant migrations, read lazily from drizzle-kit's output folder. */
  migrations(): MigrationFile[];
}

export type SqliteTenantDb<TSchema extends Record<string, unknown>> = BetterSQLite3Database<TSchema> & {
  $client: Database.Database;
};

/** Where a tenant's own migrations run: its file's connection (database mode); table mode has none. */
export interface SqliteMigrationTarget {
  tenantId: string;
  connection(): Database.Database;
}

export type SqliteStrategy<TSchema extends Record<string, unknown>> = IsolationStrategy<
  SqliteTenantDb<TSchema>,
  SqliteMasterTx,
  SqliteMigrationTarget | null
>;

export type { Tenant };
