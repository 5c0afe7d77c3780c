// The tables every tenant has, declared once for every isolation mode: omnitenant builds them in the tenant's
// schema (schema mode), in the tenant's database (database mode), or as shared tables with a tenant_id column
// under row-level security (table mode). Keys built with t.tenantKey(...) lead with tenant_id in table mode,
// so a foreign key can never point at another tenant's row.
//
// After a change: npx drizzle-kit generate --config drizzle.tenant.config.ts (tenant migrations), then
// npx drizzle-kit generate (master: table mode's shared tables) and npx omnitenant migrate-all-tenants.
import { relations } from "drizzle-orm";
import { foreignKey, index, integer, primaryKey, serial, text, timestamp } from "drizzle-orm/pg-core";
import { definePgTemplate } from "omnitenant/pg";

export const template = definePgTemplate((t) => {
  const taskStatus = t.enum("task_status", ["open", "in_progress", "done"]);

  const projects = t.table(
    "projects",
    {
      id: serial("id").notNull(),
      name: text("name").notNull(),
      createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    },
    (table) => [primaryKey({ columns: t.tenantKey(table, table.id) })],
  );

  const tasks = t.table(
    "tasks",
    {
      id: serial("id").notNull(),
      projectId: integer("project_id").notNull(),
      title: text("title").notNull(),
      status: taskStatus("status").notNull().default("open"),
      createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    },
    (table) => [
      primaryKey({ columns: t.tenantKey(table, table.id) }),
      foreignKey({
        columns: t.tenantKey(table, table.projectId),
        foreignColumns: t.tenantKey(projects, projects.id),
      }).onDelete("cascade"),
      index("tasks_project_idx").on(...t.tenantKey(table, table.projectId)),
    ],
  );

  const projectsRelations = relations(projects, ({ many }) => ({ tasks: many(tasks) }));
  const tasksRelations = relations(tasks, ({ one }) => ({
    project: one(projects, { fields: [tasks.projectId], references: [projects.id] }),
  }));

  return { taskStatus, projects, tasks, projectsRelations, tasksRelations };
});
