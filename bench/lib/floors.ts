// The least a tenant-scoped query can cost on PostgreSQL, written by hand (no checks, no caches): what
// omnitenant's table and database modes are compared with, beside the plain baseline.
import type { Sql, TransactionSql } from "postgres";

/**
 * A postgres.js-shaped client for drizzle that runs every statement in `BEGIN; SET LOCAL <setting>` … `COMMIT`,
 * the three written together on one reserved connection (one round trip), and `begin(fn)` with the setting
 * sent before the first statement. The hand-written floor of table mode.
 */
export function pipelinedClient(sql: Sql, setting: string, tenantId: string): Sql {
  const setup = `set local ${setting} = '${tenantId}'`;
  const run = async (query: string, params: unknown[] | undefined, values: boolean) => {
    const reserved = await sql.reserve();
    try {
      const pending = reserved.unsafe(query, params as never[]);
      const [, result] = await Promise.all([
        reserved.unsafe(`begin; ${setup}`).simple().execute(),
        (values ? pending.values() : pending).execute(),
        reserved.unsafe("commit").simple().execute(),
      ]);
      return result;
    } finally {
      reserved.release();
    }
  };
  return {
    options: { parsers: {}, serializers: {} },
    unsafe: (query: string, params?: unknown[]) => ({
      values: () => run(query, params, true),
      // biome-ignore lint/suspicious/noThenProperty: drizzle awaits what unsafe() returns.
      then: (resolve: never, reject: never) => run(query, params, false).then(resolve, reject),
    }),
    begin: (fn: (tx: TransactionSql) => unknown) =>
      sql.begin(async (tx) => {
        const configured = tx.unsafe(setup).simple().execute();
        const result = await fn(tx);
        await configured;
        return result;
      }),
  } as unknown as Sql;
}
