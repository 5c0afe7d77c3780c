// npm run bench [-- --quick] [-- --only query,migrate,provision,pool,resolution,cache] [-- --out file.json]
//
// What tenancy costs, measured against raw Drizzle / postgres.js / ioredis in the same run. Prints a table
// and writes it as JSON (bench/results/latest.json). See bench/README.md.
import os from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { adminClient, cleanup, RUN_ID } from "./lib/env.js";
import { printTable, type Report, type Row, writeJson } from "./lib/report.js";
import type { Suite } from "./lib/suite.js";
import { cacheSuite } from "./suites/cache.js";
import { migrateSuite } from "./suites/migrate.js";
import { poolSuite } from "./suites/pool.js";
import { provisionSuite } from "./suites/provision.js";
import { querySuite } from "./suites/query.js";
import { resolutionSuite } from "./suites/resolution.js";

const SUITES: Suite[] = [querySuite, migrateSuite, provisionSuite, poolSuite, resolutionSuite, cacheSuite];

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    out: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  console.log(`npm run bench -- [--quick] [--only ${SUITES.map((s) => s.id).join(",")}] [--out file.json]`);
  process.exit(0);
}
const only = values.only?.split(",").map((s) => s.trim());
const unknown = only?.filter((id) => !SUITES.some((s) => s.id === id)) ?? [];
if (unknown.length > 0) {
  console.error(
    `bench: unknown suite ${unknown.join(", ")}; choose from ${SUITES.map((s) => s.id).join(", ")}`,
  );
  process.exit(2);
}
const out = values.out ?? fileURLToPath(new URL("./results/latest.json", import.meta.url));
const quick = values.quick ?? false;

const started = performance.now();
const admin = adminClient(4);
const log = (message: string) =>
  process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)}s] ${message}\n`);
const rows: Row[] = [];
const failures: Report["failures"] = [];
let exitCode = 0;
try {
  const [server] = await admin<{ version: string; max_connections: string; used: number }[]>`
    select current_setting('server_version') as version, current_setting('max_connections') as max_connections,
           (select count(*)::int from pg_stat_activity where backend_type = 'client backend') as used`;
  log(
    `${quick ? "quick" : "full"} run ${RUN_ID}: PostgreSQL ${server!.version}, max_connections ${server!.max_connections} (${server!.used} in use), ${os.cpus().length} cores, Node ${process.version}`,
  );
  for (const suite of SUITES) {
    if (only && !only.includes(suite.id)) continue;
    log(`— ${suite.figure}`);
    try {
      rows.push(...(await suite.run({ quick, admin, log })));
    } catch (error) {
      exitCode = 1;
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      log(`${suite.id} failed: ${message}`);
      failures.push({ suite: suite.id, error: message });
    }
  }
  const report: Report = {
    startedAt: new Date(Date.now() - (performance.now() - started)).toISOString(),
    mode: quick ? "quick" : "full",
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      memoryGb: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      postgres: server!.version,
      maxConnections: Number(server!.max_connections),
    },
    durationS: (performance.now() - started) / 1000,
    rows,
    failures,
  };
  console.log("");
  printTable(rows);
  const missed = rows.filter((r) => r.met === false);
  console.log(
    `\n${rows.filter((r) => r.met).length} targets met, ${missed.length} missed${failures.length ? `, ${failures.length} suites failed` : ""}; ${report.durationS.toFixed(0)} s (${report.mode}).`,
  );
  writeJson(out, report);
  console.log(`JSON: ${out}`);
} finally {
  await cleanup.run();
}
process.exit(exitCode);
