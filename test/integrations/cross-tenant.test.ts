import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TenantContext } from "../../src/context.js";
import { forEachTenant } from "../../src/cross-tenant.js";
import { useTestTenants } from "../../src/testing/index.js";
import { type PgApp, setupPgApp } from "../helpers/app.js";

let app: PgApp;

beforeAll(async () => {
  app = await setupPgApp();
});
// Registered before the tenants' hooks: vitest runs afterAll hooks in reverse, so this one runs last.
afterAll(() => app?.teardown());
const t = useTestTenants(
  () => app.omni,
  {
    one: { isolation: "schema" },
    two: { isolation: "schema" },
    three: { isolation: "schema" },
    four: { isolation: "schema" },
    five: { isolation: "database" },
  },
  { beforeAll, afterAll },
);

describe("forEachTenant", () => {
  it("runs fn in each tenant's context and reports one failure without stopping the others", async () => {
    const failing = t.ids.three;
    const { results, errors, skipped } = await forEachTenant(app.omni, async (tenant) => {
      if (tenant.tenantId === failing) throw new Error(`boom in ${tenant.tenantId}`);
      await app.omni.tenantDb().insert(app.config.template.tables.projects).values({ name: tenant.tenantId });
      const rows = await app.omni.tenantDb().select().from(app.config.template.tables.projects);
      return { context: TenantContext.current()?.tenantId, names: rows.map((r) => r.name) };
    });
    expect(skipped).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.tenant.tenantId).toBe(failing);
    expect(String(errors[0]!.error)).toContain(`boom in ${failing}`);
    expect(results.map((r) => r.tenant.tenantId).sort()).toEqual(
      Object.values(t.ids)
        .filter((id) => id !== failing)
        .sort(),
    );
    for (const { tenant, value } of results)
      expect(value).toEqual({ context: tenant.tenantId, names: [tenant.tenantId] });
  });

  it("keeps to the concurrency bound", async () => {
    let running = 0;
    let peak = 0;
    const { results } = await forEachTenant(
      app.omni,
      async () => {
        peak = Math.max(peak, ++running);
        await new Promise((resolve) => setTimeout(resolve, 20));
        running--;
      },
      { concurrency: 2 },
    );
    expect(results).toHaveLength(5);
    expect(peak).toBe(2);
    await expect(forEachTenant(app.omni, () => 1, { concurrency: 0 })).rejects.toBeInstanceOf(RangeError);
  });

  it("selects tenants by isolation mode and filter, and stops starting new ones when aborted", async () => {
    const database = await forEachTenant(app.omni, (tenant) => tenant.isolation, { isolation: "database" });
    expect(database.results.map((r) => r.tenant.tenantId)).toEqual([t.ids.five]);
    const filtered = await forEachTenant(app.omni, () => TenantContext.current()?.tenantId, {
      filter: async (tenant) => tenant.tenantId === t.ids.two,
    });
    expect(filtered.results.map((r) => r.value)).toEqual([t.ids.two]);

    const controller = new AbortController();
    const aborted = await forEachTenant(
      app.omni,
      () => {
        controller.abort();
      },
      { concurrency: 1, signal: controller.signal },
    );
    expect(aborted.results).toHaveLength(1);
    expect(aborted.skipped).toHaveLength(4);
  });
});
