import { closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { dirname, resolve, sep } from "node:path";
import { drizzle } from "drizzle-orm/better-sqlite3";
import {
  openSqlite,
  removeSqliteFiles,
  SqliteConnectionCache,
  type SqliteConnectionCacheOptions,
  scopedClient,
} from "../../drivers/sqlite.js";
import {
  InvalidTenantIdError,
  ProvisioningError,
  TenantDatabaseUnavailableError,
  TenantExistsError,
} from "../../errors.js";
import { LruMap } from "../../lru.js";
import { migrateSqlite } from "../../migrations/sqlite-migrator.js";
import { assertTenantId } from "../../tenant-id.js";
import type { SqliteRuntime, SqliteStrategy, SqliteTenantDb } from "./runtime.js";
import { refuseAttach } from "./scope.js";

export interface SqliteDatabaseStrategyOptions extends SqliteConnectionCacheOptions {}

/**
 * Database mode on SQLite: a file a tenant, `<tenantsDir>/<tenantId>.sqlite`. Connections live in a bounded
 * LRU set (evicted ones are closed once idle); a tenant's drizzle handle outlives them and reopens its file on
 * the next statement.
 */
export function sqliteDatabaseStrategy<TSchema extends Record<string, unknown>>(
  runtime: SqliteRuntime<TSchema>,
  tenantsDir: string,
  options: SqliteDatabaseStrategyOptions = {},
): SqliteStrategy<TSchema> & {
  fileOf(tenantId: string): string;
  readonly stats: { open: number; evictions: number };
} {
  const dir = resolve(tenantsDir);
  const connections = new SqliteConnectionCache(options);
  // Handles hold no connection (they ask the cache), so they may outnumber open files.
  const handles = new LruMap<string, SqliteTenantDb<TSchema>>(Math.max(1000, options.maxOpen ?? 50));

  /** The tenant's file; the id is a DNS label, and the path is checked to stay inside `tenantsDir`. */
  function fileOf(tenantId: string): string {
    assertTenantId(tenantId);
    const file = resolve(dir, `${tenantId}.sqlite`);
    if (dirname(file) !== dir || !file.startsWith(dir + sep)) {
      throw new InvalidTenantIdError(tenantId, "its file would be outside the tenants folder");
    }
    return file;
  }

  function connection(tenantId: string) {
    return connections.get(tenantId, () => {
      try {
        return openSqlite(fileOf(tenantId), { busyTimeoutMs: runtime.busyTimeoutMs });
      } catch (error) {
        throw new TenantDatabaseUnavailableError(tenantId, error);
      }
    });
  }

  function db(tenantId: string): SqliteTenantDb<TSchema> {
    let handle = handles.get(tenantId);
    if (!handle) {
      fileOf(tenantId);
      const label = `the database of tenant "${tenantId}"`;
      handle = drizzle({
        client: scopedClient({
          connection: () => connection(tenantId),
          prepare: (source) => refuseAttach(source, label),
          allowExec: true,
          label,
        }),
        schema: runtime.template.tables,
      }) as SqliteTenantDb<TSchema>;
      handles.set(tenantId, handle);
    }
    return handle;
  }

  return {
    mode: "database",
    fileOf,
    db: (tenant) => db(tenant.tenantId),
    migrationTarget: (tenant) => ({
      tenantId: tenant.tenantId,
      connection: () => connection(tenant.tenantId),
    }),

    // The file is claimed atomically (O_EXCL), migrated, and the record is written last; on any failure the
    // file (with its WAL) is removed again and no row is left.
    async provision(tenant, { migrate, writeRecord }) {
      const id = tenant.tenantId;
      const file = fileOf(id);
      const migrations = migrate ? runtime.migrations() : [];
      mkdirSync(dir, { recursive: true });
      try {
        closeSync(openSync(file, "wx"));
      } catch (error) {
        if ((error as { code?: string }).code === "EEXIST") {
          throw new TenantExistsError(id, `its database file ${file} already exists`);
        }
        throw error;
      }
      let opened: ReturnType<typeof openSqlite> | undefined;
      try {
        opened = openSqlite(file, { create: true, busyTimeoutMs: runtime.busyTimeoutMs });
        let applied: string[] = [];
        if (migrate) {
          const result = migrateSqlite(opened, migrations, { tenantId: id });
          if (result.error) throw new ProvisioningError(id, "applying the tenant migrations", result.error);
          applied = result.applied;
        }
        await writeRecord(runtime.masterDb);
        connections.set(id, opened);
        return { applied };
      } catch (error) {
        handles.delete(id);
        if (opened?.open) opened.close();
        removeSqliteFiles(file);
        throw error;
      }
    },

    async deprovision(tenant, { dropData, deleteRecord }) {
      const file = fileOf(tenant.tenantId);
      await deleteRecord(runtime.masterDb);
      handles.delete(tenant.tenantId);
      connections.evict(tenant.tenantId);
      if (dropData) removeSqliteFiles(file);
    },

    async exists(tenant) {
      return existsSync(fileOf(tenant.tenantId));
    },

    async release(tenantId) {
      handles.delete(tenantId);
      connections.evict(tenantId);
    },

    async close() {
      handles.clear();
      connections.close();
    },

    get stats() {
      return connections.stats();
    },
  };
}
