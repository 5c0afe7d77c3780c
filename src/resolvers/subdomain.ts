import { InvalidTenantIdError } from "../errors.js";
import { assertTenantId, normalizeDomain } from "../tenant-id.js";
import type { Tenant } from "../types.js";
import type { Resolver, TenantSource } from "./types.js";
import { hostSet, isIpLiteral } from "./util.js";

export type SubdomainResolverOptions = {
  /** The domain(s) tenants are subdomains of: `example.com` makes `acme.example.com` tenant `acme`. */
  baseDomains: string | readonly string[];
  /** Hosts that run in master context (e.g. `example.com`, `admin.example.com`). */
  masterHosts?: readonly string[];
};

/**
 * Resolves `acme.example.com` to the tenant with id `acme`. The port, the case and a leading `www.` are
 * ignored; with several base domains the longest one that matches wins. A host under no base domain (or a
 * base domain itself) is `missing`, so a chain can go on to the domains table for custom domains; a nested
 * subdomain (`a.b.example.com`) throws `InvalidTenantIdError` and a malformed host `InvalidDomainError`,
 * both before any lookup.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { tenantMiddleware } from "omnitenant/hono";
 * import { subdomainResolver } from "omnitenant/resolvers";
 *
 * const app = new Hono();
 * app.use(tenantMiddleware({
 *   resolver: subdomainResolver(omni, { baseDomains: "example.com", masterHosts: ["example.com"] }),
 * }));
 * app.get("/", (c) => c.text(c.get("tenant")?.name ?? "master"));
 * ```
 */
export function subdomainResolver<T extends Tenant>(
  source: TenantSource<T>,
  { baseDomains, masterHosts = [] }: SubdomainResolverOptions,
): Resolver<T> {
  // Longest first, so `eu.example.com` wins over `example.com` for `acme.eu.example.com`.
  const bases = [...hostSet(typeof baseDomains === "string" ? [baseDomains] : baseDomains)].sort(
    (a, b) => b.length - a.length,
  );
  if (bases.length === 0) throw new TypeError("subdomainResolver: baseDomains must name at least one domain");
  const masters = hostSet(masterHosts);
  const expected = `a subdomain of ${bases.join(" or ")}`;

  return async function resolveBySubdomain({ host }) {
    if (!host || isIpLiteral(host)) return { kind: "missing", expected };
    const domain = normalizeDomain(host);
    if (masters.has(domain)) return { kind: "master" };
    const base = bases.find((b) => domain.endsWith(`.${b}`));
    if (!base) return { kind: "missing", expected };
    const label = domain.slice(0, -(base.length + 1));
    if (label.includes(".")) {
      throw new InvalidTenantIdError(label, `"${domain}" is a nested subdomain of ${base}`);
    }
    assertTenantId(label);
    const tenant = await source.registry.get(label);
    return tenant ? { kind: "tenant", tenant } : { kind: "not-found", lookup: `subdomain "${label}"` };
  };
}
