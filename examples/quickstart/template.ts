// The tables every tenant has. One factory serves both SQLite modes: a file of its own per tenant
// (database mode), or the shared tables with a tenant_id column (table mode).
import { relations } from "drizzle-orm";
import { index, integer, text } from "drizzle-orm/sqlite-core";
import { defineSqliteTemplate } from "omnitenant/sqlite";

export const template = defineSqliteTemplate((t) => {
  const projects = t.table("projects", {
    id: integer("id").primaryKey({ autoIncrement: true }),
    name: text("name").notNull(),
  });
  const tasks = t.table(
    "tasks",
    {
      id: integer("id").primaryKey({ autoIncrement: true }),
      projectId: integer("project_id")
        .notNull()
        .references(() => projects.id, { onDelete: "cascade" }),
      title: text("title").notNull(),
      done: integer("done", { mode: "boolean" }).notNull().default(false),
    },
    (table) => [index("tasks_project_idx").on(table.projectId)],
  );
  const projectsRelations = relations(projects, ({ many }) => ({ tasks: many(tasks) }));
  const tasksRelations = relations(tasks, ({ one }) => ({
    project: one(projects, { fields: [tasks.projectId], references: [projects.id] }),
  }));
  return { projects, tasks, projectsRelations, tasksRelations };
});
