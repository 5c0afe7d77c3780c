// drizzle-kit input for the tenant migrations (database-mode tenant files):
//   npx drizzle-kit generate --dialect sqlite --schema examples/quickstart/tenant-schema.ts --out examples/quickstart/drizzle/tenant
import { template } from "./template.js";

export const { projects, tasks, projectsRelations, tasksRelations } = template.tables;
