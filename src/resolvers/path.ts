import { assertTenantId } from "../tenant-id.js";
import type { Tenant } from "../types.js";
import type { Resolver, TenantSource } from "./types.js";

export type PathResolverOptions = {
  /** The path segment before the tenant id: `/t` serves tenant `acme` at `/t/acme/...`. */
  prefix?: string;
};

/**
 * Resolves `/t/acme/projects?page=2` to tenant `acme` and hands on the rest of the path, `/projects?page=2`
 * (as `path` in the result: Express and the fetch handler route on it; Hono and Fastify expose it, see their
 * integrations). The id segment is checked before any lookup (never URL-decoded: `%61cme` is invalid, not
 * `acme`); a path outside the prefix is `missing`.
 *
 * @example
 * ```ts
 * import express from "express";
 * import { tenantMiddleware } from "omnitenant/express";
 * import { pathResolver } from "omnitenant/resolvers";
 *
 * const app = express();
 * app.use(tenantMiddleware({ resolver: pathResolver(omni) }));
 * app.get("/projects", async (_req, res) => res.json(await omni.tenantDb().select().from(projects)));
 * // GET /t/acme/projects → acme's projects
 * ```
 */
export function pathResolver<T extends Tenant>(
  source: TenantSource<T>,
  { prefix = "/t" }: PathResolverOptions = {},
): Resolver<T> {
  if (!/^(?:\/[A-Za-z0-9._~-]+)+$/.test(prefix)) {
    throw new TypeError(
      `pathResolver: prefix must look like "/t" or "/tenants", got ${JSON.stringify(prefix)}`,
    );
  }
  const expected = `a path starting with ${prefix}/<tenant>/`;
  return async function resolveByPath({ path }) {
    if (!path.startsWith(`${prefix}/`)) return { kind: "missing", expected };
    const start = prefix.length + 1;
    let end = start;
    while (end < path.length && end - start <= 63 && !"/?#".includes(path[end]!)) end++;
    const id = path.slice(start, end);
    if (id === "") return { kind: "missing", expected };
    assertTenantId(id);
    const rest = path.slice(end);
    const tenant = await source.registry.get(id);
    if (!tenant) return { kind: "not-found", lookup: `path "${prefix}/${id}"` };
    return { kind: "tenant", tenant, path: rest.startsWith("/") ? rest : `/${rest}` };
  };
}
