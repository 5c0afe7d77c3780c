import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidDomainError, InvalidTenantIdError, TenantNotFoundError } from "../../src/errors.js";
import {
  chainResolvers,
  customResolver,
  domainResolver,
  headerResolver,
  pathResolver,
  type ResolveRequest,
  type ResolveResult,
  resolveRequest,
  subdomainResolver,
  TenantIdentifierMissingError,
} from "../../src/resolvers/index.js";
import { type PgApp, setupPgApp } from "../helpers/app.js";

let app: PgApp;
beforeAll(async () => {
  app = await setupPgApp();
  await app.omni.createTenant({
    tenantId: "acme",
    name: "Acme",
    isolation: "schema",
    domains: ["acme.test", "shop.acme.test"],
  });
  await app.omni.createTenant({
    tenantId: "globex",
    name: "Globex",
    isolation: "schema",
    domains: ["globex.test"],
  });
  await app.omni.createTenant({ tenantId: "initech", name: "Initech", isolation: "database" });
});
afterAll(() => app?.teardown());

const req = (over: Partial<ResolveRequest> = {}): ResolveRequest => ({ headers: {}, path: "/", ...over });
const idOf = (result: ResolveResult) => (result.kind === "tenant" ? result.tenant.tenantId : result.kind);

/** Runs `fn` and says how many statements reached the master database meanwhile. */
async function sqlDuring(fn: () => Promise<unknown>): Promise<number> {
  const before = app.statements.length;
  await fn().catch(() => {});
  return app.statements.length - before;
}

describe("domainResolver", () => {
  it("matches any of a tenant's domains, ignoring port, case and a leading www.", async () => {
    const resolve = domainResolver(app.omni);
    for (const host of ["acme.test", "ACME.Test:8443", "www.acme.test", "shop.acme.test", "acme.test."]) {
      expect(idOf(await resolve(req({ host }))), host).toBe("acme");
    }
    expect(idOf(await resolve(req({ host: "globex.test:80" })))).toBe("globex");
  });

  it("reports unknown domains as not-found, no host as missing, master hosts as master", async () => {
    const resolve = domainResolver(app.omni, { masterHosts: ["Admin.Example.Test"] });
    expect(await resolve(req({ host: "nope.test" }))).toEqual({
      kind: "not-found",
      lookup: 'domain "nope.test"',
    });
    expect((await resolve(req())).kind).toBe("missing");
    expect((await resolve(req({ host: "[::1]:3000" }))).kind).toBe("missing");
    expect(await resolve(req({ host: "admin.example.test:3000" }))).toEqual({ kind: "master" });
  });

  it("rejects a malformed host before any SQL", async () => {
    const resolve = domainResolver(app.omni);
    for (const host of [
      "bad_host.test",
      "acme.test/../x",
      "a".repeat(300),
      "acme.test' or 1=1 --",
      "-x.test",
    ]) {
      expect(await sqlDuring(() => resolve(req({ host })))).toBe(0);
      await expect(resolve(req({ host }))).rejects.toBeInstanceOf(InvalidDomainError);
    }
  });

  it("adds no cache of its own: lookups are the registry's (cached, and invalidated when a domain moves)", async () => {
    const resolve = domainResolver(app.omni);
    await resolve(req({ host: "shop.acme.test" }));
    expect(await sqlDuring(() => resolve(req({ host: "shop.acme.test" })))).toBe(0); // cached
    expect(await sqlDuring(() => resolve(req({ host: "never.test" })))).toBeGreaterThan(0);
    expect(await sqlDuring(() => resolve(req({ host: "never.test" })))).toBe(0); // unknown hosts too

    await app.omni.removeDomain("shop.acme.test");
    expect((await resolve(req({ host: "shop.acme.test" }))).kind).toBe("not-found");
    await app.omni.addDomain("globex", "shop.acme.test");
    expect(idOf(await resolve(req({ host: "shop.acme.test" })))).toBe("globex");
    await app.omni.removeDomain("shop.acme.test");
    await app.omni.addDomain("acme", "shop.acme.test");
    expect(idOf(await resolve(req({ host: "shop.acme.test" })))).toBe("acme");
  });
});

