import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** One line of the results table. */
export interface Row {
  /** The figure of the issue it belongs to, e.g. "1 query overhead". */
  figure: string;
  name: string;
  /** What omnitenant measured, formatted with its unit. */
  result: string;
  /** The baseline or floor measured in the same run, formatted. */
  baseline?: string;
  /** result ÷ baseline in cost (time) terms, or the figure's own ratio (e.g. requests/s ÷ requests/s). */
  ratio?: number;
  /** The same ratio in CPU time (this process + PostgreSQL backends) per operation. */
  cpuRatio?: number;
  /**
   * What PostgreSQL itself costs for the same work, measured in the same run with a hand-written client
   * (no omnitenant), as a ratio to the same baseline. `ratio / floor` is what the library adds.
   */
  floor?: number;
  target?: string;
  /** Whether the target is met; undefined when the row has no target. */
  met?: boolean;
  /** Missed, but the floor misses it too and the library adds no more than the target allows over the floor. */
  floorBound?: boolean;
  note?: string;
  /** Raw numbers, for the JSON. */
  data?: Record<string, unknown>;
}

export interface Report {
  startedAt: string;
  mode: "quick" | "full";
  machine: Record<string, unknown>;
  durationS: number;
  rows: Row[];
  failures: Array<{ suite: string; error: string }>;
}

export const fmt = {
  us: (v: number) => `${v < 100 ? v.toFixed(1) : v.toFixed(0)} µs/op`,
  ms: (v: number) => `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)} ms`,
  s: (v: number) => `${v.toFixed(v < 10 ? 2 : 1)} s`,
  ops: (v: number) =>
    v >= 10_000
      ? `${Math.round(v / 1000).toLocaleString("en-US")}k/s`
      : `${Math.round(v).toLocaleString("en-US")}/s`,
  mb: (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`,
  ratio: (v: number) => `${v.toFixed(2)}×`,
};

export function printTable(rows: readonly Row[], out: (line: string) => void = console.log): void {
  const header = [
    "figure",
    "measure",
    "omnitenant",
    "baseline",
    "ratio",
    "cpu",
    "floor",
    "÷floor",
    "target",
    "",
  ];
  const lines = rows.map((r) => [
    r.figure,
    r.name,
    r.result,
    r.baseline ?? "",
    r.ratio === undefined ? "" : fmt.ratio(r.ratio),
    r.cpuRatio === undefined ? "" : fmt.ratio(r.cpuRatio),
    r.floor === undefined ? "" : fmt.ratio(r.floor),
    r.floor === undefined || r.ratio === undefined ? "" : fmt.ratio(r.ratio / r.floor),
    r.target ?? "",
    status(r),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const render = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  out(render(header));
  out(render(widths.map((w) => "-".repeat(w))));
  let previous = "";
  for (const [i, line] of lines.entries()) {
    const row = rows[i]!;
    out(render(line.map((c, k) => (k === 0 && c === previous ? "" : c))));
    previous = line[0]!;
    if (row.note) out(`${" ".repeat(widths[0]! + 2)}↳ ${row.note}`);
  }
}

/** "ok", "MISS", or "floor" (missed because PostgreSQL itself costs that much, see the floor column). */
export function status(row: Row): string {
  if (row.met === undefined) return "";
  if (row.met) return "ok";
  return row.floorBound ? "floor" : "MISS";
}

export function writeJson(path: string, report: Report): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
}
