// The omnitenant CLI end to end, as a user gets it: the package built and packed, installed into a new app
// with its peers, and the bin run as a child process without a terminal (CI=true, no stdin): init, drizzle-kit
// generate + migrate, create-tenant in every mode, migrate-all-tenants with a failing tenant and the rerun,
// list-tenants --json, show-migrations, run, doctor, delete-tenant; the same for SQLite; and create-tenant's
// questions answered in a pseudo-terminal.
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createTestDatabase, DATABASE_URL, type TestDatabase } from "../helpers/pg.js";
import { buildAndPack, hasPty, installApp, listFiles, type RunResult, run, runInPty } from "./helpers.js";

const tmp = mkdtempSync(join(tmpdir(), "omnitenant-cli-"));
const app = join(tmp, "app");
const sqliteApp = join(app, "sqlite-app");
const bin = join(app, "node_modules/.bin/omnitenant");
const drizzleKit = join(app, "node_modules/.bin/drizzle-kit");
const tsc = join(app, "node_modules/.bin/tsc");

// The app connects as its own role (owner of its database, CREATEDB, no SUPERUSER/BYPASSRLS), as in production.
// Its URL carries a password (trust authentication ignores it) that must never be printed.
const suffix = randomBytes(4).toString("hex");
const role = `ot_cli_${suffix}`;
const password = `pw-${randomBytes(8).toString("hex")}`;
const databasePrefix = `otcli${suffix}_`;
let db: TestDatabase;
let appUrl: string;
let externalUrl: string;
const outputs: string[] = [];

function urlFor(database: string, user = role): string {
  const url = new URL(DATABASE_URL);
  url.username = user;
  url.password = password;
  url.pathname = `/${database}`;
  return url.toString();
}

function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env, CI: "true", NO_COLOR: "1" };
  delete base.DATABASE_URL;
  return { ...base, DATABASE_URL: appUrl, TENANT_EXT_URL: externalUrl, ...extra };
}

async function cli(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  const result = await run(options.cwd ?? app, bin, args, options.env ?? env());
  outputs.push(`$ omnitenant ${args.join(" ")}\n${result.stdout}${result.stderr}`);
  return result;
}

async function tool(file: string, args: string[], cwd = app): Promise<RunResult> {
  const result = await run(cwd, file, args, env(), 120_000);
  if (result.code !== 0) {
    // drizzle-kit loads schema files with require(): omnitenant's exports need a condition require() matches.
    const hint = /ERR_PACKAGE_PATH_NOT_EXPORTED/.test(result.stderr)
      ? '\nomnitenant\'s package.json "exports" entries need a "default" condition (drizzle-kit require()s schema files).'
      : "";
    throw new Error(`${file} ${args.join(" ")} failed:\n${result.stdout}\n${result.stderr}${hint}`);
  }
  return result;
}

