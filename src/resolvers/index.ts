export { type ChainResolversOptions, chainResolvers } from "./chain.js";
export { type CustomResolverOptions, customResolver, type ExtractedTenant } from "./custom.js";
export { type DomainResolverOptions, domainResolver } from "./domain.js";
export { MasterOnlyError, TenantIdentifierMissingError } from "./errors.js";
export { type HeaderResolverOptions, headerResolver } from "./header.js";
export { type PathResolverOptions, pathResolver } from "./path.js";
export { resolveRequest } from "./resolve.js";
export { type SubdomainResolverOptions, subdomainResolver } from "./subdomain.js";
export type {
  HeadersLike,
  Resolved,
  ResolveRequest,
  ResolveResult,
  Resolver,
  TenantSource,
} from "./types.js";
