// What drizzle-kit reads (drizzle.tenant.config.ts) to generate the tenant migrations in ./drizzle/tenant;
// omnitenant applies them to every schema- and database-mode tenant.
import { template } from "./tenant-template.js";

export const { taskStatus, projects, tasks, projectsRelations, tasksRelations } = template.tables;
