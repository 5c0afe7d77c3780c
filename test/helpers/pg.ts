import { randomBytes } from "node:crypto";
import postgres from "postgres";

export const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface TestDatabase {
  /** Connection URL of the new database. */
  url: string;
  name: string;
  /** A client connected to it (max 10 connections, notices silenced). */
  sql: postgres.Sql;
  /** Closes `sql` and drops the database WITH (FORCE). */
  drop(): Promise<void>;
}

/**
 * Creates a uniquely named, empty database (`<prefix>_<random>`, prefix `omnitenant_test` unless given as a
 * string or `{ prefix }`) on the server of `DATABASE_URL`, so test files never collide. Call `drop()` in
 * `afterAll`.
 *
 * @example
 * let db: TestDatabase;
 * beforeAll(async () => { db = await createTestDatabase(); });
 * afterAll(() => db.drop());
 */
export async function createTestDatabase(
  options: string | { max?: number; prefix?: string } = {},
): Promise<TestDatabase> {
  const { max = 10, prefix = "omnitenant_test" } =
    typeof options === "string" ? { prefix: options } : options;
  if (!/^[a-z][a-z0-9_]{0,40}$/.test(prefix))
    throw new Error(`Invalid test database prefix ${JSON.stringify(prefix)}`);
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  const admin = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(DATABASE_URL);
  url.pathname = `/${name}`;
  const sql = postgres(url.toString(), { max, onnotice: () => {} });
  let dropped = false;
  return {
    url: url.toString(),
    name,
    sql,
    async drop() {
      if (dropped) return;
      dropped = true;
      await sql.end({ timeout: 5 });
      const cleanup = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
      try {
        await cleanup.unsafe(`drop database if exists "${name}" with (force)`);
      } finally {
        await cleanup.end();
      }
    },
  };
}
