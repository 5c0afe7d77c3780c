import type { TenantRegistry } from "../registry.js";
import type { Tenant } from "../types.js";

/** Request headers as Node hands them over (`IncomingHttpHeaders`, lowercase keys) or the web does (`Headers`). */
export type HeadersLike =
  | { get(name: string): string | null | undefined }
  | Readonly<Record<string, string | string[] | undefined>>;

/** What a resolver looks at; every integration builds one from its framework's request. */
export interface ResolveRequest {
  /** The `Host` header as received, port included (`acme.example.com:8080`). */
  host?: string | undefined;
  headers: HeadersLike;
  /** The request path as received, query string included (`/t/acme/projects?page=2`). */
  path: string;
}

/**
 * What a resolver found:
 * - `tenant`: the request belongs to this tenant; `path` is set when the resolver consumed part of the path,
 *   and is what the app should route on;
 * - `master`: a configured master (public) host: the request runs in master context;
 * - `not-found`: the request names a tenant (`lookup` says how) that does not exist;
 * - `missing`: the request names no tenant the way this resolver expects (`expected` says what it wanted).
 *
 * A malformed identifier is neither: the resolver throws (`InvalidTenantIdError`, `InvalidDomainError`)
 * before any lookup, so it never reaches SQL.
 */
export type ResolveResult<T extends Tenant = Tenant> =
  | { kind: "tenant"; tenant: T; path?: string }
  | { kind: "master"; path?: string }
  | { kind: "not-found"; lookup: string }
  | { kind: "missing"; expected: string };

/** A successful resolution: a tenant or master context. */
export type Resolved<T extends Tenant = Tenant> = Extract<ResolveResult<T>, { kind: "tenant" | "master" }>;

/** Finds the tenant of a request. Any function of this shape is a resolver (chain it, mount it). */
export type Resolver<T extends Tenant = Tenant> = ((request: ResolveRequest) => Promise<ResolveResult<T>>) & {
  /**
   * Optional: the answer when it is known without waiting (a fresh registry entry), else undefined. The
   * integrations try it first, so a cached request costs no promise.
   */
  cached?: (request: ResolveRequest) => ResolveResult<T> | undefined;
};

/**
 * Where resolvers look tenants up: an omnitenant instance (`createOmnitenant(...)` for PostgreSQL or
 * SQLite) or anything with its registry. Lookups are cached there (TTL + size bound) and invalidated when
 * tenants or domains change through that instance; resolvers keep no cache of their own.
 */
export interface TenantSource<T extends Tenant = Tenant> {
  registry: Pick<TenantRegistry<T>, "get" | "getByDomain"> &
    Partial<Pick<TenantRegistry<T>, "cachedByDomain">>;
}
