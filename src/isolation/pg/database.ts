import { drizzle } from "drizzle-orm/postgres-js";
import type { Sql } from "postgres";
import {
  ClientCache,
  type ClientCacheOptions,
  ClientPoolExhaustedError,
} from "../../drivers/client-cache.js";
import {
  databaseOf,
  delegatingClient,
  isConnectionError,
  openPgClient,
  type PgPoolOptions,
  withDatabase,
} from "../../drivers/postgres.js";
import { ConfigError, TenantDatabaseUnavailableError, TenantExistsError } from "../../errors.js";
import { LruMap } from "../../lru.js";
import { applyMigrationsInTransaction } from "../../migrations/pg-migrator.js";
import { assertIdentifier, quoteIdentifier, tenantDatabaseName } from "../../tenant-id.js";
import type { Tenant } from "../../types.js";
import { type PgRuntime, type PgStrategy, type PgTenantDb, pgErrorCode } from "./runtime.js";

export interface PgDatabaseStrategyOptions extends ClientCacheOptions {
  /** Pool settings of each tenant's client; `max` is its connection cap (total = maxClients × max). */
  pool?: PgPoolOptions;
  /**
   * The tenant's connection URL, from the app's code (a secret manager, a per-region server map...).
   * Return undefined to fall back to `config.databaseUrlEnv`, then to a database on the master's server.
   */
  resolveUrl?: (tenant: Tenant) => string | undefined;
}

/**
 * Database mode: a database a tenant, on the master's server or any other. Clients live in a bounded LRU set:
 * tenant cap+1 evicts the least recently used client (closed once its in-flight queries end) instead of
 * failing, and idle clients are swept.
 */
