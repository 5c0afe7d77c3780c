// Figure 5: tenant resolution. Cached domain lookups a second (registry.getByDomain), and requests a second
// of a Hono and an Express server with omnitenant's tenant middleware (domain resolver) against the same
// handler without it: each server in its own child process (the plain ones never load omnitenant), loaded
// by a keep-alive socket loop in this process, in alternating slices (ABBA).
import { type ChildProcess, fork } from "node:child_process";
import { readFileSync } from "node:fs";
import http from "node:http";
import { fileURLToPath } from "node:url";
import { defineConfig } from "../../src/config.js";
import { createOmnitenant } from "../../src/pg.js";
import * as masterSchema from "../fixtures/master/schema.js";
import { template } from "../fixtures/query/template.js";
import { createMasterDatabase } from "../lib/app.js";
import { cleanup } from "../lib/env.js";
import { load, requests } from "../lib/http-load.js";
import { fmt, type Row } from "../lib/report.js";
import { median } from "../lib/stats.js";
import type { Suite, SuiteContext } from "../lib/suite.js";

const SERVER = fileURLToPath(new URL("./resolution-server.ts", import.meta.url));
const QUERY_FIXTURE = fileURLToPath(new URL("../fixtures/query/", import.meta.url));
const TENANTS = 50;
const CONNECTIONS = 16;
const TARGET = 0.95;

/** CPU microseconds a process has used so far (Linux). */
function cpuOf(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[0]) / 1000;
}

async function startServer(
  framework: string,
  variant: string,
  masterUrl: string,
): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(SERVER, [framework, variant, masterUrl], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once("message", (message: { port: number }) => resolve(message.port));
    child.once("exit", (code) => reject(new Error(`bench: ${framework} ${variant} server exited (${code})`)));
  });
  cleanup.onClose(() => child.kill());
  return { child, port };
}

/** One request with a Host header (fetch does not let a Host header through). */
function get(port: number, host: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: "127.0.0.1", port, path, headers: { host } }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        body += chunk;
      });
      response.on("end", () => resolve(body));
    });
    request.on("error", reject);
    request.end();
  });
}

