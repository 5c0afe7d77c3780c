import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { TenantContext } from "../../src/context.js";
import { NoTenantContextError } from "../../src/errors.js";
import { tenantEvents } from "../../src/events.js";
import type { Tenant } from "../../src/types.js";

const tenant = (tenantId: string): Tenant => ({
  tenantId,
  name: tenantId,
  isolation: "schema",
  config: {},
  createdAt: null,
});

describe("TenantContext", () => {
  it("survives await, timers and promise chains", async () => {
    await TenantContext.use(tenant("acme"), async () => {
      await sleep(5);
      expect(TenantContext.current()?.tenantId).toBe("acme");
      await new Promise<void>((resolve) =>
        setTimeout(() => {
          expect(TenantContext.require().tenantId).toBe("acme");
          resolve();
        }, 1),
      );
      const id = await Promise.resolve()
        .then(() => sleep(1))
        .then(() => TenantContext.current()?.tenantId);
      expect(id).toBe("acme");
    });
  });

  it("restores the outer context after nested uses", async () => {
    await TenantContext.use(tenant("outer"), async () => {
      await TenantContext.use(tenant("inner"), async () => {
        await sleep(1);
        expect(TenantContext.current()?.tenantId).toBe("inner");
      });
      expect(TenantContext.current()?.tenantId).toBe("outer");
      TenantContext.useMaster(() => {
        expect(TenantContext.isMaster()).toBe(true);
        expect(TenantContext.current()).toBeUndefined();
      });
      TenantContext.useSchema("tenant_x", () =>
        expect(TenantContext.state()).toEqual({ kind: "schema", schema: "tenant_x" }),
      );
      expect(TenantContext.current()?.tenantId).toBe("outer");
    });
    expect(TenantContext.state()).toBeUndefined();
  });

  it("never leaks between concurrent tasks", async () => {
    const seen = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        TenantContext.use(tenant(`t${i % 20}`), async () => {
          await sleep(Math.random() * 5);
          const first = TenantContext.require().tenantId;
          await sleep(Math.random() * 5);
          return [`t${i % 20}`, first, TenantContext.require().tenantId];
        }),
      ),
    );
    for (const [expected, first, second] of seen) {
      expect(first).toBe(expected);
      expect(second).toBe(expected);
    }
  });

  it("require() throws a typed error without a tenant", () => {
    expect(() => TenantContext.require()).toThrow(NoTenantContextError);
    expect(() => TenantContext.useMaster(() => TenantContext.require())).toThrow(NoTenantContextError);
  });

  it("rejects bad schema names before use", () => {
    expect(() => TenantContext.useSchema('x"; drop', () => 1)).toThrow(/identifier/i);
  });

  it("fires activated/deactivated events, async listeners included, and reports failing ones", async () => {
    const log: string[] = [];
    const failures: unknown[] = [];
    const previous = tenantEvents.onListenerError;
    tenantEvents.onListenerError = (failure) => failures.push(failure);
    const offA = tenantEvents.on("tenant:activated", async ({ tenant: t }) => {
      await sleep(1);
      log.push(`on:${t.tenantId}`);
    });
    const offD = tenantEvents.on("tenant:deactivated", ({ tenant: t }) => {
      log.push(`off:${t.tenantId}`);
      throw new Error("listener broke");
    });
    try {
      await TenantContext.use(tenant("acme"), () => sleep(5));
      await sleep(10);
      expect(log).toEqual(["on:acme", "off:acme"]);
      expect(failures).toHaveLength(1);
    } finally {
      offA();
      offD();
      tenantEvents.onListenerError = previous;
    }
  });
});
