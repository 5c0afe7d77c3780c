/**
 * What the CLI prints: text tables and the JSON shapes documented in docs/cli.md. Changing a JSON shape is a
 * breaking change of the CLI.
 */
import type { TenantMigrationResult, TenantPlan } from "../../src/migrations/pg-migrator.js";
import type { Domain, IsolationMode, Tenant } from "../../src/types.js";
import { describeError } from "./errors.js";
import { redact } from "./io.js";

export interface ErrorJson {
  code: string;
  message: string;
}

export type MigrationState = "up-to-date" | "pending" | "drift" | "error" | "shared";

export interface PlanJson {
  tenantId: string;
  isolation: IsolationMode | null;
  state: MigrationState;
  applied: string[];
  pending: string[];
  drifted: string[];
  unknown: string[];
  error: ErrorJson | null;
}

export interface TenantJson {
  tenantId: string;
  name: string;
  isolation: IsolationMode;
  createdAt: string | null;
  domains: { domain: string; isPrimary: boolean }[];
  config: Record<string, unknown>;
  columns: Record<string, unknown>;
  migrations: PlanJson | null;
}

export interface ResultJson {
  tenantId: string;
  status: TenantMigrationResult["status"];
  applied: string[];
  durationMs: number;
  error: ErrorJson | null;
}

const OWN_FIELDS = new Set(["tenantId", "name", "isolation", "config", "createdAt"]);
const SECRET_KEY = /password|passwd|secret|token|credential|apikey|api_key/i;

export function errorJson(error: unknown): ErrorJson | null {
  if (error === undefined || error === null) return null;
  const { code, message } = describeError(error);
  return { code, message: redact(message) };
}

/** Copies a JSON-ish value, masking every value under a secret-looking key and every secret in strings. */
export function mask(value: unknown, key = ""): unknown {
  if (SECRET_KEY.test(key) && value !== null && value !== undefined) return "***";
  if (typeof value === "string") return redact(value);
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => mask(v));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mask(v, k)]));
  }
  return value;
}

export function isoDate(value: Tenant["createdAt"]): string | null {
  if (value === null || value === undefined) return null;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toISOString();
}

export function stateOf(plan: TenantPlan, isolation: IsolationMode | null): MigrationState {
  if (isolation === "table") return "shared";
  if (plan.error) return "error";
  if (plan.drifted.length > 0) return "drift";
  if (plan.pending.length > 0) return "pending";
  return "up-to-date";
}

export function planJson(plan: TenantPlan, isolation: IsolationMode | null): PlanJson {
  return {
    tenantId: plan.tenantId,
    isolation,
    state: stateOf(plan, isolation),
    applied: [...plan.applied],
    pending: plan.pending.map((m) => m.tag),
    drifted: [...plan.drifted],
    unknown: [...plan.unknown],
    error: errorJson(plan.error),
  };
}

export function tenantJson(tenant: Tenant, domains: Domain[], plan: TenantPlan | undefined): TenantJson {
  const columns: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(tenant)) if (!OWN_FIELDS.has(key)) columns[key] = value;
  return {
    tenantId: tenant.tenantId,
    name: redact(tenant.name),
    isolation: tenant.isolation,
    createdAt: isoDate(tenant.createdAt),
    domains: [...domains]
      .sort((a, b) => Number(b.isPrimary) - Number(a.isPrimary) || a.domain.localeCompare(b.domain))
      .map((d) => ({ domain: d.domain, isPrimary: d.isPrimary })),
    config: mask(tenant.config ?? {}) as Record<string, unknown>,
    columns: mask(columns) as Record<string, unknown>,
    migrations: plan ? planJson(plan, tenant.isolation) : null,
  };
}

export function resultJson(result: TenantMigrationResult): ResultJson {
  return {
    tenantId: result.tenantId,
    status: result.status,
    applied: [...result.applied],
    durationMs: Math.round(result.durationMs),
    error: errorJson(result.error),
  };
}

/** A short text of a migration state, for tables. */
export function stateText(plan: PlanJson | null): string {
  if (!plan) return "unknown";
  switch (plan.state) {
    case "shared":
      return "shared tables";
    case "error":
      return `error: ${plan.error?.message ?? ""}`;
    case "drift":
      return `drift: ${plan.drifted.join(", ")}`;
    case "pending":
      return `${plan.pending.length} pending`;
    default:
      return `up to date (${plan.applied.length})`;
  }
}

/** Columns padded to their widest cell; cells longer than `maxWidth` are cut with an ellipsis. */
export function renderTable(headers: string[], rows: string[][], maxWidth = 60): string {
  const cut = (cell: string) => (cell.length > maxWidth ? `${cell.slice(0, maxWidth - 1)}…` : cell);
  const all = [headers, ...rows.map((r) => r.map(cut))];
  const widths = headers.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...all.slice(1).map(line)].join("\n");
}

export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
