import { TenantContext } from "../context.js";
import { NoTenantContextError, OmnitenantError, TenantNotFoundError } from "../errors.js";
import type { TenantRegistry } from "../registry.js";
import { assertTenantId } from "../tenant-id.js";
import type { Tenant } from "../types.js";

/** The key of job data that carries the tenant id (`null`: the job runs in master context). */
export const TENANT_KEY = "$tenant";

/** Job data with the tenant recorded. */
export type TenantJobData<D extends object = Record<string, unknown>> = D & { [TENANT_KEY]: string | null };

/** What restoring a job's tenant needs from an omnitenant instance (PostgreSQL or SQLite). */
export interface JobTenantSource<T extends Tenant = Tenant> {
  registry: Pick<TenantRegistry<T>, "get">;
}

/** The job's data carries no tenant: it was not enqueued with `withTenantPayload` / `addTenantJob`. */
export class JobTenantMissingError extends OmnitenantError {
  override readonly code = "JOB_TENANT_MISSING";
  constructor(job = "The job") {
    super(
      `${job} carries no tenant (no "${TENANT_KEY}" in its data), so it cannot run: enqueue it with addTenantJob() or withTenantPayload(), inside a tenant's context or with an explicit tenantId.`,
    );
  }
}

/** The tenant a job was enqueued for no longer exists; the job is not run (as that or any other tenant). */
export class JobTenantNotFoundError extends TenantNotFoundError {
  constructor(
    readonly tenantId: string,
    job = "The job",
  ) {
    super(`id "${tenantId}"`);
    this.message = `${job} was enqueued for tenant "${tenantId}", which no longer exists (deleted since?). It was not run.`;
  }
}

export type TenantPayloadOptions = {
  /** Record this tenant instead of the current one. */
  tenantId?: string;
  /** Record master context (the job runs with `TenantContext.isMaster()`). */
  master?: boolean;
};

/**
 * Returns `data` with the tenant recorded under `$tenant`: `tenantId` when given, else the tenant of the
 * current context (`null` in master context). Outside any context it throws `NoTenantContextError`, so a
 * job is never enqueued without saying whom it runs for. Restore it with `runInTenant`.
 *
 * @example
 * ```ts
 * import { runInTenant, withTenantPayload } from "omnitenant/jobs";
 *
 * // in a request handler, inside the tenant's context:
 * await myQueue.push(withTenantPayload({ invoiceId: 42 }));
 * // in the worker:
 * await runInTenant(omni, message, async () => sendInvoice(await omni.tenantDb().query.invoices.findFirst()));
 * ```
 */
export function withTenantPayload<D extends object>(
  data: D,
  { tenantId, master = false }: TenantPayloadOptions = {},
): TenantJobData<D> {
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw new TypeError("withTenantPayload: job data must be a plain object");
  }
  if (tenantId !== undefined) {
    assertTenantId(tenantId);
    return { ...data, [TENANT_KEY]: tenantId };
  }
  if (master) return { ...data, [TENANT_KEY]: null };
  const state = TenantContext.state();
  if (state?.kind === "tenant") return { ...data, [TENANT_KEY]: state.tenant.tenantId };
  if (state?.kind === "master") return { ...data, [TENANT_KEY]: null };
  throw new NoTenantContextError("Enqueuing a tenant job");
}

/**
 * The tenant a job's data was enqueued for, looked up now: `{ tenant }`, or `{ tenant: undefined }` for
 * a master job. Throws `JobTenantMissingError` (no tenant recorded), `InvalidTenantIdError` (a malformed
 * one) or `JobTenantNotFoundError` (the tenant was deleted).
 */
export async function loadJobTenant<T extends Tenant>(
  source: JobTenantSource<T>,
  data: unknown,
  job?: string,
): Promise<{ tenant: T | undefined }> {
  if (data === null || typeof data !== "object" || !(TENANT_KEY in data))
    throw new JobTenantMissingError(job);
  const tenantId = (data as Record<string, unknown>)[TENANT_KEY];
  if (tenantId === null) return { tenant: undefined };
  assertTenantId(tenantId);
  const tenant = await source.registry.get(tenantId);
  if (!tenant) throw new JobTenantNotFoundError(tenantId, job);
  return { tenant };
}

/**
 * Runs `fn` in the context of the tenant recorded in a job's `data` (see `withTenantPayload`), so
 * `tenantDb()` needs no argument; a master job runs in master context. A deleted tenant throws
 * `JobTenantNotFoundError` and `fn` is not run at all — never as another tenant, never without one.
 *
 * @example
 * ```ts
 * import { runInTenant } from "omnitenant/jobs";
 *
 * queue.process(async (message) => {
 *   await runInTenant(omni, message.data, async (tenant) => {
 *     await omni.tenantDb().insert(auditLog).values({ event: "export", by: tenant?.tenantId });
 *   });
 * });
 * ```
 */
export async function runInTenant<T extends Tenant, R>(
  source: JobTenantSource<T>,
  data: unknown,
  fn: (tenant: T | undefined) => R | Promise<R>,
): Promise<R> {
  const { tenant } = await loadJobTenant(source, data);
  return tenant
    ? TenantContext.use(tenant, async () => fn(tenant))
    : TenantContext.useMaster(async () => fn(undefined));
}
