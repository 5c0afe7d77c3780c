import { assertTenantId } from "../tenant-id.js";
import type { Tenant } from "../types.js";
import type { Resolver, TenantSource } from "./types.js";
import { headerValue } from "./util.js";

export type HeaderResolverOptions = {
  /** The header carrying the tenant id. */
  headerName?: string;
};

/**
 * Resolves a request by a header carrying the tenant id (default `X-Tenant-ID`). The value is checked
 * (1-63 characters, a DNS label) before any lookup: anything else throws `InvalidTenantIdError` and never
 * reaches SQL. No header (or an empty one) is `missing`; an unknown id is `not-found`.
 *
 * @example
 * ```ts
 * import Fastify from "fastify";
 * import { omnitenantPlugin } from "omnitenant/fastify";
 * import { headerResolver } from "omnitenant/resolvers";
 *
 * const app = Fastify();
 * await app.register(omnitenantPlugin, { resolver: headerResolver(omni) });
 * app.get("/projects", () => omni.tenantDb().select().from(projects)); // curl -H "X-Tenant-ID: acme"
 * ```
 */
export function headerResolver<T extends Tenant>(
  source: TenantSource<T>,
  { headerName = "X-Tenant-ID" }: HeaderResolverOptions = {},
): Resolver<T> {
  if (!/^[A-Za-z0-9-]{1,64}$/.test(headerName)) {
    throw new TypeError(`headerResolver: ${JSON.stringify(headerName)} is not a header name`);
  }
  const expected = `a ${headerName} header`;
  return async function resolveByHeader({ headers }) {
    const value = headerValue(headers, headerName)?.trim();
    if (!value) return { kind: "missing", expected };
    assertTenantId(value);
    const tenant = await source.registry.get(value);
    return tenant ? { kind: "tenant", tenant } : { kind: "not-found", lookup: `${headerName} "${value}"` };
  };
}