/** The one line a failure prints (a ✖ line), no stack trace, a non-zero exit code. */
function expectOneLineError(result: RunResult, pattern: RegExp): void {
  expect(result.code, result.stdout + result.stderr).not.toBe(0);
  const errors = result.stderr.split("\n").filter((line) => line.startsWith("✖"));
  expect(errors, result.stderr).toHaveLength(1);
  expect(errors[0]).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

const json = <T>(result: RunResult): T => JSON.parse(result.stdout) as T;

interface TenantJson {
  tenantId: string;
  isolation: string;
  domains: { domain: string; isPrimary: boolean }[];
  config: Record<string, unknown>;
  migrations: { state: string; applied: string[]; pending: string[]; drifted: string[] } | null;
}

beforeAll(async () => {
  const started = Date.now();
  const [tarball, database] = await Promise.all([
    buildAndPack(tmp),
    createTestDatabase({ prefix: "omnitenant_cli", max: 2 }),
  ]);
  db = database;
  const admin = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create role "${role}" login createdb nosuperuser nobypassrls`);
    await admin.unsafe(`alter database "${db.name}" owner to "${role}"`);
  } finally {
    await admin.end();
  }
  appUrl = urlFor(db.name);
  externalUrl = urlFor(`${databasePrefix}ext`);
  await installApp(app, tarball);
  console.log(`cli e2e setup: ${Date.now() - started} ms`);
}, 240_000);

afterAll(async () => {
  const admin = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    const leftovers = await admin<{ datname: string }[]>`
      select datname from pg_database where left(datname, ${databasePrefix.length}) = ${databasePrefix}`;
    for (const { datname } of leftovers) await admin.unsafe(`drop database "${datname}" with (force)`);
    await db?.drop();
    await admin.unsafe(`drop role if exists "${role}"`);
  } finally {
    await admin.end();
  }
  rmSync(tmp, { recursive: true, force: true });
});

describe("omnitenant CLI, PostgreSQL app", () => {
  let tenantTag: string;

  test("--help lists every command and each command's flags", async () => {
    const help = await cli(["--help"]);
    expect(help.code).toBe(0);
    for (const command of [
      "init",
      "create-tenant",
      "list-tenants",
      "delete-tenant",
      "add-domain",
      "remove-domain",
      "migrate-tenant",
      "migrate-all-tenants",
      "show-migrations",
      "run",
      "doctor",
    ]) {
      expect(help.stdout).toContain(command);
    }
    const create = await cli(["create-tenant", "--help"]);
    expect(create.code).toBe(0);
    for (const flag of [
      "--tenant-id",
      "--name",
      "--isolation",
      "--domain",
      "--database-url-env",
      "--no-migrate",
      "--no-input",
      "--config",
      "--debug",
    ]) {
      expect(create.stdout).toContain(flag);
    }
    const unknown = await cli(["frobnicate"]);
    expectOneLineError(unknown, /Unknown command "frobnicate"/);
  });

  test("init scaffolds the app, and a second run changes nothing", async () => {
    const before = JSON.parse(readFileSync(join(app, "package.json"), "utf8"));
    const first = await cli(["init", "--yes"]);
    expect(first.code, first.stderr).toBe(0);
    const files = [
      "omnitenant.config.ts",
      "src/db/master-schema.ts",
      "src/db/tenant-template.ts",
      "src/db/tenant-schema.ts",
      "src/db/index.ts",
      "drizzle.config.ts",
      "drizzle.tenant.config.ts",
    ];
    for (const file of files)
      expect(first.stdout).toMatch(new RegExp(`created\\s+${file.replace(".", "\\.")}`));
    const pkg = JSON.parse(readFileSync(join(app, "package.json"), "utf8"));
    expect(pkg.scripts["tenants:migrate"]).toBe("omnitenant migrate-all-tenants --no-input");
    expect(pkg.scripts["tenants:generate"]).toContain("drizzle.tenant.config.ts");
    // Installed already (by the test): left as they were.
    expect(pkg.dependencies["drizzle-orm"]).toBe(before.dependencies["drizzle-orm"]);
    expect(first.stdout).toContain("package.json:");

    const stamps = files.map((f) => statSync(join(app, f)).mtimeMs);
    const manifest = readFileSync(join(app, "package.json"), "utf8");
    const second = await cli(["init", "--yes"]);
    expect(second.code).toBe(0);
    expect(second.stderr).toContain("Nothing to do");
    expect(files.map((f) => statSync(join(app, f)).mtimeMs)).toEqual(stamps);
    expect(readFileSync(join(app, "package.json"), "utf8")).toBe(manifest);

    // An edited file is kept without --force.
    const config = join(app, "omnitenant.config.ts");
    const edited = readFileSync(config, "utf8").replace(
      'databasePrefix: "tenant_"',
      `databasePrefix: "${databasePrefix}"`,
    );
    writeFileSync(config, edited);
    const third = await cli(["init", "--yes"]);
    expect(third.stdout).toMatch(/exists\s+omnitenant\.config\.ts/);
    expect(readFileSync(config, "utf8")).toBe(edited);
  });

  test("drizzle-kit generates both configs' migrations, and the master ones apply", async () => {
    await tool(drizzleKit, ["generate", "--name", "master"]);
    await tool(drizzleKit, ["generate", "--config", "drizzle.tenant.config.ts", "--name", "init"]);
    expect(listFiles(join(app, "drizzle/master")).some((f) => f.endsWith("_master.sql"))).toBe(true);
    const tenantSql = listFiles(join(app, "drizzle/tenant")).find((f) => f.endsWith("_init.sql"))!;
    expect(tenantSql).toBeDefined();
    tenantTag = tenantSql.replace(/\.sql$/, "");
    const sql = readFileSync(join(app, "drizzle/tenant", tenantSql), "utf8");
    expect(sql).toContain('CREATE TYPE "public"."task_status"');
    expect(sql).toContain("tasks_project_idx");
    await tool(drizzleKit, ["migrate"]);
  });

  test("failures are one line naming what to fix, without a stack trace", async () => {
    expectOneLineError(
      await cli(["list-tenants"], { env: env({ DATABASE_URL: "" }) }),
      /DATABASE_URL is not set/,
    );
    expectOneLineError(
      await cli(["list-tenants", "--config", "nope.config.ts"]),
      /Config file nope\.config\.ts does not exist/,
    );
    expectOneLineError(
      await cli(["list-tenants"], { cwd: tmp }),
      /No omnitenant\.config\.ts found .* omnitenant init/,
    );
    const unreachable = urlFor(db.name).replace(/:\d+\//, ":1/");
    expectOneLineError(
      await cli(["list-tenants"], { env: env({ DATABASE_URL: unreachable }) }),
      /Cannot reach the database \(connection refused/,
    );
    expectOneLineError(
      await cli(["create-tenant", "--tenant-id", "Bad_Id", "--isolation", "schema", "--no-input"]),
      /Invalid tenant id "Bad_Id"/,
    );
    expectOneLineError(
      await cli(["create-tenant", "--tenant-id", "x"]),
      /stdin is not a terminal: .*--no-input/,
    );
    expectOneLineError(
      await cli(["delete-tenant", "--tenant-id", "ghost", "--no-input"]),
      /No tenant found for id "ghost"/,
    );
    expectOneLineError(await cli(["list-tenants", "--tenant"]), /Unknown option --tenant/);
    expectOneLineError(
      await cli(["add-domain", "--domain", "x.test"]),
      /Missing required argument: --tenant-id/,
    );
    const withJson = await cli(["migrate-tenant", "--tenant-id", "ghost", "--json"]);
    expect(withJson.code).toBe(1);
    expect(json<{ error: { code: string } }>(withJson).error.code).toBe("TENANT_NOT_FOUND");
    const debug = await cli(["migrate-tenant", "--tenant-id", "ghost", "--debug"]);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });

  test("create-tenant --no-input in every mode", async () => {
    const schema = await cli([
      "create-tenant",
      "--tenant-id",
      "acme",
      "--name",
      "Acme Inc",
      "--isolation",
      "schema",
      "--domain",
      "acme.example.com",
      "--domain",
      "acme.test",
      "--no-input",
    ]);
    expect(schema.code, schema.stderr).toBe(0);
    expect(schema.stderr).toContain(`Created tenant "acme" (schema)`);
    expect(schema.stderr).toContain(tenantTag);

    const database = await cli([
      "create-tenant",
      "--tenant-id",
      "beta",
      "--name",
      "Beta",
      "--isolation",
      "database",
      "--no-input",
    ]);
    expect(database.code, database.stderr).toBe(0);
    const external = await cli([
      "create-tenant",
      "--tenant-id",
      "ext",
      "--name",
      "External",
      "--isolation",
      "database",
      "--database-url-env",
      "TENANT_EXT_URL",
      "--no-input",
      "--json",
    ]);
    expect(external.code, external.stderr).toBe(0);
    expect(json<{ tenant: TenantJson; applied: string[] }>(external)).toMatchObject({
      tenant: { tenantId: "ext", isolation: "database", config: { databaseUrlEnv: "TENANT_EXT_URL" } },
      applied: [tenantTag],
    });
    const table = await cli([
      "create-tenant",
      "--tenant-id",
      "gamma",
      "--name",
      "Gamma",
      "--isolation",
      "table",
      "--no-input",
    ]);
    expect(table.code, table.stderr).toBe(0);
    const later = await cli([
      "create-tenant",
      "--tenant-id",
      "delta",
      "--name",
      "Delta",
      "--isolation",
      "schema",
      "--no-migrate",
      "--no-input",
    ]);
    expect(later.code, later.stderr).toBe(0);
    expect(later.stderr).toContain("migrations not applied");

    const databases = await db.sql<{ datname: string }[]>`
      select datname from pg_database where left(datname, ${databasePrefix.length}) = ${databasePrefix} order by 1`;
    expect(databases.map((d) => d.datname)).toEqual([`${databasePrefix}beta`, `${databasePrefix}ext`]);
    expectOneLineError(
      await cli([
        "create-tenant",
        "--tenant-id",
        "acme",
        "--name",
        "Again",
        "--isolation",
        "schema",
        "--no-input",
      ]),
      /Cannot create tenant "acme"/,
    );
  });

  test("list-tenants --json, add-domain and remove-domain", async () => {
    expect(
      (await cli(["add-domain", "--tenant-id", "beta", "--domain", "Beta.Example.com", "--primary"])).code,
    ).toBe(0);
    expect((await cli(["add-domain", "--tenant-id", "beta", "--domain", "old.beta.test"])).code).toBe(0);
    expect((await cli(["remove-domain", "--domain", "old.beta.test"])).code).toBe(0);
    expectOneLineError(await cli(["remove-domain", "--domain", "old.beta.test"]), /No tenant has the domain/);
    expectOneLineError(
      await cli(["add-domain", "--tenant-id", "ext", "--domain", "acme.test"]),
      /already belongs to tenant "acme"/,
    );

    const listed = await cli(["list-tenants", "--json"]);
    expect(listed.code, listed.stderr).toBe(0);
    const { tenants } = json<{ tenants: TenantJson[] }>(listed);
    const byId = Object.fromEntries(tenants.map((t) => [t.tenantId, t]));
    expect(Object.keys(byId).sort()).toEqual(["acme", "beta", "delta", "ext", "gamma"]);
    expect(byId.acme).toMatchObject({
      isolation: "schema",
      domains: [
        { domain: "acme.example.com", isPrimary: true },
        { domain: "acme.test", isPrimary: false },
      ],
      migrations: { state: "up-to-date", applied: [tenantTag], pending: [] },
    });
    expect(byId.beta?.domains).toEqual([{ domain: "beta.example.com", isPrimary: true }]);
    expect(byId.delta?.migrations).toMatchObject({ state: "pending", pending: [tenantTag] });
    expect(byId.gamma?.migrations?.state).toBe("shared");
    expect(byId.ext?.config).toEqual({ databaseUrlEnv: "TENANT_EXT_URL" });

    const table = await cli(["list-tenants", "--isolation", "schema"]);
    expect(table.stdout).toMatch(/acme\s+Acme Inc\s+schema\s+acme\.example\.com\*, acme\.test\s+up to date/);
    expect(table.stdout).not.toContain("beta");
  });

  test("migrate-all-tenants: a failing tenant exits 1 with its error, the rerun after the fix applies only what is missing", async () => {
    // A new tenant migration (custom SQL, as drizzle-kit generate --custom makes it) ...
    await tool(drizzleKit, [
      "generate",
      "--custom",
      "--name",
      "notes",
      "--config",
      "drizzle.tenant.config.ts",
    ]);
    const notes = listFiles(join(app, "drizzle/tenant")).find((f) => f.endsWith("_notes.sql"))!;
    writeFileSync(
      join(app, "drizzle/tenant", notes),
      'CREATE TABLE "notes" ("id" serial PRIMARY KEY NOT NULL, "body" text NOT NULL);\n',
    );
    const notesTag = notes.replace(/\.sql$/, "");
    // ... that conflicts with a table someone created by hand in acme's schema.
    await db.sql.unsafe(`create table tenant_acme.notes (id int)`);

    const plan = await cli(["migrate-all-tenants", "--plan", "--json"]);
    expect(plan.code).toBe(0);
    const plans = json<{ tenants: { tenantId: string; pending: string[] }[] }>(plan).tenants;
    expect(plans.find((p) => p.tenantId === "acme")?.pending).toEqual([notesTag]);
    expect(plans.find((p) => p.tenantId === "delta")?.pending).toEqual([tenantTag, notesTag]);
    const stillPending = await cli(["migrate-tenant", "--tenant-id", "beta", "--plan"]);
    expect(stillPending.stdout).toContain(notesTag);

    expectOneLineError(
      await cli(["migrate-all-tenants"]),
      /stdin is not a terminal: migrate-all-tenants asks/,
    );
    const failing = await cli(["migrate-all-tenants", "--no-input", "--concurrency", "2"]);
    expect(failing.code).toBe(1);
    expect(failing.stderr).toMatch(/\[\d\/5\] acme failed/);
    expect(failing.stderr).toMatch(/✖ acme: Migrating tenant "acme" at .*notes.*already exists/);
    expect(failing.stdout).toMatch(/acme\s+schema\s+failed/);
    expect(failing.stdout).toMatch(/beta\s+database\s+applied\s+\S*notes/);
    expect(failing.stdout).toContain("5 tenant(s): 3 migrated, 1 up to date, 1 failed");

    await db.sql.unsafe(`drop table tenant_acme.notes`);
    const rerun = await cli(["migrate-all-tenants", "--no-input", "--json"]);
    expect(rerun.code, rerun.stdout).toBe(0);
    const summary = json<{
      ok: boolean;
      failed: number;
      tenants: { tenantId: string; status: string; applied: string[]; error: unknown }[];
    }>(rerun);
    expect(summary.ok).toBe(true);
    const applied = Object.fromEntries(summary.tenants.map((t) => [t.tenantId, t.applied]));
    expect(applied).toEqual({ acme: [notesTag], beta: [], delta: [], ext: [], gamma: [] });
    tenantTag = notesTag;
  });

  test("migrate-tenant --to stops after that migration; --plan changes nothing", async () => {
    await tool(drizzleKit, [
      "generate",
      "--custom",
      "--name",
      "labels",
      "--config",
      "drizzle.tenant.config.ts",
    ]);
    const labels = listFiles(join(app, "drizzle/tenant")).find((f) => f.endsWith("_labels.sql"))!;
    writeFileSync(
      join(app, "drizzle/tenant", labels),
      'CREATE TABLE "labels" ("id" serial PRIMARY KEY NOT NULL);\n',
    );
    const labelsTag = labels.replace(/\.sql$/, "");

    const plan = await cli(["migrate-tenant", "--tenant-id", "acme", "--plan", "--json"]);
    expect(json<{ plan: { pending: string[] } }>(plan).plan.pending).toEqual([labelsTag]);
    expect(
      json<{ plan: { pending: string[] } }>(
        await cli(["migrate-tenant", "--tenant-id", "acme", "--plan", "--json"]),
      ).plan.pending,
    ).toEqual([labelsTag]);

    const to = await cli(["migrate-tenant", "--tenant-id", "acme", "--to", tenantTag]);
    expect(to.code, to.stderr).toBe(0);
    expect(to.stderr).toContain("is up to date");
    const unknownTag = await cli(["migrate-tenant", "--tenant-id", "acme", "--to", "9999_nope"]);
    expectOneLineError(unknownTag, /There is no migration "9999_nope"/);
    const one = await cli(["migrate-tenant", "--tenant-id", "acme"]);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stderr).toContain(`applied ${labelsTag}`);
  });

  test("show-migrations: applied, pending and drifted per tenant", async () => {
    const shown = await cli(["show-migrations", "--json"]);
    expect(shown.code, shown.stderr).toBe(0);
    const result = json<{
      migrations: string[];
      tenants: { tenantId: string; state: string; applied: string[]; pending: string[]; drifted: string[] }[];
    }>(shown);
    expect(result.migrations).toHaveLength(3);
    const acme = result.tenants.find((t) => t.tenantId === "acme")!;
    expect(acme).toMatchObject({ state: "up-to-date", pending: [], drifted: [] });
    expect(acme.applied).toEqual(result.migrations);
    expect(result.tenants.find((t) => t.tenantId === "beta")).toMatchObject({
      state: "pending",
      pending: [result.migrations[2]],
    });

    // An applied migration edited afterwards is drift.
    const first = join(app, "drizzle/tenant", `${result.migrations[0]}.sql`);
    const original = readFileSync(first, "utf8");
    writeFileSync(first, `${original}\n-- edited\n`);
    try {
      const drift = await cli(["show-migrations", "--tenant-id", "acme"]);
      expect(drift.stdout).toMatch(/acme \(schema\): drift/);
      expect(drift.stdout).toMatch(/\[!\] \S+\s+drifted/);
    } finally {
      writeFileSync(first, original);
    }
    const all = await cli(["migrate-all-tenants", "--no-input"]);
    expect(all.code, all.stderr).toBe(0);
  });

  test("run executes a TypeScript module's default export in the tenant's context", async () => {
    writeFileSync(
      join(app, "seed.ts"),
      `import { tenantDb } from "./src/db/index.js";
import { projects } from "./src/db/tenant-schema.js";
import type { Tenant } from "omnitenant";

export default async ({ tenant, args }: { tenant: Tenant; args: string[] }) => {
  await tenantDb().insert(projects).values({ name: args[0] ?? "unnamed" });
  const rows = await tenantDb().query.projects.findMany();
  console.log(\`\${tenant.tenantId}: \${rows.map((r) => r.name).join(",")}\`);
};
`,
    );
    const acme = await cli(["run", "--tenant-id", "acme", "seed.ts", "first"]);
    expect(acme.code, acme.stderr).toBe(0);
    expect(acme.stdout.trim()).toBe("acme: first");
    const gamma = await cli(["run", "--tenant-id", "gamma", "seed.ts", "shared"]);
    expect(gamma.code, gamma.stderr).toBe(0);
    expect(gamma.stdout.trim()).toBe("gamma: shared");
    const ext = await cli(["run", "--tenant-id", "ext", "seed.ts", "far"]);
    expect(ext.stdout.trim()).toBe("ext: far");
    expectOneLineError(await cli(["run", "--tenant-id", "acme", "missing.ts"]), /missing\.ts does not exist/);
  });

  test("doctor: checks pass, then finds orphaned and missing storage and exits 1", async () => {
    const healthy = await cli(["doctor"]);
    expect(healthy.code, healthy.stdout).toBe(0);
    expect(healthy.stdout).toContain("The master database is reachable");
    expect(healthy.stdout).toMatch(/Table mode: 2 shared tables with row-level security enabled and forced/);

    await db.sql.unsafe(`create schema tenant_ghost`);
    await db.sql.unsafe(`drop schema tenant_delta cascade`);
    const sick = await cli(["doctor", "--json"]);
    expect(sick.code).toBe(1);
    const report = json<{
      ok: boolean;
      checks: { level: string; code: string; message: string; fix?: string; tenantId?: string }[];
    }>(sick);
    expect(report.ok).toBe(false);
    expect(report.checks).toContainEqual(
      expect.objectContaining({
        level: "warning",
        code: "ORPHAN_SCHEMA",
        message: expect.stringContaining("tenant_ghost"),
      }),
    );
    expect(report.checks).toContainEqual(
      expect.objectContaining({
        level: "error",
        code: "TENANT_STORAGE_MISSING",
        tenantId: "delta",
        fix: expect.stringContaining("delete-tenant"),
      }),
    );
    const text = await cli(["doctor"]);
    expect(text.stdout).toMatch(/✖ Tenant "delta" \(schema\) has a tenant row but its schema does not exist/);
    expect(text.stdout).toMatch(/→ .*delete-tenant --tenant-id delta/);

    // A superuser connection bypasses row-level security: an error while table-mode tenants exist.
    const superuser = await cli(["doctor", "--json"], { env: env({ DATABASE_URL: db.url }) });
    expect(json<{ checks: { level: string; code: string }[] }>(superuser).checks).toContainEqual(
      expect.objectContaining({ level: "error", code: "ROLE_BYPASSES_RLS" }),
    );
  });

  test("delete-tenant: confirmation required without --no-input, data dropped with --drop-data", async () => {
    expectOneLineError(
      await cli(["delete-tenant", "--tenant-id", "delta"]),
      /stdin is not a terminal: delete-tenant asks for confirmation/,
    );
    const keep = await cli(["delete-tenant", "--tenant-id", "delta", "--no-input"]);
    expect(keep.code, keep.stderr).toBe(0);
    const drop = await cli(["delete-tenant", "--tenant-id", "beta", "--drop-data", "--no-input", "--json"]);
    expect(drop.code, drop.stderr).toBe(0);
    expect(json(drop)).toEqual({ deleted: "beta", dataDropped: true });
    const databases = await db.sql<
      { datname: string }[]
    >`select datname from pg_database where datname = ${`${databasePrefix}beta`}`;
    expect(databases).toHaveLength(0);
    await db.sql.unsafe(`drop schema tenant_ghost`);
    const doctor = await cli(["doctor"]);
    expect(doctor.code, doctor.stdout).toBe(0);
    const left = json<{ tenants: TenantJson[] }>(await cli(["list-tenants", "--json"]));
    expect(left.tenants.map((t) => t.tenantId).sort()).toEqual(["acme", "ext", "gamma"]);
  });

  test.runIf(hasPty())("create-tenant asks in a terminal, and asks again after an invalid id", async () => {
    const terminal = env({ TERM: "xterm" });
    delete terminal.CI;
    const { code, output, answered } = await runInPty(
      app,
      `${bin} create-tenant`,
      [
        [/Tenant id/, "Not Valid\r"],
        [/Invalid tenant id "Not Valid"/, "acme\r"],
        [/Cannot create tenant "acme": a tenant with this id already exists/, "pty-co\r"],
        [/Name/, "PTY Co\r"],
        [/Isolation/, "\r"], // the first offered mode: schema
        [/Domains/, "pty.example.com, www.pty.test\r"],
        [/Apply the tenant migrations now\?/, "\r"],
      ],
      terminal,
    );
    outputs.push(output);
    expect(answered, output).toBe(7);
    expect(code, output).toBe(0);
    expect(output).toContain(`Created tenant "pty-co" (schema); domains: pty.example.com, pty.test`);
    const listed = json<{ tenants: TenantJson[] }>(await cli(["list-tenants", "--json"]));
    expect(listed.tenants.find((t) => t.tenantId === "pty-co")).toMatchObject({
      isolation: "schema",
      migrations: { state: "up-to-date" },
    });
  });

  test.runIf(hasPty())(
    "migrate-all-tenants in a terminal: confirmation, live progress, summary",
    async () => {
      await tool(drizzleKit, [
        "generate",
        "--custom",
        "--name",
        "tags",
        "--config",
        "drizzle.tenant.config.ts",
      ]);
      const tags = listFiles(join(app, "drizzle/tenant")).find((f) => f.endsWith("_tags.sql"))!;
      writeFileSync(
        join(app, "drizzle/tenant", tags),
        'CREATE TABLE "tags" ("id" serial PRIMARY KEY NOT NULL);\n',
      );
      const terminal = env({ TERM: "xterm" });
      delete terminal.CI;
      const { code, output, answered } = await runInPty(
        app,
        `${bin} migrate-all-tenants`,
        [[/Apply pending migrations to 3 of 4 tenant\(s\)\?/, "\r"]],
        terminal,
      );
      outputs.push(output);
      expect(answered, output).toBe(1);
      expect(code, output).toBe(0);
      expect(output).toMatch(/migrating \d\/4/);
      expect(output).toMatch(/acme\s+schema\s+applied\s+\S+_tags/);
      expect(output).toContain("4 tenant(s): 3 migrated, 1 up to date, 0 failed");
    },
  );
});

