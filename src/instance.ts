import { TenantContext } from "./context.js";
import { TenantNotFoundError, UnsupportedIsolationError } from "./errors.js";
import type { IsolationStrategy } from "./isolation/strategy.js";
import {
  type BulkResult,
  type CreateTenantInput,
  type CreateTenantResult,
  createTenant,
  deleteTenant,
  forEachLimit,
  type ProvisionDeps,
} from "./provision.js";
import { assertTenantId, normalizeDomain } from "./tenant-id.js";
import type { Domain, IsolationMode, Tenant } from "./types.js";

export interface DirectoryDeps<Tx> extends ProvisionDeps<Tx> {
  /** Adds a domain (making it the only primary one when asked), or removes one. */
  domains: {
    add(domain: Domain): Promise<void> | void;
    remove(domain: string): Promise<boolean> | boolean;
  };
  /** Dialect-specific refusals that must run before any SQL (e.g. schema mode on SQLite). */
  checkInput?(input: CreateTenantInput): void;
}

/**
 * The dialect-independent half of an omnitenant instance: lookups, context helpers, provisioning and
 * domains. Each dialect's `createOmnitenant` spreads it and adds its databases and migrations.
 */
export function tenantDirectory<Tx>(deps: DirectoryDeps<Tx>) {
  const { registry, events, strategies } = deps;
  const modes = Object.keys(strategies) as IsolationMode[];

  function strategyOf(tenant: Tenant): IsolationStrategy<unknown, Tx, unknown> {
    const strategy = strategies[tenant.isolation];
    if (!strategy) {
      throw new UnsupportedIsolationError(String(tenant.isolation), `this app offers ${modes.join(", ")}`);
    }
    return strategy;
  }

  async function requireTenant(tenantId: string): Promise<Tenant> {
    const tenant = await registry.get(tenantId);
    if (!tenant) throw new TenantNotFoundError(`id "${tenantId}"`);
    return tenant;
  }

  async function create(input: CreateTenantInput): Promise<CreateTenantResult> {
    assertTenantId(input.tenantId);
    deps.checkInput?.(input);
    return createTenant(deps, input);
  }

  return {
    registry,
    events,
    strategyOf,
    getTenant: (tenantId: string) => registry.get(tenantId),
    requireTenant,
    getTenantByDomain: (domain: string) => registry.getByDomain(domain),
    listTenants: (filter?: { isolation?: IsolationMode }) => registry.list(filter),
    domainsOf: (tenantId: string) => registry.domainsOf(tenantId),

    /** The tenants named, each required to exist, or every tenant (of one mode). */
    async selectTenants({ tenantIds, isolation }: { tenantIds?: string[]; isolation?: IsolationMode } = {}) {
      if (tenantIds) return Promise.all(tenantIds.map(requireTenant));
      return registry.list(isolation ? { isolation } : undefined);
    },

    /** Runs `fn` in the context of the tenant with this id. */
    async withTenant<T>(tenantId: string, fn: () => T | Promise<T>): Promise<T> {
      return TenantContext.use(await requireTenant(tenantId), fn);
    },

    /** Creates a tenant, all or nothing: its record, domains, schema or database, and migrations. */
    createTenant: create,

    /** Creates many tenants with bounded concurrency, each all or nothing; failures are listed, not thrown. */
    async createTenants(
      inputs: CreateTenantInput[],
      { concurrency = 4 }: { concurrency?: number } = {},
    ): Promise<BulkResult> {
      const result: BulkResult = { created: [], failed: [] };
      await forEachLimit(inputs, concurrency, async (input) => {
        try {
          result.created.push(await create(input));
        } catch (error) {
          result.failed.push({ tenantId: String(input.tenantId), error: error as Error });
        }
      });
      return result;
    },

    /** Removes the tenant's record and domains, and its data when `dropData`. */
    async deleteTenant(tenantId: string, options?: { dropData?: boolean }): Promise<void> {
      const tenant = await requireTenant(tenantId);
      await deleteTenant(deps, tenant, options);
      await strategyOf(tenant).release(tenantId);
    },

    async addDomain(
      tenantId: string,
      domain: string,
      { primary = false }: { primary?: boolean } = {},
    ): Promise<Domain> {
      await requireTenant(tenantId);
      const entry = { domain: normalizeDomain(domain), tenantId, isPrimary: primary };
      await deps.domains.add(entry);
      registry.invalidate();
      await events.emit("tenant:updated", { tenantId });
      return entry;
    },

    async removeDomain(domain: string): Promise<boolean> {
      const host = normalizeDomain(domain);
      const owner = await registry.getByDomain(host);
      const removed = await deps.domains.remove(host);
      registry.invalidate();
      if (owner) await events.emit("tenant:updated", { tenantId: owner.tenantId });
      return removed;
    },

    /** Whether the tenant's schema, database or file exists. */
    storageExists: (tenant: Tenant) => strategyOf(tenant).exists(tenant),
  };
}
