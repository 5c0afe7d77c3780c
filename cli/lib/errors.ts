/**
 * Turns any failure into one line that names what to fix, and a stable `code` for `--json`. Stack traces
 * are printed only with `--debug`.
 */
import { OmnitenantError } from "../../src/errors.js";
import { connectionProblem } from "../../src/runtime.js";

/** A failure of the CLI itself (bad flags, a refused confirmation...). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code = "CLI_ERROR",
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = "CliError";
  }
}

const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ETIMEDOUT",
  "CONNECT_TIMEOUT",
  "28P01",
  "28000",
  "3D000",
]);

export interface DescribedError {
  code: string;
  message: string;
}

export function describeError(error: unknown): DescribedError {
  // drizzle wraps driver errors in "Failed query: <sql> params: <values>"; the driver's error says what is wrong.
  const wrapped = error as { query?: unknown; cause?: unknown } | undefined;
  if (typeof wrapped?.query === "string" && wrapped.cause) return describeError(wrapped.cause);
  if (error instanceof OmnitenantError || error instanceof CliError) {
    return { code: error.code, message: oneLine(error.message) };
  }
  const err = error as { name?: string; code?: unknown; message?: unknown } | undefined;
  if (err?.name === "CLIError") {
    // citty: a missing required flag, an enum value out of range, an unknown command
    return { code: "INVALID_ARGUMENTS", message: `${oneLine(String(err.message))} (see --help)` };
  }
  const code = typeof err?.code === "string" ? err.code : undefined;
  if (code && CONNECTION_CODES.has(code)) {
    return {
      code: "DATABASE_UNREACHABLE",
      message: `Cannot reach the database (${connectionProblem(error)}). Check masterUrl in omnitenant.config.ts (and the environment variable it reads) and that the server is running.`,
    };
  }
  if (code === "42P01" && /tenants|domains/.test(String(err?.message))) {
    return {
      code: "MASTER_NOT_MIGRATED",
      message: `${oneLine(String(err?.message))}: apply the master migrations first (npx drizzle-kit migrate).`,
    };
  }
  if (code === "SQLITE_ERROR" && /no such table: (tenants|domains)/.test(String(err?.message))) {
    return {
      code: "MASTER_NOT_MIGRATED",
      message: `${oneLine(String(err?.message))}: apply the master migrations first (npx drizzle-kit migrate).`,
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: code ?? "UNEXPECTED_ERROR", message: oneLine(message) || "Unexpected error." };
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}
