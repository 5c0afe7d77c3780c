/**
 * What `omnitenant init` writes: the files of templates/<dialect>/ with their paths filled in, and the
 * dependencies and scripts the app's package.json lacks. Nothing is overwritten without `force`, so a second
 * run changes nothing.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, posix, relative, resolve, sep } from "node:path";
import type { Dialect } from "../../src/runtime.js";
import { CliError } from "./errors.js";
import { templatesDir } from "./package.js";

export interface ScaffoldFile {
  /** Path relative to the app's root, with `/`. */
  path: string;
  content: string;
  /** `create`: new; `overwrite`: exists and differs, --force given; `skip`: exists (or identical). */
  action: "create" | "overwrite" | "skip" | "unchanged";
  /** For a skipped file: what to do by hand. */
  hint?: string;
}

/** The files of the scaffold: `[template file, destination]`; `OUT` is the --out folder. */
const LAYOUT: Array<[string, (out: string) => string, string?]> = [
  ["omnitenant.config.ts", () => "omnitenant.config.ts"],
  [
    "master-schema.ts",
    (out) => `${out}/master-schema.ts`,
    "export pgTenantTables()/sqliteTenantTables() from your master schema",
  ],
  ["tenant-template.ts", (out) => `${out}/tenant-template.ts`],
  ["tenant-schema.ts", (out) => `${out}/tenant-schema.ts`],
  [
    "index.ts",
    (out) => `${out}/index.ts`,
    "export omni, masterDb and tenantDb from createOmnitenant(config)",
  ],
  [
    "drizzle.config.ts",
    () => "drizzle.config.ts",
    "add the master schema file to its `schema` list (and out: ./drizzle/master in omnitenant.config.ts)",
  ],
  ["drizzle.tenant.config.ts", () => "drizzle.tenant.config.ts"],
];

/** Normalises --out: relative to the app, inside it, with `/`. */
export function outFolder(root: string, out: string): string {
  const absolute = resolve(root, out);
  const rel = relative(root, absolute);
  if (rel === "" || rel.startsWith("..") || resolve(rel) === rel) {
    throw new CliError(
      `--out must be a folder inside the app, got ${JSON.stringify(out)}.`,
      "INVALID_ARGUMENTS",
    );
  }
  return rel.split(sep).join("/");
}

export function planScaffold({
  root,
  dialect,
  out,
  force,
}: {
  root: string;
  dialect: Dialect;
  out: string;
  force: boolean;
}): ScaffoldFile[] {
  const source = join(templatesDir(), dialect === "postgresql" ? "pg" : "sqlite");
  const configFromOut = posix.relative(out, "omnitenant.config.js");
  const fill = (text: string) =>
    text
      .replaceAll("__OUT__", out)
      .replaceAll("__CONFIG__", configFromOut.startsWith(".") ? configFromOut : `./${configFromOut}`);
  const files: Array<[string, string, string?]> = LAYOUT.map(([template, target, hint]) => [
    fill(readFileSync(join(source, template), "utf8")),
    target(out),
    hint,
  ]);
  if (dialect === "sqlite")
    files.push([readFileSync(join(source, "data.gitignore"), "utf8"), "data/.gitignore"]);
  return files.map(([content, path, hint]) => {
    const target = join(root, path);
    if (!existsSync(target)) return { path, content, action: "create" };
    if (readFileSync(target, "utf8") === content) return { path, content, action: "unchanged" };
    if (force) return { path, content, action: "overwrite" };
    return { path, content, action: "skip", ...(hint ? { hint } : {}) };
  });
}

export function writeScaffold(root: string, files: readonly ScaffoldFile[]): void {
  for (const file of files) {
    if (file.action !== "create" && file.action !== "overwrite") continue;
    const target = join(root, file.path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, file.content);
  }
}

interface PackageJson {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  scripts?: Record<string, string>;
  allowScripts?: Record<string, boolean | string>;
  [key: string]: unknown;
}

/** What the scaffold needs in package.json, per dialect. */
export function packageNeeds(dialect: Dialect, version: string) {
  const driver: Record<string, string> =
    dialect === "postgresql" ? { postgres: "^3.4.0" } : { "better-sqlite3": "^12.0.0" };
  return {
    dependencies: { omnitenant: `^${version}`, "drizzle-orm": "^0.45.0", ...driver },
    devDependencies: {
      "drizzle-kit": "^0.31.0",
      "@types/node": "^20.11.0",
      ...(dialect === "sqlite" ? { "@types/better-sqlite3": "^9.6.0" } : {}),
    },
    scripts: {
      "db:generate": "drizzle-kit generate",
      "db:migrate": "drizzle-kit migrate",
      "tenants:generate": "drizzle-kit generate --config drizzle.tenant.config.ts",
      "tenants:migrate": "omnitenant migrate-all-tenants --no-input",
    },
    // npm 11 runs install scripts only of the packages listed here.
    allowScripts: { esbuild: true, ...(dialect === "sqlite" ? { "better-sqlite3": true } : {}) } as Record<
      string,
      boolean
    >,
  };
}

/**
 * Adds what package.json lacks (a dependency present in either section counts as present; nothing is
 * replaced). Returns the changes, one line each, and the new text (undefined when nothing changed).
 */
export function updatePackageJson(
  text: string,
  dialect: Dialect,
  version: string,
): { changes: string[]; text: string | undefined } {
  let pkg: PackageJson;
  try {
    pkg = JSON.parse(text) as PackageJson;
  } catch {
    throw new CliError("package.json is not valid JSON; fix it and run init again.", "INVALID_PACKAGE_JSON");
  }
  const needs = packageNeeds(dialect, version);
  const changes: string[] = [];
  const has = (name: string) => Boolean(pkg.dependencies?.[name] ?? pkg.devDependencies?.[name]);
  for (const section of ["dependencies", "devDependencies"] as const) {
    for (const [name, range] of Object.entries(needs[section])) {
      if (has(name)) continue;
      pkg[section] = { ...(pkg[section] ?? {}), [name]: range };
      changes.push(`${section}: + ${name}@${range}`);
    }
  }
  for (const [name, command] of Object.entries(needs.scripts)) {
    if (pkg.scripts?.[name] !== undefined) continue;
    pkg.scripts = { ...(pkg.scripts ?? {}), [name]: command };
    changes.push(`scripts: + ${name} = ${command}`);
  }
  for (const [name, allowed] of Object.entries(needs.allowScripts)) {
    if (pkg.allowScripts?.[name] !== undefined) continue;
    pkg.allowScripts = { ...(pkg.allowScripts ?? {}), [name]: allowed };
    changes.push(`allowScripts: + ${name}`);
  }
  if (changes.length === 0) return { changes, text: undefined };
  for (const section of ["dependencies", "devDependencies"] as const) {
    if (pkg[section]) pkg[section] = sortKeys(pkg[section]!);
  }
  const indent = /^[ \t]+(?=")/m.exec(text)?.[0] ?? "  ";
  return { changes, text: `${JSON.stringify(pkg, null, indent)}${text.endsWith("\n") ? "\n" : ""}` };
}

function sortKeys(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}

/** The dialect an app most likely wants: SQLite if it has better-sqlite3 and not postgres. */
export function detectDialect(text: string | undefined): Dialect {
  if (!text) return "postgresql";
  try {
    const pkg = JSON.parse(text) as PackageJson;
    const deps = { ...pkg.dependencies, ...pkg.devDependencies };
    return deps["better-sqlite3"] && !deps.postgres ? "sqlite" : "postgresql";
  } catch {
    return "postgresql";
  }
}
