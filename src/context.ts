import { AsyncLocalStorage } from "node:async_hooks";
import { NoTenantContextError } from "./errors.js";
import { tenantEvents } from "./events.js";
import { assertIdentifier } from "./tenant-id.js";
import type { Tenant } from "./types.js";

export type ContextState =
  | { kind: "tenant"; tenant: Tenant }
  | { kind: "master" }
  | { kind: "schema"; schema: string };

const GLOBAL_KEY = Symbol.for("omnitenant.context");
// One store per process even when two copies of the package are installed, or a tenant set by one
// copy's middleware would be invisible to the other's tenantDb().
(globalThis as any)[GLOBAL_KEY] ??= new AsyncLocalStorage<ContextState>();
const storage: AsyncLocalStorage<ContextState> = (globalThis as any)[GLOBAL_KEY];

const MASTER: ContextState = Object.freeze({ kind: "master" });

/**
 * Which tenant the current code runs for, carried by AsyncLocalStorage: it follows `await`, timers and
 * promise chains, nested calls restore the outer context when they return, and concurrent requests never
 * see each other's state.
 *
 * @example
 * await TenantContext.use(tenant, async () => {
 *   const rows = await tenantDb().select().from(projects); // only this tenant's rows
 * });
 */
export const TenantContext = {
  /** Runs `fn` as `tenant`. */
  use<T>(tenant: Tenant, fn: () => T): T {
    if (!tenant || typeof tenant.tenantId !== "string") {
      throw new TypeError(
        "TenantContext.use expects a tenant record (with tenantId), e.g. from registry.get()",
      );
    }
    if (!tenantEvents.hasListeners("tenant:activated") && !tenantEvents.hasListeners("tenant:deactivated")) {
      return storage.run({ kind: "tenant", tenant }, fn);
    }
    tenantEvents.fire("tenant:activated", { tenant });
    let result: T;
    try {
      result = storage.run({ kind: "tenant", tenant }, fn);
    } catch (error) {
      tenantEvents.fire("tenant:deactivated", { tenant });
      throw error;
    }
    if (result instanceof Promise) {
      return result.finally(() => tenantEvents.fire("tenant:deactivated", { tenant })) as T;
    }
    tenantEvents.fire("tenant:deactivated", { tenant });
    return result;
  },

  /** Runs `fn` in master context: `tenantDb()` refuses, `masterDb()` is what to use. */
  useMaster<T>(fn: () => T): T {
    return storage.run(MASTER, fn);
  },

  /** Runs `fn` bound to a named PostgreSQL schema (schema mode without a tenant record, e.g. a template). */
  useSchema<T>(schema: string, fn: () => T): T {
    return storage.run({ kind: "schema", schema: assertIdentifier(schema) }, fn);
  },

  /** @internal Runs `fn` in `state` without lifecycle events (re-entering a context already entered). */
  runState<T>(state: ContextState | undefined, fn: () => T): T {
    return state === undefined ? storage.exit(fn) : storage.run(state, fn);
  },

  /** The raw state, or undefined outside any context. */
  state(): ContextState | undefined {
    return storage.getStore();
  },

  /** The current tenant, or undefined in master context or outside any context. */
  current<T extends Tenant = Tenant>(): T | undefined {
    const state = storage.getStore();
    return state?.kind === "tenant" ? (state.tenant as T) : undefined;
  },

  /** The current tenant; throws `NoTenantContextError` when there is none. */
  require<T extends Tenant = Tenant>(what?: string): T {
    const state = storage.getStore();
    if (state?.kind === "tenant") return state.tenant as T;
    throw new NoTenantContextError(what);
  },

  isMaster(): boolean {
    return storage.getStore()?.kind === "master";
  },

  /** Leaves any tenant context for the rest of `fn` (for code that must not inherit a tenant). */
  exit<T>(fn: () => T): T {
    return storage.exit(fn);
  },
};