export function pgDatabaseStrategy<TSchema extends Record<string, unknown>>(
  runtime: PgRuntime<TSchema>,
  { pool = {}, resolveUrl, ...cacheOptions }: PgDatabaseStrategyOptions = {},
): PgStrategy<TSchema> {
  const urls = new Map<string, string>();
  const poolOptions: PgPoolOptions = { max: 3, idleTimeout: 20, ...pool };
  const clients = new ClientCache((tenantId) => openPgClient(urlOf(tenantId), poolOptions), cacheOptions);
  // One delegating client a tenant, so the migration runner can group targets by client identity.
  const delegates = new LruMap<string, Sql>(Math.max(1000, cacheOptions.maxClients ?? 50));
  const unavailable = (tenantId: string) => (error: unknown) =>
    isConnectionError(error) || error instanceof ClientPoolExhaustedError
      ? new TenantDatabaseUnavailableError(tenantId, error)
      : error;
  function delegateOf(tenantId: string): Sql {
    let client = delegates.get(tenantId);
    if (!client) {
      client = delegatingClient((fn) => clients.use(tenantId, fn), unavailable(tenantId));
      delegates.set(tenantId, client);
    }
    return client;
  }
  // Handles hold no connection (they delegate to the client cache), so they may outnumber open clients.
  const handles = new LruMap<string, PgTenantDb<TSchema>>(Math.max(1000, cacheOptions.maxClients ?? 50));

  function urlOf(tenantId: string): string {
    const url = urls.get(tenantId);
    if (!url) throw new Error(`omnitenant: no database URL known for tenant "${tenantId}"`);
    return url;
  }

  function tenantUrl(tenant: Tenant): { url: string; external: boolean } {
    const fromResolver = resolveUrl?.(tenant);
    if (fromResolver) return { url: fromResolver, external: true };
    const envName = tenant.config?.databaseUrlEnv;
    if (envName) {
      const fromEnv = process.env[envName];
      if (!fromEnv) {
        throw new ConfigError(
          `Tenant "${tenant.tenantId}" takes its database URL from $${envName}, which is not set. Set it in the environment of this process.`,
        );
      }
      return { url: fromEnv, external: true };
    }
    const name = tenant.config?.database
      ? assertIdentifier(tenant.config.database)
      : tenantDatabaseName(tenant.tenantId, runtime.naming);
    return { url: withDatabase(runtime.masterUrl, name), external: false };
  }

  function remember(tenant: Tenant): { url: string; external: boolean } {
    const resolved = tenantUrl(tenant);
    assertIdentifier(databaseOf(resolved.url));
    if (urls.get(tenant.tenantId) !== resolved.url) {
      urls.set(tenant.tenantId, resolved.url);
      void clients.evict(tenant.tenantId);
    }
    return resolved;
  }

  // The URL resolved for a tenant record, by identity: the registry hands out the same record until its TTL.
  const resolvedFor = new WeakMap<Tenant, string>();

  function db(tenant: Tenant): PgTenantDb<TSchema> {
    const known = resolvedFor.get(tenant);
    if (known === undefined || urls.get(tenant.tenantId) !== known)
      resolvedFor.set(tenant, remember(tenant).url);
    let handle = handles.get(tenant.tenantId);
    if (!handle) {
      const id = tenant.tenantId;
      handle = drizzle({
        client: delegateOf(id),
        schema: runtime.template.tables,
      }) as PgTenantDb<TSchema>;
      handles.set(id, handle);
    }
    return handle;
  }

  /** A short-lived client to the tenant's server's maintenance database, for CREATE/DROP DATABASE. */
  async function withServerAdmin<T>(url: string, fn: (admin: Sql) => Promise<T>): Promise<T> {
    const adminUrl = withDatabase(url, "postgres");
    if (adminUrl === withDatabase(runtime.masterUrl, "postgres")) return fn(runtime.master);
    const admin = openPgClient(adminUrl, { max: 1 });
    try {
      return await fn(admin);
    } finally {
      await admin.end({ timeout: 5 });
    }
  }

  return {
    mode: "database",
    db,
    migrationTarget: (tenant) => {
      remember(tenant);
      return {
        tenantId: tenant.tenantId,
        sql: delegateOf(tenant.tenantId),
        schema: undefined,
        journalSchema: "drizzle",
      };
    },

    async provision(tenant, { migrate, writeRecord }) {
      const { url, external } = remember(tenant);
      const database = databaseOf(url);
      let created = false;
      await withServerAdmin(url, async (admin) => {
        try {
          await admin.unsafe(`create database ${quoteIdentifier(database)}`);
          created = true;
        } catch (error) {
          // A database named by the app (env/resolver) may be pre-created by operations; ours must be new.
          if (pgErrorCode(error) !== "42P04" || !external) {
            if (pgErrorCode(error) === "42P04") {
              throw new TenantExistsError(tenant.tenantId, `database "${database}" already exists`);
            }
            throw isConnectionError(error)
              ? new TenantDatabaseUnavailableError(tenant.tenantId, error)
              : error;
          }
        }
      });
      try {
        const sql = delegateOf(tenant.tenantId);
        const applied = migrate
          ? await sql.begin((tx) =>
              applyMigrationsInTransaction(
                tx,
                { tenantId: tenant.tenantId, sql, schema: undefined, journalSchema: "drizzle" },
                runtime.migrations(),
              ),
            )
          : [];
        await runtime.master.begin((tx) => writeRecord(tx));
        return { applied };
      } catch (error) {
        await clients.evict(tenant.tenantId);
        handles.delete(tenant.tenantId);
        if (created) {
          await withServerAdmin(url, (admin) =>
            admin.unsafe(`drop database if exists ${quoteIdentifier(database)} with (force)`),
          );
        }
        throw error;
      }
    },

    async deprovision(tenant, { dropData, deleteRecord }) {
      const { url } = remember(tenant);
      await runtime.master.begin((tx) => deleteRecord(tx));
      await clients.evict(tenant.tenantId);
      handles.delete(tenant.tenantId);
      urls.delete(tenant.tenantId);
      if (dropData) {
        await withServerAdmin(url, (admin) =>
          admin.unsafe(`drop database if exists ${quoteIdentifier(databaseOf(url))} with (force)`),
        );
      }
    },

    async exists(tenant) {
      const { url } = remember(tenant);
      return withServerAdmin(url, async (admin) => {
        const rows = await admin`select 1 from pg_database where datname = ${databaseOf(url)}`;
        return rows.length > 0;
      });
    },

    async release(tenantId) {
      handles.delete(tenantId);
      delegates.delete(tenantId);
      urls.delete(tenantId);
      await clients.evict(tenantId);
    },

    async close() {
      handles.clear();
      await clients.close();
    },

    get stats() {
      return clients.stats();
    },
  } as PgStrategy<TSchema> & { readonly stats: ReturnType<ClientCache["stats"]> };
}
