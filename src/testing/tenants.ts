import { randomBytes } from "node:crypto";
import { TenantContext } from "../context.js";
import type { CreateTenantInput } from "../provision.js";
import type { Tenant } from "../types.js";

/** What test tenants need from an omnitenant instance (PostgreSQL or SQLite). */
export interface TestTenantHost<T extends Tenant = Tenant> {
  createTenant(input: CreateTenantInput): Promise<{ tenant: T }>;
  deleteTenant(tenantId: string, options?: { dropData?: boolean }): Promise<void>;
}

/** A tenant to create for a test: any isolation mode; the id is generated (unique per run). */
export type TestTenantSpec = Omit<CreateTenantInput, "tenantId" | "name" | "domains"> & {
  /** Default: the spec's key. */
  name?: string;
  /** Domains, or a function of the generated id (`(id) => [\`${id}.example.test\`]`) to keep them unique. */
  domains?: CreateTenantInput["domains"] | ((tenantId: string) => CreateTenantInput["domains"]);
};

export type TestTenantsOptions = {
  /** Drop the tenants' schemas / databases on cleanup (default true: they are throwaway). */
  dropData?: boolean;
  /** A suffix for the generated ids (default: random, 6 hex digits, shared by the set). */
  runId?: string;
};

/** Tenants created for a test file, by the keys of the specs. */
export interface TestTenants<K extends string, T extends Tenant = Tenant> extends AsyncDisposable {
  /** The generated ids, known before the tenants exist (`acme` → `acme-1f2e3d`). */
  readonly ids: Readonly<Record<K, string>>;
  /** The tenant records; reading them before they are created throws. */
  readonly tenants: Readonly<Record<K, T>>;
  /** Runs `fn` as the tenant `key` (`tenantDb()` without arguments works inside). */
  run<R>(key: K, fn: () => R): R;
  /** Deletes the tenants still there (dropping their data unless `dropData: false`); safe to call twice. */
  cleanup(): Promise<void>;
}

/** Test hooks (vitest's, jest's, node:test's `before`/`after`). */
export type TestHooks = {
  beforeAll: (fn: () => Promise<void>) => unknown;
  afterAll: (fn: () => Promise<void>) => unknown;
};

function idsFor<K extends string>(keys: readonly K[], runId: string): Record<K, string> {
  if (!/^[a-z0-9]{1,12}$/.test(runId)) throw new TypeError(`runId must be 1-12 of a-z0-9, got "${runId}"`);
  const ids = {} as Record<K, string>;
  for (const key of keys) {
    const slug = key
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 62 - runId.length)
      .replace(/-+$/, "");
    ids[key] = `${slug || "t"}-${runId}`;
  }
  return ids;
}

function handle<K extends string, T extends Tenant>(
  host: TestTenantHost<T> | (() => TestTenantHost<T>),
  specs: Readonly<Record<K, TestTenantSpec>>,
  { dropData = true, runId = randomBytes(3).toString("hex") }: TestTenantsOptions,
) {
  const keys = Object.keys(specs) as K[];
  const ids = idsFor(keys, runId);
  const instance = () => (typeof host === "function" ? host() : host);
  const created = new Map<K, T>();
  const tenants = new Proxy({} as Record<K, T>, {
    get(_, key) {
      const tenant = created.get(key as K);
      if (!tenant) {
        throw new Error(
          `Test tenant "${String(key)}" does not exist${keys.includes(key as K) ? " (yet, or any more)" : ""}.`,
        );
      }
      return tenant;
    },
    has: (_, key) => created.has(key as K),
    ownKeys: () => [...created.keys()],
    getOwnPropertyDescriptor: (_, key) =>
      created.has(key as K)
        ? { enumerable: true, configurable: true, value: created.get(key as K) }
        : undefined,
  });

  async function cleanup(): Promise<void> {
    const failures: unknown[] = [];
    await Promise.all(
      [...created].map(async ([key, tenant]) => {
        try {
          await instance().deleteTenant(tenant.tenantId, { dropData });
        } catch (error) {
          if ((error as { code?: unknown })?.code !== "TENANT_NOT_FOUND") return void failures.push(error);
        }
        created.delete(key);
      }),
    );
    if (failures.length > 0) throw new AggregateError(failures, "Removing test tenants failed");
  }

  async function create(): Promise<void> {
    const outcomes = await Promise.allSettled(
      keys.map(async (key) => {
        const { name, domains, ...spec } = specs[key];
        const tenantId = ids[key];
        const { tenant } = await instance().createTenant({
          ...spec,
          tenantId,
          name: name ?? key,
          domains: typeof domains === "function" ? domains(tenantId) : domains,
        });
        created.set(key, tenant);
      }),
    );
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
    if (failed) {
      await cleanup().catch(() => {});
      throw failed.reason;
    }
  }

  const tenantsHandle: TestTenants<K, T> = {
    ids,
    tenants,
    run: (key, fn) => TenantContext.use(tenants[key], fn),
    cleanup,
    [Symbol.asyncDispose]: cleanup,
  };
  return { create, tenantsHandle };
}

