// Interleaved comparisons: a baseline and a subject measured alternately (ABBA), so load from anything else on
// the machine hits both alike. Besides wall time, each side's CPU time is read (this process, plus the
// PostgreSQL backends it talks to, from /proc/<pid>/schedstat): CPU per operation is what overhead costs in
// throughput, and it is far less disturbed by other processes than wall time.
import { readFileSync } from "node:fs";
import type { Sql } from "postgres";
import { median, percentile } from "./stats.js";

/** CPU microseconds spent so far by this process and by a set of PostgreSQL backends. */
export type CpuProbe = () => Promise<{ clientInUs: number; clientOutUs: number; serverUs: number }>;

function schedUs(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[0]) / 1000;
  } catch {
    return 0; // gone, or /proc not readable: counted as nothing
  }
}

/**
 * A probe over the client backends of databases matching `like`. Backends are listed afresh at every call
 * (pools open connections as they need them); a backend that exits between two calls is not counted.
 */
export function cpuProbe(admin: Sql, like: string): CpuProbe {
  const seen = new Map<number, number>();
  let serverUs = 0;
  return async () => {
    const started = process.cpuUsage();
    const rows = await admin<{ pid: number }[]>`
      select pid from pg_stat_activity where backend_type = 'client backend' and datname like ${like}`;
    for (const { pid } of rows) {
      const now = schedUs(pid);
      const before = seen.get(pid);
      // A backend first seen now counts from now on (its earlier CPU belongs to nothing measured here).
      if (before !== undefined) serverUs += now - before;
      seen.set(pid, now);
    }
    const usage = process.cpuUsage();
    // This process's CPU when the probe began and when it ended, so the probe's own work counts for nothing.
    return { clientInUs: started.user + started.system, clientOutUs: usage.user + usage.system, serverUs };
  };
}

interface Tally {
  ops: number;
  clientUs: number;
  serverUs: number;
}
const tally = (): Tally => ({ ops: 0, clientUs: 0, serverUs: 0 });

async function withCpu<T extends { ops: number }>(
  probe: CpuProbe | undefined,
  into: Tally,
  run: () => Promise<T>,
): Promise<T> {
  const before = await probe?.();
  const result = await run();
  if (probe && before) {
    const after = await probe();
    into.clientUs += after.clientInUs - before.clientOutUs;
    into.serverUs += after.serverUs - before.serverUs;
  }
  into.ops += result.ops;
  return result;
}

const cpuPerOp = (t: Tally) => (t.clientUs + t.serverUs) / Math.max(1, t.ops);
const split = (t: Tally) => ({
  clientUs: t.clientUs / Math.max(1, t.ops),
  serverUs: t.serverUs / Math.max(1, t.ops),
});

export interface SliceResult {
  ops: number;
  ms: number;
  errors: number;
  firstError?: unknown;
}

/** Runs `op` in `concurrency` loops for `durationMs`; counts completed operations and errors. */
export async function runSlice(
  concurrency: number,
  durationMs: number,
  op: (worker: number) => Promise<unknown>,
): Promise<SliceResult> {
  let ops = 0;
  let errors = 0;
  let firstError: unknown;
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (performance.now() < deadline) {
        try {
          await op(worker);
        } catch (error) {
          errors++;
          firstError ??= error;
        }
        ops++;
      }
    }),
  );
  return { ops, ms: performance.now() - started, errors, ...(firstError ? { firstError } : {}) };
}

export interface Comparison {
  /** Median over slices (c>1) or operations (c=1) of microseconds per operation. */
  baselineUs: number;
  subjectUs: number;
  /** Subject ÷ baseline wall time per operation: median of per-pair ratios (c>1) or of medians (c=1). */
  ratio: number;
  /** CPU per operation (this process + the PostgreSQL backends), microseconds. */
  baselineCpuUs: number;
  subjectCpuUs: number;
  /** Subject ÷ baseline CPU time per operation, over the whole measurement. */
  cpuRatio: number;
  /** The CPU split: this process (drizzle, postgres.js, omnitenant) and the PostgreSQL backends. */
  cpu: { baseline: { clientUs: number; serverUs: number }; subject: { clientUs: number; serverUs: number } };
  /** Operations per second, medians over slices (c>1 only). */
  baselineOps?: number;
  subjectOps?: number;
  /** 90th percentile latencies (c=1 only), microseconds. */
  baselineP90Us?: number;
  subjectP90Us?: number;
  samples: number;
  errors: number;
  firstError?: unknown;
}

export interface CompareOptions {
  concurrency: number;
  /** Alternating pairs measured (each pair is one baseline and one subject slice). */
  pairs: number;
  sliceMs: number;
  /** Unrecorded slices of each before measuring. */
  warmupMs?: number;
  probe?: CpuProbe;
}

