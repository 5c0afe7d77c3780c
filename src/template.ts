import { is } from "drizzle-orm";
import {
  type AnyPgColumn,
  PgTable,
  type PgTableFn,
  pgEnum,
  pgMaterializedView,
  pgSchema,
  pgSequence,
  pgTable,
  pgView,
} from "drizzle-orm/pg-core";
import { LruMap } from "./lru.js";
import { tableModeBuilder } from "./table/builder.js";

/**
 * What a PostgreSQL tenant template builds its objects with: `pgTable`/`pgEnum`/... for the copy drizzle-kit
 * reads, or `pgSchema("tenant_acme")`'s builders for one tenant's schema. Only these verbs are offered, so
 * nothing in a template can pin itself to one schema.
 */
export interface PgTemplateBuilder {
  /**
   * `"table"` when building the shared tables of table mode (each gets `tenant_id`, RLS and the tenant
   * policy), `"per-tenant"` for a tenant's own schema or database. Schema and database mode share one
   * value on purpose: both are migrated from the same drizzle-kit output, so the template must not differ
   * between them.
   */
  readonly mode: "per-tenant" | "table";
  /** The schema tables are bound to, `undefined` for the unqualified copy (drizzle-kit, database mode). */
  readonly schemaName: string | undefined;
  table: PgTableFn<string | undefined>;
  /**
   * The columns of a key, led by `tenant_id` in table mode: `primaryKey({ columns: t.tenantKey(table, table.id) })`
   * is `(id)` per tenant and `(tenant_id, id)` in table mode, and a `foreignKey` built the same way on both
   * sides cannot point at another tenant's row. `table` is the extra-config callback's argument or a table.
   */
  tenantKey<TColumns extends [AnyPgColumn, ...AnyPgColumn[]]>(table: object, ...columns: TColumns): TColumns;
  enum: typeof pgEnum;
  sequence: typeof pgSequence;
  view: typeof pgView;
  materializedView: typeof pgMaterializedView;
}

export type PgTemplateFactory<TSchema extends Record<string, unknown>> = (
  builder: PgTemplateBuilder,
) => TSchema;

/**
 * The tables every tenant has, declared once. Drizzle fixes a table's schema when the table is built, so the
 * template is a factory, called once per tenant schema (and cached, bounded) and once unqualified for
 * drizzle-kit and database-mode tenants.
 */
export interface PgTemplate<TSchema extends Record<string, unknown>> {
  readonly dialect: "postgresql";
  readonly factory: PgTemplateFactory<TSchema>;
  /** The unqualified tables: export these for drizzle-kit, and they serve database-mode tenants. */
  readonly tables: TSchema;
  /** The tables bound to `schema` (memoised, bounded). */
  forSchema(schema: string): TSchema;
  /**
   * The shared tables of table mode (built with `mode: "table"`, memoised): export these from the MASTER
   * schema file, so drizzle-kit's master migrations create them with RLS and the tenant policy.
   */
  readonly sharedTables: TSchema;
}

const keyAsIs = ((_table: object, ...columns: AnyPgColumn[]) => columns) as PgTemplateBuilder["tenantKey"];

// drizzle-orm's Table.Symbol.Schema (typed @internal): the schema a table's SQL name is qualified with.
const TABLE_SCHEMA = Symbol.for("drizzle:Schema");
let renderingSchema: string | undefined;

/**
 * Renders SQL with the template's unqualified tables placed in `schema`. Drizzle builds SQL text
 * synchronously, so a module variable set around that call cannot leak into another query.
 */
export function renderInSchema<T>(schema: string, render: () => T): T {
  const outer = renderingSchema;
  renderingSchema = schema;
  try {
    return render();
  } finally {
    renderingSchema = outer;
  }
}

/**
 * Lets the unqualified template tables follow the schema of the tenant database that renders them, so
 * `tenantDb(t).insert(projects)` with the `projects` the app imports lands in the tenant's schema, exactly
 * as `tenantDb(t).query.projects` does. Outside `renderInSchema` (drizzle-kit, database mode, masterDb)
 * the tables stay unqualified.
 */
function followRenderingSchema(tables: Record<string, unknown>): void {
  for (const value of Object.values(tables)) {
    if (is(value, PgTable)) {
      Object.defineProperty(value, TABLE_SCHEMA, {
        get: () => renderingSchema,
        configurable: true,
        enumerable: false,
      });
    }
  }
}

export const publicBuilder: PgTemplateBuilder = {
  mode: "per-tenant",
  schemaName: undefined,
  tenantKey: keyAsIs,
  table: pgTable,
  enum: pgEnum,
  sequence: pgSequence,
  view: pgView,
  materializedView: pgMaterializedView,
};

/**
 * @example
 * export const template = definePgTemplate((t) => {
 *   const status = t.enum("status", ["open", "done"]);
 *   const projects = t.table("projects", { id: serial().primaryKey(), name: text().notNull() });
 *   const tasks = t.table("tasks", { id: serial().primaryKey(), projectId: integer().references(() => projects.id), status: status() });
 *   const projectsRelations = relations(projects, ({ many }) => ({ tasks: many(tasks) }));
 *   const tasksRelations = relations(tasks, ({ one }) => ({ project: one(projects, { fields: [tasks.projectId], references: [projects.id] }) }));
 *   return { status, projects, tasks, projectsRelations, tasksRelations };
 * });
 * // for drizzle-kit:
 * export const { status, projects, tasks, projectsRelations, tasksRelations } = template.tables;
 */
export function definePgTemplate<TSchema extends Record<string, unknown>>(
  factory: PgTemplateFactory<TSchema>,
  { maxCachedSchemas = 10_000 }: { maxCachedSchemas?: number } = {},
): PgTemplate<TSchema> {
  const bound = new LruMap<string, TSchema>(maxCachedSchemas);
  let tables: TSchema | undefined;
  let sharedTables: TSchema | undefined;
  return {
    dialect: "postgresql",
    factory,
    get tables() {
      if (!tables) {
        tables = factory(publicBuilder);
        followRenderingSchema(tables);
      }
      return tables;
    },
    get sharedTables() {
      sharedTables ??= factory(tableModeBuilder);
      return sharedTables;
    },
    forSchema(schema) {
      let schemaTables = bound.get(schema);
      if (!schemaTables) {
        const s = pgSchema(schema);
        schemaTables = factory({
          mode: "per-tenant",
          schemaName: schema,
          tenantKey: keyAsIs,
          table: s.table as PgTableFn<string | undefined>,
          enum: ((...args: Parameters<typeof pgEnum>) => (s.enum as any)(...args)) as typeof pgEnum,
          sequence: s.sequence.bind(s),
          view: s.view.bind(s),
          materializedView: s.materializedView.bind(s),
        });
        bound.set(schema, schemaTables);
      }
      return schemaTables;
    },
  };
}
