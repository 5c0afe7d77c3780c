import {
  ConfigError,
  DomainTakenError,
  ProvisioningError,
  RlsBypassError,
  SharedTablesNotSecuredError,
  TenantExistsError,
  UnsupportedIsolationError,
} from "./errors.js";
import type { TenantEvents } from "./events.js";
import type { IsolationStrategy } from "./isolation/strategy.js";
import type { TenantRegistry } from "./registry.js";
import { assertIdentifier, assertTenantId, normalizeDomain } from "./tenant-id.js";
import type { Domain, IsolationMode, Tenant, TenantConfig } from "./types.js";

export interface CreateTenantInput {
  tenantId: string;
  name: string;
  isolation: IsolationMode;
  config?: TenantConfig;
  /** Hostnames of the tenant; the first is primary unless one is given as `{ domain, primary: true }`. */
  domains?: Array<string | { domain: string; primary?: boolean }>;
  /** Apply the tenant migrations now (default true). */
  migrate?: boolean;
  /** Values of the app's own tenant columns. */
  values?: Record<string, unknown>;
}

export interface CreateTenantResult<T extends Tenant = Tenant> {
  tenant: T;
  domains: Domain[];
  applied: string[];
}

/** What provisioning needs from a dialect: the strategies and how records are written in a transaction. */
export interface ProvisionDeps<Tx> {
  strategies: Partial<Record<IsolationMode, IsolationStrategy<unknown, Tx, unknown>>>;
  registry: TenantRegistry;
  events: TenantEvents;
  insertRecord(tx: Tx, tenant: Record<string, unknown>, domains: Domain[]): Promise<void>;
  deleteRecord(tx: Tx, tenantId: string): Promise<boolean>;
}

const RESERVED_COLUMNS = new Set(["tenantId", "name", "isolation", "config", "createdAt"]);

/** Checks and normalises everything about a new tenant before any SQL runs. */
export function validateTenantInput(
  input: CreateTenantInput,
  modes: readonly IsolationMode[],
): { record: Record<string, unknown>; domains: Domain[] } {
  assertTenantId(input.tenantId);
  if (typeof input.name !== "string" || input.name.trim() === "" || input.name.length > 200) {
    throw new ConfigError(`Tenant "${input.tenantId}" needs a name of 1-200 characters.`);
  }
  if (!modes.includes(input.isolation)) {
    throw new UnsupportedIsolationError(
      String(input.isolation),
      `this setup supports ${modes.map((m) => `"${m}"`).join(", ")}`,
    );
  }
  const config: TenantConfig = { ...(input.config ?? {}) };
  if (config.database !== undefined) assertIdentifier(String(config.database));
  if (
    config.databaseUrlEnv !== undefined &&
    !/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(String(config.databaseUrlEnv))
  ) {
    throw new ConfigError(
      `databaseUrlEnv must name an environment variable, got ${JSON.stringify(config.databaseUrlEnv)}.`,
    );
  }
  for (const key of Object.keys(config)) {
    if (/password|secret/i.test(key)) {
      throw new ConfigError(
        `Tenant config must not hold secrets (found "${key}"). Put the URL in an environment variable and set databaseUrlEnv.`,
      );
    }
  }

  const seen = new Set<string>();
  const domains: Domain[] = [];
  for (const entry of input.domains ?? []) {
    const spec = typeof entry === "string" ? { domain: entry } : entry;
    const domain = normalizeDomain(spec.domain);
    if (seen.has(domain)) continue;
    seen.add(domain);
    domains.push({ domain, tenantId: input.tenantId, isPrimary: spec.primary === true });
  }
  const primaries = domains.filter((d) => d.isPrimary).length;
  if (primaries > 1) throw new ConfigError(`Tenant "${input.tenantId}" can have only one primary domain.`);
  if (primaries === 0 && domains[0]) domains[0].isPrimary = true;

  const extra = input.values ?? {};
  for (const key of Object.keys(extra)) {
    if (RESERVED_COLUMNS.has(key))
      throw new ConfigError(`values.${key} is set by omnitenant; pass it as its own option.`);
  }
  return {
    record: {
      ...extra,
      tenantId: input.tenantId,
      name: input.name.trim(),
      isolation: input.isolation,
      config,
    },
    domains,
  };
}

/**
 * Creates a tenant all or nothing: the strategy makes the schema or database and migrates it, and the record
 * with its domains is written last; on any failure the strategy removes what it made and no row remains.
 */
export async function createTenant<Tx>(
  deps: ProvisionDeps<Tx>,
  input: CreateTenantInput,
): Promise<CreateTenantResult> {
  const modes = Object.keys(deps.strategies) as IsolationMode[];
  const { record, domains } = validateTenantInput(input, modes);
  const strategy = deps.strategies[input.isolation]!;
  const tenant = { createdAt: null, ...record } as Tenant;
  let result: { applied: string[] };
  try {
    result = await strategy.provision(tenant, {
      migrate: input.migrate !== false,
      writeRecord: (tx) => deps.insertRecord(tx, record, domains),
    });
  } catch (error) {
    // Conflicts and bad input are the caller's to fix and keep their own type; anything else failed midway.
    if (
      error instanceof TenantExistsError ||
      error instanceof DomainTakenError ||
      error instanceof ConfigError ||
      error instanceof RlsBypassError ||
      error instanceof SharedTablesNotSecuredError
    ) {
      throw error;
    }
    throw new ProvisioningError(input.tenantId, "creating its storage and applying migrations", error);
  }
  deps.registry.invalidate();
  const stored = (await deps.registry.get(input.tenantId)) ?? tenant;
  await deps.events.emit("tenant:created", { tenant: stored });
  if (result.applied.length > 0)
    await deps.events.emit("tenant:migrated", { tenant: stored, applied: result.applied });
  return { tenant: stored, domains, applied: result.applied };
}

export interface BulkResult {
  created: CreateTenantResult[];
  failed: Array<{ tenantId: string; error: Error }>;
}

/** Creates many tenants with bounded concurrency; each is all-or-nothing on its own. */
export async function createTenants<Tx>(
  deps: ProvisionDeps<Tx>,
  inputs: CreateTenantInput[],
  { concurrency = 4 }: { concurrency?: number } = {},
): Promise<BulkResult> {
  const created: CreateTenantResult[] = [];
  const failed: BulkResult["failed"] = [];
  await forEachLimit(inputs, concurrency, async (input) => {
    try {
      created.push(await createTenant(deps, input));
    } catch (error) {
      failed.push({ tenantId: String(input.tenantId), error: error as Error });
    }
  });
  return { created, failed };
}

export async function deleteTenant<Tx>(
  deps: ProvisionDeps<Tx>,
  tenant: Tenant,
  { dropData = false }: { dropData?: boolean } = {},
): Promise<void> {
  const strategy = deps.strategies[tenant.isolation];
  if (!strategy) throw new UnsupportedIsolationError(tenant.isolation, "no strategy is configured for it");
  await strategy.deprovision(tenant, {
    dropData,
    deleteRecord: (tx) => deps.deleteRecord(tx, tenant.tenantId).then(() => undefined),
  });
  deps.registry.invalidate();
  await deps.events.emit("tenant:deleted", { tenant, dataDropped: dropData });
}

/** Runs `fn` over `items` with at most `limit` running at once. */
export async function forEachLimit<T>(
  items: Iterable<T>,
  limit: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  const iterator = items[Symbol.iterator]();
  let index = 0;
  const worker = async () => {
    for (;;) {
      const next = iterator.next();
      if (next.done) return;
      await fn(next.value, index++);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, worker));
}