/**
 * Creates throwaway tenants (any isolation mode, ids unique to this run) and returns them with a
 * `cleanup()` that deletes them and drops their data; also `await using`-disposable. Creation runs
 * concurrently and each tenant is one provisioning step (a schema tenant is one transaction): no waits.
 *
 * @example
 * ```ts
 * import { createTestTenants } from "omnitenant/testing";
 *
 * const t = await createTestTenants(omni, {
 *   acme: { isolation: "schema", domains: (id) => [`${id}.example.test`] },
 *   globex: { isolation: "database" },
 * });
 * try {
 *   await t.run("acme", () => omni.tenantDb().insert(projects).values({ name: "Rocket" }));
 * } finally {
 *   await t.cleanup();
 * }
 * ```
 */
export async function createTestTenants<K extends string, T extends Tenant>(
  instance: TestTenantHost<T>,
  specs: Readonly<Record<K, TestTenantSpec>>,
  options: TestTenantsOptions = {},
): Promise<TestTenants<K, T>> {
  const { create, tenantsHandle } = handle(instance, specs, options);
  await create();
  return tenantsHandle;
}

/**
 * `createTestTenants` wired to a test file's hooks: the tenants are created in `beforeAll` and removed
 * (data dropped) in `afterAll`. `ids` are known at once; `tenants` after `beforeAll`. `instance` may be a
 * function, for an instance made in an earlier `beforeAll`; register that one's teardown before calling
 * this (vitest runs `afterAll` hooks in reverse order, so the tenants go first).
 *
 * @example
 * ```ts
 * import { afterAll, beforeAll, expect, it } from "vitest";
 * import { useTestTenants } from "omnitenant/testing";
 *
 * let omni: Omnitenant;
 * beforeAll(() => { omni = createOmnitenant(config); });
 * afterAll(() => omni.close());
 * const t = useTestTenants(() => omni, { acme: { isolation: "schema" }, globex: { isolation: "schema" } }, {
 *   beforeAll,
 *   afterAll,
 * });
 *
 * it("keeps tenants apart", async () => {
 *   await t.run("acme", () => omni.tenantDb().insert(projects).values({ name: "A" }));
 *   expect(await t.run("globex", () => omni.tenantDb().select().from(projects))).toEqual([]);
 * });
 * ```
 */
export function useTestTenants<K extends string, T extends Tenant>(
  instance: TestTenantHost<T> | (() => TestTenantHost<T>),
  specs: Readonly<Record<K, TestTenantSpec>>,
  { beforeAll, afterAll, ...options }: TestHooks & TestTenantsOptions,
): TestTenants<K, T> {
  const { create, tenantsHandle } = handle(instance, specs, options);
  beforeAll(create);
  afterAll(tenantsHandle.cleanup);
  return tenantsHandle;
}

/** Runs `fn` as `tenant` (`tenantDb()` without arguments works inside). */
export function asTenant<R>(tenant: Tenant, fn: () => R): R {
  return TenantContext.use(tenant, fn);
}

/** Runs `fn` in master context. */
export function asMaster<R>(fn: () => R): R {
  return TenantContext.useMaster(fn);
}
