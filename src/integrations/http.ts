// Framework-neutral pieces of the HTTP integrations: error mapping and entering the resolved context.
import { TenantContext } from "../context.js";
import type { Resolved } from "../resolvers/types.js";

/** The body of an error response: small, stable, safe to show to a client. */
export interface TenantErrorBody {
  error: { code: string; message: string };
}

const STATUS: Readonly<Record<string, number>> = {
  TENANT_NOT_FOUND: 404,
  TENANT_IDENTIFIER_MISSING: 400,
  INVALID_TENANT_ID: 400,
  INVALID_DOMAIN: 400,
  MASTER_ONLY: 403,
};

/**
 * The response for an error of tenant resolution: 404 for an unknown tenant, 400 for a missing or malformed
 * identifier, 403 for `requireMaster()`. `undefined` for anything else (a database outage, a bug), which the
 * integrations hand to the framework's own error handling. Matched on the stable `code`, so it works even
 * with two copies of omnitenant installed. Use it in your own `onError` to keep the default for most errors.
 */
export function tenantErrorResponse(error: unknown): { status: number; body: TenantErrorBody } | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  const status = typeof code === "string" ? STATUS[code] : undefined;
  if (status === undefined) return undefined;
  // The not-found message names the CLI, which is for operators; clients get a plain one.
  const message = status === 404 ? "No tenant matches this request." : error.message;
  return { status, body: { error: { code: code as string, message } } };
}

/** Runs `fn` as the resolved tenant, or in master context. */
export function enterResolved<R>(resolved: Resolved, fn: () => R): R {
  return resolved.kind === "tenant" ? TenantContext.use(resolved.tenant, fn) : TenantContext.useMaster(fn);
}
