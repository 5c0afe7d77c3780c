import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DomainTakenError,
  ProvisioningError,
  TenantExistsError,
  TenantNotFoundError,
} from "../../src/errors.js";
import { tenantEvents } from "../../src/events.js";
import { createOmnitenant } from "../../src/pg.js";
import { type PgApp, setupPgApp } from "../helpers/app.js";

let app: PgApp;
beforeAll(async () => {
  app = await setupPgApp();
});
afterAll(() => app?.teardown());

const schemaExists = async (name: string) =>
  (await app.database.sql`select 1 from pg_namespace where nspname = ${name}`).length > 0;
const databaseExists = async (name: string) =>
  (await app.database.sql`select 1 from pg_database where datname = ${name}`).length > 0;
const tenantRows = async (id: string) =>
  (await app.database.sql`select 1 from tenants where tenant_id = ${id}`).length +
  (await app.database.sql`select 1 from domains where tenant_id = ${id}`).length;

/** An app whose tenant migrations fail at the second migration, after the first one succeeded. */
function brokenApp() {
  const folder = mkdtempSync(join(tmpdir(), "omnitenant-broken-"));
  cpSync(fileURLToPath(new URL("../fixtures/app/drizzle/tenant", import.meta.url)), folder, {
    recursive: true,
  });
  const file = join(folder, "0001_add_ticket.sql");
  writeFileSync(
    file,
    `${readFileSync(file, "utf8")}--> statement-breakpoint\nALTER TABLE "no_such_table" ADD COLUMN "x" integer;`,
  );
  return createOmnitenant({ ...app.config, migrations: { tenant: folder } }, { master: app.master });
}

describe("createTenant", () => {
  it("creates record, domains, schema and migrated tables, and emits events", async () => {
    const seen: string[] = [];
    const off1 = tenantEvents.on("tenant:created", async ({ tenant }) => {
      seen.push(`created:${tenant.tenantId}`);
    });
    const off2 = tenantEvents.on("tenant:migrated", ({ tenant, applied }) => {
      seen.push(`migrated:${tenant.tenantId}:${applied.length}`);
    });
    try {
      const result = await app.omni.createTenant({
        tenantId: "acme",
        name: "Acme",
        isolation: "schema",
        domains: ["acme.example.test", { domain: "WWW.Acme.Test", primary: true }],
        values: { plan: "pro" },
      });
      expect(result.applied).toEqual(["0000_init", "0001_add_ticket"]);
      expect(result.tenant.plan).toBe("pro");
      expect(result.domains).toEqual([
        { domain: "acme.example.test", tenantId: "acme", isPrimary: false },
        { domain: "acme.test", tenantId: "acme", isPrimary: true },
      ]);
      expect(await schemaExists("tenant_acme")).toBe(true);
      expect((await app.omni.getTenantByDomain("acme.test:443"))?.tenantId).toBe("acme");
      expect(seen).toEqual(["created:acme", "migrated:acme:2"]);
    } finally {
      off1();
      off2();
    }
  });

  it("refuses an existing id or a taken domain, leaving the existing tenant intact", async () => {
    await expect(
      app.omni.createTenant({ tenantId: "acme", name: "Again", isolation: "schema" }),
    ).rejects.toBeInstanceOf(TenantExistsError);
    await expect(
      app.omni.createTenant({
        tenantId: "acme-2",
        name: "Copycat",
        isolation: "schema",
        domains: ["acme.test"],
      }),
    ).rejects.toBeInstanceOf(DomainTakenError);
    expect(await schemaExists("tenant_acme")).toBe(true);
    expect(await schemaExists("tenant_acme-2")).toBe(false);
    expect(await tenantRows("acme-2")).toBe(0);
    await expect(
      app.omni.createTenant({
        tenantId: "acme-db",
        name: "X",
        isolation: "database",
        domains: ["acme.test"],
      }),
    ).rejects.toBeInstanceOf(DomainTakenError);
    expect(await databaseExists(`${app.databasePrefix}acme-db`)).toBe(false);
  });

  it.each(["schema", "database"] as const)(
    "a migration failing midway leaves nothing (%s mode)",
    async (mode) => {
      const broken = brokenApp();
      const id = `broken-${mode}`;
      const error = await broken
        .createTenant({ tenantId: id, name: "Broken", isolation: mode, domains: [`${id}.example.test`] })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProvisioningError);
      expect(String((error as Error).message)).toContain("no_such_table");
      expect(await tenantRows(id)).toBe(0);
      expect(await schemaExists(`tenant_${id}`)).toBe(false);
      expect(await databaseExists(`${app.databasePrefix}${id}`)).toBe(false);
      await broken.close();
    },
  );

  it("database mode: creates, isolates and drops the tenant's own database", async () => {
    await app.omni.createTenant({ tenantId: "dbco", name: "DbCo", isolation: "database" });
    expect(await databaseExists(`${app.databasePrefix}dbco`)).toBe(true);
    const db = app.omni.tenantDb((await app.omni.getTenant("dbco"))!);
    await db.insert(app.config.template.tables.projects).values({ name: "in its own database" });
    expect((await db.query.projects.findMany()).map((p) => p.name)).toEqual(["in its own database"]);
    await app.omni.deleteTenant("dbco", { dropData: true });
    expect(await databaseExists(`${app.databasePrefix}dbco`)).toBe(false);
    await expect(app.omni.requireTenant("dbco")).rejects.toBeInstanceOf(TenantNotFoundError);
  });

  it("database mode on another server or URL: taken from an environment variable", async () => {
    const name = `${app.databasePrefix}external`;
    process.env.OMNITENANT_TEST_EXTERNAL_URL = app.config.masterUrl.replace(/\/[^/]*$/, `/${name}`);
    try {
      await app.omni.createTenant({
        tenantId: "external",
        name: "External",
        isolation: "database",
        config: { databaseUrlEnv: "OMNITENANT_TEST_EXTERNAL_URL" },
      });
      expect(await databaseExists(name)).toBe(true);
      const row = await app.database.sql`select config from tenants where tenant_id = 'external'`;
      expect(JSON.stringify(row[0]!.config)).not.toContain("postgres://");
      await app.omni.deleteTenant("external", { dropData: true });
      expect(await databaseExists(name)).toBe(false);
    } finally {
      delete process.env.OMNITENANT_TEST_EXTERNAL_URL;
    }
  });

  it("refuses secrets in the tenant config", async () => {
    await expect(
      app.omni.createTenant({
        tenantId: "leaky",
        name: "Leaky",
        isolation: "database",
        config: { password: "x" },
      }),
    ).rejects.toThrow(/secrets/);
  });

  it("bulk creation", async () => {
    const { created, failed } = await app.omni.createTenants(
      Array.from({ length: 30 }, (_, i) => ({
        tenantId: `bulk-${i}`,
        name: `Bulk ${i}`,
        isolation: "schema" as const,
      })),
      { concurrency: 4 },
    );
    expect(failed).toEqual([]);
    expect(created).toHaveLength(30);
    expect(
      (await app.omni.listTenants({ isolation: "schema" })).filter((t) => t.tenantId.startsWith("bulk-")),
    ).toHaveLength(30);
  });
});

