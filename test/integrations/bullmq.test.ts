import { randomBytes } from "node:crypto";
import { type Job, Queue, QueueEvents, type Worker } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TenantContext } from "../../src/context.js";
import { NoTenantContextError } from "../../src/errors.js";
import {
  addTenantJob,
  fanOutToTenants,
  JobTenantNotFoundError,
  TENANT_KEY,
  tenantQueue,
  tenantWorker,
} from "../../src/integrations/bullmq.js";
import { createTestTenants, type TestTenants } from "../../src/testing/index.js";
import { type PgApp, setupPgApp } from "../helpers/app.js";

const REDIS_URL = process.env.OMNITENANT_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
// Every key of this run lives under its own prefix, removed afterwards.
const PREFIX = `ot-test-${randomBytes(4).toString("hex")}`;
const connection = { url: REDIS_URL, maxRetriesPerRequest: null };
const base = { connection, prefix: PREFIX };

let app: PgApp;
let t: TestTenants<"a" | "b" | "c" | "db">;
const closers: Array<() => Promise<unknown>> = [];
let queueCount = 0;

/** A queue of its own (unique name), its events, and a worker running `processor` as the job's tenant. */
function setup(processor?: Parameters<typeof tenantWorker>[2], attempts = 1) {
  const name = `q${++queueCount}`;
  const queue = new Queue(name, { ...base, defaultJobOptions: { attempts, removeOnComplete: false } });
  const events = new QueueEvents(name, base);
  closers.push(
    () => queue.close(),
    () => events.close(),
  );
  let worker: Worker | undefined;
  const start = () => {
    worker = tenantWorker(app.omni, name, processor ?? (async () => null), { ...base, concurrency: 5 });
    closers.unshift(() => worker!.close());
    return worker;
  };
  return { name, queue, events, start, ready: () => events.waitUntilReady() };
}

/** What a processor reports: the context it runs in and the projects `tenantDb()` sees there. */
const report: Parameters<typeof tenantWorker>[2] = async (job, tenant) => {
  if (TenantContext.isMaster()) return { master: true };
  const rows = await app.omni.tenantDb().select().from(app.config.template.tables.projects);
  return {
    context: TenantContext.current()?.tenantId,
    argument: tenant?.tenantId,
    names: rows.map((r) => r.name),
    data: job.data,
  };
};

beforeAll(async () => {
  app = await setupPgApp();
  t = await createTestTenants(app.omni, {
    a: { isolation: "schema" },
    b: { isolation: "schema" },
    c: { isolation: "schema" },
    db: { isolation: "database" },
  });
  for (const key of ["a", "b", "c", "db"] as const) {
    await t.run(key, () =>
      app.omni
        .tenantDb()
        .insert(app.config.template.tables.projects)
        .values({ name: `project of ${key}` }),
    );
  }
});

