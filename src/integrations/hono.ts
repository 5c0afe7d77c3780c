import type { Context, MiddlewareHandler } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { TenantContext } from "../context.js";
import { MasterOnlyError } from "../resolvers/errors.js";
import { resolveCached, resolveRequest } from "../resolvers/resolve.js";
import type { Resolved, Resolver } from "../resolvers/types.js";
import type { Tenant } from "../types.js";
import { enterResolved, tenantErrorResponse } from "./http.js";

/** What the middleware sets on the context: `c.get("tenant")`, `c.get("tenantPath")`. */
export type TenantVariables = {
  /** The request's tenant; undefined in master context. */
  tenant: Tenant | undefined;
  /** The path to route on: after the tenant prefix with `pathResolver`, else the request path. */
  tenantPath: string;
};

declare module "hono" {
  interface ContextVariableMap extends TenantVariables {}
}

/** Handles an error of tenant resolution; return the response to send. */
export type HonoTenantErrorHandler = (error: unknown, c: Context) => Response | Promise<Response>;

export type TenantMiddlewareOptions = {
  /** Finds the tenant of a request: one of `omnitenant/resolvers`, a chain of them, or your own. */
  resolver: Resolver;
  /** Replaces the default: JSON `{ error: { code, message } }` with 404/400, anything else rethrown (`app.onError`). */
  onError?: HonoTenantErrorHandler;
  /** Where host-based resolvers read the host (default: the Host header, else the URL's host). */
  getHost?: (c: Context) => string | undefined;
};

/** The default error handling: tenant errors become small JSON responses, others go to `app.onError`. */
export const sendTenantError: HonoTenantErrorHandler = (error, c) => {
  const response = tenantErrorResponse(error);
  if (!response) throw error;
  return c.json(response.body, response.status as ContentfulStatusCode);
};

const hostOf = (c: Context): string | undefined => c.req.header("host") ?? new URL(c.req.url).host;

/**
 * Hono middleware: resolves the request's tenant, sets `c.get("tenant")` and runs the rest of the request
 * inside `TenantContext`, so `tenantDb()` needs no argument. Master hosts run in master context
 * (`c.get("tenant")` undefined). Hono routes before middleware runs, so with `pathResolver` declare the
 * routes under the prefix (`app.route("/t/:tenant", api)`); `c.get("tenantPath")` is the rest of the path.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { requireMaster, tenantMiddleware } from "omnitenant/hono";
 * import { domainResolver } from "omnitenant/resolvers";
 *
 * const app = new Hono();
 * app.use(tenantMiddleware({ resolver: domainResolver(omni, { masterHosts: ["admin.example.com"] }) }));
 * app.get("/projects", async (c) => c.json(await omni.tenantDb().select().from(projects)));
 * app.get("/admin/tenants", requireMaster(), async (c) => c.json(await omni.listTenants()));
 * ```
 */
export function tenantMiddleware({
  resolver,
  onError = sendTenantError,
  getHost = hostOf,
}: TenantMiddlewareOptions): MiddlewareHandler<{ Variables: TenantVariables }> {
  if (typeof resolver !== "function") throw new TypeError("tenantMiddleware: a resolver is required");
  return async function omnitenant(c, next) {
    const request = { host: getHost(c), headers: c.req.raw.headers, path: c.req.path };
    let resolved: Resolved;
    try {
      // A fresh cached answer needs no promise; anything else is looked up.
      resolved = resolveCached(resolver, request) ?? (await resolveRequest(resolver, request));
    } catch (error) {
      return onError(error, c);
    }
    c.set("tenant", resolved.kind === "tenant" ? resolved.tenant : undefined);
    c.set("tenantPath", resolved.path ?? c.req.path);
    await enterResolved(resolved, () => next());
  };
}

export type RequireMasterOptions = {
  /** Replaces the default 403 JSON response. */
  onError?: HonoTenantErrorHandler;
};

/**
 * Lets a route run only in master context (on a master host); as a tenant, or without the tenant
 * middleware, it answers 403 `{ error: { code: "MASTER_ONLY", … } }`.
 *
 * @example
 * ```ts
 * app.delete("/admin/tenants/:id", requireMaster(), async (c) => {
 *   await omni.deleteTenant(c.req.param("id"));
 *   return c.body(null, 204);
 * });
 * ```
 */
export function requireMaster({ onError = sendTenantError }: RequireMasterOptions = {}): MiddlewareHandler {
  return async function omnitenantRequireMaster(c, next) {
    if (!TenantContext.isMaster()) return onError(new MasterOnlyError(), c);
    await next();
  };
}

export { type TenantErrorBody, tenantErrorResponse } from "./http.js";
