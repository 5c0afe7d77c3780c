import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ConfigError,
  DomainTakenError,
  InvalidTenantIdError,
  ProvisioningError,
  TenantExistsError,
  TenantNotFoundError,
  UnsupportedIsolationError,
} from "../../src/errors.js";
import { tenantEvents } from "../../src/events.js";
import { createOmnitenant } from "../../src/sqlite.js";
import type { Tenant } from "../../src/types.js";
import * as master from "../fixtures/sqlite-app/master-schema.js";
import { template } from "../fixtures/sqlite-app/template.js";
import { type SqliteApp, setupSqliteApp } from "./helpers.js";

const { projects } = template.tables;

let app: SqliteApp;
beforeAll(async () => {
  app = await setupSqliteApp();
});
afterAll(() => app?.teardown());

/** A copy of the tenant migrations whose second migration fails after its first statement. */
function brokenMigrations(): string {
  const folder = mkdtempSync(join(tmpdir(), "omnitenant-sqlite-broken-"));
  cpSync(fileURLToPath(new URL("../fixtures/sqlite-app/drizzle/tenant", import.meta.url)), folder, {
    recursive: true,
  });
  const file = join(folder, "0001_project_description.sql");
  writeFileSync(
    file,
    `${readFileSync(file, "utf8")}--> statement-breakpoint\nALTER TABLE \`no_such_table\` ADD \`x\` integer;`,
  );
  return folder;
}

const tenantFile = (id: string) => join(app.tenantsDir, `${id}.sqlite`);

