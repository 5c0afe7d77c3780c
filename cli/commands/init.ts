import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { defineCommand } from "citty";
import type { Dialect } from "../../src/runtime.js";
import { globalArgs } from "../lib/args.js";
import { CliError } from "../lib/errors.js";
import { cyan, gray, green, io, log, print, yellow } from "../lib/io.js";
import { packageVersion } from "../lib/package.js";
import { askSelect, askText } from "../lib/prompts.js";
import { detectDialect, outFolder, planScaffold, updatePackageJson, writeScaffold } from "../lib/scaffold.js";

const DIALECTS = ["postgresql", "sqlite"] as const;

export default defineCommand({
  meta: {
    name: "init",
    description:
      "Scaffold omnitenant into this app: config, master and tenant schemas, db module, drizzle-kit configs",
  },
  args: {
    dialect: {
      type: "enum",
      options: [...DIALECTS],
      description: "Database (default: sqlite if the app has better-sqlite3 and not postgres)",
    },
    out: {
      type: "string",
      description: "Folder of the schema files and the db module",
      default: "src/db",
      valueHint: "dir",
    },
    force: { type: "boolean", description: "Overwrite files that exist" },
    yes: { type: "boolean", alias: "y", description: "Ask nothing: take the flags and defaults" },
    debug: globalArgs.debug,
  },
  async run({ args, rawArgs }) {
    const root = process.cwd();
    const manifest = join(root, "package.json");
    if (!existsSync(manifest)) {
      throw new CliError(
        "No package.json in this folder: run omnitenant init in your app's root (npm init -y creates one).",
        "NO_PACKAGE_JSON",
      );
    }
    const manifestText = readFileSync(manifest, "utf8");
    const ask = args.yes !== true && io().interactive;
    let dialect: Dialect = (args.dialect as Dialect | undefined) ?? detectDialect(manifestText);
    if (ask && !args.dialect) dialect = (await askSelect("Database", [...DIALECTS], dialect)) as Dialect;
    let out = args.out;
    if (ask && !rawArgs.some((a) => a === "--out" || a.startsWith("--out="))) {
      out = await askText("Folder for the schema files and the db module", {
        initial: out,
        validate: (answer) => {
          try {
            outFolder(root, answer);
            return undefined;
          } catch (error) {
            return (error as Error).message;
          }
        },
      });
    }
    const folder = outFolder(root, out);
    const files = planScaffold({ root, dialect, out: folder, force: args.force === true });
    writeScaffold(root, files);
    const pkg = updatePackageJson(manifestText, dialect, packageVersion());
    if (pkg.text !== undefined) writeFileSync(manifest, pkg.text);

    print(`omnitenant init (${dialect}), files in ${folder}/`);
    for (const file of files) {
      const mark =
        file.action === "create"
          ? green("created    ")
          : file.action === "overwrite"
            ? yellow("overwritten")
            : gray(file.action === "unchanged" ? "unchanged  " : "exists     ");
      print(`  ${mark} ${file.path}`);
      if (file.action === "skip" && file.hint)
        print(`              ${gray(`kept yours; ${file.hint} (or run with --force)`)}`);
    }
    if (pkg.changes.length) {
      print("  package.json:");
      for (const change of pkg.changes) print(`    ${change}`);
    } else print(`  ${gray("package.json already has everything")}`);

    const changed =
      files.some((f) => f.action === "create" || f.action === "overwrite") || pkg.changes.length > 0;
    if (!changed) {
      log.success("Nothing to do: omnitenant is already set up here.");
      return;
    }
    const env =
      dialect === "postgresql"
        ? ["export DATABASE_URL=postgres://localhost:5432/app    # the master database"]
        : [];
    const steps = [
      ...(pkg.changes.some((c) => c.startsWith("dependencies") || c.startsWith("devDependencies"))
        ? ["npm install"]
        : []),
      ...env,
      "npx drizzle-kit generate                                    # master migrations",
      "npx drizzle-kit migrate                                     # apply them",
      "npx drizzle-kit generate --config drizzle.tenant.config.ts  # tenant migrations",
      "npx omnitenant create-tenant",
    ];
    print("\nNext:");
    for (const step of steps) print(`  ${cyan(step)}`);
    log.success(`omnitenant is set up (${resolve(root)}).`);
  },
});
