// Helpers of the CLI's end-to-end tests: build and pack omnitenant, install it into a temporary app, run the
// bin as a child process (no terminal), or in a pseudo-terminal (util-linux `script`) answering its prompts.
import { execFile, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);
export const repoRoot = join(import.meta.dirname, "..", "..");

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `npm run build` into a staging folder (the same `tsc -p tsconfig.build.json`, so parallel work on the
 * repository's dist/ is not disturbed), then `npm pack` of it: the tarball a user would install.
 */
export async function buildAndPack(tmp: string): Promise<string> {
  const stage = join(tmp, "stage");
  mkdirSync(stage, { recursive: true });
  await exec(
    process.execPath,
    [
      join(repoRoot, "node_modules/typescript/bin/tsc"),
      "-p",
      "tsconfig.build.json",
      "--outDir",
      join(stage, "dist"),
    ],
    {
      cwd: repoRoot,
    },
  );
  cpSync(join(repoRoot, "package.json"), join(stage, "package.json"));
  cpSync(join(repoRoot, "templates"), join(stage, "templates"), { recursive: true });
  const { stdout } = await exec("npm", ["pack", "--pack-destination", tmp, "--json"], { cwd: stage });
  const [packed] = JSON.parse(stdout) as [{ filename: string }];
  return join(tmp, packed.filename);
}

/**
 * Installs the tarball and its peers into a new app (package.json with type module). Install scripts are
 * skipped: better-sqlite3 would compile for a minute. Its binding is taken from the repository's own
 * better-sqlite3 when the versions match (same Node, same machine), as prebuild-install would download it;
 * otherwise it is rebuilt.
 */
export async function installApp(dir: string, tarball: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "package.json"),
    `${JSON.stringify(
      {
        name: "omnitenant-e2e-app",
        private: true,
        type: "module",
        allowScripts: { "better-sqlite3": true, esbuild: true },
      },
      null,
      2,
    )}\n`,
  );
  await exec(
    "npm",
    [
      "install",
      "--prefer-offline",
      "--no-audit",
      "--no-fund",
      "--ignore-scripts",
      tarball,
      "drizzle-orm@^0.45.0",
      "drizzle-kit@^0.31.0",
      "postgres@^3.4.0",
      "better-sqlite3@^12.0.0",
      "typescript@5.9",
      "@types/node@^20.11.0",
      "@types/better-sqlite3",
    ],
    { cwd: dir, maxBuffer: 16 * 1024 * 1024 },
  );
  const version = (path: string) =>
    (JSON.parse(readFileSync(join(path, "package.json"), "utf8")) as { version: string }).version;
  const ours = join(repoRoot, "node_modules/better-sqlite3");
  const theirs = join(dir, "node_modules/better-sqlite3");
  const binding = "build/Release/better_sqlite3.node";
  if (existsSync(join(ours, binding)) && version(ours) === version(theirs)) {
    mkdirSync(join(theirs, "build/Release"), { recursive: true });
    cpSync(join(ours, binding), join(theirs, binding));
  } else {
    await exec("npm", ["rebuild", "better-sqlite3"], { cwd: dir });
  }
}

/** Runs a program without a terminal (stdin closed); never rejects. */
export function run(
  cwd: string,
  file: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 60_000,
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d;
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[A-Za-z]`, "g");
export const stripAnsi = (text: string) => text.replace(ANSI, "");

/**
 * Runs `command` in a pseudo-terminal (`script -qfec`, 120 columns) and answers each prompt when its text
 * appears: `[pattern, keys]` in order (`\r` is Enter). Resolves with the exit code and the terminal's text.
 */
export function runInPty(
  cwd: string,
  command: string,
  answers: Array<[RegExp, string]>,
  env: NodeJS.ProcessEnv,
  timeoutMs = 30_000,
): Promise<{ code: number; output: string; answered: number }> {
  return new Promise((resolve) => {
    const child = spawn("script", ["-qfec", `stty cols 120 rows 40; ${command}`, "/dev/null"], {
      cwd,
      env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let output = "";
    let from = 0;
    let step = 0;
    let delay = 0;
    const onData = (d: Buffer) => {
      output += stripAnsi(d.toString());
      for (;;) {
        const next = answers[step];
        const match = next ? next[0].exec(output.slice(from)) : null;
        if (!next || !match) return;
        step++;
        from += match.index + match[0].length;
        // clack reads keys once its prompt is drawn; give it a moment, in order.
        delay += 150;
        setTimeout(() => {
          delay -= 150;
          child.stdin.write(next[1]);
        }, delay);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, output, answered: step });
    });
  });
}

export function listFiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}

export function hasPty(): boolean {
  return ["/usr/bin/script", "/bin/script"].some((p) => existsSync(p));
}
