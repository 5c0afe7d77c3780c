import {
  type BulkJobOptions,
  type Job,
  type JobsOptions,
  type Queue,
  UnrecoverableError,
  Worker,
  type WorkerOptions,
} from "bullmq";
import { TenantContext } from "../context.js";
import type { TenantLister } from "../cross-tenant.js";
import { assertTenantId } from "../tenant-id.js";
import type { IsolationMode, Tenant } from "../types.js";
import {
  JobTenantMissingError,
  JobTenantNotFoundError,
  type JobTenantSource,
  loadJobTenant,
  type TenantJobData,
  type TenantPayloadOptions,
  withTenantPayload,
} from "./jobs.js";

/** BullMQ job options plus the tenant to record (default: the current context's). */
export type TenantJobOptions = JobsOptions & TenantPayloadOptions;

type QueueLike = Pick<Queue, "add" | "addBulk">;

/**
 * Adds a job recording the current tenant (or `opts.tenantId`, or master with `opts.master`) in its data,
 * for `tenantWorker` to restore. Outside any context and without `tenantId` it throws
 * `NoTenantContextError` instead of enqueuing a job nobody can place.
 *
 * @example
 * ```ts
 * import { addTenantJob } from "omnitenant/bullmq";
 *
 * app.post("/reports", async (req, res) => {
 *   await addTenantJob(reports, "build", { month: "2025-01" }); // for req.tenant, from the context
 *   res.status(202).end();
 * });
 * await addTenantJob(reports, "build", { month: "2025-01" }, { tenantId: "acme", attempts: 3 });
 * ```
 */
export async function addTenantJob<D extends object>(
  queue: QueueLike,
  name: string,
  data: D,
  { tenantId, master, ...opts }: TenantJobOptions = {},
): Promise<Job<TenantJobData<D>>> {
  return queue.add(name, withTenantPayload(data, { tenantId, master }), opts);
}

/** A queue whose `add` / `addBulk` record the tenant (see `addTenantJob`); `queue` is the BullMQ queue. */
export interface TenantQueue<D extends object = Record<string, unknown>> {
  readonly queue: Queue;
  add(name: string, data: D, opts?: TenantJobOptions): Promise<Job<TenantJobData<D>>>;
  addBulk(
    jobs: ReadonlyArray<{ name: string; data: D; opts?: BulkJobOptions & TenantPayloadOptions }>,
  ): Promise<Job<TenantJobData<D>>[]>;
}

/**
 * Wraps a BullMQ queue so that every job added records the current tenant.
 *
 * @example
 * ```ts
 * import { Queue } from "bullmq";
 * import { tenantQueue } from "omnitenant/bullmq";
 *
 * export const emails = tenantQueue<{ to: string }>(new Queue("emails", { connection }));
 * await emails.add("welcome", { to: "ada@example.com" }); // inside a request: for its tenant
 * ```
 */
export function tenantQueue<D extends object = Record<string, unknown>>(queue: Queue): TenantQueue<D> {
  return {
    queue,
    add: (name, data, opts) => addTenantJob(queue, name, data, opts),
    addBulk: (jobs) =>
      queue.addBulk(
        jobs.map(({ name, data, opts: { tenantId, master, ...opts } = {} }) => ({
          name,
          data: withTenantPayload(data, { tenantId, master }),
          opts,
        })),
      ),
  };
}

/** A processor run in the job's tenant context; `tenant` is undefined for a master job. */
export type TenantProcessor<D extends object = Record<string, unknown>, R = unknown> = (
  job: Job<TenantJobData<D>, R>,
  tenant: Tenant | undefined,
  token?: string,
  signal?: AbortSignal,
) => Promise<R>;

/**
 * A BullMQ `Worker` whose processor runs inside the tenant context recorded in each job, so `tenantDb()`
 * needs no argument. A job whose tenant was deleted (or that records none) fails at once, without
 * retries, with `JobTenantNotFoundError`'s (`JobTenantMissingError`'s) message; it never runs as another
 * tenant. Close it like any worker (`await worker.close()`).
 *
 * @example
 * ```ts
 * import { tenantWorker } from "omnitenant/bullmq";
 *
 * const worker = tenantWorker(omni, "reports", async (job, tenant) => {
 *   const rows = await omni.tenantDb().select().from(projects); // this job's tenant only
 *   return { tenant: tenant?.tenantId, count: rows.length };
 * }, { connection, concurrency: 10 });
 * ```
 */
