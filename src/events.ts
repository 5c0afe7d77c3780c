import type { Tenant } from "./types.js";

export interface TenantEventMap {
  "tenant:created": { tenant: Tenant };
  "tenant:migrated": { tenant: Tenant; applied: string[] };
  "tenant:deleted": { tenant: Tenant; dataDropped: boolean };
  "tenant:updated": { tenantId: string };
  "tenant:activated": { tenant: Tenant };
  "tenant:deactivated": { tenant: Tenant };
}
export type TenantEventName = keyof TenantEventMap;
export type TenantListener<E extends TenantEventName> = (payload: TenantEventMap[E]) => unknown;

export interface ListenerFailure {
  event: TenantEventName;
  error: unknown;
}

/**
 * Typed lifecycle events (django-omnitenant's signals). Listeners may be async; `emit` waits for them all,
 * and a listener that throws is reported to `onListenerError` (by default logged), never swallowed silently
 * and never undoing the operation that emitted.
 */
export class TenantEvents {
  readonly #listeners = new Map<TenantEventName, Set<TenantListener<any>>>();
  onListenerError: (failure: ListenerFailure) => void = ({ event, error }) => {
    console.error(`[omnitenant] a "${event}" listener failed:`, error);
  };

  on<E extends TenantEventName>(event: E, listener: TenantListener<E>): () => void {
    const set = this.#listeners.get(event) ?? new Set();
    this.#listeners.set(event, set);
    set.add(listener);
    return () => this.off(event, listener);
  }

  once<E extends TenantEventName>(event: E, listener: TenantListener<E>): () => void {
    const off = this.on(event, (payload) => {
      off();
      return listener(payload);
    });
    return off;
  }

  off<E extends TenantEventName>(event: E, listener: TenantListener<E>): void {
    this.#listeners.get(event)?.delete(listener);
  }

  hasListeners(event: TenantEventName): boolean {
    return (this.#listeners.get(event)?.size ?? 0) > 0;
  }

  /** Calls every listener and waits for the async ones; resolves with the failures (already reported). */
  async emit<E extends TenantEventName>(event: E, payload: TenantEventMap[E]): Promise<ListenerFailure[]> {
    const set = this.#listeners.get(event);
    if (!set || set.size === 0) return [];
    const outcomes = await Promise.allSettled([...set].map(async (listener) => listener(payload)));
    const failures: ListenerFailure[] = [];
    for (const outcome of outcomes) {
      if (outcome.status === "rejected") failures.push({ event, error: outcome.reason });
    }
    for (const failure of failures) this.onListenerError(failure);
    return failures;
  }

  /** Fires without waiting: for hot paths (context switches). Failures are still reported. */
  fire<E extends TenantEventName>(event: E, payload: TenantEventMap[E]): void {
    if (this.hasListeners(event)) void this.emit(event, payload);
  }
}

const GLOBAL_KEY = Symbol.for("omnitenant.events");
/** The process-wide lifecycle events; shared even if two copies of omnitenant are loaded. */
(globalThis as any)[GLOBAL_KEY] ??= new TenantEvents();
export const tenantEvents: TenantEvents = (globalThis as any)[GLOBAL_KEY];
