import type {
  FastifyPluginCallback,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
  onRequestHookHandler,
} from "fastify";
import { TenantContext } from "../context.js";
import { MasterOnlyError } from "../resolvers/errors.js";
import { resolveRequest } from "../resolvers/resolve.js";
import type { Resolver } from "../resolvers/types.js";
import type { Tenant } from "../types.js";
import { tenantErrorResponse } from "./http.js";
import { continueInContext } from "./node.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The request's tenant (set by omnitenant's plugin); undefined in master context. */
    tenant: Tenant | undefined;
    /** The path after the tenant prefix with `pathResolver`, else the request URL. */
    tenantPath: string;
  }
}

/** Handles an error of tenant resolution: send a reply, or throw to hand it to Fastify's error handler. */
export type FastifyTenantErrorHandler = (
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
) => void | Promise<void>;

export type OmnitenantPluginOptions = {
  /** Finds the tenant of a request: one of `omnitenant/resolvers`, a chain of them, or your own. */
  resolver: Resolver;
  /** Replaces the default: JSON `{ error: { code, message } }` with 404/400, anything else thrown (500). */
  onError?: FastifyTenantErrorHandler;
};

/** The default error handling: tenant errors become small JSON replies, others go to the error handler. */
export const sendTenantError: FastifyTenantErrorHandler = (error, _request, reply) => {
  const response = tenantErrorResponse(error);
  if (!response) throw error;
  reply.code(response.status).send(response.body);
};

/**
 * The plugin's `onRequest` hook on its own, for adding it to one encapsulated scope only:
 * `scope.addHook("onRequest", tenantHook({ resolver }))` (the request decorators then come from
 * registering `omnitenantPlugin` elsewhere, or stay plain properties).
 */
export function tenantHook({
  resolver,
  onError = sendTenantError,
}: OmnitenantPluginOptions): onRequestHookHandler {
  if (typeof resolver !== "function") throw new TypeError("omnitenant: a resolver is required");
  // Callback style on purpose: `done()` must be called inside the tenant's context for the rest of the
  // request (hooks, handler, onSend) to inherit it; an async hook would be resumed outside it.
  return function omnitenantOnRequest(request, reply, done) {
    resolveRequest(resolver, { host: request.host, headers: request.headers, path: request.url })
      .then(
        (resolved) => {
          request.tenant = resolved.kind === "tenant" ? resolved.tenant : undefined;
          request.tenantPath = resolved.path ?? request.url;
          continueInContext(resolved, request.raw, reply.raw, () => done());
        },
        (error: unknown) => onError(error, request, reply),
      )
      .catch((error: Error) => done(error));
  };
}

function plugin(
  fastify: Parameters<FastifyPluginCallback<OmnitenantPluginOptions>>[0],
  options: OmnitenantPluginOptions,
  done: (error?: Error) => void,
): void {
  if (!fastify.hasRequestDecorator("tenant")) fastify.decorateRequest("tenant", undefined);
  if (!fastify.hasRequestDecorator("tenantPath")) fastify.decorateRequest("tenantPath", "");
  fastify.addHook("onRequest", tenantHook(options));
  done();
}

/**
 * Fastify plugin: resolves each request's tenant in an `onRequest` hook, sets `request.tenant` and runs
 * the rest of the request — later hooks, body parsing, the handler, `onSend` — inside `TenantContext`, so
 * `tenantDb()` needs no argument. Master hosts run in master context (`request.tenant` undefined). It
 * applies to the scope it is registered in and its children (like `fastify-plugin`). Fastify routes before
 * `onRequest`, so with `pathResolver` register the routes under the prefix
 * (`app.register(routes, { prefix: "/t/:tenant" })`); `request.tenantPath` is the rest of the path.
 *
 * @example
 * ```ts
 * import Fastify from "fastify";
 * import { omnitenantPlugin, requireMaster } from "omnitenant/fastify";
 * import { subdomainResolver } from "omnitenant/resolvers";
 *
 * const app = Fastify();
 * await app.register(omnitenantPlugin, {
 *   resolver: subdomainResolver(omni, { baseDomains: "example.com", masterHosts: ["admin.example.com"] }),
 * });
 * app.get("/projects", () => omni.tenantDb().select().from(projects));
 * app.get("/admin/tenants", { preHandler: requireMaster() }, () => omni.listTenants());
 * ```
 */
export const omnitenantPlugin: FastifyPluginCallback<OmnitenantPluginOptions> = Object.assign(plugin, {
  [Symbol.for("skip-override")]: true,
  [Symbol.for("fastify.display-name")]: "omnitenant",
});

export type RequireMasterOptions = {
  /** Replaces the default 403 JSON reply. */
  onError?: FastifyTenantErrorHandler;
};

/**
 * A hook (for a route's `onRequest` or `preHandler`) letting the route run only in master context; as a
 * tenant, or without the plugin, it replies 403 `{ error: { code: "MASTER_ONLY", … } }`.
 *
 * @example
 * ```ts
 * app.post("/admin/tenants", { preHandler: requireMaster() }, (request) => omni.createTenant(request.body));
 * ```
 */
export function requireMaster({ onError = sendTenantError }: RequireMasterOptions = {}) {
  return function omnitenantRequireMaster(
    request: FastifyRequest,
    reply: FastifyReply,
    done: HookHandlerDoneFunction,
  ): void {
    if (TenantContext.isMaster()) {
      done();
      return;
    }
    Promise.resolve()
      .then(() => onError(new MasterOnlyError(), request, reply))
      .catch((error: Error) => done(error));
  };
}

export { type TenantErrorBody, tenantErrorResponse } from "./http.js";
