import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { openSqlite } from "../../src/drivers/sqlite.js";
import { createOmnitenant } from "../../src/sqlite.js";
import { sqliteTestConfig } from "../fixtures/sqlite-app/config.js";

/**
 * A SQLite test app in its own temporary folder: real files, the master migrated with drizzle's migrator
 * (`omni.migrateMaster()`), and every statement the master connection runs recorded.
 */
export async function setupSqliteApp(
  overrides: Partial<ReturnType<typeof sqliteTestConfig>> = {},
  { migrateMaster = true }: { migrateMaster?: boolean } = {},
) {
  const dir = mkdtempSync(join(tmpdir(), "omnitenant-sqlite-"));
  const config = { ...sqliteTestConfig(dir), ...overrides };
  const statements: string[] = [];
  const master = openSqlite(config.master.file, { create: true });
  const recording = new Database(config.master.file, {
    verbose: (sql) => statements.push(String(sql)),
  });
  recording.pragma("foreign_keys = ON");
  master.close();
  const omni = createOmnitenant(config, { master: recording });
  if (migrateMaster) await omni.migrateMaster();
  return {
    omni,
    config,
    dir,
    master: recording as Database.Database,
    /** Every statement the master connection ran, for asserting that nothing reached SQL. */
    statements,
    tenantsDir: config.tenantsDir!,
    /** Files in the tenants folder (none if the folder does not exist). */
    tenantFiles: () => (existsSync(config.tenantsDir!) ? readdirSync(config.tenantsDir!).sort() : []),
    /** Rows about a tenant in the master file: its record and domains. */
    recordRows: (tenantId: string) =>
      (recording
        .prepare("select count(*) from tenants where tenant_id = ?")
        .pluck()
        .get(tenantId) as number) +
      (recording.prepare("select count(*) from domains where tenant_id = ?").pluck().get(tenantId) as number),
    async teardown() {
      await omni.close();
      if (recording.open) recording.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type SqliteApp = Awaited<ReturnType<typeof setupSqliteApp>>;

/** A pause that lets other async work run: a timer of 0-2 ms or a macrotask turn. */
export function jitter(i: number): Promise<void> {
  return new Promise((resolve) => (i % 3 === 0 ? setImmediate(resolve) : setTimeout(resolve, i % 3)));
}
