// The CLI's commands in-process (cheap): init's scaffold and package.json changes, create-tenant's questions
// with scripted answers, the non-terminal refusal, JSON shapes, one-line errors, redaction and flag checks.
// The end-to-end run of the packed bin is in e2e.test.ts.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { assertKnownFlags, repeated } from "../../cli/lib/args.js";
import { describeError } from "../../cli/lib/errors.js";
import { mask } from "../../cli/lib/format.js";
import { addSecret, clearSecrets, type Io, type PromptOptions, redact, setIo } from "../../cli/lib/io.js";
import { updatePackageJson } from "../../cli/lib/scaffold.js";
import { runCli } from "../../cli/main.js";
import { createOmnitenant } from "../../src/sqlite.js";
import { sqliteTestConfig } from "../fixtures/sqlite-app/config.js";

interface FakeIo extends Io {
  out: string;
  err: string;
  asked: string[];
}

/** An io that records output and answers prompts from a script (an answer per question, in order). */
function fakeIo({ interactive = false, answers = [] as Array<string | boolean> } = {}): FakeIo {
  const io: FakeIo = {
    out: "",
    err: "",
    asked: [],
    interactive,
    stderrIsTTY: false,
    color: false,
    stdout: (text) => {
      io.out += text;
    },
    stderr: (text) => {
      io.err += text;
    },
    async prompt(message: string, options: PromptOptions) {
      io.asked.push(message);
      if (answers.length === 0) throw new Error(`unexpected question: ${message}`);
      const answer = answers.shift()!;
      if (options.type === "text" && answer === "" && options.default) return options.default;
      return answer;
    },
  };
  return io;
}

let io: FakeIo;
beforeEach(() => {
  io = fakeIo();
  setIo(io);
});
afterEach(() => {
  setIo(undefined);
  clearSecrets();
});

describe("init", () => {
  let dir: string;
  const cwd = process.cwd();
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "omnitenant-init-"));
    process.chdir(dir);
  });
  afterEach(() => {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  });

  test("refuses a folder without package.json", async () => {
    expect(await runCli(["init", "--yes"])).toBe(1);
    expect(io.err).toMatch(/^✖ No package\.json in this folder/);
  });

  test("scaffolds the pg files with their paths, adds what package.json lacks, and reruns as a no-op", async () => {
    writeFileSync(
      join(dir, "package.json"),
      '{\n    "name": "app",\n    "dependencies": { "drizzle-orm": "0.44.7" },\n    "scripts": { "db:generate": "mine" }\n}\n',
    );
    expect(await runCli(["init", "--yes", "--out", "lib/database"])).toBe(0);
    const config = readFileSync(join(dir, "omnitenant.config.ts"), "utf8");
    expect(config).toContain('from "./lib/database/tenant-template.js"');
    expect(config).toContain('dialect: "postgresql"');
    expect(readFileSync(join(dir, "lib/database/index.ts"), "utf8")).toContain(
      'import config from "../../omnitenant.config.js"',
    );
    expect(readFileSync(join(dir, "drizzle.config.ts"), "utf8")).toContain(
      'schema: "./lib/database/master-schema.ts"',
    );
    expect(readFileSync(join(dir, "drizzle.tenant.config.ts"), "utf8")).toContain('out: "./drizzle/tenant"');
    for (const file of ["master-schema.ts", "tenant-template.ts", "tenant-schema.ts"]) {
      expect(readFileSync(join(dir, "lib/database", file), "utf8")).not.toContain("__");
    }
    const text = readFileSync(join(dir, "package.json"), "utf8");
    expect(text).toMatch(/^ {4}"name"/m); // indentation kept
    const pkg = JSON.parse(text);
    expect(pkg.dependencies).toMatchObject({
      "drizzle-orm": "0.44.7",
      postgres: "^3.4.0",
      omnitenant: expect.any(String),
    });
    expect(pkg.dependencies["better-sqlite3"]).toBeUndefined();
    expect(pkg.devDependencies["drizzle-kit"]).toBe("^0.31.0");
    expect(pkg.scripts["db:generate"]).toBe("mine");
    expect(io.out).toContain("dependencies: + postgres@^3.4.0");
    expect(io.out).not.toContain("drizzle-orm@");

    io = fakeIo();
    setIo(io);
    expect(await runCli(["init", "--yes", "--out", "lib/database"])).toBe(0);
    expect(io.err).toContain("Nothing to do");
    expect(readFileSync(join(dir, "package.json"), "utf8")).toBe(text);
  });

  test("keeps edited files unless --force", async () => {
    writeFileSync(join(dir, "package.json"), "{}\n");
    await runCli(["init", "--yes", "--dialect", "sqlite"]);
    writeFileSync(join(dir, "drizzle.config.ts"), "// mine\n");
    io = fakeIo();
    setIo(io);
    await runCli(["init", "--yes", "--dialect", "sqlite"]);
    expect(readFileSync(join(dir, "drizzle.config.ts"), "utf8")).toBe("// mine\n");
    expect(io.out).toMatch(/exists\s+drizzle\.config\.ts\n.*add the master schema file to its `schema` list/);
    await runCli(["init", "--yes", "--dialect", "sqlite", "--force"]);
    expect(readFileSync(join(dir, "drizzle.config.ts"), "utf8")).toContain('dialect: "sqlite"');
    expect(existsSync(join(dir, "data/.gitignore"))).toBe(true);
  });

  test("asks the dialect and the folder in a terminal; rejects a folder outside the app", async () => {
    writeFileSync(join(dir, "package.json"), '{ "dependencies": { "better-sqlite3": "^12.0.0" } }');
    io = fakeIo({ interactive: true, answers: ["sqlite", "../outside", "db"] });
    setIo(io);
    expect(await runCli(["init"])).toBe(0);
    expect(io.asked).toEqual([
      "Database",
      "Folder for the schema files and the db module",
      "Folder for the schema files and the db module",
    ]);
    expect(io.err).toContain("--out must be a folder inside the app");
    expect(readFileSync(join(dir, "omnitenant.config.ts"), "utf8")).toContain('dialect: "sqlite"');
    expect(existsSync(join(dir, "db/index.ts"))).toBe(true);
  });
});

