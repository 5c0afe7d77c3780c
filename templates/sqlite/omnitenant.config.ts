// omnitenant's config, read by the omnitenant CLI (npx omnitenant --help) and by the db module.
import { defineConfig } from "omnitenant";
import * as masterSchema from "./__OUT__/master-schema.js";
import { template } from "./__OUT__/tenant-template.js";

export default defineConfig({
  dialect: "sqlite",
  // The master file: tenants and domains, and table mode's shared tables (keep in sync with drizzle.config.ts).
  master: { file: "./data/master.sqlite" },
  // Database-mode tenant "acme" lives in ./data/tenants/acme.sqlite.
  tenantsDir: "./data/tenants",
  // The tables every tenant has, and the master tables (see __OUT__/).
  template,
  tables: masterSchema,
  masterSchema,
  root: import.meta.dirname,
  // drizzle-kit's output folders: drizzle.tenant.config.ts and drizzle.config.ts.
  migrations: { tenant: "./drizzle/tenant", master: "./drizzle/master" },
  // Isolation modes this app offers: a file a tenant, or shared tables with a tenant_id column.
  modes: ["database", "table"],
});
