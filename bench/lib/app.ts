import { fileURLToPath } from "node:url";
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import type { Sql } from "postgres";
import { createBenchDatabase } from "./env.js";
import { setupClient } from "./pg.js";

export const MASTER_MIGRATIONS = fileURLToPath(new URL("../fixtures/master/drizzle", import.meta.url));

/** A new master database with omnitenant's tenants and domains tables (drizzle's migrator, as an app would). */
export async function createMasterDatabase(
  admin: Sql,
  suffix: string,
  { owner, migrationsFolder = MASTER_MIGRATIONS }: { owner?: string; migrationsFolder?: string } = {},
): Promise<{ name: string; url: string }> {
  const database = await createBenchDatabase(admin, suffix, owner ? { owner } : {});
  const client = setupClient(database.url, 1);
  try {
    await migrate(drizzle({ client }), { migrationsFolder });
  } finally {
    await client.end();
  }
  return database;
}
