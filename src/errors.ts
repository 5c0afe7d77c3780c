/** Base class of every error omnitenant throws; `code` is stable for programs to branch on. */
export class OmnitenantError extends Error {
  readonly code: string = "OMNITENANT_ERROR";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class InvalidTenantIdError extends OmnitenantError {
  override readonly code = "INVALID_TENANT_ID";
  constructor(
    readonly tenantId: unknown,
    reason: string,
  ) {
    super(
      `Invalid tenant id ${JSON.stringify(String(tenantId)).slice(0, 80)}: ${reason}. ` +
        "A tenant id is a DNS label: 1-63 lowercase letters, digits and hyphens, not starting or ending with a hyphen.",
    );
  }
}

export class InvalidIdentifierError extends OmnitenantError {
  override readonly code = "INVALID_IDENTIFIER";
  constructor(
    readonly identifier: string,
    reason: string,
  ) {
    super(`Invalid SQL identifier ${JSON.stringify(identifier)}: ${reason}.`);
  }
}

export class InvalidDomainError extends OmnitenantError {
  override readonly code = "INVALID_DOMAIN";
  constructor(
    readonly domain: unknown,
    reason: string,
  ) {
    super(`Invalid domain ${JSON.stringify(String(domain)).slice(0, 260)}: ${reason}.`);
  }
}

export class TenantNotFoundError extends OmnitenantError {
  override readonly code = "TENANT_NOT_FOUND";
  constructor(readonly lookup: string) {
    super(
      `No tenant found for ${lookup}. Create it with \`omnitenant create-tenant\` or check the id/domain.`,
    );
  }
}

export class TenantExistsError extends OmnitenantError {
  override readonly code = "TENANT_EXISTS";
  constructor(
    readonly tenantId: string,
    detail = "a tenant with this id already exists",
  ) {
    super(
      `Cannot create tenant "${tenantId}": ${detail}. Choose another id or delete the existing one first.`,
    );
  }
}

export class DomainTakenError extends OmnitenantError {
  override readonly code = "DOMAIN_TAKEN";
  constructor(
    readonly domain: string,
    readonly ownerTenantId?: string,
  ) {
    super(
      `Domain "${domain}" already belongs to ${ownerTenantId ? `tenant "${ownerTenantId}"` : "another tenant"}. Remove it there first.`,
    );
  }
}

export class NoTenantContextError extends OmnitenantError {
  override readonly code = "NO_TENANT_CONTEXT";
  constructor(what = "This operation") {
    super(
      `${what} needs a tenant, but none is active. Run it inside TenantContext.use(tenant, fn), pass the tenant explicitly, or mount the omnitenant middleware.`,
    );
  }
}

export class UnsupportedIsolationError extends OmnitenantError {
  override readonly code = "UNSUPPORTED_ISOLATION";
  constructor(
    readonly isolation: string,
    reason: string,
  ) {
    super(`Isolation mode "${isolation}" is not available: ${reason}.`);
  }
}

export class TenantDatabaseUnavailableError extends OmnitenantError {
  override readonly code = "TENANT_DATABASE_UNAVAILABLE";
  constructor(
    readonly tenantId: string,
    cause: unknown,
  ) {
    super(
      `The database of tenant "${tenantId}" cannot be reached (${describeCause(cause)}). Other tenants are not affected; check the tenant's server and its connection settings.`,
      { cause },
    );
  }
}

export class ConfigError extends OmnitenantError {
  override readonly code = "CONFIG_ERROR";
}

export class ProvisioningError extends OmnitenantError {
  override readonly code = "PROVISIONING_FAILED";
  constructor(
    readonly tenantId: string,
    step: string,
    cause: unknown,
  ) {
    super(
      `Creating tenant "${tenantId}" failed while ${step}: ${describeCause(cause)}. Nothing was left behind; fix the cause and run it again.`,
      { cause },
    );
  }
}

export class MigrationError extends OmnitenantError {
  override readonly code = "MIGRATION_FAILED";
  constructor(
    readonly tenantId: string,
    readonly migration: string | undefined,
    cause: unknown,
  ) {
    super(
      `Migrating tenant "${tenantId}"${migration ? ` at ${migration}` : ""} failed: ${describeCause(cause)}`,
      { cause },
    );
  }
}

export class MigrationDriftError extends OmnitenantError {
  override readonly code = "MIGRATION_DRIFT";
  constructor(
    readonly tenantId: string,
    readonly migrations: string[],
  ) {
    super(
      `Tenant "${tenantId}" has applied migrations whose files changed since: ${migrations.join(", ")}. Restore the original files and put the change in a new migration (drizzle-kit generate).`,
    );
  }
}

export class MigrationLockedError extends OmnitenantError {
  override readonly code = "MIGRATION_LOCKED";
  constructor(readonly tenantId: string) {
    super(`Tenant "${tenantId}" is being migrated by another process. Wait for it to finish and run again.`);
  }
}

export class RlsBypassError extends OmnitenantError {
  override readonly code = "RLS_BYPASS";
}

/** The shared tables of table mode lack forced row-level security or the tenant policy (or are missing). */
export class SharedTablesNotSecuredError extends OmnitenantError {
  override readonly code = "SHARED_TABLES_NOT_SECURED";
}

/** Renders a cause for a message without leaking connection strings. */
export function describeCause(cause: unknown): string {
  const text = cause instanceof Error ? cause.message : String(cause);
  return redactSecrets(text);
}

/** Masks passwords in anything that looks like a connection URL. */
export function redactSecrets(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s]*@/gi, "$1***@");
}