describe("updatePackageJson", () => {
  test("counts a dependency in either section as present and lists every change", () => {
    const { changes, text } = updatePackageJson(
      JSON.stringify({ devDependencies: { omnitenant: "file:.." }, allowScripts: { esbuild: false } }),
      "sqlite",
      "1.2.3",
    );
    const pkg = JSON.parse(text!);
    expect(pkg.dependencies.omnitenant).toBeUndefined();
    expect(pkg.allowScripts).toEqual({ esbuild: false, "better-sqlite3": true });
    expect(changes).toContain("dependencies: + better-sqlite3@^12.0.0");
    expect(changes).not.toContain("allowScripts: + esbuild");
    expect(updatePackageJson(text!, "sqlite", "1.2.3")).toEqual({ changes: [], text: undefined });
  });
});

describe("commands against a SQLite app", () => {
  let dir: string;
  let configFile: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "omnitenant-cli-sqlite-"));
    const fixture = join(import.meta.dirname, "../fixtures/sqlite-app/config.ts");
    configFile = join(dir, "omnitenant.config.ts");
    writeFileSync(
      configFile,
      `import { sqliteTestConfig } from ${JSON.stringify(fixture)};\nexport default sqliteTestConfig(${JSON.stringify(dir)});\n`,
    );
    const omni = createOmnitenant(sqliteTestConfig(dir));
    await omni.migrateMaster();
    await omni.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const cli = (...args: string[]) => runCli([...args, "--config", configFile]);

  test("create-tenant asks for what the flags leave out, and asks again after invalid answers", async () => {
    io = fakeIo({
      interactive: true,
      answers: ["Bad Id", "qa", "", "database", "bad_domain!, qa.test", "qa.test, www.qa.example", true],
    });
    setIo(io);
    expect(await cli("create-tenant")).toBe(0);
    expect(io.asked).toEqual([
      "Tenant id (a-z, 0-9 and -, e.g. acme)",
      "Tenant id (a-z, 0-9 and -, e.g. acme)",
      "Name",
      "Isolation",
      "Domains (comma-separated, the first is primary; empty for none)",
      "Domains (comma-separated, the first is primary; empty for none)",
      "Apply the tenant migrations now?",
    ]);
    expect(io.err).toMatch(/✖ Invalid tenant id "Bad Id"/);
    expect(io.err).toMatch(/✖ Invalid domain "bad_domain!"/);
    expect(io.err).toMatch(
      /✔ Created tenant "qa" \(database\); domains: qa\.test, qa\.example; applied 2 migration/,
    );

    io = fakeIo({ interactive: true, answers: ["qa", "qb", "Q B"] });
    setIo(io);
    expect(await cli("create-tenant", "--isolation", "table", "--domain", "qb.test"), io.err).toBe(0);
    expect(io.err).toContain('Cannot create tenant "qa": a tenant with this id already exists');
    expect(io.asked).toEqual([
      "Tenant id (a-z, 0-9 and -, e.g. acme)",
      "Tenant id (a-z, 0-9 and -, e.g. acme)",
      "Name",
    ]);
  });

  test("without a terminal it refuses to ask; --no-input needs --isolation", async () => {
    expect(await cli("create-tenant", "--tenant-id", "nope")).toBe(1);
    expect(io.err).toBe(
      "✖ stdin is not a terminal: create-tenant asks for what the flags leave out; pass --tenant-id, --name and --isolation with --no-input.\n",
    );
    io = fakeIo();
    setIo(io);
    expect(await cli("create-tenant", "--tenant-id", "nope", "--no-input")).toBe(1);
    expect(io.err).toMatch(/^✖ --isolation is required with --no-input \(this app offers database, table\)/);
  });

  test("list-tenants --json, show-migrations --json, migrate-all-tenants --json", async () => {
    expect(await cli("list-tenants", "--json")).toBe(0);
    const { tenants } = JSON.parse(io.out);
    expect(tenants.map((t: { tenantId: string }) => t.tenantId)).toEqual(["qa", "qb"]);
    expect(tenants[0]).toEqual({
      tenantId: "qa",
      name: "qa",
      isolation: "database",
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      domains: [
        { domain: "qa.test", isPrimary: true },
        { domain: "qa.example", isPrimary: false },
      ],
      config: {},
      columns: { plan: "free" },
      migrations: {
        tenantId: "qa",
        isolation: "database",
        state: "up-to-date",
        applied: ["0000_init", "0001_project_description"],
        pending: [],
        drifted: [],
        unknown: [],
        error: null,
      },
    });

    io = fakeIo();
    setIo(io);
    expect(await cli("show-migrations", "--json", "--tenant-id", "qa")).toBe(0);
    expect(JSON.parse(io.out)).toMatchObject({
      migrations: ["0000_init", "0001_project_description"],
      tenants: [{ tenantId: "qa", state: "up-to-date" }],
    });

    io = fakeIo();
    setIo(io);
    expect(await cli("migrate-all-tenants", "--json", "--no-input")).toBe(0);
    expect(JSON.parse(io.out)).toEqual({
      ok: true,
      total: 2,
      applied: 0,
      upToDate: 2,
      failed: 0,
      durationMs: expect.any(Number),
      tenants: [
        { tenantId: "qa", status: "up-to-date", applied: [], durationMs: expect.any(Number), error: null },
        { tenantId: "qb", status: "up-to-date", applied: [], durationMs: expect.any(Number), error: null },
      ],
    });
    expect(io.err).toBe("");
  });

  test("migrate-all-tenants asks in a terminal only when something is pending", async () => {
    io = fakeIo({ interactive: true, answers: [] });
    setIo(io);
    expect(await cli("migrate-all-tenants")).toBe(0);
    expect(io.asked).toEqual([]);
    expect(io.out).toContain("2 tenant(s): 0 migrated, 2 up to date, 0 failed");
  });

  test("delete-tenant asks for confirmation, and for the id before dropping data", async () => {
    io = fakeIo({ interactive: true, answers: [false] });
    setIo(io);
    expect(await cli("delete-tenant", "--tenant-id", "qb")).toBe(1);
    expect(io.err).toBe("✖ Not confirmed; nothing was deleted.\n");
    io = fakeIo({ interactive: true, answers: ["qb"] });
    setIo(io);
    expect(await cli("delete-tenant", "--tenant-id", "qa", "--drop-data")).toBe(1);
    io = fakeIo({ interactive: true, answers: ["qa"] });
    setIo(io);
    expect(await cli("delete-tenant", "--tenant-id", "qa", "--drop-data")).toBe(0);
    expect(existsSync(join(dir, "tenants/qa.sqlite"))).toBe(false);
  });

  test("doctor --json", async () => {
    expect(await cli("doctor", "--json")).toBe(0);
    const report = JSON.parse(io.out);
    expect(report).toMatchObject({ ok: true, errors: 0 });
    expect(report.checks.map((c: { code: string }) => c.code)).toEqual(
      expect.arrayContaining(["MASTER_REACHABLE", "MASTER_MIGRATIONS", "TENANT_MIGRATIONS", "SHARED_TABLES"]),
    );
  });
});

