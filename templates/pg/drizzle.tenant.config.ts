// drizzle-kit config of the TENANT template: it only GENERATES the migrations that omnitenant applies to
// every tenant. Never run drizzle-kit migrate or push with it.
//   npx drizzle-kit generate --config drizzle.tenant.config.ts && npx omnitenant migrate-all-tenants
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  schema: "./__OUT__/tenant-schema.ts",
  out: "./drizzle/tenant",
});