describe("subdomainResolver", () => {
  const resolve = () =>
    subdomainResolver(app.omni, {
      baseDomains: ["example.test", "eu.example.test"],
      masterHosts: ["example.test", "admin.example.test"],
    });

  it("maps the subdomain to the tenant id, ignoring port, case and www.", async () => {
    for (const host of [
      "acme.example.test",
      "ACME.Example.Test:3000",
      "www.acme.example.test",
      "acme.eu.example.test",
    ]) {
      expect(idOf(await resolve()(req({ host }))), host).toBe("acme");
    }
    expect(idOf(await resolve()(req({ host: "initech.example.test" })))).toBe("initech");
  });

  it("answers master for master hosts, missing outside the bases, not-found for unknown ids", async () => {
    expect((await resolve()(req({ host: "example.test" }))).kind).toBe("master");
    expect((await resolve()(req({ host: "www.example.test" }))).kind).toBe("master");
    expect((await resolve()(req({ host: "admin.example.test" }))).kind).toBe("master");
    expect(await resolve()(req({ host: "acme.other.test" }))).toEqual({
      kind: "missing",
      expected: "a subdomain of eu.example.test or example.test",
    });
    expect((await resolve()(req({ host: "127.0.0.1:3000" }))).kind).toBe("missing");
    expect((await resolve()(req({}))).kind).toBe("missing");
    expect(await resolve()(req({ host: "nope.example.test" }))).toEqual({
      kind: "not-found",
      lookup: 'subdomain "nope"',
    });
  });

  it("rejects nested subdomains and malformed hosts before any SQL", async () => {
    expect(await sqlDuring(() => resolve()(req({ host: "a.b.example.test" })))).toBe(0);
    await expect(resolve()(req({ host: "a.b.example.test" }))).rejects.toBeInstanceOf(InvalidTenantIdError);
    await expect(resolve()(req({ host: "x y.example.test" }))).rejects.toBeInstanceOf(InvalidDomainError);
    expect(() => subdomainResolver(app.omni, { baseDomains: [] })).toThrow(TypeError);
  });
});

describe("headerResolver", () => {
  it("reads X-Tenant-ID from web Headers and from Node's header object", async () => {
    const resolve = headerResolver(app.omni);
    expect(idOf(await resolve(req({ headers: new Headers({ "X-Tenant-ID": "acme" }) })))).toBe("acme");
    expect(idOf(await resolve(req({ headers: { "x-tenant-id": "globex" } })))).toBe("globex");
    const custom = headerResolver(app.omni, { headerName: "X-Org" });
    expect(idOf(await custom(req({ headers: { "x-org": "initech" } })))).toBe("initech");
  });

  it("reports a missing or empty header as missing and an unknown id as not-found", async () => {
    const resolve = headerResolver(app.omni);
    expect(await resolve(req())).toEqual({ kind: "missing", expected: "a X-Tenant-ID header" });
    expect((await resolve(req({ headers: { "x-tenant-id": "" } }))).kind).toBe("missing");
    expect(await resolve(req({ headers: { "x-tenant-id": "nope" } }))).toEqual({
      kind: "not-found",
      lookup: 'X-Tenant-ID "nope"',
    });
  });

  it("checks length and characters before any SQL", async () => {
    const resolve = headerResolver(app.omni);
    for (const bad of ["ACME", "a".repeat(64), "acme;drop table tenants", "acme, globex", "../acme", "é"]) {
      const request = req({ headers: { "x-tenant-id": bad } });
      expect(await sqlDuring(() => resolve(request))).toBe(0);
      await expect(resolve(request)).rejects.toBeInstanceOf(InvalidTenantIdError);
    }
    expect(() => headerResolver(app.omni, { headerName: "X Tenant" })).toThrow(TypeError);
  });
});

describe("pathResolver", () => {
  it("takes the tenant from the prefix and hands on the rest of the path", async () => {
    const resolve = pathResolver(app.omni);
    expect(await resolve(req({ path: "/t/acme/projects?page=2" }))).toMatchObject({
      kind: "tenant",
      tenant: { tenantId: "acme" },
      path: "/projects?page=2",
    });
    expect(await resolve(req({ path: "/t/globex" }))).toMatchObject({ path: "/" });
    expect(await resolve(req({ path: "/t/globex?x=1" }))).toMatchObject({ path: "/?x=1" });
    const custom = pathResolver(app.omni, { prefix: "/tenants" });
    expect(await custom(req({ path: "/tenants/initech/a/b" }))).toMatchObject({ path: "/a/b" });
  });

  it("is missing outside the prefix, not-found for unknown ids and rejects malformed ids before SQL", async () => {
    const resolve = pathResolver(app.omni);
    for (const path of ["/projects", "/t", "/t/", "/tx/acme", "/t//projects"]) {
      expect((await resolve(req({ path }))).kind, path).toBe("missing");
    }
    expect((await resolve(req({ path: "/t/nope/x" }))).kind).toBe("not-found");
    for (const path of ["/t/%61cme/x", "/t/ACME/x", `/t/${"a".repeat(500)}/x`, "/t/a.b/x"]) {
      expect(await sqlDuring(() => resolve(req({ path })))).toBe(0);
      await expect(resolve(req({ path }))).rejects.toBeInstanceOf(InvalidTenantIdError);
    }
    expect(() => pathResolver(app.omni, { prefix: "t/" })).toThrow(TypeError);
  });
});

