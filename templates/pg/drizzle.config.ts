// drizzle-kit config of the MASTER database (tenants, domains, table mode's shared tables, your own tables):
//   npx drizzle-kit generate && npx drizzle-kit migrate
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  schema: "./__OUT__/master-schema.ts",
  out: "./drizzle/master",
  dbCredentials: { url: process.env.DATABASE_URL ?? "" },
});
