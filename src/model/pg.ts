import { relations, sql } from "drizzle-orm";
import {
  boolean,
  check,
  index,
  jsonb,
  type PgColumnBuilderBase,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import type { IsolationMode, TenantConfig } from "../types.js";

export interface PgTenantTablesOptions<
  TTenantColumns extends Record<string, PgColumnBuilderBase>,
  TDomainColumns extends Record<string, PgColumnBuilderBase>,
  TTenantsName extends string = "tenants",
  TDomainsName extends string = "domains",
> {
  /** Extra columns of the tenants table (plan, region, ...); their types flow into `Tenant`. Their keys must not
   * be omnitenant's own (tenantId, name, isolation, config, createdAt). */
  tenantColumns?: TTenantColumns;
  /** Extra columns of the domains table. */
  domainColumns?: TDomainColumns;
  tenantsTableName?: TTenantsName;
  domainsTableName?: TDomainsName;
}

/**
 * Builds the master tables that list tenants and their domains, for PostgreSQL. Export the result from the
 * master schema file so drizzle-kit creates them.
 *
 * @example
 * export const { tenants, domains, tenantsRelations, domainsRelations } = pgTenantTables({
 *   tenantColumns: { plan: text("plan").notNull().default("free") },
 * });
 */
export function pgTenantTables<
  TTenantColumns extends Record<string, PgColumnBuilderBase> = {},
  TDomainColumns extends Record<string, PgColumnBuilderBase> = {},
  // Literal table names, so drizzle can match the relations to the tables (relational queries).
  TTenantsName extends string = "tenants",
  TDomainsName extends string = "domains",
>(options: PgTenantTablesOptions<TTenantColumns, TDomainColumns, TTenantsName, TDomainsName> = {}) {
  const {
    tenantColumns = {} as TTenantColumns,
    domainColumns = {} as TDomainColumns,
    tenantsTableName = "tenants" as TTenantsName,
    domainsTableName = "domains" as TDomainsName,
  } = options;

  const tenants = pgTable(
    tenantsTableName,
    {
      tenantId: text("tenant_id").primaryKey(),
      name: text("name").notNull(),
      isolation: text("isolation").$type<IsolationMode>().notNull(),
      config: jsonb("config").$type<TenantConfig>().notNull().default({}),
      createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
      ...tenantColumns,
    },
    (t) => [
      check(
        `${tenantsTableName}_tenant_id_format`,
        sql`${t.tenantId} ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'`,
      ),
      check(`${tenantsTableName}_isolation_mode`, sql`${t.isolation} in ('database', 'schema', 'table')`),
    ],
  );

  const domains = pgTable(
    domainsTableName,
    {
      domain: text("domain").primaryKey(),
      tenantId: text("tenant_id")
        .notNull()
        .references(() => tenants.tenantId, { onDelete: "cascade" }),
      isPrimary: boolean("is_primary").notNull().default(false),
      ...domainColumns,
    },
    (t) => [
      index(`${domainsTableName}_tenant_id_idx`).on(t.tenantId),
      // At most one primary domain a tenant.
      uniqueIndex(`${domainsTableName}_one_primary_idx`).on(t.tenantId).where(sql`${t.isPrimary}`),
    ],
  );

  const tenantsRelations = relations(tenants, ({ many }) => ({ domains: many(domains) }));
  const domainsRelations = relations(domains, ({ one }) => ({
    tenant: one(tenants, { fields: [domains.tenantId], references: [tenants.tenantId] }),
  }));

  return { tenants, domains, tenantsRelations, domainsRelations };
}

// Instantiated with no user columns: what omnitenant itself reads and writes.
export type PgTenantTables = ReturnType<typeof pgTenantTables<{}, {}>>;
