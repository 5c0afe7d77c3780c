// omnitenant/testing: helpers for the test suites of apps that use omnitenant. Framework-neutral: it
// imports no test runner (pass your runner's hooks to useTestTenants, or use createTestTenants).
export {
  type SendRequestOptions,
  sendRequest,
  type TenantHeadersOptions,
  type TenantRequestOptions,
  tenantHeaders,
  tenantRequest,
} from "./requests.js";
export {
  asMaster,
  asTenant,
  createTestTenants,
  type TestHooks,
  type TestTenantHost,
  type TestTenantSpec,
  type TestTenants,
  type TestTenantsOptions,
  useTestTenants,
} from "./tenants.js";