describe("deleteTenant", () => {
  it("removes the record and domains, keeping data unless asked", async () => {
    await app.omni.createTenant({
      tenantId: "keep",
      name: "Keep",
      isolation: "schema",
      domains: ["keep.test"],
    });
    const deleted: string[] = [];
    const off = tenantEvents.on("tenant:deleted", ({ tenant, dataDropped }) => {
      deleted.push(`${tenant.tenantId}:${dataDropped}`);
    });
    try {
      await app.omni.deleteTenant("keep");
      expect(await tenantRows("keep")).toBe(0);
      expect(await schemaExists("tenant_keep")).toBe(true);
      expect(await app.omni.getTenantByDomain("keep.test")).toBeUndefined();

      await app.omni.createTenant({ tenantId: "gone", name: "Gone", isolation: "schema" });
      await app.omni.deleteTenant("gone", { dropData: true });
      expect(await schemaExists("tenant_gone")).toBe(false);
      expect(deleted).toEqual(["keep:false", "gone:true"]);
    } finally {
      off();
      await app.database.sql`drop schema "tenant_keep" cascade`;
    }
  });

  it("domains can be added, made primary and removed", async () => {
    await app.omni.createTenant({
      tenantId: "doms",
      name: "Doms",
      isolation: "schema",
      domains: ["one.doms.test"],
    });
    await app.omni.addDomain("doms", "two.doms.test", { primary: true });
    const domains = await app.omni.domainsOf("doms");
    expect(domains.filter((d) => d.isPrimary).map((d) => d.domain)).toEqual(["two.doms.test"]);
    await expect(app.omni.addDomain("acme", "two.doms.test")).rejects.toBeInstanceOf(DomainTakenError);
    expect(await app.omni.removeDomain("one.doms.test")).toBe(true);
    expect(await app.omni.getTenantByDomain("one.doms.test")).toBeUndefined();
  });
});