afterAll(async () => {
  for (const close of closers) await close().catch(() => {});
  const redis = new Redis(REDIS_URL);
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${PREFIX}:*`, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== "0");
  await redis.quit();
  await t?.cleanup();
  await app?.teardown();
});

describe("tenant jobs", () => {
  it("runs jobs added in different tenants' contexts each in the right one", async () => {
    const { queue, events, start, ready } = setup(report);
    await ready();
    const reports = tenantQueue<{ n: number }>(queue);
    const jobs: Array<[Job, string]> = [
      [await t.run("a", () => addTenantJob(queue, "count", { n: 1 })), "a"],
      [await t.run("b", () => reports.add("count", { n: 2 })), "b"],
      [await t.run("db", () => reports.add("count", { n: 3 })), "db"],
      [await addTenantJob(queue, "count", { n: 4 }, { tenantId: t.ids.c }), "c"], // explicit, outside any context
      [await t.run("a", () => reports.add("count", { n: 5 }, { tenantId: t.ids.b })), "b"], // explicit wins
    ];
    const bulk = await t.run("c", () => reports.addBulk([{ name: "count", data: { n: 6 } }]));
    jobs.push([bulk[0]!, "c"]);
    start();
    for (const [job, key] of jobs) {
      expect(job.data[TENANT_KEY]).toBe(t.ids[key as "a"]);
      const result = await job.waitUntilFinished(events, 20_000);
      expect(result).toEqual({
        context: t.ids[key as "a"],
        argument: t.ids[key as "a"],
        names: [`project of ${key}`],
        data: { ...job.data },
      });
    }
  });

  it("runs master jobs in master context and refuses to enqueue without any context", async () => {
    const { queue, events, start, ready } = setup(report);
    await ready();
    start();
    const masterJob = await TenantContext.useMaster(() => addTenantJob(queue, "m", {}));
    expect(masterJob.data[TENANT_KEY]).toBeNull();
    expect(await masterJob.waitUntilFinished(events, 20_000)).toEqual({ master: true });
    const explicit = await addTenantJob(queue, "m", {}, { master: true });
    expect(await explicit.waitUntilFinished(events, 20_000)).toEqual({ master: true });
    await expect(addTenantJob(queue, "m", {})).rejects.toBeInstanceOf(NoTenantContextError);
    await expect(addTenantJob(queue, "m", {}, { tenantId: "Not Valid" })).rejects.toThrow(
      /Invalid tenant id/,
    );
  });

  it("fails a job whose tenant was deleted, without retries and without running it", async () => {
    let ran = 0;
    const { queue, events, start, ready } = setup(async () => {
      ran++;
      return null;
    }, 3);
    await ready();
    await app.omni.createTenant({ tenantId: `gone-${PREFIX.slice(-8)}`, name: "Gone", isolation: "schema" });
    const tenant = (await app.omni.getTenant(`gone-${PREFIX.slice(-8)}`))!;
    const job = await TenantContext.use(tenant, () => addTenantJob(queue, "doomed", { x: 1 }));
    const unmarked = await queue.add("unmarked", { x: 2 });
    await app.omni.deleteTenant(tenant.tenantId, { dropData: true });
    start();
    const error = await job.waitUntilFinished(events, 20_000).catch((e: Error) => e);
    expect(String((error as Error).message)).toMatch(
      new RegExp(
        `Job "doomed" \\(${job.id}\\) was enqueued for tenant "${tenant.tenantId}", which no longer exists`,
      ),
    );
    const failed = (await queue.getJob(job.id!))!;
    expect(await failed.getState()).toBe("failed");
    expect(failed.attemptsMade).toBe(1); // attempts: 3, but retrying cannot bring the tenant back
    await expect(unmarked.waitUntilFinished(events, 20_000)).rejects.toThrow(/carries no tenant/);
    expect(ran).toBe(0);
    expect(new JobTenantNotFoundError("x")).toMatchObject({ code: "TENANT_NOT_FOUND" });
  });

  it("fans out one job per tenant, filtered, idempotent with a job id, each run as its tenant", async () => {
    const { queue, events, start, ready } = setup(report);
    await ready();
    const ours = new Set(Object.values(t.ids));
    const added = await fanOutToTenants(app.omni, queue, "nightly", (tenant) => ({ for: tenant.tenantId }), {
      filter: (tenant) => ours.has(tenant.tenantId),
      jobId: (tenant) => `nightly-2025-01-01-${tenant.tenantId}`,
      batchSize: 2,
    });
    expect(added.map((a) => a.tenantId).sort()).toEqual([...ours].sort());
    expect(added.every((a) => a.jobId === `nightly-2025-01-01-${a.tenantId}`)).toBe(true);
    // Running it again (a retried scheduler job) adds nothing.
    await fanOutToTenants(
      app.omni,
      queue,
      "nightly",
      {},
      {
        filter: (tenant) => ours.has(tenant.tenantId),
        jobId: (tenant) => `nightly-2025-01-01-${tenant.tenantId}`,
      },
    );
    expect(await queue.getJobCounts("waiting", "prioritized")).toEqual({ waiting: 4, prioritized: 0 });
    const onlySchema = await fanOutToTenants(
      app.omni,
      queue,
      "schema-only",
      {},
      {
        isolation: "database",
        filter: (tenant) => ours.has(tenant.tenantId),
      },
    );
    expect(onlySchema.map((a) => a.tenantId)).toEqual([t.ids.db]);

    start();
    for (const { tenantId, jobId } of [...added, ...onlySchema]) {
      const job = (await queue.getJob(jobId!))!;
      const result = (await job.waitUntilFinished(events, 20_000)) as { context: string };
      expect(result.context).toBe(tenantId);
      expect(job.data[TENANT_KEY]).toBe(tenantId);
    }
  });
});