describe("omnitenant CLI, SQLite app", () => {
  test("init --dialect sqlite, drizzle-kit, create-tenant, migrate-all-tenants, list, doctor, delete", async () => {
    const sqliteEnv = env();
    mkdirSync(sqliteApp, { recursive: true });
    writeFileSync(
      join(sqliteApp, "package.json"),
      '{ "name": "sqlite-app", "private": true, "type": "module" }\n',
    );
    const init = await cli(["init", "--dialect", "sqlite", "--yes"], { cwd: sqliteApp });
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toMatch(/created\s+data\/\.gitignore/);
    expect(JSON.parse(readFileSync(join(sqliteApp, "package.json"), "utf8")).dependencies).toMatchObject({
      omnitenant: expect.any(String),
      "better-sqlite3": "^12.0.0",
      "drizzle-orm": expect.any(String),
    });
    await tool(drizzleKit, ["generate"], sqliteApp);
    await tool(drizzleKit, ["generate", "--config", "drizzle.tenant.config.ts"], sqliteApp);
    await tool(drizzleKit, ["migrate"], sqliteApp);

    const opts = { cwd: sqliteApp, env: sqliteEnv };
    const file = await cli(
      [
        "create-tenant",
        "--tenant-id",
        "one",
        "--name",
        "One",
        "--isolation",
        "database",
        "--domain",
        "one.test",
        "--no-input",
      ],
      opts,
    );
    expect(file.code, file.stderr).toBe(0);
    const shared = await cli(
      ["create-tenant", "--tenant-id", "two", "--name", "Two", "--isolation", "table", "--no-input"],
      opts,
    );
    expect(shared.code, shared.stderr).toBe(0);
    expectOneLineError(
      await cli(
        ["create-tenant", "--tenant-id", "three", "--name", "Three", "--isolation", "schema", "--no-input"],
        opts,
      ),
      /Isolation mode "schema" is not available: SQLite has no schemas/,
    );
    const migrated = await cli(["migrate-all-tenants", "--no-input", "--json"], opts);
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(json<{ ok: boolean; total: number }>(migrated)).toMatchObject({ ok: true, total: 2 });
    const { tenants } = json<{ tenants: TenantJson[] }>(await cli(["list-tenants", "--json"], opts));
    expect(tenants.map((t) => [t.tenantId, t.isolation, t.migrations?.state])).toEqual([
      ["one", "database", "up-to-date"],
      ["two", "table", "shared"],
    ]);
    const doctor = await cli(["doctor"], opts);
    expect(doctor.code, doctor.stdout).toBe(0);
    expect(listFiles(join(sqliteApp, "data/tenants"))).toContain("one.sqlite");
    const deleted = await cli(["delete-tenant", "--tenant-id", "one", "--drop-data", "--no-input"], opts);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(listFiles(join(sqliteApp, "data/tenants"))).not.toContain("one.sqlite");
  });
});