describe("customResolver", () => {
  const fromQuery = () =>
    customResolver(
      app.omni,
      ({ path }) => {
        const value = new URLSearchParams(path.split("?")[1]).get("tenant");
        return value === "admin" ? { master: true } : value;
      },
      { expected: "a ?tenant= parameter" },
    );

  it("validates, looks up and classifies what a plain function extracts", async () => {
    expect(idOf(await fromQuery()(req({ path: "/x?tenant=acme" })))).toBe("acme");
    expect(await fromQuery()(req({ path: "/x?tenant=admin" }))).toEqual({ kind: "master" });
    expect(await fromQuery()(req({ path: "/x" }))).toEqual({
      kind: "missing",
      expected: "a ?tenant= parameter",
    });
    expect((await fromQuery()(req({ path: "/x?tenant=nope" }))).kind).toBe("not-found");
    await expect(fromQuery()(req({ path: "/x?tenant=Bad!" }))).rejects.toBeInstanceOf(InvalidTenantIdError);
  });
});

describe("chainResolvers", () => {
  const chain = () =>
    chainResolvers(
      [
        pathResolver(app.omni),
        headerResolver(app.omni),
        subdomainResolver(app.omni, { baseDomains: "example.test" }),
        domainResolver(app.omni),
      ],
      { masterHosts: ["admin.example.test"] },
    );

  it("takes the first resolver that finds a tenant", async () => {
    expect(idOf(await chain()(req({ path: "/t/acme/x", headers: { "x-tenant-id": "globex" } })))).toBe(
      "acme",
    );
    expect(idOf(await chain()(req({ host: "acme.test", headers: { "x-tenant-id": "globex" } })))).toBe(
      "globex",
    );
    expect(idOf(await chain()(req({ host: "initech.example.test" })))).toBe("initech");
    expect(idOf(await chain()(req({ host: "globex.test" })))).toBe("globex");
  });

  it("answers master for master hosts before asking any resolver", async () => {
    expect(
      await sqlDuring(async () =>
        expect(
          await chain()(req({ host: "admin.example.test", headers: { "x-tenant-id": "acme" } })),
        ).toEqual({
          kind: "master",
        }),
      ),
    ).toBe(0);
  });

  it("prefers not-found to missing, lists what was expected, and stops on a malformed identifier", async () => {
    expect(await chain()(req({ host: "nope.test" }))).toEqual({
      kind: "not-found",
      lookup: 'domain "nope.test"',
    });
    const missing = await chain()(req({ host: "[::1]" }));
    expect(missing).toEqual({
      kind: "missing",
      expected:
        "a path starting with /t/<tenant>/, or a X-Tenant-ID header, or a subdomain of example.test, or a Host header with a domain",
    });
    await expect(
      chain()(req({ host: "acme.test", headers: { "x-tenant-id": "NOPE" } })),
    ).rejects.toBeInstanceOf(InvalidTenantIdError);
  });
});

describe("resolveRequest", () => {
  it("turns not-found and missing into typed errors", async () => {
    const resolve = headerResolver(app.omni);
    await expect(resolveRequest(resolve, req())).rejects.toBeInstanceOf(TenantIdentifierMissingError);
    await expect(resolveRequest(resolve, req())).rejects.toThrow(/expected a X-Tenant-ID header/);
    await expect(resolveRequest(resolve, req({ headers: { "x-tenant-id": "nope" } }))).rejects.toBeInstanceOf(
      TenantNotFoundError,
    );
    expect(await resolveRequest(resolve, req({ headers: { "x-tenant-id": "acme" } }))).toMatchObject({
      kind: "tenant",
      tenant: { tenantId: "acme", isolation: "schema" },
    });
  });

  it("sees a tenant created after its domain was looked up (registry invalidated on create)", async () => {
    const resolve = domainResolver(app.omni);
    expect((await resolve(req({ host: "late.test" }))).kind).toBe("not-found");
    await app.omni.createTenant({
      tenantId: "late",
      name: "Late",
      isolation: "schema",
      domains: ["late.test"],
    });
    expect(idOf(await resolve(req({ host: "late.test" })))).toBe("late");
    await app.omni.deleteTenant("late", { dropData: true });
    expect((await resolve(req({ host: "late.test" }))).kind).toBe("not-found");
  });
});
