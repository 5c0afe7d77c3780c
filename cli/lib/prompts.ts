/** Questions in a terminal: defaults, and validation that asks again until the answer is valid. */
import { CliError } from "./errors.js";
import { io, log } from "./io.js";

const MAX_ATTEMPTS = 10;

/**
 * Whether this command may ask: `--no-input` means never; without a terminal it fails with `why` (what it
 * would ask, and the flags that answer instead) rather than waiting for input that cannot come.
 */
export function mayAsk(input: boolean | undefined, why: string): boolean {
  if (input === false) return false;
  if (!io().interactive) throw new CliError(`stdin is not a terminal: ${why}`, "INPUT_REQUIRED");
  return true;
}

/** Asks for text until `validate` returns nothing; returns the trimmed answer. */
export async function askText(
  message: string,
  {
    initial,
    validate,
  }: {
    initial?: string | undefined;
    validate?: (answer: string) => string | undefined | Promise<string | undefined>;
  } = {},
): Promise<string> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const raw = await io().prompt(message, {
      type: "text",
      ...(initial ? { default: initial, placeholder: initial } : {}),
    });
    const answer = String(raw ?? "").trim() || initial || "";
    const problem = await validate?.(answer);
    if (!problem) return answer;
    log.error(problem);
  }
  throw new CliError(`No valid answer to "${message}" after ${MAX_ATTEMPTS} attempts.`, "INPUT_INVALID");
}

export async function askSelect(message: string, options: string[], initial?: string): Promise<string> {
  const answer = await io().prompt(message, {
    type: "select",
    options,
    ...(initial ? { initial } : {}),
  });
  return String(answer);
}

export async function askConfirm(message: string, initial = false): Promise<boolean> {
  return (await io().prompt(message, { type: "confirm", initial })) === true;
}