describe("the scaffolded code", () => {
  test("type-checks with tsc --noEmit (both dialects), with typed tenantDb() and masterDb()", async () => {
    writeFileSync(
      join(app, "tsconfig.json"),
      `${JSON.stringify(
        {
          compilerOptions: {
            target: "ES2022",
            module: "NodeNext",
            moduleResolution: "NodeNext",
            strict: true,
            noUncheckedIndexedAccess: true,
            skipLibCheck: true,
            noEmit: true,
            types: ["node"],
          },
          include: ["**/*.ts"],
          exclude: ["node_modules"],
        },
        null,
        2,
      )}\n`,
    );
    writeFileSync(
      join(app, "src/usage.ts"),
      `import { masterDb, omni, tenantDb } from "./db/index.js";

export async function projectNames(tenantId: string): Promise<string[]> {
  return omni.withTenant(tenantId, async () => {
    const rows = await tenantDb().query.projects.findMany({ with: { tasks: true } });
    const open: number = rows.flatMap((p) => p.tasks).filter((t) => t.status === "open").length;
    return rows.map((p) => \`\${p.name} (\${open})\`);
  });
}

export async function tenantIds(): Promise<string[]> {
  const rows = await masterDb().query.tenants.findMany({ with: { domains: true } });
  return rows.map((t) => t.tenantId);
}
`,
    );
    const result = await run(app, tsc, ["--noEmit", "-p", "."], env(), 120_000);
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });

  test("no output of any command contained a password or a secret URL", () => {
    const all = outputs.join("\n");
    expect(all.length).toBeGreaterThan(1000);
    expect(all).not.toContain(password);
    expect(all).not.toContain(appUrl);
    expect(all).not.toContain(externalUrl);
    expect(all).not.toContain(`${databasePrefix}ext`);
  });
});
