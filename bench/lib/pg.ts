import type { Sql } from "postgres";
import postgres from "postgres";
import type { MigrationFile } from "../../src/migrations/journal.js";
import { sleep } from "./stats.js";

/** A plain postgres.js client for setup work (not measured). */
export function setupClient(url: string, max = 4): Sql {
  return postgres(url, { max, onnotice: () => {} });
}

/** Applies drizzle-kit migration files as they are (unqualified: public), each in its own transaction. */
export async function applyMigrationFiles(sql: Sql, migrations: readonly MigrationFile[]): Promise<void> {
  for (const migration of migrations) {
    await sql.begin(async (tx) => {
      for (const statement of migration.statements) await tx.unsafe(statement).simple();
    });
  }
}

export interface BackendSampler {
  /** Highest count seen so far. */
  readonly peak: number;
  /** Stops sampling; resolves to the peak. */
  stop(): Promise<number>;
}

/**
 * Polls pg_stat_activity for client backends connected to databases whose name matches `like` (a LIKE
 * pattern), and with `applicationName` if given, every `intervalMs`, from the admin client's connection (on
 * another database, so not counted).
 */
export function sampleBackends(
  admin: Sql,
  like: string,
  intervalMs = 10,
  applicationName?: string,
): BackendSampler {
  let peak = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const [row] = await admin<{ n: number }[]>`
        select count(*)::int as n from pg_stat_activity
         where backend_type = 'client backend' and datname like ${like}
           and (${applicationName ?? null}::text is null or application_name = ${applicationName ?? null})`;
      peak = Math.max(peak, row?.n ?? 0);
      await sleep(intervalMs);
    }
  })();
  return {
    get peak() {
      return peak;
    },
    async stop() {
      running = false;
      await loop;
      return peak;
    },
  };
}

/** Connections in use on the whole server, and its max_connections. */
export async function serverConnections(admin: Sql): Promise<{ used: number; max: number }> {
  const [row] = await admin<{ used: number; max: number }[]>`
    select (select count(*)::int from pg_stat_activity where backend_type = 'client backend') as used,
           current_setting('max_connections')::int as max`;
  return row!;
}

/**
 * Waits (up to `timeoutMs`) until `needed` connections are free on the server with 10 to spare, so a phase that
 * opens many connections does not take the last ones from whatever else runs against the same server.
 */
export async function waitForConnections(
  admin: Sql,
  needed: number,
  log: (message: string) => void,
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let said = false; ; said = true) {
    const { used, max } = await serverConnections(admin);
    if (max - used >= needed + 10) return;
    if (Date.now() > deadline) {
      throw new Error(
        `bench: ${used} of max_connections ${max} stay in use; this phase needs ${needed} (+10 spare)`,
      );
    }
    if (!said) log(`waiting for ${needed} free connections (${used} of ${max} in use)…`);
    await sleep(2000);
  }
}
