import { assertTenantId } from "../tenant-id.js";
import type { Tenant } from "../types.js";
import type { ResolveRequest, Resolver, TenantSource } from "./types.js";

/** What a custom extractor returns: a tenant id, `{ master: true }`, or nothing when the request names none. */
export type ExtractedTenant = string | { master: true } | null | undefined;

export type CustomResolverOptions = {
  /** What the extractor looks for, for the "missing" message (`a tenant claim in the token`). */
  expected?: string;
};

/**
 * A resolver from a plain function that finds the tenant id in a request (a token claim, a cookie, a
 * query parameter…). The id it returns is validated before the lookup (`InvalidTenantIdError`), looked up
 * through the registry's cache and reported `not-found` when unknown; `undefined` means `missing`.
 * (Any `(request) => Promise<ResolveResult>` is a resolver too; this one only adds the checks.)
 *
 * @example
 * ```ts
 * import { customResolver } from "omnitenant/resolvers";
 *
 * const byQuery = customResolver(
 *   omni,
 *   ({ path }) => new URLSearchParams(path.split("?")[1]).get("tenant"),
 *   { expected: "a ?tenant= query parameter" },
 * );
 * ```
 */
export function customResolver<T extends Tenant>(
  source: TenantSource<T>,
  extract: (request: ResolveRequest) => ExtractedTenant | Promise<ExtractedTenant>,
  { expected = "a tenant id" }: CustomResolverOptions = {},
): Resolver<T> {
  return async function resolveCustom(request) {
    const found = await extract(request);
    if (found === undefined || found === null || found === "") return { kind: "missing", expected };
    if (typeof found === "object") {
      if (found.master === true) return { kind: "master" };
      throw new TypeError(
        "customResolver: the extractor must return a tenant id, { master: true } or nothing",
      );
    }
    assertTenantId(found);
    const tenant = await source.registry.get(found);
    return tenant ? { kind: "tenant", tenant } : { kind: "not-found", lookup: `tenant id "${found}"` };
  };
}
