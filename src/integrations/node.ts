// Node (`http.IncomingMessage`) specifics shared by the Express and Fastify integrations.
import type { EventEmitter } from "node:events";
import { TenantContext } from "../context.js";
import { tenantEvents } from "../events.js";
import type { Resolved } from "../resolvers/types.js";
import { enterResolved } from "./http.js";

/**
 * Continues a Node request (`next()`) in the resolved context, until the response closes.
 *
 * The request's own events ("data", "end") are emitted from the connection's async context, not from the
 * middleware's, so a body parser mounted after the middleware would call the next handler outside the
 * tenant (AsyncLocalStorage loses it). Emitting the request's events inside an AsyncResource created in
 * the tenant's context keeps it for everything that reacts to them. The request's context ends with its
 * response (the lifecycle events `tenant:activated` / `tenant:deactivated` bracket it).
 */
export function continueInContext(
  resolved: Resolved,
  request: EventEmitter,
  response: EventEmitter,
  next: () => void,
): void {
  const events =
    tenantEvents.hasListeners("tenant:activated") || tenantEvents.hasListeners("tenant:deactivated");
  if (!events) {
    // No lifecycle listeners: nothing to bracket, so no promise a request.
    enterResolved(resolved, () => {
      rebindEmit(request);
      next();
    });
    return;
  }
  let finished!: () => void;
  const closed = new Promise<void>((resolve) => {
    finished = resolve;
  });
  void enterResolved(resolved, () => {
    rebindEmit(request);
    response.once("close", finished);
    next();
    return closed;
  });
}

/** Emits the request's events in the context current now (the tenant's), with no AsyncResource a request. */
function rebindEmit(request: EventEmitter): void {
  const state = TenantContext.state();
  const emit = request.emit;
  request.emit = function emitInTenantContext(this: EventEmitter, ...args: Parameters<typeof emit>) {
    return TenantContext.runState(state, () => emit.apply(this, args));
  };
}