export function tenantWorker<D extends object = Record<string, unknown>, R = unknown>(
  source: JobTenantSource,
  queueName: string,
  processor: TenantProcessor<D, R>,
  opts: WorkerOptions,
): Worker<TenantJobData<D>, R> {
  return new Worker<TenantJobData<D>, R>(
    queueName,
    async (job, token, signal) => {
      let tenant: Tenant | undefined;
      try {
        ({ tenant } = await loadJobTenant(source, job.data, `Job "${job.name}" (${job.id})`));
      } catch (error) {
        // Retrying cannot bring a tenant back: fail for good, with our message and error as the cause.
        if (error instanceof JobTenantNotFoundError || error instanceof JobTenantMissingError) {
          throw Object.assign(new UnrecoverableError(error.message), { cause: error });
        }
        throw error;
      }
      const run = () => processor(job, tenant, token, signal);
      return tenant ? TenantContext.use(tenant, run) : TenantContext.useMaster(run);
    },
    opts,
  );
}

export type FanOutOptions<T extends Tenant = Tenant> = {
  /** Only tenants of this isolation mode. */
  isolation?: IsolationMode;
  /** Only tenants for which this returns true. */
  filter?: (tenant: T) => boolean | Promise<boolean>;
  /** Options of every job (attempts, backoff, removeOnComplete…). */
  opts?: BulkJobOptions;
  /**
   * A job id per tenant, so a fan-out that runs twice (a retried scheduler job) adds nothing twice;
   * BullMQ ids must not contain ":".
   */
  jobId?: (tenant: T) => string;
  /** Jobs per `addBulk` call. */
  batchSize?: number;
};

/**
 * Enqueues one job per tenant (all of them, or those selected by `isolation` / `filter`), each recording
 * its tenant for `tenantWorker`. `data` may be a function of the tenant. Returns the tenants and job ids.
 *
 * For scheduled work across tenants, schedule one master job and fan out from it:
 *
 * @example
 * ```ts
 * import { Queue } from "bullmq";
 * import { fanOutToTenants, tenantWorker, withTenantPayload } from "omnitenant/bullmq";
 *
 * const reports = new Queue("reports", { connection });
 * // every night at 3:00, one master job…
 * await reports.upsertJobScheduler("nightly", { pattern: "0 3 * * *" }, {
 *   name: "fan-out",
 *   data: withTenantPayload({}, { master: true }),
 * });
 * tenantWorker(omni, "reports", async (job, tenant) => {
 *   if (job.name === "fan-out") {
 *     // …enqueues one job per schema tenant, idempotently for the day
 *     const day = new Date().toISOString().slice(0, 10);
 *     return fanOutToTenants(omni, reports, "nightly-report", { day }, {
 *       isolation: "schema",
 *       jobId: (t) => `nightly-${day}-${t.tenantId}`,
 *     });
 *   }
 *   return buildReport(omni.tenantDb(), job.data.day); // runs as `tenant`
 * }, { connection });
 * ```
 */
export async function fanOutToTenants<T extends Tenant, D extends object>(
  source: TenantLister<T>,
  queue: Pick<Queue, "addBulk">,
  name: string,
  data: D | ((tenant: T) => D),
  { isolation, filter, opts = {}, jobId, batchSize = 500 }: FanOutOptions<T> = {},
): Promise<Array<{ tenantId: string; jobId: string | undefined }>> {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`fanOutToTenants: batchSize must be a positive integer, got ${batchSize}`);
  }
  let tenants = await source.listTenants(isolation ? { isolation } : undefined);
  if (filter) {
    const keep = await Promise.all(tenants.map((tenant) => filter(tenant)));
    tenants = tenants.filter((_, i) => keep[i]);
  }
  const added: Array<{ tenantId: string; jobId: string | undefined }> = [];
  for (let start = 0; start < tenants.length; start += batchSize) {
    const batch = tenants.slice(start, start + batchSize);
    const jobs = await queue.addBulk(
      batch.map((tenant) => {
        assertTenantId(tenant.tenantId);
        const payload = typeof data === "function" ? data(tenant) : data;
        return {
          name,
          data: withTenantPayload(payload, { tenantId: tenant.tenantId }),
          opts: jobId ? { ...opts, jobId: jobId(tenant) } : opts,
        };
      }),
    );
    batch.forEach((tenant, i) => {
      added.push({ tenantId: tenant.tenantId, jobId: jobs[i]?.id });
    });
  }
  return added;
}

export {
  JobTenantMissingError,
  JobTenantNotFoundError,
  runInTenant,
  TENANT_KEY,
  type TenantJobData,
  withTenantPayload,
} from "./jobs.js";
