import { drizzle } from "drizzle-orm/postgres-js";
import postgres, { type Options, type Sql, type TransactionSql } from "postgres";

export interface PgPoolOptions {
  /** Connections in the pool. */
  max?: number;
  /** Seconds before an idle connection is closed. */
  idleTimeout?: number;
  /** Seconds a connection lives at most, so per-connection catalog caches are released. */
  maxLifetime?: number;
  /** Seconds to wait for a connection. */
  connectTimeout?: number;
  /** Server-side prepared statements; turn off behind PgBouncer in transaction mode before 1.21. */
  prepare?: boolean;
  /** Passed through to postgres.js for anything not covered here. */
  extra?: Options<Record<string, never>>;
}

/** Opens a postgres.js client prepared the way drizzle's postgres-js driver expects it. */
export function openPgClient(
  url: string,
  {
    max = 10,
    idleTimeout = 30,
    maxLifetime = 30 * 60,
    connectTimeout = 10,
    prepare = true,
    extra,
  }: PgPoolOptions = {},
): Sql {
  const client = postgres(url, {
    onnotice: () => {},
    ...extra,
    max,
    idle_timeout: idleTimeout,
    max_lifetime: maxLifetime,
    connect_timeout: connectTimeout,
    prepare,
  });
  // drizzle installs its own date/json parsers on the client it is given; clients that sit behind a
  // delegating client never pass through drizzle(), so install them here through drizzle's own code.
  drizzle(client);
  return client;
}

/**
 * A postgres.js-shaped client that borrows the real client for every query. Drizzle holds the client it is
 * constructed with for ever; this indirection lets a tenant's pool be evicted and reopened behind a
 * long-lived drizzle handle, keeps a client from being evicted while it runs a query or transaction, and maps
 * connection failures to typed errors. Drizzle only calls `unsafe` (awaited, or `.values()`) and `begin`.
 */
export function delegatingClient(
  use: <T>(fn: (sql: Sql) => PromiseLike<T>) => Promise<T>,
  mapError: (error: unknown) => unknown = (e) => e,
): Sql {
  const run = async <T>(fn: (sql: Sql) => PromiseLike<T>): Promise<T> => {
    try {
      return await use(fn);
    } catch (error) {
      throw mapError(error);
    }
  };
  return postgresShapedClient({
    query: (query, params, options, values) =>
      run((client) => {
        const pending = client.unsafe(query, params as any[], options as any);
        return values ? pending.values() : pending;
      }),
    begin: (...args) => run((client) => (client.begin as any)(...args)),
  });
}

/**
 * The part of a postgres.js client that drizzle's postgres-js driver uses: `options` (its constructor installs
 * parsers there), `unsafe(query, params, options)` awaited or as `.values()`, and `begin`. Clients that put
 * something around every statement (a borrowed connection, a tenant-scoping transaction) supply `query`.
 */
export function postgresShapedClient({
  query,
  begin,
  reserve,
}: {
  query: (
    query: string,
    params: unknown[] | undefined,
    options: unknown,
    values: boolean,
  ) => Promise<unknown>;
  begin: (...args: unknown[]) => Promise<unknown>;
  reserve?: () => never;
}): Sql {
  const target = {
    options: { parsers: {}, serializers: {} },
    unsafe(text: string, params?: unknown[], options?: unknown) {
      return {
        values: () => query(text, params, options, true),
        // biome-ignore lint/suspicious/noThenProperty: drizzle awaits what unsafe() returns.
        then: (resolve: any, reject: any) => query(text, params, options, false).then(resolve, reject),
      };
    },
    begin,
    ...(reserve ? { reserve } : {}),
  };
  return target as unknown as Sql;
}

/** Replaces the database name of a PostgreSQL URL (validated by the caller). */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

export function databaseOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, "")) || "postgres";
}

const CONNECTION_ERROR_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ETIMEDOUT",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "3D000", // database does not exist
  "28P01", // password authentication failed
  "28000", // invalid authorization
  "57P03", // cannot connect now
  "53300", // too many connections
]);

export function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code;
  return typeof code === "string" && CONNECTION_ERROR_CODES.has(code);
}

/**
 * Lets drizzle run inside a postgres.js transaction we already hold (a TransactionSql has no `options`, which
 * drizzle's constructor touches). The transaction's connection uses its parent client's parsers.
 */
export function transactionClient(tx: TransactionSql): Sql {
  return {
    options: { parsers: {}, serializers: {} },
    unsafe: (query: string, params?: unknown[], options?: unknown) =>
      tx.unsafe(query, params as any[], options as any),
    begin: () => {
      throw new Error("omnitenant: nested transactions are not available on a provisioning transaction");
    },
  } as unknown as Sql;
}
