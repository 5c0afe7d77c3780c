import type { IsolationMode, Tenant } from "../types.js";

/**
 * Everything that differs between isolation modes lives behind this interface (one implementation a mode and
 * dialect); nothing above it branches on the mode. Like a stancl/tenancy bootstrapper, a new mode plugs in
 * without touching the rest.
 *
 * `Tx` is the dialect's transaction handle used to write the tenant record; `TTarget` what the migrator needs.
 */
export interface IsolationStrategy<TDb, Tx, TTarget> {
  readonly mode: IsolationMode;
  /** The tenant's typed database handle; synchronous and cheap after the first call. */
  db(tenant: Tenant): TDb;
  /**
   * Creates the tenant's storage and applies the tenant migrations, then calls `writeRecord` so the tenant row
   * and its domains are committed last (in the same transaction where the mode allows). On any failure,
   * whatever this call created is removed again before it rethrows.
   */
  provision(tenant: Tenant, steps: ProvisionSteps<Tx>): Promise<{ applied: string[] }>;
  /** Deletes the record via `deleteRecord`, and the tenant's data when `dropData`. */
  deprovision(tenant: Tenant, steps: DeprovisionSteps<Tx>): Promise<void>;
  /** Where and how the tenant's migrations are applied. */
  migrationTarget(tenant: Tenant): TTarget;
  /** Whether the tenant's schema/database exists (for `doctor` and listings). */
  exists(tenant: Tenant): Promise<boolean>;
  /** Forgets cached handles and closes connections held for one tenant. */
  release(tenantId: string): Promise<void>;
  close(): Promise<void>;
}

export interface ProvisionSteps<Tx> {
  migrate: boolean;
  writeRecord(tx: Tx): Promise<void>;
}

export interface DeprovisionSteps<Tx> {
  dropData: boolean;
  deleteRecord(tx: Tx): Promise<void>;
}
