import { OmnitenantError } from "../errors.js";

/** The request names no tenant the way the resolver expects (no header, no subdomain, no path prefix). */
export class TenantIdentifierMissingError extends OmnitenantError {
  override readonly code = "TENANT_IDENTIFIER_MISSING";
  constructor(readonly expected: string) {
    super(`This request does not say which tenant it is for: expected ${expected}.`);
  }
}

/** A route guarded by `requireMaster()` was reached outside master context (from a tenant's host). */
export class MasterOnlyError extends OmnitenantError {
  override readonly code = "MASTER_ONLY";
  constructor() {
    super("This route is only available in master context (on a master host), not as a tenant.");
  }
}
