import { TenantNotFoundError } from "../errors.js";
import type { Tenant } from "../types.js";
import { TenantIdentifierMissingError } from "./errors.js";
import type { Resolved, ResolveRequest, Resolver } from "./types.js";

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
  const result = await resolver(request);
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
