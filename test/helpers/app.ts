import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import { openPgClient } from "../../src/drivers/postgres.js";
import { createOmnitenant } from "../../src/pg.js";
import { testConfig } from "../fixtures/app/config.js";
import { createTestDatabase } from "./pg.js";

export const masterMigrations = fileURLToPath(new URL("../fixtures/app/drizzle/master", import.meta.url));

/**
 * A test app on its own database: master tables migrated with drizzle's migrator, as an app would with
 * drizzle-kit, and a database prefix unique to this run so database-mode tenants never collide.
 */
export async function setupPgApp(overrides: Partial<ReturnType<typeof testConfig>> = {}) {
  const database = await createTestDatabase();
  await migrate(drizzle({ client: database.sql }), { migrationsFolder: masterMigrations });
  const statements: string[] = [];
  const master = openPgClient(database.url, {
    max: 10,
    extra: { debug: (_connection: number, query: string) => statements.push(query) } as never,
  });
  const databasePrefix = `ot${randomBytes(3).toString("hex")}_`;
  const config = { ...testConfig(database.url), naming: { databasePrefix }, ...overrides };
  const omni = createOmnitenant(config, { master });
  return {
    omni,
    config,
    database,
    master,
    /** Every statement the master pool sent, for asserting that nothing reached SQL. */
    statements,
    databasePrefix,
    async teardown() {
      await omni.close();
      await master.end({ timeout: 5 });
      const leftovers = await database.sql<{ datname: string }[]>`
        select datname from pg_database where datname like ${`${databasePrefix}%`}`;
      for (const { datname } of leftovers)
        await database.sql.unsafe(`drop database "${datname}" with (force)`);
      await database.drop();
    },
  };
}

export type PgApp = Awaited<ReturnType<typeof setupPgApp>>;
