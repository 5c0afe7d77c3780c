import { rmSync } from "node:fs";
import Database from "better-sqlite3";
import { LruMap } from "../lru.js";

type Db = Database.Database;
type Stmt = Database.Statement<unknown[], unknown>;

export interface SqliteOpenOptions {
  /** Milliseconds a statement waits for another connection's write lock (SQLite's busy_timeout). */
  busyTimeoutMs?: number;
  /** Create the file when it does not exist (default: it must exist). */
  create?: boolean;
}

/**
 * Opens a SQLite file the way omnitenant uses it: WAL journal (readers never block the writer),
 * `busy_timeout`, `foreign_keys=ON` (off by default in SQLite) and `synchronous=NORMAL` (safe with WAL).
 */
export function openSqlite(
  file: string,
  { busyTimeoutMs = 5000, create = false }: SqliteOpenOptions = {},
): Db {
  const db = new Database(file, { fileMustExist: !create, timeout: busyTimeoutMs });
  try {
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/** Removes a SQLite database file with its WAL, shared-memory and rollback-journal companions. */
export function removeSqliteFiles(file: string): void {
  for (const suffix of ["", "-wal", "-shm", "-journal"]) rmSync(`${file}${suffix}`, { force: true });
}

/**
 * Closes a connection once nothing runs on it: a connection inside a transaction or with an open iterator is
 * closed later, so an eviction never cuts a statement short.
 */
export function closeWhenIdle(db: Db, retryMs = 25): void {
  if (!db.open) return;
  if (!db.inTransaction) {
    try {
      db.close();
      return;
    } catch {
      // an iterator is still open; try again below
    }
  }
  setTimeout(() => closeWhenIdle(db, Math.min(retryMs * 2, 1000)), retryMs).unref();
}

export interface SqliteConnectionCacheOptions {
  /** Open files at most; the least recently used one is closed to make room. Default 50. */
  maxOpen?: number;
}

/** A bounded set of open SQLite connections, one a key; evicted connections are closed when idle. */
export class SqliteConnectionCache {
  readonly #entries: LruMap<string, Db>;
  #evictions = 0;

  constructor({ maxOpen = 50 }: SqliteConnectionCacheOptions = {}) {
    this.#entries = new LruMap(maxOpen, (_key, db) => {
      this.#evictions++;
      closeWhenIdle(db);
    });
  }

  get(key: string, open: () => Db): Db {
    const db = this.#entries.get(key);
    if (db?.open) return db;
    const opened = open();
    this.#entries.set(key, opened);
    return opened;
  }

  /** Keeps an already open connection (e.g. the one a tenant was just provisioned with). */
  set(key: string, db: Db): void {
    this.#entries.set(key, db);
  }

  evict(key: string): void {
    this.#entries.delete(key);
  }

  stats(): { open: number; evictions: number } {
    return { open: this.#entries.size, evictions: this.#evictions };
  }

  close(): void {
    this.#entries.clear();
  }
}

/** How a scoped client reaches its connection and what it does around each statement. */
export interface ScopeHooks {
  /** The connection to run on now; a connection closed since a statement was prepared is replaced. */
  connection(): Db;
  /** Checks and rewrites SQL before it is prepared on `db`. */
  prepare?(sql: string, db: Db): string;
  /** Runs one statement execution (or one iterator step) with the tenant bound. */
  run?<T>(fn: () => T): T;
  /** Whether `exec()` (several statements, unchecked) is allowed. */
  allowExec?: boolean;
  /** Names the handle in error messages. */
  label: string;
}

type Mode = "raw" | "pluck" | "expand" | undefined;

/**
 * A better-sqlite3 `Statement` seen through a scope: every execution (`run`, `get`, `all`, `iterate` and each
 * step of its iterator) goes through `hooks.run`, and a statement whose connection was closed (evicted) is
 * prepared again on the current one, with the same modes and bound parameters.
 */
class ScopedStatement {
  #stmt: Stmt;
  #db: Db;
  #mode: Mode;
  #safeIntegers: boolean | undefined;
  #bound: unknown[] | undefined;

  constructor(
    readonly database: ScopedDatabase,
    readonly source: string,
    private readonly hooks: ScopeHooks,
    db: Db,
  ) {
    this.#db = db;
    this.#stmt = db.prepare(source);
  }

  #current(): Stmt {
    const db = this.hooks.connection();
    if (db !== this.#db || !this.#stmt.database.open) {
      const stmt = db.prepare(this.source);
      if (this.#safeIntegers !== undefined) stmt.safeIntegers(this.#safeIntegers);
      if (this.#mode) stmt[this.#mode](true);
      if (this.#bound) stmt.bind(...this.#bound);
      this.#db = db;
      this.#stmt = stmt;
    }
    return this.#stmt;
  }

  #exec<T>(fn: (stmt: Stmt) => T): T {
    const stmt = this.#current();
    return this.hooks.run ? this.hooks.run(() => fn(stmt)) : fn(stmt);
  }

  get reader(): boolean {
    return this.#stmt.reader;
  }
  get readonly(): boolean {
    return this.#stmt.readonly;
  }
  get busy(): boolean {
    return this.#stmt.busy;
  }

  run(...params: unknown[]) {
    return this.#exec((s) => s.run(...params));
  }
  get(...params: unknown[]) {
    return this.#exec((s) => s.get(...params));
  }
  all(...params: unknown[]) {
    return this.#exec((s) => s.all(...params));
  }
  iterate(...params: unknown[]): IterableIterator<unknown> {
    const inner = this.#exec((s) => s.iterate(...params));
    const step = <T>(fn: () => T): T => (this.hooks.run ? this.hooks.run(fn) : fn());
    const iterator: IterableIterator<unknown> = {
      next: () => step(() => inner.next()),
      return: (value?: unknown) =>
        step(() => (inner.return ? inner.return(value) : { done: true as const, value })),
      [Symbol.iterator]: () => iterator,
    };
    return iterator;
  }
  columns() {
    return this.#current().columns();
  }

  #toggle(mode: Exclude<Mode, undefined>, on: boolean) {
    this.#current()[mode](on);
    if (on) this.#mode = mode;
    else if (this.#mode === mode) this.#mode = undefined;
    return this;
  }
  raw(on = true) {
    return this.#toggle("raw", on);
  }
  pluck(on = true) {
    return this.#toggle("pluck", on);
  }
  expand(on = true) {
    return this.#toggle("expand", on);
  }
  safeIntegers(on = true) {
    this.#current().safeIntegers(on);
    this.#safeIntegers = on;
    return this;
  }
  bind(...params: unknown[]) {
    this.#current().bind(...params);
    this.#bound = params;
    return this;
  }
}

/**
 * The `Database`-shaped client a tenant's drizzle handle runs on. It offers what drizzle's better-sqlite3
 * session uses (`prepare`, `transaction`) plus a few harmless members; what would change the shared
 * connection for everyone (`close`, `function`, `loadExtension`, ...) is refused.
 */
class ScopedDatabase {
  constructor(private readonly hooks: ScopeHooks) {}

  get open(): boolean {
    return this.hooks.connection().open;
  }
  get inTransaction(): boolean {
    return this.hooks.connection().inTransaction;
  }
  get name(): string {
    return this.hooks.connection().name;
  }
  get memory(): boolean {
    return this.hooks.connection().memory;
  }
  get readonly(): boolean {
    return this.hooks.connection().readonly;
  }

  prepare(source: string) {
    const db = this.hooks.connection();
    return new ScopedStatement(
      this,
      this.hooks.prepare ? this.hooks.prepare(source, db) : source,
      this.hooks,
      db,
    );
  }

  /** better-sqlite3's synchronous transaction function (with `.deferred`, `.immediate`, `.exclusive`). */
  transaction<F extends (...args: any[]) => unknown>(fn: F) {
    return this.hooks.connection().transaction(fn);
  }

  exec(source: string): this {
    if (!this.hooks.allowExec) {
      throw new TypeError(
        `exec() is not available on ${this.hooks.label}: it runs several statements that omnitenant cannot check. Run them one by one (db.run(sql\`...\`)).`,
      );
    }
    const db = this.hooks.connection();
    const checked = this.hooks.prepare ? this.hooks.prepare(source, db) : source;
    if (this.hooks.run) this.hooks.run(() => db.exec(checked));
    else db.exec(checked);
    return this;
  }

  pragma(source: string, options?: Database.PragmaOptions): unknown {
    if (!this.hooks.allowExec) {
      throw new TypeError(`pragma() is not available on ${this.hooks.label}: its connection is shared.`);
    }
    return this.hooks.connection().pragma(source, options);
  }

  close(): never {
    throw new TypeError(
      `close() is not available on ${this.hooks.label}: omnitenant owns its connection; close the omnitenant instance instead.`,
    );
  }
}

for (const method of [
  "function",
  "aggregate",
  "table",
  "loadExtension",
  "backup",
  "serialize",
  "unsafeMode",
  "defaultSafeIntegers",
] as const) {
  Object.defineProperty(ScopedDatabase.prototype, method, {
    value(this: ScopedDatabase) {
      throw new TypeError(
        `${method}() is not available on a tenant's database handle: its connection is managed by omnitenant.`,
      );
    },
  });
}

/** A client for `drizzle({ client })` whose statements run through `hooks` (see `ScopeHooks`). */
export function scopedClient(hooks: ScopeHooks): Db {
  return new ScopedDatabase(hooks) as unknown as Db;
}
