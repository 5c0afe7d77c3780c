import { normalizeDomain } from "../tenant-id.js";
import type { Tenant } from "../types.js";
import type { ResolveRequest, ResolveResult, Resolver, TenantSource } from "./types.js";
import { hostSet } from "./util.js";

export type DomainResolverOptions = {
  /** Hosts that run in master context instead of being looked up (e.g. `admin.example.com`). */
  masterHosts?: readonly string[];
};

/**
 * Resolves a request by its `Host` against the domains table: any of a tenant's domains matches, with the
 * port, the case and a leading `www.` ignored. A host that is not a valid hostname throws
 * `InvalidDomainError` before any lookup; an unknown one is `not-found` (and cached as such by the registry,
 * so a flood of them does not reach the database).
 *
 * @example
 * ```ts
 * import { tenantMiddleware } from "omnitenant/express";
 * import { domainResolver } from "omnitenant/resolvers";
 *
 * app.use(tenantMiddleware({ resolver: domainResolver(omni, { masterHosts: ["admin.example.com"] }) }));
 * app.get("/projects", async (req, res) => {
 *   res.json(await omni.tenantDb().select().from(projects)); // the tenant owning req.host
 * });
 * ```
 */
export function domainResolver<T extends Tenant>(
  source: TenantSource<T>,
  { masterHosts = [] }: DomainResolverOptions = {},
): Resolver<T> {
  const masters = hostSet(masterHosts);
  const found = (domain: string, tenant: T | undefined): ResolveResult<T> =>
    tenant ? { kind: "tenant", tenant } : { kind: "not-found", lookup: `domain "${domain}"` };
  const early = (host: string | undefined): ResolveResult<T> | string => {
    if (!host || host.startsWith("[")) return { kind: "missing", expected: "a Host header with a domain" };
    const domain = normalizeDomain(host);
    return masters.has(domain) ? { kind: "master" } : domain;
  };
  return Object.assign(
    async function resolveByDomain({ host }: ResolveRequest): Promise<ResolveResult<T>> {
      const domain = early(host);
      return typeof domain === "string" ? found(domain, await source.registry.getByDomain(domain)) : domain;
    },
    {
      cached({ host }: ResolveRequest): ResolveResult<T> | undefined {
        const domain = early(host);
        if (typeof domain !== "string") return domain;
        const hit = source.registry.cachedByDomain?.(domain);
        return hit ? found(domain, hit.value) : undefined;
      },
    },
  );
}
