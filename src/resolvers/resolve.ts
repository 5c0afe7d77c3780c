import { TenantNotFoundError } from "../errors.js";
import type { Tenant } from "../types.js";
import { TenantIdentifierMissingError } from "./errors.js";
import type { Resolved, ResolveRequest, ResolveResult, Resolver } from "./types.js";

/**
 * Runs `resolver` and turns a failed resolution into its error: `not-found` into `TenantNotFoundError`,
 * `missing` into `TenantIdentifierMissingError`. What integrations call; useful for your own too.
 *
 * @example
 * ```ts
 * const resolved = await resolveRequest(resolver, { host: req.headers.host, headers: req.headers, path: req.url });
 * const run = resolved.kind === "tenant" ? (fn) => TenantContext.use(resolved.tenant, fn) : TenantContext.useMaster;
 * ```
 */
export async function resolveRequest<T extends Tenant>(
  resolver: Resolver<T>,
  request: ResolveRequest,
): Promise<Resolved<T>> {
  return settle(await resolver(request));
}

/** `resolveRequest` without waiting, when the resolver knows the answer now (`resolver.cached`); else undefined. */
export function resolveCached<T extends Tenant>(
  resolver: Resolver<T>,
  request: ResolveRequest,
): Resolved<T> | undefined {
  const result = resolver.cached?.(request);
  return result === undefined ? undefined : settle(result);
}

function settle<T extends Tenant>(result: ResolveResult<T>): Resolved<T> {
  switch (result.kind) {
    case "tenant":
    case "master":
      return result;
    case "not-found":
      throw new TenantNotFoundError(result.lookup);
    case "missing":
      throw new TenantIdentifierMissingError(result.expected);
    default:
      throw new TypeError(`A resolver returned an unknown result: ${JSON.stringify(result).slice(0, 100)}`);
  }
}
