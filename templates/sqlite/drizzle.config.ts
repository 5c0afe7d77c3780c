// drizzle-kit config of the MASTER file (tenants, domains, table mode's shared tables, your own tables):
//   npx drizzle-kit generate && npx drizzle-kit migrate
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "sqlite",
  schema: "./__OUT__/master-schema.ts",
  out: "./drizzle/master",
  dbCredentials: { url: "./data/master.sqlite" },
});
