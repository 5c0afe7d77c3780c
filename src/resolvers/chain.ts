import type { Tenant } from "../types.js";
import type { ResolveResult, Resolver } from "./types.js";
import { hostSet, isListedHost } from "./util.js";

export type ChainResolversOptions = {
  /** Hosts that run in master context before any resolver is asked (a malformed host is never one). */
  masterHosts?: readonly string[];
};

/**
 * Tries resolvers in order; the first that finds a tenant (or master) wins. `missing` and `not-found` go on
 * to the next; when none finds one, the first `not-found` is the answer (the request did name a tenant),
 * else a `missing` listing what each resolver expected. A resolver that throws (a malformed identifier)
 * ends the chain with its error: put explicit identifiers (header, path) before host-based resolvers if a
 * malformed host should not hide them.
 *
 * @example
 * ```ts
 * import { chainResolvers, domainResolver, headerResolver, subdomainResolver } from "omnitenant/resolvers";
 *
 * const resolver = chainResolvers(
 *   [headerResolver(omni), subdomainResolver(omni, { baseDomains: "example.com" }), domainResolver(omni)],
 *   { masterHosts: ["example.com", "admin.example.com"] },
 * );
 * ```
 */
export function chainResolvers<T extends Tenant>(
  resolvers: readonly Resolver<T>[],
  { masterHosts = [] }: ChainResolversOptions = {},
): Resolver<T> {
  if (resolvers.length === 0) throw new TypeError("chainResolvers: give at least one resolver");
  const masters = hostSet(masterHosts);
  return async function resolveByChain(request): Promise<ResolveResult<T>> {
    if (isListedHost(masters, request.host)) return { kind: "master" };
    let notFound: ResolveResult<T> | undefined;
    const expected: string[] = [];
    for (const resolver of resolvers) {
      const result = await resolver(request);
      if (result.kind === "tenant" || result.kind === "master") return result;
      if (result.kind === "not-found") notFound ??= result;
      else if (!expected.includes(result.expected)) expected.push(result.expected);
    }
    return notFound ?? { kind: "missing", expected: expected.join(", or ") };
  };
}
