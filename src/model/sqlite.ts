import { relations, sql } from "drizzle-orm";
import {
  check,
  index,
  integer,
  type SQLiteColumnBuilderBase,
  sqliteTable,
  text,
  uniqueIndex,
} from "drizzle-orm/sqlite-core";
import type { IsolationMode, TenantConfig } from "../types.js";

export interface SqliteTenantTablesOptions<
  TTenantColumns extends Record<string, SQLiteColumnBuilderBase>,
  TDomainColumns extends Record<string, SQLiteColumnBuilderBase>,
  TTenantsName extends string = "tenants",
  TDomainsName extends string = "domains",
> {
  /** Extra columns of the tenants table (plan, region, ...); their keys must not be omnitenant's own
   * (tenantId, name, isolation, config, createdAt). */
  tenantColumns?: TTenantColumns;
  /** Extra columns of the domains table. */
  domainColumns?: TDomainColumns;
  tenantsTableName?: TTenantsName;
  domainsTableName?: TDomainsName;
}

/**
 * Builds the master tables that list tenants and their domains, for SQLite: the same columns and rules as
 * `pgTenantTables` (SQLite has no regular expressions, so the tenant id format is checked with GLOB; the
 * isolation is "database" or "table", SQLite having no schemas). Export the result from the master schema
 * file so drizzle-kit creates them.
 *
 * @example
 * export const { tenants, domains, tenantsRelations, domainsRelations } = sqliteTenantTables({
 *   tenantColumns: { plan: text("plan").notNull().default("free") },
 * });
 */
export function sqliteTenantTables<
  TTenantColumns extends Record<string, SQLiteColumnBuilderBase> = {},
  TDomainColumns extends Record<string, SQLiteColumnBuilderBase> = {},
  // Literal table names, so drizzle can match the relations to the tables (relational queries).
  TTenantsName extends string = "tenants",
  TDomainsName extends string = "domains",
>(options: SqliteTenantTablesOptions<TTenantColumns, TDomainColumns, TTenantsName, TDomainsName> = {}) {
  const {
    tenantColumns = {} as TTenantColumns,
    domainColumns = {} as TDomainColumns,
    tenantsTableName = "tenants" as TTenantsName,
    domainsTableName = "domains" as TDomainsName,
  } = options;

  const tenants = sqliteTable(
    tenantsTableName,
    {
      tenantId: text("tenant_id").primaryKey(),
      name: text("name").notNull(),
      isolation: text("isolation").$type<IsolationMode>().notNull(),
      config: text("config", { mode: "json" }).$type<TenantConfig>().notNull().default({}),
      createdAt: integer("created_at", { mode: "timestamp_ms" })
        .notNull()
        .default(sql`(cast((julianday('now') - 2440587.5) * 86400000 as integer))`),
      ...tenantColumns,
    },
    (t) => [
      // A DNS label: 1-63 of a-z, 0-9 and '-', not starting or ending with '-'.
      check(
        `${tenantsTableName}_tenant_id_format`,
        sql`length(${t.tenantId}) between 1 and 63 and ${t.tenantId} not glob '*[^a-z0-9-]*' and ${t.tenantId} not glob '-*' and ${t.tenantId} not glob '*-'`,
      ),
      check(`${tenantsTableName}_isolation_mode`, sql`${t.isolation} in ('database', 'table')`),
    ],
  );

  const domains = sqliteTable(
    domainsTableName,
    {
      domain: text("domain").primaryKey(),
      tenantId: text("tenant_id")
        .notNull()
        .references(() => tenants.tenantId, { onDelete: "cascade" }),
      isPrimary: integer("is_primary", { mode: "boolean" }).notNull().default(false),
      ...domainColumns,
    },
    (t) => [
      index(`${domainsTableName}_tenant_id_idx`).on(t.tenantId),
      // At most one primary domain a tenant.
      uniqueIndex(`${domainsTableName}_one_primary_idx`).on(t.tenantId).where(sql`${t.isPrimary} = 1`),
    ],
  );

  const tenantsRelations = relations(tenants, ({ many }) => ({ domains: many(domains) }));
  const domainsRelations = relations(domains, ({ one }) => ({
    tenant: one(tenants, { fields: [domains.tenantId], references: [tenants.tenantId] }),
  }));

  return { tenants, domains, tenantsRelations, domainsRelations };
}

// Instantiated with no user columns: what omnitenant itself reads and writes.
export type SqliteTenantTables = ReturnType<typeof sqliteTenantTables<{}, {}>>;
