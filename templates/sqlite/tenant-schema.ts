// What drizzle-kit reads (drizzle.tenant.config.ts) to generate the tenant migrations in ./drizzle/tenant;
// omnitenant applies them to every database-mode tenant's file.
import { template } from "./tenant-template.js";

export const { projects, tasks, projectsRelations, tasksRelations } = template.tables;
