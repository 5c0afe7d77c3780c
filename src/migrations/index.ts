export {
  MigrationFolderError,
  MigrationStatementError,
  TenantSchemaMissingError,
  UnknownMigrationError,
} from "./errors.js";
export { type MigrationFile, readMigrationFolder } from "./journal.js";
export {
  applyMigrationsInTransaction,
  DEFAULT_JOURNAL_TABLE,
  type MigrateTenantOptions,
  migrateTenant,
  type PgMigrationTarget,
  planTenant,
  type TenantMigrationResult,
  type TenantPlan,
} from "./pg-migrator.js";
export { placeInSchema } from "./qualify.js";
export {
  type MigrateTenantsOptions,
  type MigrateTenantsResult,
  type MigrationProgress,
  migrateTenants,
  type PlanTenantsOptions,
  planSchemaTenants,
  planTenants,
} from "./runner.js";
export {
  migrateSqlite,
  planSqlite,
  type SqliteMigrateOptions,
  type SqlitePlanOptions,
} from "./sqlite-migrator.js";
