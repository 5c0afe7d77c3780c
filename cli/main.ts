/**
 * The `omnitenant` command: finds the subcommand, prints help, runs it, and turns every failure into one
 * line on stderr and a non-zero exit code (the stack only with --debug).
 */
import { type ArgsDef, type CommandDef, defineCommand, renderUsage, runCommand } from "citty";
import { assertKnownFlags, globalArgs } from "./lib/args.js";
import { describeError } from "./lib/errors.js";
import { cyan, log, print, printJson, redact } from "./lib/io.js";
import { packageVersion } from "./lib/package.js";

type Loader = () => Promise<CommandDef<any>>;

/** Every command, one file each, loaded on first use. */
export const commands: Record<string, Loader> = {
  init: () => import("./commands/init.js").then((m) => m.default),
  "create-tenant": () => import("./commands/create-tenant.js").then((m) => m.default),
  "list-tenants": () => import("./commands/list-tenants.js").then((m) => m.default),
  "delete-tenant": () => import("./commands/delete-tenant.js").then((m) => m.default),
  "add-domain": () => import("./commands/add-domain.js").then((m) => m.default),
  "remove-domain": () => import("./commands/remove-domain.js").then((m) => m.default),
  "migrate-tenant": () => import("./commands/migrate-tenant.js").then((m) => m.default),
  "migrate-all-tenants": () => import("./commands/migrate-all-tenants.js").then((m) => m.default),
  "show-migrations": () => import("./commands/show-migrations.js").then((m) => m.default),
  run: () => import("./commands/run.js").then((m) => m.default),
  doctor: () => import("./commands/doctor.js").then((m) => m.default),
};

export const main = defineCommand({
  meta: {
    name: "omnitenant",
    version: packageVersion(),
    description: "Multi-tenancy for Drizzle ORM: tenants, their domains and their migrations",
  },
  args: globalArgs,
  subCommands: commands,
});

/** Runs the CLI with `argv` (without node and the script); resolves to the exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const index = commandIndex(argv);
  const name = index >= 0 ? argv[index]! : undefined;
  const rest = index >= 0 ? [...argv.slice(0, index), ...argv.slice(index + 1)] : [...argv];
  const debug = rest.includes("--debug");
  const json = rest.includes("--json");

  if (!name) {
    if (rest.includes("--version") || rest.includes("-v")) {
      print(packageVersion());
      return 0;
    }
    print(await renderUsage(main));
    return rest.includes("--help") || rest.includes("-h") ? 0 : 1;
  }
  const loader = commands[name];
  if (!loader) {
    log.error(
      `Unknown command "${name}". Commands: ${Object.keys(commands).join(", ")} (omnitenant --help).`,
    );
    return 1;
  }
  const command = await loader();
  if (rest.includes("--help") || rest.includes("-h")) {
    print(await renderUsage(command, main));
    return 0;
  }
  try {
    assertKnownFlags(rest, (command.args ?? {}) as ArgsDef);
    const { result } = await runCommand(command, { rawArgs: rest });
    return typeof result === "number" ? result : 0;
  } catch (error) {
    const { code, message } = describeError(error);
    if (json) printJson({ error: { code, message } });
    log.error(message);
    if (debug) {
      log.info(redact(String((error as Error)?.stack ?? error)));
      const cause = (error as { cause?: unknown })?.cause;
      if (cause) log.info(`Caused by: ${redact(String((cause as Error)?.stack ?? cause))}`);
    } else if (code === "UNEXPECTED_ERROR") {
      log.info(`Run it again with ${cyan("--debug")} for details.`);
    }
    return (error as { exitCode?: number })?.exitCode ?? 1;
  }
}

/** Position of the command name: the first argument that is neither a flag nor the value of --config. */
function commandIndex(argv: readonly string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") return -1;
    if (arg === "--config") {
      i++;
      continue;
    }
    if (!arg.startsWith("-")) return i;
  }
  return -1;
}
