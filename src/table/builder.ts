import { is, sql } from "drizzle-orm";
import {
  IndexBuilder,
  index,
  type PgColumn,
  type PgTableFn,
  PrimaryKeyBuilder,
  pgEnum,
  pgPolicy,
  pgSequence,
  pgTable,
  pgView,
  text,
  UniqueConstraintBuilder,
} from "drizzle-orm/pg-core";
import { ConfigError } from "../errors.js";
import type { PgTemplateBuilder } from "../template.js";

/** The transaction-local setting that names the tenant of a table-mode transaction. */
export const TENANT_SETTING = "omnitenant.tenant_id";
/** The name of the policy every shared table carries. */
export const TENANT_POLICY = "omnitenant_tenant_isolation";
/** The column table mode adds to every table of the template, and its property name. */
export const TENANT_COLUMN = "tenant_id";
export const TENANT_KEY = "tenantId";

/**
 * The current tenant, `NULL` when none is set (after a transaction the setting reads `''`). The sub-select
 * makes PostgreSQL evaluate it once a statement (an InitPlan) instead of once a row, and lets the
 * `tenant_id` index be used.
 */
const currentTenant = sql.raw(`(select nullif(current_setting('${TENANT_SETTING}', true), ''))`);

/** Whether a key or index of the template already leads with `tenant_id` (then no extra index is needed). */
function leadsWithTenant(entry: unknown, tenantColumn: unknown): boolean {
  let columns: unknown[] | undefined;
  if (is(entry, PrimaryKeyBuilder) || is(entry, UniqueConstraintBuilder)) {
    columns = (entry as unknown as { columns: unknown[] }).columns;
  } else if (is(entry, IndexBuilder)) {
    columns = (entry as unknown as { config: { columns: unknown[] } }).config.columns;
  }
  return columns?.[0] === tenantColumn;
}

function withTenantColumn(table: string, columns: Record<string, unknown>): Record<string, unknown> {
  for (const [key, column] of Object.entries(columns)) {
    const name = (column as { config?: { name?: string } }).config?.name || key;
    if (key === TENANT_KEY || name === TENANT_COLUMN) {
      throw new ConfigError(
        `Table "${table}" of the template declares "${TENANT_COLUMN}" itself; table mode adds that column. Remove it from the template.`,
      );
    }
  }
  return {
    [TENANT_KEY]: text(TENANT_COLUMN)
      .notNull()
      .default(sql.raw(`(nullif(current_setting('${TENANT_SETTING}', true), ''))`)),
    ...columns,
  };
}

const sharedTable = ((
  name: string,
  columns: Record<string, unknown> | ((builders: unknown) => Record<string, unknown>),
  extra?: (self: any) => unknown,
) =>
  pgTable(
    name,
    (typeof columns === "function"
      ? (builders: unknown) => withTenantColumn(name, columns(builders))
      : withTenantColumn(name, columns)) as never,
    (self: any) => {
      const own = extra?.(self);
      const entries: unknown[] = Array.isArray(own) ? own : own ? Object.values(own) : [];
      const tenantColumn = self[TENANT_KEY];
      const isTenant = sql`${tenantColumn} = ${currentTenant}`;
      const needsIndex = !entries.some((entry) => leadsWithTenant(entry, tenantColumn));
      return [
        ...(entries as never[]),
        ...(needsIndex ? [index(`${name}_tenant_id_idx`).on(tenantColumn)] : []),
        pgPolicy(TENANT_POLICY, {
          as: "permissive",
          for: "all",
          to: "public",
          using: isTenant,
          withCheck: isTenant,
        }),
      ];
    },
  ).enableRLS()) as unknown as PgTableFn<undefined>;

function securityInvokerView(...args: unknown[]) {
  const builder = (pgView as (...a: unknown[]) => any)(...args);
  const setWith = builder.with.bind(builder);
  // A view runs with its owner's rights; only a security-invoker view applies the caller's RLS policies.
  builder.with = (config: Record<string, unknown> = {}) => setWith({ ...config, securityInvoker: true });
  builder.with({});
  return builder;
}

/**
 * The builder of table mode: every table gets a `tenant_id text not null` column that defaults to the
 * transaction's tenant, an index leading with it (unless a key of the template already does), row-level
 * security and the policy `omnitenant_tenant_isolation`:
 * `tenant_id = (select nullif(current_setting('omnitenant.tenant_id', true), ''))` for reads and writes.
 * Views are `security_invoker`, so RLS applies through them; materialized views would hold every tenant's
 * rows and are refused.
 */
export const tableModeBuilder: PgTemplateBuilder = {
  mode: "table",
  schemaName: undefined,
  table: sharedTable,
  tenantKey: ((table: Record<string, PgColumn | undefined>, ...columns: PgColumn[]) => {
    const tenantColumn = table[TENANT_KEY];
    if (!tenantColumn) {
      throw new ConfigError(
        "t.tenantKey(table, ...) needs a table built by the template's t.table (or the columns its extra-config callback receives).",
      );
    }
    return [tenantColumn, ...columns];
  }) as PgTemplateBuilder["tenantKey"],
  enum: pgEnum,
  sequence: pgSequence,
  view: securityInvokerView as typeof pgView,
  materializedView: ((name: string) => {
    throw new ConfigError(
      `Materialized view "${name}" cannot serve table mode: it would hold every tenant's rows, with no row-level security. Build it only when t.mode !== "table".`,
    );
  }) as unknown as PgTemplateBuilder["materializedView"],
};
