import { type BuildColumns, getTableName, is, sql } from "drizzle-orm";
import {
  blob,
  customType,
  index,
  integer,
  numeric,
  real,
  type SQLiteColumnBuilderBase,
  SQLiteTable,
  type SQLiteTableFn,
  type SQLiteTableWithColumns,
  sqliteTable,
  type TableConfig,
  text,
} from "drizzle-orm/sqlite-core";
import { ConfigError } from "./errors.js";

/** The SQL function that names the tenant of the statement being run (table mode); NULL when none is. */
export const TENANT_FUNCTION = "omnitenant_tenant";
/** The column table mode adds to every shared table. */
export const TENANT_COLUMN = "tenant_id";

/**
 * What a SQLite tenant template builds its tables with. `mode` says which copy is being built: `"database"`
 * for the tables of a tenant's own file (and drizzle-kit's tenant migrations), `"table"` for the shared tables
 * of the master file, which get a `tenant_id` column and an index leading with it.
 */
export interface SqliteTemplateBuilder {
  readonly mode: "database" | "table";
  table: SQLiteTableFn;
}

export type SqliteTemplateFactory<TSchema extends Record<string, unknown>> = (
  builder: SqliteTemplateBuilder,
) => TSchema;

const tenantIdColumn = () =>
  text(TENANT_COLUMN)
    .notNull()
    .default(sql.raw(`(${TENANT_FUNCTION}())`));

type TenantIdColumns<TName extends string> = BuildColumns<
  TName,
  { tenantId: ReturnType<typeof tenantIdColumn> },
  "sqlite"
>;

/** A template table as it is in the master file in table mode: its columns plus `tenantId`. */
export type SharedTable<T> =
  T extends SQLiteTableWithColumns<infer C extends TableConfig>
    ? SQLiteTableWithColumns<{
        name: C["name"];
        schema: C["schema"];
        dialect: "sqlite";
        columns: C["columns"] & TenantIdColumns<C["name"]>;
      }>
    : T;

export type SharedSchema<TSchema extends Record<string, unknown>> = {
  [K in keyof TSchema]: SharedTable<TSchema[K]>;
};

export interface SqliteTemplate<TSchema extends Record<string, unknown>> {
  readonly dialect: "sqlite";
  readonly factory: SqliteTemplateFactory<TSchema>;
  /** The tables of a tenant's own file: export these for drizzle-kit's tenant migrations (database mode). */
  readonly tables: TSchema;
  /**
   * The shared tables of table mode, each with a `tenant_id` column (filled with the current tenant on insert)
   * and an index leading with it: export these from the master schema so the master migrations create them.
   */
  readonly sharedTables: SharedSchema<TSchema>;
  /** SQL names of the template's tables. */
  readonly tableNames: readonly string[];
}

const columnBuilders = { blob, customType, integer, numeric, real, text };

const databaseBuilder: SqliteTemplateBuilder = { mode: "database", table: sqliteTable };

const sharedBuilder: SqliteTemplateBuilder = {
  mode: "table",
  table: ((name: string, columns: unknown, extraConfig?: (self: any) => unknown) => {
    const own = (typeof columns === "function" ? columns(columnBuilders) : columns) as Record<
      string,
      SQLiteColumnBuilderBase
    >;
    for (const [key, builder] of Object.entries(own)) {
      const columnName = (builder as unknown as { config?: { name?: string } }).config?.name;
      if (key === "tenantId" || columnName === TENANT_COLUMN) {
        throw new ConfigError(
          `Template table "${name}" declares "${columnName || key}" itself; in table mode omnitenant adds the ${TENANT_COLUMN} column to shared tables. Remove it from the template.`,
        );
      }
    }
    return sqliteTable(
      name,
      { ...own, tenantId: tenantIdColumn() } as Record<string, SQLiteColumnBuilderBase>,
      (self: any) => {
        const extra = extraConfig?.(self) ?? [];
        return [
          index(`${name}_${TENANT_COLUMN}_idx`).on(self.tenantId),
          ...(Array.isArray(extra) ? extra : Object.values(extra as object)),
        ];
      },
    );
  }) as unknown as SQLiteTableFn,
};

/**
 * Declares the tables every tenant has, once for both SQLite modes.
 *
 * @example
 * export const template = defineSqliteTemplate((t) => {
 *   const projects = t.table("projects", { id: integer().primaryKey({ autoIncrement: true }), name: text().notNull() });
 *   const tasks = t.table("tasks", { id: integer().primaryKey({ autoIncrement: true }), projectId: integer().notNull().references(() => projects.id) });
 *   const projectsRelations = relations(projects, ({ many }) => ({ tasks: many(tasks) }));
 *   const tasksRelations = relations(tasks, ({ one }) => ({ project: one(projects, { fields: [tasks.projectId], references: [projects.id] }) }));
 *   return { projects, tasks, projectsRelations, tasksRelations };
 * });
 * // tenant schema for drizzle-kit (database mode):
 * export const { projects, tasks, projectsRelations, tasksRelations } = template.tables;
 * // master schema for drizzle-kit (table mode), next to the tenants and domains tables:
 * export const { projects, tasks } = template.sharedTables;
 */
export function defineSqliteTemplate<TSchema extends Record<string, unknown>>(
  factory: SqliteTemplateFactory<TSchema>,
): SqliteTemplate<TSchema> {
  let tables: TSchema | undefined;
  let shared: SharedSchema<TSchema> | undefined;
  return {
    dialect: "sqlite",
    factory,
    get tables() {
      tables ??= factory(databaseBuilder);
      return tables;
    },
    get sharedTables() {
      shared ??= factory(sharedBuilder) as SharedSchema<TSchema>;
      return shared;
    },
    get tableNames() {
      return sqliteTableNames(this.tables);
    },
  };
}

/** The SQL names of the tables among a schema's exports. */
export function sqliteTableNames(schema: Record<string, unknown>): string[] {
  const names: string[] = [];
  for (const value of Object.values(schema)) {
    if (is(value, SQLiteTable)) names.push(getTableName(value));
  }
  return names;
}
