import { defineConfig } from "omnitenant";
import * as masterSchema from "./master-schema.js";
import { template } from "./template.js";

const dataDir = process.env.OMNITENANT_DATA_DIR ?? ".omnitenant-data";

export default defineConfig({
  dialect: "sqlite",
  master: { file: `${dataDir}/master.sqlite` },
  tenantsDir: `${dataDir}/tenants`,
  template,
  tables: masterSchema,
  masterSchema,
  root: import.meta.dirname,
  migrations: { tenant: "./drizzle/tenant", master: "./drizzle/master" },
});