/** Concurrency > 1: baseline and subject in alternating slices, ABBA; the median of the per-pair ratios. */
export async function compare(
  baseline: (worker: number) => Promise<unknown>,
  subject: (worker: number) => Promise<unknown>,
  { concurrency, pairs, sliceMs, warmupMs = sliceMs, probe }: CompareOptions,
): Promise<Comparison> {
  if (warmupMs > 0) {
    await runSlice(concurrency, warmupMs, baseline);
    await runSlice(concurrency, warmupMs, subject);
  }
  const us = (r: SliceResult) => (r.ms * 1000 * concurrency) / Math.max(1, r.ops);
  const b: SliceResult[] = [];
  const s: SliceResult[] = [];
  const bCpu = tally();
  const sCpu = tally();
  const ratios: number[] = [];
  const slice = (op: typeof baseline, cpu: Tally, into: SliceResult[]) =>
    withCpu(probe, cpu, () => runSlice(concurrency, sliceMs, op)).then((r) => {
      into.push(r);
      return r;
    });
  for (let pair = 0; pair < pairs; pair++) {
    let rb: SliceResult;
    let rs: SliceResult;
    if (pair % 2 === 0) {
      rb = await slice(baseline, bCpu, b);
      rs = await slice(subject, sCpu, s);
    } else {
      rs = await slice(subject, sCpu, s);
      rb = await slice(baseline, bCpu, b);
    }
    ratios.push(us(rs) / us(rb));
  }
  const all = [...b, ...s];
  const firstError = all.find((r) => r.firstError)?.firstError;
  return {
    baselineUs: median(b.map(us)),
    subjectUs: median(s.map(us)),
    ratio: median(ratios),
    baselineCpuUs: cpuPerOp(bCpu),
    subjectCpuUs: cpuPerOp(sCpu),
    cpuRatio: cpuPerOp(sCpu) / cpuPerOp(bCpu),
    cpu: { baseline: split(bCpu), subject: split(sCpu) },
    baselineOps: median(b.map((r) => (r.ops * 1000) / r.ms)),
    subjectOps: median(s.map((r) => (r.ops * 1000) / r.ms)),
    samples: all.reduce((n, r) => n + r.ops, 0),
    errors: all.reduce((n, r) => n + r.errors, 0),
    ...(firstError ? { firstError } : {}),
  };
}

/**
 * Concurrency 1: baseline and subject in alternating blocks of `block` operations (ABBA), each operation
 * timed; compares the median latencies. Finer than slices, so bursts of load from elsewhere hit both alike.
 */
export async function compareLatency(
  baseline: (worker: number) => Promise<unknown>,
  subject: (worker: number) => Promise<unknown>,
  {
    durationMs,
    warmupMs = 0,
    block = 32,
    probe,
  }: { durationMs: number; warmupMs?: number; block?: number; probe?: CpuProbe },
): Promise<Comparison> {
  const b: number[] = [];
  const s: number[] = [];
  const bCpu = tally();
  const sCpu = tally();
  let errors = 0;
  let firstError: unknown;
  const run = async (op: typeof baseline, into: number[] | undefined) => {
    for (let i = 0; i < block; i++) {
      const started = performance.now();
      try {
        await op(0);
      } catch (error) {
        errors++;
        firstError ??= error;
      }
      into?.push((performance.now() - started) * 1000);
    }
    return { ops: block };
  };
  const warmEnd = performance.now() + warmupMs;
  while (performance.now() < warmEnd) {
    await run(baseline, undefined);
    await run(subject, undefined);
  }
  errors = 0;
  firstError = undefined;
  const deadline = performance.now() + durationMs;
  for (let pair = 0; performance.now() < deadline; pair++) {
    if (pair % 2 === 0) {
      await withCpu(probe, bCpu, () => run(baseline, b));
      await withCpu(probe, sCpu, () => run(subject, s));
    } else {
      await withCpu(probe, sCpu, () => run(subject, s));
      await withCpu(probe, bCpu, () => run(baseline, b));
    }
  }
  const baselineUs = median(b);
  const subjectUs = median(s);
  return {
    baselineUs,
    subjectUs,
    ratio: subjectUs / baselineUs,
    baselineCpuUs: cpuPerOp(bCpu),
    subjectCpuUs: cpuPerOp(sCpu),
    cpuRatio: cpuPerOp(sCpu) / cpuPerOp(bCpu),
    cpu: { baseline: split(bCpu), subject: split(sCpu) },
    baselineP90Us: percentile(b, 90),
    subjectP90Us: percentile(s, 90),
    samples: b.length + s.length,
    errors,
    ...(firstError ? { firstError } : {}),
  };
}
