// omnitenant's config, read by the omnitenant CLI (npx omnitenant --help) and by the db module.
import { defineConfig } from "omnitenant";
import * as masterSchema from "./__OUT__/master-schema.js";
import { template } from "./__OUT__/tenant-template.js";

const masterUrl = process.env.DATABASE_URL;
if (!masterUrl) {
  throw new Error(
    "DATABASE_URL is not set: point it at the master database, e.g. postgres://localhost:5432/app",
  );
}

export default defineConfig({
  dialect: "postgresql",
  // The master database: tenants and domains, table mode's shared tables, schema-mode tenants' schemas.
  masterUrl,
  // The tables every tenant has, and the master tables (see __OUT__/).
  template,
  tables: masterSchema,
  masterSchema,
  root: import.meta.dirname,
  // drizzle-kit's output folders: drizzle.tenant.config.ts and drizzle.config.ts.
  migrations: { tenant: "./drizzle/tenant", master: "./drizzle/master" },
  // Isolation modes this app offers (default: all three).
  modes: ["schema", "database", "table"],
  // Schema-mode tenant "acme" lives in schema tenant_acme, database-mode tenant "acme" in database tenant_acme.
  naming: { schemaPrefix: "tenant_", databasePrefix: "tenant_" },
  // Table mode, if the app connects as a superuser or a BYPASSRLS role: a role row-level security applies to.
  // table: { role: "app_tenant" },
});
