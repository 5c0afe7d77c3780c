import type { RunResult } from "better-sqlite3";
import { and, eq } from "drizzle-orm";
import type { BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import type { BaseSQLiteDatabase } from "drizzle-orm/sqlite-core";
import { DomainTakenError, TenantExistsError } from "../errors.js";
import type { TenantStore } from "../registry.js";
import type { Domain, IsolationMode, Tenant } from "../types.js";
import type { SqliteTenantTables } from "./sqlite.js";

/** A drizzle handle on the master file, or a transaction of one. */
export type SqliteMasterTx = BaseSQLiteDatabase<"sync", RunResult, any>;

/**
 * The master-file side of the tenants and domains tables, for SQLite. better-sqlite3 is synchronous, so
 * `insert`, `delete` and the domain changes run to completion (in their own transaction, a savepoint when
 * nested) before they return, and throw synchronously; the lookups are async to fit `TenantStore`.
 */
export class SqliteTenantStore implements TenantStore {
  constructor(
    readonly db: BetterSQLite3Database<any>,
    readonly tables: Pick<SqliteTenantTables, "tenants" | "domains">,
  ) {}

  async byId(tenantId: string): Promise<Tenant | undefined> {
    const { tenants } = this.tables;
    return this.db.select().from(tenants).where(eq(tenants.tenantId, tenantId)).get() as Tenant | undefined;
  }

  async byDomain(domain: string): Promise<Tenant | undefined> {
    const { tenants, domains } = this.tables;
    const row = this.db
      .select({ tenant: tenants })
      .from(domains)
      .innerJoin(tenants, eq(tenants.tenantId, domains.tenantId))
      .where(eq(domains.domain, domain))
      .get();
    return row?.tenant as Tenant | undefined;
  }

  async list(filter: { isolation?: IsolationMode } = {}): Promise<Tenant[]> {
    const { tenants } = this.tables;
    const query = this.db.select().from(tenants);
    const rows = filter.isolation
      ? query.where(eq(tenants.isolation, filter.isolation)).orderBy(tenants.tenantId).all()
      : query.orderBy(tenants.tenantId).all();
    return rows as Tenant[];
  }

  async domainsOf(tenantId: string): Promise<Domain[]> {
    const { domains } = this.tables;
    return this.db
      .select({ domain: domains.domain, tenantId: domains.tenantId, isPrimary: domains.isPrimary })
      .from(domains)
      .where(eq(domains.tenantId, tenantId))
      .orderBy(domains.domain)
      .all();
  }

  /** Writes the tenant row and its domains in one transaction; throws `TenantExistsError`/`DomainTakenError`. */
  insert(db: SqliteMasterTx, tenant: Record<string, unknown>, tenantDomains: Domain[]): void {
    const { tenants, domains } = this.tables;
    db.transaction((tx) => {
      try {
        tx.insert(tenants)
          .values(tenant as typeof tenants.$inferInsert)
          .run();
      } catch (error) {
        if (uniqueViolation(error)) throw new TenantExistsError(String(tenant.tenantId));
        throw error;
      }
      if (tenantDomains.length > 0) {
        try {
          tx.insert(domains).values(tenantDomains).run();
        } catch (error) {
          if (uniqueViolation(error)) throw this.#domainTaken(tx, tenantDomains);
          throw error;
        }
      }
    });
  }

  /** Deletes the tenant row and its domains in one transaction; whether a row was there. */
  delete(db: SqliteMasterTx, tenantId: string): boolean {
    const { tenants, domains } = this.tables;
    return db.transaction((tx) => {
      tx.delete(domains).where(eq(domains.tenantId, tenantId)).run();
      return tx.delete(tenants).where(eq(tenants.tenantId, tenantId)).run().changes > 0;
    });
  }

  async addDomain(domain: Domain): Promise<void> {
    const { domains } = this.tables;
    this.db.transaction((tx) => {
      if (domain.isPrimary) {
        tx.update(domains)
          .set({ isPrimary: false })
          .where(and(eq(domains.tenantId, domain.tenantId), eq(domains.isPrimary, true)))
          .run();
      }
      try {
        tx.insert(domains).values(domain).run();
      } catch (error) {
        if (uniqueViolation(error)) throw this.#domainTaken(tx, [domain]);
        throw error;
      }
    });
  }

  async removeDomain(domain: string): Promise<boolean> {
    const { domains } = this.tables;
    return this.db.delete(domains).where(eq(domains.domain, domain)).run().changes > 0;
  }

  #domainTaken(db: SqliteMasterTx, candidates: Domain[]): DomainTakenError {
    const { domains } = this.tables;
    for (const candidate of candidates) {
      const row = db.select().from(domains).where(eq(domains.domain, candidate.domain)).get();
      if (row) return new DomainTakenError(candidate.domain, row.tenantId);
    }
    return new DomainTakenError(candidates.map((d) => d.domain).join(", "));
  }
}

function uniqueViolation(error: unknown): boolean {
  let current: unknown = error;
  while (current) {
    const code = (current as { code?: unknown }).code;
    if (code === "SQLITE_CONSTRAINT_PRIMARYKEY" || code === "SQLITE_CONSTRAINT_UNIQUE") return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
