import type { PgDialect } from "drizzle-orm/pg-core";
import { drizzle } from "drizzle-orm/postgres-js";
import { TenantExistsError } from "../../errors.js";
import { LruMap } from "../../lru.js";
import { applyMigrationsInTransaction } from "../../migrations/pg-migrator.js";
import { renderInSchema } from "../../template.js";
import { assertIdentifier, quoteIdentifier, tenantSchemaName } from "../../tenant-id.js";
import { type PgRuntime, type PgStrategy, type PgTenantDb, pgErrorCode } from "./runtime.js";

export interface PgSchemaStrategyOptions {
  /** Tenants whose bound drizzle handle is kept; building one costs about a millisecond for 20 tables. */
  maxCachedTenants?: number;
}

/**
 * Schema mode: a PostgreSQL schema a tenant, tables reached by schema-qualified names over the one shared
 * master pool. No `search_path` is ever set, so a pooled connection carries nothing from one tenant to the
 * next and the mode is safe behind PgBouncer in transaction mode.
 */
export function pgSchemaStrategy<TSchema extends Record<string, unknown>>(
  runtime: PgRuntime<TSchema>,
  { maxCachedTenants = 1000 }: PgSchemaStrategyOptions = {},
): PgStrategy<TSchema> & { forSchema(schema: string): PgTenantDb<TSchema> } {
  const handles = new LruMap<string, PgTenantDb<TSchema>>(maxCachedTenants);
  const schemaOf = (tenantId: string) => tenantSchemaName(tenantId, runtime.naming);

  const dbForSchema = (schema: string): PgTenantDb<TSchema> => {
    let db = handles.get(schema);
    if (!db) {
      db = drizzle({
        client: runtime.master,
        schema: runtime.template.forSchema(schema),
      }) as PgTenantDb<TSchema>;
      bindRenderingSchema(db, schema);
      handles.set(schema, db);
    }
    return db;
  };

  const target = (tenantId: string, schema: string) => ({
    tenantId,
    sql: runtime.master,
    schema,
    journalSchema: schema,
  });

  return {
    mode: "schema",
    forSchema: (schema) => dbForSchema(assertIdentifier(schema)),
    db: (tenant) => dbForSchema(schemaOf(tenant.tenantId)),
    migrationTarget: (tenant) => target(tenant.tenantId, schemaOf(tenant.tenantId)),

    // One transaction holds the schema, its tables and the tenant row: a failure anywhere leaves nothing,
    // and no other process ever sees a tenant whose schema is half made.
    async provision(tenant, { migrate, writeRecord }) {
      const schema = schemaOf(tenant.tenantId);
      return runtime.master.begin(async (tx) => {
        try {
          await tx.unsafe(`create schema ${quoteIdentifier(schema)}`);
        } catch (error) {
          if (pgErrorCode(error) === "42P06") {
            throw new TenantExistsError(tenant.tenantId, `schema "${schema}" already exists`);
          }
          throw error;
        }
        const applied = migrate
          ? await applyMigrationsInTransaction(tx, target(tenant.tenantId, schema), runtime.migrations())
          : [];
        await writeRecord(tx);
        return { applied };
      });
    },

    async deprovision(tenant, { dropData, deleteRecord }) {
      const schema = schemaOf(tenant.tenantId);
      await runtime.master.begin(async (tx) => {
        await deleteRecord(tx);
        if (dropData) await tx.unsafe(`drop schema if exists ${quoteIdentifier(schema)} cascade`);
      });
      handles.delete(schema);
    },

    async exists(tenant) {
      const rows =
        await runtime.master`select 1 from pg_namespace where nspname = ${schemaOf(tenant.tenantId)}`;
      return rows.length > 0;
    },

    async release(tenantId) {
      handles.delete(schemaOf(tenantId));
    },

    async close() {
      handles.clear();
    },
  };
}

/**
 * Makes every statement this db builds and renders place the template's unqualified tables in `schema`.
 * drizzle reads a table's schema in two places: when it renders SQL (`sqlToQuery`) and, for JOIN targets, the
 * UPDATE target and aliased FROM tables, already when it builds the query (`build*Query`, called by
 * `getSQL()` before `sqlToQuery`). Both run inside `renderInSchema`.
 */
function bindRenderingSchema(db: object, schema: string): void {
  const dialect = (db as { dialect: PgDialect }).dialect as unknown as Record<string, unknown>;
  const proto = Object.getPrototypeOf(dialect) as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(proto)) {
    if (name !== "sqlToQuery" && !/^build[A-Z]/.test(name)) continue;
    const method = proto[name];
    if (typeof method !== "function") continue;
    dialect[name] = (...args: unknown[]) => renderInSchema(schema, () => method.apply(dialect, args));
  }
}
