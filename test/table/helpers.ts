import { randomBytes } from "node:crypto";
import { once } from "node:events";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { openPgClient } from "../../src/drivers/postgres.js";
import type { PgTableStrategyOptions } from "../../src/isolation/pg/table.js";
import { createOmnitenant } from "../../src/pg.js";
import { tableAppConfig } from "../fixtures/table-app/config.js";
import { createTestDatabase, DATABASE_URL } from "../helpers/pg.js";

export const tableMasterMigrations = fileURLToPath(
  new URL("../fixtures/table-app/drizzle/master", import.meta.url),
);

/** A role name unique to this run (roles are cluster-wide; every test file runs on its own database). */
export const uniqueRole = (prefix: string) => `${prefix}_${randomBytes(4).toString("hex")}`;

/** `url` with another user. */
export function asUser(url: string, user: string): string {
  const parsed = new URL(url);
  parsed.username = user;
  parsed.password = "";
  return parsed.toString();
}

/** Counts what the client writes to its socket: one write between replies is one round trip. */
export function countingSocket(url: string) {
  const counter = { writes: 0 };
  const { hostname, port } = new URL(url);
  const socket = async () => {
    const s = net.connect(Number(port || 5432), hostname);
    await once(s, "connect");
    const write = s.write.bind(s) as (...args: unknown[]) => boolean;
    s.write = ((...args: unknown[]) => {
      counter.writes++;
      return write(...args);
    }) as typeof s.write;
    return s;
  };
  return { counter, socket };
}

export interface TableAppOptions {
  /** Connect the app as a non-superuser login role that owns every table (runs the master migrations). */
  asOwner?: boolean;
  table?: PgTableStrategyOptions;
  /** Skip `secureSharedTables()` after the master migrations. */
  secure?: boolean;
  pool?: { max?: number };
}

/**
 * The table-mode test app on its own database: master migrations (shared tables included) applied with
 * drizzle's migrator, as an app would with drizzle-kit, then the shared tables secured.
 */
export async function setupTableApp({
  asOwner = false,
  table,
  secure = true,
  pool = {},
}: TableAppOptions = {}) {
  const database = await createTestDatabase("omnitenant_table");
  const roles: string[] = [];
  let url = database.url;
  if (asOwner) {
    const owner = uniqueRole("ot_owner");
    roles.push(owner);
    await database.sql.unsafe(`create role "${owner}" login nosuperuser nobypassrls`);
    await database.sql.unsafe(`grant create on database "${database.name}" to "${owner}"`);
    await database.sql.unsafe(`grant create, usage on schema public to "${owner}"`);
    url = asUser(database.url, owner);
  }
  const migrator = postgres(url, { max: 1, onnotice: () => {} });
  await migrate(drizzle({ client: migrator }), { migrationsFolder: tableMasterMigrations });
  await migrator.end();

  const statements: string[] = [];
  const master = openPgClient(url, {
    max: pool.max ?? 10,
    extra: { debug: (_connection: number, query: string) => statements.push(query) } as never,
  });
  const databasePrefix = `ot${randomBytes(3).toString("hex")}_`;
  const config = { ...tableAppConfig(url, table), naming: { databasePrefix } };
  const omni = createOmnitenant(config, { master });
  if (secure) await omni.secureSharedTables();
  return {
    omni,
    config,
    database,
    /** The app's connection URL (the owner's when `asOwner`). */
    url,
    master,
    statements,
    roles,
    async teardown() {
      await omni.close();
      await master.end({ timeout: 5 });
      const leftovers = await database.sql<{ datname: string }[]>`
        select datname from pg_database where datname like ${`${databasePrefix}%`}`;
      for (const { datname } of leftovers)
        await database.sql.unsafe(`drop database "${datname}" with (force)`);
      await database.drop();
      await dropRoles(roles);
    },
  };
}

export type TableApp = Awaited<ReturnType<typeof setupTableApp>>;

/** Drops cluster-wide roles made by a test (after its database is gone). */
export async function dropRoles(roles: readonly string[]): Promise<void> {
  if (roles.length === 0) return;
  const admin = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    for (const role of roles) await admin.unsafe(`drop role if exists "${role}"`);
  } finally {
    await admin.end();
  }
}
