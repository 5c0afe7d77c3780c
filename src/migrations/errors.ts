import { MigrationError, OmnitenantError } from "../errors.js";

/** The migrations folder, or its `meta/_journal.json`, is missing or unreadable. */
export class MigrationFolderError extends OmnitenantError {
  override readonly code = "MIGRATION_FOLDER_INVALID";
  constructor(
    readonly folder: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      `Cannot read tenant migrations from ${folder}: ${reason}. Generate them from the tenant template with \`drizzle-kit generate\` (its \`out\` folder is the one to point omnitenant at).`,
      options,
    );
  }
}

/** `to` names a migration that is not in the folder. */
export class UnknownMigrationError extends OmnitenantError {
  override readonly code = "UNKNOWN_MIGRATION";
  constructor(
    readonly tag: string,
    known: readonly string[],
  ) {
    super(
      `There is no migration "${tag}" in the migrations folder. Known migrations: ${known.length ? known.join(", ") : "(none)"}.`,
    );
  }
}

/** A schema-mode tenant's schema does not exist, so there is nowhere to put its tables. */
export class TenantSchemaMissingError extends OmnitenantError {
  override readonly code = "TENANT_SCHEMA_MISSING";
  constructor(
    readonly tenantId: string,
    readonly schema: string,
  ) {
    super(
      `Schema "${schema}" of tenant "${tenantId}" does not exist, so its migrations cannot run. Create the tenant with \`omnitenant create-tenant\` (which creates the schema) or check the schema naming options.`,
    );
  }
}

/** A statement of a migration failed; `statementIndex` is 0-based within the migration's statements. */
export class MigrationStatementError extends MigrationError {
  constructor(
    tenantId: string,
    migration: string,
    readonly statementIndex: number,
    readonly statement: string,
    cause: unknown,
  ) {
    super(tenantId, migration, cause);
    const snippet = statement.replace(/\s+/g, " ").trim();
    this.message += ` (statement ${statementIndex + 1}: ${snippet.length > 160 ? `${snippet.slice(0, 157)}...` : snippet})`;
  }
}