export const resolutionSuite: Suite = {
  id: "resolution",
  figure: "5 resolution",
  async run({ quick, admin, log }: SuiteContext): Promise<Row[]> {
    const databases: string[] = [];
    const children: ChildProcess[] = [];
    const closers: Array<() => Promise<unknown>> = [];
    try {
      const master = await createMasterDatabase(admin, "r");
      databases.push(master.name);
      const ids = Array.from({ length: TENANTS }, (_, i) => `t${String(i).padStart(2, "0")}`);
      const hosts = ids.map((id) => `${id}.bench.test`);
      const omni = createOmnitenant(
        defineConfig({
          dialect: "postgresql",
          masterUrl: master.url,
          template,
          tables: masterSchema,
          root: QUERY_FIXTURE,
          migrations: { tenant: "./drizzle/tenant" },
          modes: ["schema"],
          pool: { max: 2 },
        }),
      );
      closers.push(() => omni.close());
      await omni.$client`insert into tenants (tenant_id, name, isolation)
        select id, id, 'schema' from unnest(${ids}::text[]) as id`;
      await omni.$client`insert into domains (domain, tenant_id, is_primary)
        select id || '.bench.test', id, true from unnest(${ids}::text[]) as id`;

      // Registry lookups: cached (after one miss each), and uncached (the store's query) for scale.
      for (const host of hosts) await omni.registry.getByDomain(host);
      const lookups = async (ms: number, lookup: (host: string) => Promise<unknown>) => {
        let n = 0;
        const end = performance.now() + ms;
        while (performance.now() < end) {
          for (let k = 0; k < 100; k++) await lookup(hosts[n++ % TENANTS]!);
        }
        return n;
      };
      await lookups(200, (h) => omni.registry.getByDomain(h));
      const cachedMs = quick ? 500 : 2000;
      const cached = ((await lookups(cachedMs, (h) => omni.registry.getByDomain(h))) * 1000) / cachedMs;
      const uncachedMs = quick ? 300 : 1000;
      const uncached =
        ((await lookups(uncachedMs, (h) => omni.registry.store.byDomain(h))) * 1000) / uncachedMs;
      log(`getByDomain: ${fmt.ops(cached)} cached, ${fmt.ops(uncached)} from the database`);

      const rows: Row[] = [
        {
          figure: "5 resolution",
          name: "registry.getByDomain, cached",
          result: fmt.ops(cached),
          note: `one caller, awaited in turn; uncached (one query each): ${fmt.ops(uncached)}`,
          data: { cachedPerS: cached, uncachedPerS: uncached },
        },
      ];

      const payloads = requests("/hello", hosts);
      const slice = quick ? 300 : 1000;
      const pairs = quick ? 3 : 10;
      for (const framework of ["hono", "express"] as const) {
        const servers = {
          plain: await startServer(framework, "plain", master.url),
          floor: await startServer(framework, "floor", master.url),
          omnitenant: await startServer(framework, "omnitenant", master.url),
        };
        children.push(...Object.values(servers).map((s) => s.child));
        for (const variant of ["floor", "omnitenant"] as const) {
          const who = await get(servers[variant].port, "t07.bench.test", "/whoami");
          if (who !== "t07") throw new Error(`bench: the ${framework} ${variant} middleware resolved ${who}`);
        }
        // Each slice: requests/s, and the server process's CPU a request (/proc/<pid>/schedstat).
        const run = async (server: (typeof servers)["plain"]) => {
          const before = cpuOf(server.child.pid!);
          const result = await load(server.port, payloads, { connections: CONNECTIONS, durationMs: slice });
          return {
            ...result,
            rps: (result.ok * 1000) / result.ms,
            cpuUs: (cpuOf(server.child.pid!) - before) / Math.max(1, result.ok),
          };
        };
        for (const server of Object.values(servers)) await run(server);
        const samples = {
          plain: [] as Awaited<ReturnType<typeof run>>[],
          floor: [] as Awaited<ReturnType<typeof run>>[],
          omnitenant: [] as Awaited<ReturnType<typeof run>>[],
        };
        for (let pair = 0; pair < pairs; pair++) {
          // plain, floor, omnitenant, then reversed: each variant sees the others' neighbours alike
          const order = (["plain", "floor", "omnitenant"] as const).slice();
          if (pair % 2 === 1) order.reverse();
          for (const variant of order) samples[variant].push(await run(servers[variant]));
        }
        for (const server of Object.values(servers)) server.child.kill();
        const errors = Object.values(samples)
          .flat()
          .reduce((n, r) => n + r.errors, 0);
        const rps = (variant: keyof typeof samples) => median(samples[variant].map((r) => r.rps));
        const cpu = (variant: keyof typeof samples) =>
          samples[variant].reduce((n, r) => n + r.cpuUs * r.ok, 0) /
          samples[variant].reduce((n, r) => n + r.ok, 0);
        // requests/s ratios pair by pair (each pair ran within a second or two)
        const ratioTo = (variant: "floor" | "omnitenant") =>
          median(samples[variant].map((r, i) => r.rps / samples.plain[i]!.rps));
        const ratio = ratioTo("omnitenant");
        const floor = ratioTo("floor");
        const met = ratio >= TARGET && errors === 0;
        const name = framework === "hono" ? "Hono" : "Express";
        log(
          `${framework}: ${fmt.ops(rps("omnitenant"))} with omnitenant, ${fmt.ops(rps("floor"))} floor, ${fmt.ops(rps("plain"))} bare: ${fmt.ratio(ratio)} (floor ${fmt.ratio(floor)}); server CPU a request ${cpu("omnitenant").toFixed(1)} / ${cpu("floor").toFixed(1)} / ${cpu("plain").toFixed(1)} µs`,
        );
        rows.push({
          figure: "5 resolution",
          name: `${name} requests/s with tenant middleware`,
          result: fmt.ops(rps("omnitenant")),
          baseline: fmt.ops(rps("plain")),
          ratio,
          cpuRatio: cpu("omnitenant") / cpu("plain"),
          floor,
          target: `≥ ${TARGET.toFixed(2)}×`,
          met,
          floorBound: !met && errors === 0 && floor <= TARGET + 0.05 && ratio / floor >= 0.95,
          note: `server CPU a request: ${cpu("omnitenant").toFixed(1)} µs with omnitenant, ${cpu("floor").toFixed(1)} µs floor (Map lookup + AsyncLocalStorage.run), ${cpu("plain").toFixed(1)} µs bare; ${TENANTS} tenants, ${CONNECTIONS} keep-alive connections, ${pairs} rounds of ${slice} ms; ${errors} errors`,
          data: { framework, samples, errors },
        });
      }
      return rows;
    } finally {
      for (const child of children) child.kill();
      for (const close of closers.reverse()) await close().catch(() => {});
      await cleanup.dropDatabases(databases);
    }
  },
};
