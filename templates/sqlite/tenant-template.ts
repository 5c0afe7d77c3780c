// The tables every tenant has, declared once for both isolation modes: omnitenant creates them in each
// tenant's own file (database mode), or as shared tables of the master file with a tenant_id column that
// every query is scoped to (table mode).
//
// After a change: npx drizzle-kit generate --config drizzle.tenant.config.ts (tenant migrations), then
// npx drizzle-kit generate (master: table mode's shared tables) and npx omnitenant migrate-all-tenants.
import { relations, sql } from "drizzle-orm";
import { index, integer, text } from "drizzle-orm/sqlite-core";
import { defineSqliteTemplate } from "omnitenant/sqlite";

export const template = defineSqliteTemplate((t) => {
  const projects = t.table("projects", {
    id: integer("id").primaryKey({ autoIncrement: true }),
    name: text("name").notNull(),
    createdAt: integer("created_at", { mode: "timestamp" }).notNull().default(sql`(unixepoch())`),
  });

  const tasks = t.table(
    "tasks",
    {
      id: integer("id").primaryKey({ autoIncrement: true }),
      projectId: integer("project_id")
        .notNull()
        .references(() => projects.id, { onDelete: "cascade" }),
      title: text("title").notNull(),
      status: text("status", { enum: ["open", "in_progress", "done"] })
        .notNull()
        .default("open"),
    },
    (table) => [index("tasks_project_idx").on(table.projectId)],
  );

  const projectsRelations = relations(projects, ({ many }) => ({ tasks: many(tasks) }));
  const tasksRelations = relations(tasks, ({ one }) => ({
    project: one(projects, { fields: [tasks.projectId], references: [projects.id] }),
  }));

  return { projects, tasks, projectsRelations, tasksRelations };
});
