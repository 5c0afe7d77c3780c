// Where the benchmarks run and how everything they create is removed again, also on failure and Ctrl-C.
import { randomBytes } from "node:crypto";
import postgres, { type Sql } from "postgres";

export const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** A name unique to this run: `omnitenant_bench_<random>` (databases, roles, Redis key prefix). */
export const RUN_ID = `omnitenant_bench_${randomBytes(4).toString("hex")}`;

/** `url` with another database and, optionally, another user (no password: the bench server trusts 127.0.0.1). */
export function urlFor(database: string, user?: string, base = DATABASE_URL): string {
  const url = new URL(base);
  url.pathname = `/${encodeURIComponent(database)}`;
  if (user) {
    url.username = user;
    url.password = "";
  }
  return url.toString();
}

export const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

type Closer = () => Promise<unknown> | unknown;

/**
 * Everything a run creates, removed in reverse: clients and servers first (closers), then the databases
 * (DROP … WITH (FORCE)), then the roles. `run()` is idempotent and is also called on SIGINT/SIGTERM.
 */
class Cleanup {
  readonly #closers: Closer[] = [];
  readonly #databases = new Set<string>();
  readonly #roles = new Set<string>();
  #running: Promise<void> | undefined;

  onClose(closer: Closer): void {
    this.#closers.push(closer);
  }

  database(name: string): string {
    this.#databases.add(name);
    return name;
  }

  role(name: string): string {
    this.#roles.add(name);
    return name;
  }

  /** Drops the named databases now (e.g. at the end of one suite) and forgets them. */
  async dropDatabases(names: Iterable<string>, concurrency = 4): Promise<void> {
    const list = [...names];
    const admin = postgres(DATABASE_URL, { max: concurrency, onnotice: () => {} });
    try {
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < list.length) {
            const name = list[next++]!;
            await admin.unsafe(`drop database if exists ${quote(name)} with (force)`);
            this.#databases.delete(name);
          }
        }),
      );
    } finally {
      await admin.end({ timeout: 5 });
    }
  }

  run(): Promise<void> {
    this.#running ??= this.#run();
    return this.#running;
  }

  async #run(): Promise<void> {
    for (const closer of this.#closers.splice(0).reverse()) {
      try {
        await closer();
      } catch {
        // keep cleaning
      }
    }
    const admin = postgres(DATABASE_URL, { max: 4, onnotice: () => {} });
    try {
      // Anything named after this run, also databases a crashed suite did not get to register.
      const rows = await admin<{ datname: string }[]>`
        select datname from pg_database where datname like ${`${RUN_ID}%`}`;
      for (const { datname } of rows) this.#databases.add(datname);
      if (this.#databases.size > 20)
        process.stderr.write(`bench: dropping ${this.#databases.size} databases…\n`);
      await this.dropDatabases(this.#databases);
      for (const role of this.#roles) {
        try {
          await admin.unsafe(`drop owned by ${quote(role)} cascade`);
        } catch {
          // the role may own nothing in the current database
        }
        await admin.unsafe(`drop role if exists ${quote(role)}`);
      }
    } finally {
      await admin.end({ timeout: 5 });
    }
  }
}

export const cleanup = new Cleanup();

let signalled = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (signalled) process.exit(130);
    signalled = true;
    process.stderr.write(`\nbench: ${signal}, cleaning up (again to force quit)…\n`);
    cleanup.run().finally(() => process.exit(130));
  });
}

/** A superuser client on the maintenance database (CREATE/DROP DATABASE, roles, pg_stat_activity). */
export function adminClient(max = 2): Sql {
  const sql = postgres(DATABASE_URL, { max, onnotice: () => {} });
  cleanup.onClose(() => sql.end({ timeout: 5 }));
  return sql;
}

/** A login role the apps connect as: not a superuser and without BYPASSRLS, so table mode's RLS applies. */
export async function createBenchRole(admin: Sql, suffix: string): Promise<string> {
  const role = cleanup.role(`${RUN_ID}_${suffix}`);
  await admin.unsafe(`create role ${quote(role)} login nosuperuser nobypassrls`);
  return role;
}

/** An empty database named `<RUN_ID>_<suffix>`, owned by `owner`, dropped WITH (FORCE) at the end. */
export async function createBenchDatabase(
  admin: Sql,
  suffix: string,
  { owner, template }: { owner?: string; template?: string } = {},
): Promise<{ name: string; url: string }> {
  const name = cleanup.database(`${RUN_ID}_${suffix}`);
  await admin.unsafe(
    `create database ${quote(name)}${template ? ` template ${quote(template)}` : ""}${owner ? ` owner ${quote(owner)}` : ""}`,
  );
  return { name, url: urlFor(name, owner) };
}