describe("output and errors", () => {
  test("redact masks URL passwords and registered secrets, whole URLs first", () => {
    addSecret("postgres://app:s3cr3t-pw@db.internal:5432/main");
    expect(redact("x postgres://app:s3cr3t-pw@db.internal:5432/main y")).toBe("x *** y");
    expect(redact("password was s3cr3t-pw")).toBe("password was ***");
    expect(redact("mysql://u:other@h/db")).toBe("mysql://u:***@h/db");
  });

  test("mask hides values under secret-looking keys", () => {
    expect(
      mask({ databaseUrlEnv: "X_URL", apiToken: "t0k3n", nested: { password: "p" }, at: new Date(0) }),
    ).toEqual({
      databaseUrlEnv: "X_URL",
      apiToken: "***",
      nested: { password: "***" },
      at: "1970-01-01T00:00:00.000Z",
    });
  });

  test("describeError: drizzle's wrapper, connection failures, citty's argument errors", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 10.0.0.7:5432"), { code: "ECONNREFUSED" });
    const wrapped = Object.assign(new Error("Failed query: select 1\nparams: "), {
      query: "select 1",
      cause: refused,
    });
    expect(describeError(wrapped)).toEqual({
      code: "DATABASE_UNREACHABLE",
      message: expect.stringMatching(/^Cannot reach the database \(connection refused, ECONNREFUSED\)/),
    });
    expect(describeError(wrapped).message).not.toContain("10.0.0.7");
    const missing = Object.assign(new Error("Missing required argument: --tenant-id"), { name: "CLIError" });
    expect(describeError(missing)).toEqual({
      code: "INVALID_ARGUMENTS",
      message: "Missing required argument: --tenant-id (see --help)",
    });
  });

  test("unknown commands and flags are one line; --help prints usage", async () => {
    expect(await runCli(["nope"])).toBe(1);
    expect(io.err).toMatch(/^✖ Unknown command "nope"\. Commands: init, create-tenant/);
    expect(await runCli(["list-tenants", "--help"])).toBe(0);
    expect(io.out).toContain("--isolation");
    expect(io.out).toContain("--json");
    expect(() =>
      assertKnownFlags(["--tenant-id", "a", "--no-input", "--json"], {
        "tenant-id": { type: "string" },
        input: { type: "boolean" },
        json: { type: "boolean" },
      }),
    ).not.toThrow();
    expect(() => assertKnownFlags(["--tenantid", "a"], { "tenant-id": { type: "string" } })).toThrow(
      /Unknown option --tenantid/,
    );
    expect(() => assertKnownFlags(["--tenant-id"], { "tenant-id": { type: "string" } })).toThrow(
      /needs a value/,
    );
    expect(
      repeated(["--domain", "a.test", "--domain=b.test,c.test", "--x", "--domain", "d.test"], "domain"),
    ).toEqual(["a.test", "b.test", "c.test", "d.test"]);
  });
});
