import { randomBytes } from "node:crypto";
import type { Tenant, TenantConfig } from "../../src/types.js";

/** A prefix no other run (or other test file) shares; cleaned up by each test file. */
export const runPrefix = (): string => `omnitenant-test-${randomBytes(6).toString("hex")}:`;

export const acme: Tenant = {
  tenantId: "acme",
  name: "Acme",
  isolation: "schema",
  config: {},
  createdAt: null,
};

export function fakeTenant(tenantId: string, cache?: TenantConfig["cache"]): Tenant {
  return { tenantId, name: tenantId, isolation: "schema", config: cache ? { cache } : {}, createdAt: null };
}
