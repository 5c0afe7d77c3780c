import type { NextFunction, Request, RequestHandler, Response } from "express";
import { TenantContext } from "../context.js";
import { MasterOnlyError } from "../resolvers/errors.js";
import { resolveCached, resolveRequest } from "../resolvers/resolve.js";
import type { Resolved, Resolver } from "../resolvers/types.js";
import type { Tenant } from "../types.js";
import { tenantErrorResponse } from "./http.js";
import { continueInContext } from "./node.js";

declare global {
  namespace Express {
    interface Request {
      /** The request's tenant (set by omnitenant's `tenantMiddleware`); undefined in master context. */
      tenant?: Tenant | undefined;
    }
  }
}

/** Handles an error of tenant resolution (unknown tenant, missing or malformed identifier, DB outage). */
export type ExpressTenantErrorHandler = (
  error: unknown,
  req: Request,
  res: Response,
  next: NextFunction,
) => void;

export type TenantMiddlewareOptions = {
  /** Finds the tenant of a request: one of `omnitenant/resolvers`, a chain of them, or your own. */
  resolver: Resolver;
  /** Replaces the default: JSON `{ error: { code, message } }` with 404/400, anything else to `next(error)`. */
  onError?: ExpressTenantErrorHandler;
};

/** The default error handling: tenant errors become small JSON responses, others go to Express. */
export const sendTenantError: ExpressTenantErrorHandler = (error, _req, res, next) => {
  const response = tenantErrorResponse(error);
  if (!response) return next(error);
  res.status(response.status).json(response.body);
};

/**
 * Express 5 middleware: resolves the request's tenant, sets `req.tenant` and runs the rest of the request
 * (later middleware, the route handler, body parsers mounted after it) inside `TenantContext`, so
 * `tenantDb()` needs no argument. Master hosts run in master context (`req.tenant` undefined). When the
 * resolver consumed a path prefix (`pathResolver`), `req.url` becomes the rest, so routes are declared
 * without it (`req.originalUrl` keeps the full path). Host-based resolvers see `req.host`, which honours
 * Express's `trust proxy` setting.
 *
 * @example
 * ```ts
 * import express from "express";
 * import { tenantMiddleware, requireMaster } from "omnitenant/express";
 * import { chainResolvers, headerResolver, subdomainResolver } from "omnitenant/resolvers";
 *
 * const app = express();
 * app.use(tenantMiddleware({
 *   resolver: chainResolvers([headerResolver(omni), subdomainResolver(omni, { baseDomains: "example.com" })],
 *     { masterHosts: ["admin.example.com"] }),
 * }));
 * app.get("/projects", async (req, res) => {
 *   res.json({ tenant: req.tenant?.tenantId, projects: await omni.tenantDb().select().from(projects) });
 * });
 * app.get("/admin/tenants", requireMaster(), async (_req, res) => res.json(await omni.listTenants()));
 * ```
 */
export function tenantMiddleware({
  resolver,
  onError = sendTenantError,
}: TenantMiddlewareOptions): RequestHandler {
  if (typeof resolver !== "function") throw new TypeError("tenantMiddleware: a resolver is required");
  return function omnitenant(req, res, next) {
    const proceed = (resolved: Resolved) => {
      req.tenant = resolved.kind === "tenant" ? resolved.tenant : undefined;
      if (resolved.path !== undefined) req.url = resolved.path;
      continueInContext(resolved, req, res, next);
    };
    const request = { host: req.host, headers: req.headers, path: req.url };
    let cached: Resolved | undefined;
    try {
      cached = resolveCached(resolver, request);
    } catch (error) {
      return onError(error, req, res, next);
    }
    if (cached) return proceed(cached);
    resolveRequest(resolver, request)
      .then(proceed, (error: unknown) => onError(error, req, res, next))
      .catch(next);
  };
}

export type RequireMasterOptions = {
  /** Replaces the default 403 JSON response. */
  onError?: ExpressTenantErrorHandler;
};

/**
 * Lets a route run only in master context (on a master host); as a tenant, or without the tenant
 * middleware, it answers 403 `{ error: { code: "MASTER_ONLY", … } }`.
 *
 * @example
 * ```ts
 * app.post("/admin/tenants", requireMaster(), async (req, res) => {
 *   res.status(201).json(await omni.createTenant(req.body));
 * });
 * ```
 */
export function requireMaster({ onError = sendTenantError }: RequireMasterOptions = {}): RequestHandler {
  return function omnitenantRequireMaster(req, res, next) {
    if (TenantContext.isMaster()) return next();
    onError(new MasterOnlyError(), req, res, next);
  };
}

export { type TenantErrorBody, tenantErrorResponse } from "./http.js";
