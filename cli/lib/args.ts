/** Flags every command takes, and helpers for what citty's parser leaves out. */
import type { ArgsDef } from "citty";
import { CliError } from "./errors.js";

export const globalArgs = {
  config: {
    type: "string",
    description: "Path of omnitenant.config.ts (default: found in this folder or its parents)",
    valueHint: "path",
  },
  debug: { type: "boolean", description: "Print stack traces of errors" },
} as const satisfies ArgsDef;

export const jsonArg = {
  json: { type: "boolean", description: "Print JSON (shapes in docs/cli.md) instead of text" },
} as const satisfies ArgsDef;

export const noInputArg = {
  input: {
    type: "boolean",
    default: true,
    description: "Ask questions in a terminal",
    negativeDescription: "Never ask: take the flags and defaults (needed without a terminal)",
  },
} as const satisfies ArgsDef;

/**
 * Every value of a flag given more than once (`--domain a --domain b`, `--domain=a`), comma-separated lists
 * split. citty keeps only the last one.
 */
export function repeated(rawArgs: readonly string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i]!;
    if (arg === "--") break;
    if (arg === `--${name}`) {
      const value = rawArgs[i + 1];
      if (value !== undefined && !value.startsWith("--")) {
        values.push(value);
        i++;
      }
    } else if (arg.startsWith(`--${name}=`)) values.push(arg.slice(name.length + 3));
  }
  return values
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter(Boolean);
}

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Rejects flags a command does not declare (citty ignores them, so a typo would pass silently). */
export function assertKnownFlags(rawArgs: readonly string[], argsDef: ArgsDef): void {
  const known = new Map<string, ArgsDef[string]>();
  for (const [name, def] of Object.entries(argsDef)) {
    if (def.type === "positional") continue;
    const alias = "alias" in def ? def.alias : undefined;
    const aliases = alias === undefined ? [] : Array.isArray(alias) ? alias : [alias];
    for (const n of [name, camel(name), kebab(name), ...aliases]) known.set(n, def);
  }
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i]!;
    if (arg === "--") return;
    if (!arg.startsWith("-") || arg === "-") continue;
    const name = arg.replace(/^--?/, "").split("=")[0]!;
    let def = known.get(name);
    if (!def && name.startsWith("no-")) {
      const positive = known.get(name.slice(3));
      if (positive?.type === "boolean") def = positive;
    }
    if (!def) throw new CliError(`Unknown option ${arg.split("=")[0]} (see --help).`, "INVALID_ARGUMENTS");
    if ((def.type === "string" || def.type === "enum") && !arg.includes("=")) {
      const value = rawArgs[i + 1];
      if (value === undefined || value.startsWith("--")) {
        throw new CliError(`Option ${arg} needs a value (see --help).`, "INVALID_ARGUMENTS");
      }
      i++;
    }
  }
}

/** A positive integer flag, or the default. */
export function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined || value === "") return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new CliError(
      `--${flag} must be a positive integer, got ${JSON.stringify(value)}.`,
      "INVALID_ARGUMENTS",
    );
  }
  return n;
}
