import { TenantContext } from "../context.js";
import { MasterOnlyError } from "../resolvers/errors.js";
import { resolveRequest } from "../resolvers/resolve.js";
import type { Resolver } from "../resolvers/types.js";
import type { Tenant } from "../types.js";
import { enterResolved, tenantErrorResponse } from "./http.js";

/** A web-standard handler: Next.js route handlers, Bun.serve, Deno.serve, Hono's `app.fetch`… */
export type FetchHandler<A extends unknown[] = []> = (
  request: Request,
  ...rest: A
) => Response | Promise<Response>;

/** Handles an error of tenant resolution; return the response to send. */
export type FetchTenantErrorHandler = (error: unknown, request: Request) => Response | Promise<Response>;

export type TenantHandlerOptions = {
  /** Finds the tenant of a request: one of `omnitenant/resolvers`, a chain of them, or your own. */
  resolver: Resolver;
  /** Replaces the default: JSON `{ error: { code, message } }` with 404/400, anything else rethrown. */
  onError?: FetchTenantErrorHandler;
  /** Where host-based resolvers read the host (default: the Host header, else the URL's host). */
  getHost?: (request: Request) => string | undefined;
};

/** The default error handling: tenant errors become small JSON responses, others are rethrown. */
export const sendTenantError: FetchTenantErrorHandler = (error) => {
  const response = tenantErrorResponse(error);
  if (!response) throw error;
  return Response.json(response.body, { status: response.status });
};

const tenants = new WeakMap<Request, Tenant>();
const hostOf = (request: Request): string | undefined =>
  request.headers.get("host") ?? new URL(request.url).host;

/** `url` with another path and query (set, never parsed as a URL: `//host/x` stays a path). */
function withPath(url: URL, path: string): URL {
  const next = new URL(url);
  const query = path.indexOf("?");
  next.pathname = query === -1 ? path : path.slice(0, query);
  next.search = query === -1 ? "" : path.slice(query);
  return next;
}

/** The tenant `tenantHandler` resolved for this request (the one it passed on); undefined in master context. */
export function tenantOf(request: Request): Tenant | undefined {
  return tenants.get(request);
}

/**
 * Wraps a web-standard `(Request) => Response` handler: resolves the request's tenant and runs the handler
 * inside `TenantContext`, so `tenantDb()` needs no argument (`tenantOf(request)` or
 * `TenantContext.current()` give the tenant). Master hosts run in master context. When the resolver
 * consumed a path prefix (`pathResolver`), the handler gets a request whose URL has the rest of the path.
 * Extra arguments (Next.js's `{ params }`, Bun's server) are passed through.
 *
 * @example
 * ```ts
 * // app/api/projects/route.ts (Next.js)
 * import { tenantHandler } from "omnitenant/fetch";
 * import { headerResolver } from "omnitenant/resolvers";
 *
 * export const GET = tenantHandler(
 *   async () => Response.json(await omni.tenantDb().select().from(projects)),
 *   { resolver: headerResolver(omni) },
 * );
 * ```
 */
export function tenantHandler<A extends unknown[]>(
  handler: FetchHandler<A>,
  { resolver, onError = sendTenantError, getHost = hostOf }: TenantHandlerOptions,
): (request: Request, ...rest: A) => Promise<Response> {
  if (typeof resolver !== "function") throw new TypeError("tenantHandler: a resolver is required");
  return async function omnitenant(request, ...rest) {
    const url = new URL(request.url);
    let resolved: Awaited<ReturnType<typeof resolveRequest>>;
    try {
      resolved = await resolveRequest(resolver, {
        host: getHost(request),
        headers: request.headers,
        path: url.pathname + url.search,
      });
    } catch (error) {
      return onError(error, request);
    }
    const forward =
      resolved.path === undefined ? request : new Request(withPath(url, resolved.path), request);
    if (resolved.kind === "tenant") tenants.set(forward, resolved.tenant);
    return enterResolved(resolved, () => handler(forward, ...rest));
  };
}

export type RequireMasterOptions = {
  /** Replaces the default 403 JSON response. */
  onError?: FetchTenantErrorHandler;
};

/**
 * Lets a handler run only in master context (behind `tenantHandler`, on a master host); as a tenant, or
 * without `tenantHandler`, it answers 403 `{ error: { code: "MASTER_ONLY", … } }`.
 *
 * @example
 * ```ts
 * export const GET = tenantHandler(requireMaster(async () => Response.json(await omni.listTenants())), {
 *   resolver,
 * });
 * ```
 */
export function requireMaster<A extends unknown[]>(
  handler: FetchHandler<A>,
  { onError = sendTenantError }: RequireMasterOptions = {},
): (request: Request, ...rest: A) => Promise<Response> {
  return async function omnitenantRequireMaster(request, ...rest) {
    if (!TenantContext.isMaster()) return onError(new MasterOnlyError(), request);
    return handler(request, ...rest);
  };
}

export { type TenantErrorBody, tenantErrorResponse } from "./http.js";
