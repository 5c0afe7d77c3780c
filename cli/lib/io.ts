/**
 * Where the CLI reads and writes: data (tables, JSON) on stdout, everything else (progress, notes, errors) on
 * stderr, prompts only in a terminal. Every byte written goes through `redact`, so no password and no value
 * of a secret environment variable reaches the output, whatever produced the text. Tests swap `io` for an
 * in-memory one with `setIo`.
 */
import { consola } from "consola";
import { redactSecrets } from "../../src/errors.js";

export type PromptOptions =
  | { type: "text"; default?: string; placeholder?: string }
  | { type: "confirm"; initial?: boolean }
  | { type: "select"; options: string[]; initial?: string };

export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Whether questions can be asked (stdin is a terminal). */
  interactive: boolean;
  /** Whether stderr is a terminal (live progress may rewrite a line). */
  stderrIsTTY: boolean;
  /** Colours allowed on stderr. */
  color: boolean;
  prompt(message: string, options: PromptOptions): Promise<string | boolean>;
}

export class PromptCancelledError extends Error {
  readonly code = "PROMPT_CANCELLED";
  constructor() {
    super("Cancelled.");
  }
}

function terminalIo(): Io {
  const noColor = "NO_COLOR" in process.env || process.env.TERM === "dumb";
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    interactive: process.stdin.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    color: process.stderr.isTTY === true && !noColor,
    async prompt(message, options) {
      try {
        const answer = await consola.prompt(message, { ...options, cancel: "reject" } as never);
        return answer as unknown as string | boolean;
      } catch (error) {
        if ((error as Error).name === "ConsolaPromptCancelledError") throw new PromptCancelledError();
        throw error;
      }
    },
  };
}

let current: Io | undefined;
const secrets = new Set<string>();

/** The active io (the terminal unless a test set another). */
export function io(): Io {
  current ??= terminalIo();
  return current;
}

export function setIo(next: Io | undefined): void {
  current = next;
}

/**
 * Registers a value that must never be printed (a connection URL, a password, an environment variable's
 * value); its parts that carry secrets are registered too.
 */
export function addSecret(value: string | undefined): void {
  if (!value || value.length < 4) return;
  secrets.add(value);
  try {
    const url = new URL(value);
    if (url.password) secrets.add(decodeURIComponent(url.password)).add(url.password);
  } catch {
    // not a URL: the value itself is the secret
  }
}

export function clearSecrets(): void {
  secrets.clear();
}

/** Masks passwords in URLs and every registered secret. */
export function redact(text: string): string {
  let out = text;
  // Longest first, so a URL is masked whole before its password is looked for.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (out.includes(secret)) out = out.split(secret).join("***");
  }
  return redactSecrets(out);
}

/** A line of data on stdout. */
export function print(line = ""): void {
  io().stdout(`${redact(line)}\n`);
}

export function printJson(value: unknown): void {
  io().stdout(`${redact(JSON.stringify(value, null, 2))}\n`);
}

const paint = (code: number) => (text: string) => (io().color ? `\u001B[${code}m${text}\u001B[39m` : text);
export const green = paint(32);
export const yellow = paint(33);
export const red = paint(31);
export const gray = paint(90);
export const cyan = paint(36);

/** Notes, progress and problems, on stderr. */
export const log = {
  info: (message: string) => io().stderr(`${redact(message)}\n`),
  success: (message: string) => io().stderr(`${green("✔")} ${redact(message)}\n`),
  warn: (message: string) => io().stderr(`${yellow("⚠")} ${redact(message)}\n`),
  error: (message: string) => io().stderr(`${red("✖")} ${redact(message)}\n`),
};
