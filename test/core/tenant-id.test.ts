import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidDomainError, InvalidTenantIdError } from "../../src/errors.js";
import {
  assertTenantId,
  normalizeDomain,
  tenantDatabaseName,
  tenantSchemaName,
} from "../../src/tenant-id.js";
import { type PgApp, setupPgApp } from "../helpers/app.js";

const invalidIds: Array<[string, unknown]> = [
  ["empty", ""],
  ["uppercase", "Acme"],
  ["double quote", 'acme"'],
  ["single quote", "acme'--"],
  ["semicolon", "acme;drop table tenants"],
  ["path traversal", "../acme"],
  ["64 characters", "a".repeat(64)],
  ["unicode", "acmé"],
  ["leading hyphen", "-acme"],
  ["trailing hyphen", "acme-"],
  ["underscore", "ac_me"],
  ["space", "ac me"],
  ["null byte", "acme\u0000"],
  ["not a string", 42],
];

describe("tenant ids", () => {
  it.each(invalidIds)("rejects %s", (_label, id) => {
    expect(() => assertTenantId(id)).toThrow(InvalidTenantIdError);
  });

  it("accepts DNS labels up to 63 characters", () => {
    for (const id of ["a", "acme", "acme-2", "0", "a".repeat(63)])
      expect(() => assertTenantId(id)).not.toThrow();
  });

  it("derives schema and database names within 63 bytes", () => {
    expect(tenantSchemaName("acme")).toBe("tenant_acme");
    expect(tenantDatabaseName("acme", { databasePrefix: "db_" })).toBe("db_acme");
    expect(() => tenantSchemaName("a".repeat(60))).toThrow(/63 bytes/);
  });

  it("normalises domains", () => {
    expect(normalizeDomain("WWW.Acme.Example.com:8080")).toBe("acme.example.com");
    expect(normalizeDomain("acme.example.com.")).toBe("acme.example.com");
    for (const bad of ["", "acme..com", "ac me.com", "a'.com", "-a.com", "../x"]) {
      expect(() => normalizeDomain(bad)).toThrow(InvalidDomainError);
    }
  });
});

describe("invalid ids never reach SQL", () => {
  let app: PgApp;
  beforeAll(async () => {
    app = await setupPgApp();
  });
  afterAll(() => app.teardown());

  it.each(invalidIds)("%s", async (_label, id) => {
    const before = app.statements.length;
    const attempts = [
      () => app.omni.getTenant(id as string),
      () => app.omni.createTenant({ tenantId: id as string, name: "x", isolation: "schema" }),
      () => app.omni.createTenant({ tenantId: id as string, name: "x", isolation: "database" }),
      () => app.omni.deleteTenant(id as string, { dropData: true }),
      () => app.omni.migrateTenant(id as string),
      () => app.omni.planTenant(id as string),
    ];
    for (const attempt of attempts) await expect(attempt()).rejects.toBeInstanceOf(InvalidTenantIdError);
    expect(app.statements.slice(before)).toEqual([]);
  });
});
