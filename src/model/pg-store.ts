import { and, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/postgres-js";
import type { Sql, TransactionSql } from "postgres";
import { transactionClient } from "../drivers/postgres.js";
import { DomainTakenError, TenantExistsError } from "../errors.js";
import type { TenantStore } from "../registry.js";
import type { Domain, IsolationMode, Tenant } from "../types.js";
import type { PgTenantTables } from "./pg.js";

/** The master-database side of the tenants and domains tables, for PostgreSQL. */
export class PgTenantStore implements TenantStore {
  readonly #db;

  constructor(
    readonly master: Sql,
    readonly tables: Pick<PgTenantTables, "tenants" | "domains">,
  ) {
    this.#db = drizzle({ client: master });
  }

  async byId(tenantId: string): Promise<Tenant | undefined> {
    const { tenants } = this.tables;
    const rows = await this.#db.select().from(tenants).where(eq(tenants.tenantId, tenantId)).limit(1);
    return rows[0] as Tenant | undefined;
  }

  async byDomain(domain: string): Promise<Tenant | undefined> {
    const { tenants, domains } = this.tables;
    const rows = await this.#db
      .select({ tenant: tenants })
      .from(domains)
      .innerJoin(tenants, eq(tenants.tenantId, domains.tenantId))
      .where(eq(domains.domain, domain))
      .limit(1);
    return rows[0]?.tenant as Tenant | undefined;
  }

  async list(filter: { isolation?: IsolationMode } = {}): Promise<Tenant[]> {
    const { tenants } = this.tables;
    const query = this.#db.select().from(tenants);
    const rows = filter.isolation
      ? await query.where(eq(tenants.isolation, filter.isolation)).orderBy(tenants.tenantId)
      : await query.orderBy(tenants.tenantId);
    return rows as Tenant[];
  }

  async domainsOf(tenantId: string): Promise<Domain[]> {
    const { domains } = this.tables;
    const rows = await this.#db
      .select({ domain: domains.domain, tenantId: domains.tenantId, isPrimary: domains.isPrimary })
      .from(domains)
      .where(eq(domains.tenantId, tenantId))
      .orderBy(domains.domain);
    return rows;
  }

  async insert(tx: TransactionSql, tenant: Record<string, unknown>, tenantDomains: Domain[]): Promise<void> {
    const db = drizzle({ client: transactionClient(tx) });
    const { tenants, domains } = this.tables;
    try {
      await db.insert(tenants).values(tenant as typeof tenants.$inferInsert);
    } catch (error) {
      if (uniqueViolation(error)) throw new TenantExistsError(String(tenant.tenantId));
      throw error;
    }
    if (tenantDomains.length > 0) {
      try {
        await db.insert(domains).values(tenantDomains);
      } catch (error) {
        if (uniqueViolation(error)) throw await this.#domainTaken(tenantDomains);
        throw error;
      }
    }
  }

  async delete(tx: TransactionSql, tenantId: string): Promise<boolean> {
    const db = drizzle({ client: transactionClient(tx) });
    const { tenants, domains } = this.tables;
    await db.delete(domains).where(eq(domains.tenantId, tenantId));
    const deleted = await db
      .delete(tenants)
      .where(eq(tenants.tenantId, tenantId))
      .returning({ id: tenants.tenantId });
    return deleted.length > 0;
  }

  async addDomain(domain: Domain): Promise<void> {
    const { domains } = this.tables;
    await this.master.begin(async (tx) => {
      const db = drizzle({ client: transactionClient(tx) });
      if (domain.isPrimary) {
        await db
          .update(domains)
          .set({ isPrimary: false })
          .where(and(eq(domains.tenantId, domain.tenantId), eq(domains.isPrimary, true)));
      }
      try {
        await db.insert(domains).values(domain);
      } catch (error) {
        if (uniqueViolation(error)) throw await this.#domainTaken([domain]);
        throw error;
      }
    });
  }

  async removeDomain(domain: string): Promise<boolean> {
    const { domains } = this.tables;
    const rows = await this.#db
      .delete(domains)
      .where(eq(domains.domain, domain))
      .returning({ d: domains.domain });
    return rows.length > 0;
  }

  async #domainTaken(candidates: Domain[]): Promise<DomainTakenError> {
    const { domains } = this.tables;
    for (const candidate of candidates) {
      const rows = await this.#db.select().from(domains).where(eq(domains.domain, candidate.domain)).limit(1);
      if (rows[0]) return new DomainTakenError(candidate.domain, rows[0].tenantId);
    }
    return new DomainTakenError(candidates.map((d) => d.domain).join(", "));
  }
}

function uniqueViolation(error: unknown): boolean {
  let current: unknown = error;
  while (current) {
    if ((current as { code?: string }).code === "23505") return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
