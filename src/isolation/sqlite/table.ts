import type Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { openSqlite, scopedClient } from "../../drivers/sqlite.js";
import { LruMap } from "../../lru.js";
import { TENANT_COLUMN, TENANT_FUNCTION } from "../../template-sqlite.js";
import { assertTenantId } from "../../tenant-id.js";
import type { SqliteRuntime, SqliteStrategy, SqliteTenantDb } from "./runtime.js";
import {
  installScope,
  readMasterObjects,
  readSharedTables,
  type SharedTableInfo,
  scopeStatement,
} from "./scope.js";

export interface SqliteTableStrategyOptions {
  /** Tenants whose drizzle handle is kept (a handle is a few small objects; none holds a connection). */
  maxCachedTenants?: number;
}

/**
 * Table mode on SQLite: every table-mode tenant's rows in the master file's shared tables, told apart by
 * `tenant_id` (see `scope.ts` for how the scope is enforced). All table-mode tenants share one connection;
 * better-sqlite3 runs one statement at a time, and the tenant is bound to each statement's execution (and to
 * each step of an iterator) and unbound right after, so a statement run with no tenant bound sees nothing and
 * cannot write.
 */
export function sqliteTableStrategy<TSchema extends Record<string, unknown>>(
  runtime: SqliteRuntime<TSchema> & { recordExists(tenantId: string): boolean },
  { maxCachedTenants = 1000 }: SqliteTableStrategyOptions = {},
): SqliteStrategy<TSchema> & { connection(): Database.Database } {
  let shared: Database.Database | undefined;
  let schemaVersion: Database.Statement | undefined;
  let installedAt: unknown;
  let current: string | null = null;
  let tables = new Map<string, SharedTableInfo>();
  const handles = new LruMap<string, SqliteTenantDb<TSchema>>(maxCachedTenants);

  /** The shared connection, its views and triggers (re)installed whenever the master schema changed. */
  function connection(): Database.Database {
    if (!shared?.open) {
      const db = openSqlite(runtime.masterFile, { busyTimeoutMs: runtime.busyTimeoutMs });
      db.function(TENANT_FUNCTION, { deterministic: false }, () => current);
      // A REPLACE that removes a conflicting row fires delete triggers only with recursive triggers on.
      db.pragma("recursive_triggers = ON");
      shared = db;
      schemaVersion = db.prepare("pragma main.schema_version").pluck();
      installedAt = undefined;
    }
    const version = schemaVersion!.get();
    if (version !== installedAt) {
      const infos = readSharedTables(shared, runtime.template.tableNames, runtime.masterFile);
      installScope(shared, infos, readMasterObjects(shared, infos));
      tables = new Map(infos.map((t) => [t.name.toLowerCase(), t]));
      installedAt = version;
    }
    return shared;
  }

  function bind(tenantId: string) {
    return <T>(fn: () => T): T => {
      const previous = current;
      current = tenantId;
      try {
        return fn();
      } finally {
        current = previous;
      }
    };
  }

  function db(tenantId: string): SqliteTenantDb<TSchema> {
    let handle = handles.get(tenantId);
    if (!handle) {
      assertTenantId(tenantId);
      handle = drizzle({
        client: scopedClient({
          connection,
          prepare: (source, db) => scopeStatement(source, tables, db.inTransaction),
          run: bind(tenantId),
          label: `the table-mode handle of tenant "${tenantId}"`,
        }),
        schema: runtime.template.tables,
      }) as SqliteTenantDb<TSchema>;
      handles.set(tenantId, handle);
    }
    return handle;
  }

  return {
    mode: "table",
    connection,
    db: (tenant) => db(tenant.tenantId),
    migrationTarget: () => null,

    // Nothing to create: the shared tables come with the master migrations. They are checked first, so a
    // tenant is never recorded for tables that do not exist.
    async provision(_tenant, { writeRecord }) {
      connection();
      await writeRecord(runtime.masterDb);
      return { applied: [] };
    },

    // One master transaction removes the record and, with dropData, the tenant's rows of every shared table.
    async deprovision(tenant, { dropData, deleteRecord }) {
      const id = tenant.tenantId;
      const names = dropData
        ? readSharedTables(runtime.master, runtime.template.tableNames, runtime.masterFile)
        : [];
      let pending: Promise<void> | undefined;
      const notDeleted = new Error("omnitenant: the tenant record was not deleted");
      try {
        runtime.master.transaction(() => {
          // better-sqlite3 is synchronous: deleteRecord has run (or failed) by the time it returns.
          pending = deleteRecord(runtime.masterDb);
          pending.catch(() => {});
          if (runtime.recordExists(id)) throw notDeleted;
          if (dropData) {
            runtime.master.pragma("defer_foreign_keys = ON");
            for (const table of names) {
              runtime.master
                .prepare(
                  `delete from main."${table.name.replaceAll('"', '""')}" where "${TENANT_COLUMN}" = ?`,
                )
                .run(id);
            }
          }
        })();
      } catch (error) {
        if (error === notDeleted && pending) await pending;
        throw error;
      }
      await pending;
      handles.delete(id);
    },

    async exists() {
      try {
        readSharedTables(runtime.master, runtime.template.tableNames, runtime.masterFile);
        return true;
      } catch {
        return false;
      }
    },

    async release(tenantId) {
      handles.delete(tenantId);
    },

    async close() {
      handles.clear();
      if (shared?.open) shared.close();
      shared = undefined;
    },
  };
}
