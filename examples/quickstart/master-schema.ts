// drizzle-kit input for the master migrations: tenants, domains and the shared tables of table mode.
//   npx drizzle-kit generate --dialect sqlite --schema examples/quickstart/master-schema.ts --out examples/quickstart/drizzle/master
import { sqliteTenantTables } from "omnitenant/sqlite";
import { template } from "./template.js";

export const { tenants, domains, tenantsRelations, domainsRelations } = sqliteTenantTables();
export const { projects, tasks, projectsRelations, tasksRelations } = template.sharedTables;
