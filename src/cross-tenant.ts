import { TenantContext } from "./context.js";
import type { IsolationMode, Tenant } from "./types.js";

/** What cross-tenant helpers need from an omnitenant instance (PostgreSQL or SQLite): the tenant list. */
export interface TenantLister<T extends Tenant = Tenant> {
  listTenants(filter?: { isolation?: IsolationMode }): Promise<T[]>;
}

export type ForEachTenantOptions<T extends Tenant = Tenant> = {
  /** Tenants worked on at once. */
  concurrency?: number;
  /** Only tenants of this isolation mode. */
  isolation?: IsolationMode;
  /** Only tenants for which this returns true. */
  filter?: (tenant: T) => boolean | Promise<boolean>;
  /** Stops starting tenants once aborted; tenants already running finish. */
  signal?: AbortSignal;
};

export interface ForEachTenantResult<R, T extends Tenant = Tenant> {
  /** Tenants `fn` succeeded for, in list order, with what it returned. */
  results: Array<{ tenant: T; value: R }>;
  /** Tenants `fn` threw for, in list order. */
  errors: Array<{ tenant: T; error: unknown }>;
  /** Tenants not started because `signal` was aborted. */
  skipped: T[];
}

/**
 * Runs `fn(tenant)` for every tenant (or those selected by `isolation` / `filter`) inside that tenant's
 * context, so `tenantDb()` needs no argument, at most `concurrency` at a time. One tenant's failure never
 * stops the others: results and errors come back per tenant.
 *
 * @example
 * ```ts
 * import { forEachTenant } from "omnitenant";
 *
 * const { results, errors } = await forEachTenant(omni, async (tenant) => {
 *   const [{ count }] = await omni.tenantDb().select({ count: count() }).from(projects);
 *   return count;
 * }, { concurrency: 8, isolation: "schema" });
 * for (const { tenant, error } of errors) console.error(tenant.tenantId, error);
 * ```
 */
export async function forEachTenant<T extends Tenant, R>(
  instance: TenantLister<T>,
  fn: (tenant: T) => R | Promise<R>,
  { concurrency = 4, isolation, filter, signal }: ForEachTenantOptions<T> = {},
): Promise<ForEachTenantResult<Awaited<R>, T>> {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`forEachTenant: concurrency must be a positive integer, got ${concurrency}`);
  }
  let tenants = await instance.listTenants(isolation ? { isolation } : undefined);
  if (filter) {
    const keep = await Promise.all(tenants.map((tenant) => filter(tenant)));
    tenants = tenants.filter((_, i) => keep[i]);
  }
  const outcomes: Array<{ value: Awaited<R> } | { error: unknown } | undefined> = new Array(tenants.length);
  let next = 0;
  const worker = async () => {
    while (next < tenants.length && !signal?.aborted) {
      const index = next++;
      const tenant = tenants[index]!;
      try {
        outcomes[index] = { value: await TenantContext.use(tenant, async () => fn(tenant)) };
      } catch (error) {
        outcomes[index] = { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, tenants.length) }, worker));

  const result: ForEachTenantResult<Awaited<R>, T> = { results: [], errors: [], skipped: [] };
  tenants.forEach((tenant, i) => {
    const outcome = outcomes[i];
    if (!outcome) result.skipped.push(tenant);
    else if ("error" in outcome) result.errors.push({ tenant, error: outcome.error });
    else result.results.push({ tenant, value: outcome.value });
  });
  return result;
}