describe("createTenant", () => {
  it("database mode: creates the file, migrates it, writes the record and domains, emits events", async () => {
    const seen: string[] = [];
    const offs = [
      tenantEvents.on("tenant:created", ({ tenant }) => void seen.push(`created:${tenant.tenantId}`)),
      tenantEvents.on(
        "tenant:migrated",
        ({ tenant, applied }) => void seen.push(`migrated:${tenant.tenantId}:${applied.length}`),
      ),
    ];
    try {
      const result = await app.omni.createTenant({
        tenantId: "acme",
        name: "Acme",
        isolation: "database",
        domains: ["acme.example.test", { domain: "WWW.Acme.Test", primary: true }],
        values: { plan: "pro" },
      });
      expect(result.applied).toEqual(["0000_init", "0001_project_description"]);
      expect(result.tenant).toMatchObject({
        tenantId: "acme",
        plan: "pro",
        isolation: "database",
        config: {},
      });
      expect(result.tenant.createdAt).toBeInstanceOf(Date);
      expect(existsSync(tenantFile("acme"))).toBe(true);
      expect(app.omni.tenantFile("acme")).toBe(tenantFile("acme"));
      expect((await app.omni.getTenantByDomain("acme.test:443"))?.tenantId).toBe("acme");
      expect(await app.omni.domainsOf("acme")).toEqual([
        { domain: "acme.example.test", tenantId: "acme", isPrimary: false },
        { domain: "acme.test", tenantId: "acme", isPrimary: true },
      ]);
      expect(await app.omni.storageExists(result.tenant)).toBe(true);
      expect(seen).toEqual(["created:acme", "migrated:acme:2"]);
      // The master schema's relations work through masterDb().
      const withDomains = await app.omni.masterDb().query.tenants.findFirst({
        where: eq(master.tenants.tenantId, "acme"),
        with: { domains: true },
      });
      expect(withDomains?.domains).toHaveLength(2);
    } finally {
      for (const off of offs) off();
    }
  });

  it("table mode: writes the record only (the shared tables are the master's)", async () => {
    const result = await app.omni.createTenant({ tenantId: "shared-co", name: "Shared", isolation: "table" });
    expect(result.applied).toEqual([]);
    expect(existsSync(tenantFile("shared-co"))).toBe(false);
    expect(app.recordRows("shared-co")).toBe(1);
  });

  it("refuses an existing id or a taken domain, leaving nothing behind and the existing tenant intact", async () => {
    const files = app.tenantFiles();
    await expect(
      app.omni.createTenant({ tenantId: "acme", name: "Again", isolation: "database" }),
    ).rejects.toBeInstanceOf(TenantExistsError);
    // The same id in the other mode: the file is made, the record clashes, the file goes again.
    await expect(
      app.omni.createTenant({ tenantId: "shared-co", name: "Again", isolation: "database" }),
    ).rejects.toBeInstanceOf(TenantExistsError);
    for (const isolation of ["database", "table"] as const) {
      await expect(
        app.omni.createTenant({
          tenantId: `copycat-${isolation}`,
          name: "Copycat",
          isolation,
          domains: ["acme.test"],
        }),
      ).rejects.toBeInstanceOf(DomainTakenError);
      expect(app.recordRows(`copycat-${isolation}`)).toBe(0);
    }
    expect(app.tenantFiles()).toEqual(files);
    expect(
      app.omni
        .tenantDb((await app.omni.getTenant("acme"))!)
        .select()
        .from(projects)
        .all(),
    ).toEqual([]);
  });

  it("a migration failing midway leaves no file and no row (database mode)", async () => {
    const folder = brokenMigrations();
    const broken = createOmnitenant(
      { ...app.config, migrations: { tenant: folder } },
      { master: app.master },
    );
    const error = await broken
      .createTenant({ tenantId: "broken", name: "Broken", isolation: "database", domains: ["broken.test"] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProvisioningError);
    expect(String((error as Error).message)).toContain("no_such_table");
    expect(app.recordRows("broken")).toBe(0);
    expect(app.tenantFiles().filter((f) => f.startsWith("broken"))).toEqual([]);
    await broken.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it("table mode without the shared tables fails before writing a record", async () => {
    const bare = await setupSqliteApp({}, { migrateMaster: false });
    try {
      bare.master.exec(
        "create table tenants (tenant_id text primary key, name text not null, isolation text not null, config text not null default '{}', created_at integer not null default 0, plan text not null default 'free'); create table domains (domain text primary key, tenant_id text not null, is_primary integer not null default 0)",
      );
      await expect(
        bare.omni.createTenant({ tenantId: "early", name: "Early", isolation: "table" }),
      ).rejects.toThrow(ConfigError);
      expect(bare.recordRows("early")).toBe(0);
    } finally {
      await bare.teardown();
    }
  });

  it("refuses schema mode: SQLite has no schemas", async () => {
    const before = app.statements.length;
    const error = await app.omni
      .createTenant({ tenantId: "schemaco", name: "Schema", isolation: "schema" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedIsolationError);
    expect(String((error as Error).message)).toMatch(/SQLite has no schemas/);
    expect(app.statements.length).toBe(before);
    expect(app.recordRows("schemaco")).toBe(0);
    const bulk = await app.omni.createTenants([{ tenantId: "schemaco", name: "S", isolation: "schema" }]);
    expect(bulk.failed[0]?.error).toBeInstanceOf(UnsupportedIsolationError);
  });

  it("rejects invalid tenant ids before any file or SQL is touched", async () => {
    const files = app.tenantFiles();
    const before = app.statements.length;
    for (const tenantId of [
      "../escape",
      "a/b",
      "UPPER",
      "",
      "-lead",
      "trail-",
      "x".repeat(64),
      "dot.ted",
      "nul\0",
    ]) {
      for (const isolation of ["database", "table"] as const) {
        await expect(
          app.omni.createTenant({ tenantId, name: "Bad", isolation }),
          tenantId,
        ).rejects.toBeInstanceOf(InvalidTenantIdError);
      }
      await expect(app.omni.getTenant(tenantId)).rejects.toBeInstanceOf(InvalidTenantIdError);
      await expect(app.omni.deleteTenant(tenantId)).rejects.toBeInstanceOf(InvalidTenantIdError);
      await expect(app.omni.migrateTenant(tenantId)).rejects.toBeInstanceOf(InvalidTenantIdError);
      const forged = { tenantId, name: "x", isolation: "database", config: {}, createdAt: null } as Tenant;
      expect(() => app.omni.tenantDb(forged)).toThrow(InvalidTenantIdError);
      expect(() => app.omni.tenantDb({ ...forged, isolation: "table" })).toThrow(InvalidTenantIdError);
    }
    expect(app.statements.length).toBe(before);
    expect(app.tenantFiles()).toEqual(files);
    // The database refuses a bad id too, should anything write the table directly.
    expect(() =>
      app.omni
        .masterDb()
        .insert(master.tenants)
        .values({ tenantId: "Bad_Id", name: "x", isolation: "table" })
        .run(),
    ).toThrow(/CHECK constraint failed/);
    expect(() =>
      app.omni
        .masterDb()
        .insert(master.tenants)
        .values({ tenantId: "ok-id", name: "x", isolation: "schema" })
        .run(),
    ).toThrow(/CHECK constraint failed/);
  });
});

describe("deleteTenant", () => {
  it.each(["database", "table"] as const)(
    "%s mode: keeps the data unless dropData, which removes it",
    async (mode) => {
      const deleted: string[] = [];
      const off = tenantEvents.on("tenant:deleted", ({ tenant, dataDropped }) => {
        deleted.push(`${tenant.tenantId}:${dataDropped}`);
      });
      try {
        const keep = (
          await app.omni.createTenant({
            tenantId: `keep-${mode}`,
            name: "Keep",
            isolation: mode,
            domains: [`keep-${mode}.test`],
          })
        ).tenant;
        const gone = (
          await app.omni.createTenant({ tenantId: `gone-${mode}`, name: "Gone", isolation: mode })
        ).tenant;
        const other = (
          await app.omni.createTenant({ tenantId: `other-${mode}`, name: "Other", isolation: mode })
        ).tenant;
        for (const tenant of [keep, gone, other]) {
          const db = app.omni.tenantDb(tenant);
          const project = db
            .insert(projects)
            .values({ name: `${tenant.tenantId} project` })
            .returning()
            .get();
          db.insert(template.tables.tasks).values({ projectId: project.id, title: "t" }).run();
        }
        const sharedRows = (id: string) =>
          app.master
            .prepare(
              "select (select count(*) from projects where tenant_id = ?) + (select count(*) from tasks where tenant_id = ?)",
            )
            .pluck()
            .get(id, id);

        await app.omni.deleteTenant(keep.tenantId);
        expect(app.recordRows(keep.tenantId)).toBe(0);
        expect(await app.omni.getTenantByDomain(`keep-${mode}.test`)).toBeUndefined();
        await expect(app.omni.requireTenant(keep.tenantId)).rejects.toBeInstanceOf(TenantNotFoundError);
        if (mode === "database") expect(existsSync(tenantFile(keep.tenantId))).toBe(true);
        else expect(sharedRows(keep.tenantId)).toBe(2);

        await app.omni.deleteTenant(gone.tenantId, { dropData: true });
        expect(app.recordRows(gone.tenantId)).toBe(0);
        if (mode === "database") {
          expect(app.tenantFiles().filter((f) => f.startsWith(gone.tenantId))).toEqual([]);
        } else {
          expect(sharedRows(gone.tenantId)).toBe(0);
        }
        // Others are untouched.
        expect(app.omni.tenantDb(other).select().from(projects).all()).toHaveLength(1);
        expect(deleted).toEqual([`${keep.tenantId}:false`, `${gone.tenantId}:true`]);

        // A database-mode id whose data was kept cannot be reused until the file is gone.
        if (mode === "database") {
          await expect(
            app.omni.createTenant({ tenantId: keep.tenantId, name: "Again", isolation: mode }),
          ).rejects.toBeInstanceOf(TenantExistsError);
        }
      } finally {
        off();
      }
    },
  );
});

describe("domains", () => {
  it("can be added, made primary and removed", async () => {
    await app.omni.createTenant({
      tenantId: "doms",
      name: "Doms",
      isolation: "table",
      domains: ["one.doms.test"],
    });
    await app.omni.addDomain("doms", "two.doms.test", { primary: true });
    const domains = await app.omni.domainsOf("doms");
    expect(domains.filter((d) => d.isPrimary).map((d) => d.domain)).toEqual(["two.doms.test"]);
    await expect(app.omni.addDomain("acme", "two.doms.test")).rejects.toBeInstanceOf(DomainTakenError);
    expect(await app.omni.removeDomain("one.doms.test")).toBe(true);
    expect(await app.omni.getTenantByDomain("one.doms.test")).toBeUndefined();
    expect(await app.omni.removeDomain("one.doms.test")).toBe(false);
    // The partial unique index allows one primary a tenant.
    expect(() =>
      app.master
        .prepare("insert into domains (domain, tenant_id, is_primary) values ('three.doms.test', 'doms', 1)")
        .run(),
    ).toThrow(/UNIQUE/);
  });

  it("withTenant runs a function in the tenant's context", async () => {
    const names = await app.omni.withTenant("doms", () =>
      app.omni.tenantDb().all<{ n: number }>(sql`select count(*) as n from projects`),
    );
    expect(names).toEqual([{ n: 0 }]);
    await expect(app.omni.withTenant("nobody", () => 1)).rejects.toBeInstanceOf(TenantNotFoundError);
  });
});
