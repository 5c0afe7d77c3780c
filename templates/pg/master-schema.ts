// The master schema, read by drizzle-kit through drizzle.config.ts: omnitenant's tenants and domains tables,
// and the tenant template's shared tables for table mode (each with tenant_id, row-level security and the
// tenant policy). Add your own master tables here too.
import { pgTenantTables } from "omnitenant/pg";
import { template } from "./tenant-template.js";

export const { tenants, domains, tenantsRelations, domainsRelations } = pgTenantTables({
  // Your own tenant columns, e.g. tenantColumns: { plan: text("plan").notNull().default("free") },
});

// Table mode's shared tables; remove this line if the app does not offer table mode.
export const { taskStatus, projects, tasks, projectsRelations, tasksRelations } = template.sharedTables;
