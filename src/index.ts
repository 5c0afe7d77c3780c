export {
  defineConfig,
  findConfigFile,
  loadConfig,
  type OmnitenantConfig,
  type PgConfig,
  type SqliteConfig,
} from "./config.js";
export { type ContextState, TenantContext } from "./context.js";
export {
  type ForEachTenantOptions,
  type ForEachTenantResult,
  forEachTenant,
  type TenantLister,
} from "./cross-tenant.js";
export * from "./errors.js";
export {
  type ListenerFailure,
  type TenantEventMap,
  type TenantEventName,
  TenantEvents,
  tenantEvents,
} from "./events.js";
export type { BulkResult, CreateTenantInput, CreateTenantResult } from "./provision.js";
export { type RegistryOptions, TenantRegistry, type TenantStore } from "./registry.js";
export {
  assertTenantId,
  isTenantId,
  type NamingOptions,
  normalizeDomain,
  quoteIdentifier,
  tenantDatabaseName,
  tenantSchemaName,
} from "./tenant-id.js";
export { type Domain, ISOLATION_MODES, type IsolationMode, type Tenant, type TenantConfig } from "./types.js";
