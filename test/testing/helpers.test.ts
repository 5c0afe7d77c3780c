import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import Fastify from "fastify";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TenantContext } from "../../src/context.js";
import { DomainTakenError } from "../../src/errors.js";
import { omnitenantPlugin } from "../../src/integrations/fastify.js";
import { tenantMiddleware } from "../../src/integrations/hono.js";
import { domainResolver, headerResolver } from "../../src/resolvers/index.js";
import {
  asMaster,
  asTenant,
  createTestTenants,
  sendRequest,
  tenantHeaders,
  tenantRequest,
  useTestTenants,
} from "../../src/testing/index.js";
import { type PgApp, setupPgApp } from "../helpers/app.js";

let app: PgApp;
beforeAll(async () => {
  app = await setupPgApp();
});
afterAll(() => app?.teardown());

const t = useTestTenants(
  () => app.omni,
  {
    acme: { isolation: "schema", domains: (id) => [`${id}.example.test`], values: { plan: "pro" } },
    "Big Co": { isolation: "database", name: "Big Company" },
  },
  { beforeAll, afterAll },
);

const schemaExists = async (name: string) =>
  (await app.database.sql`select 1 from pg_namespace where nspname = ${name}`).length > 0;
const databaseExists = async (name: string) =>
  (await app.database.sql`select 1 from pg_database where datname = ${name}`).length > 0;
const projects = () => app.config.template.tables.projects;

describe("useTestTenants", () => {
  it("creates tenants of any mode with ids unique to the run, before the tests", async () => {
    expect(t.ids.acme).toMatch(/^acme-[0-9a-f]{6}$/);
    expect(t.ids["Big Co"]).toMatch(/^big-co-[0-9a-f]{6}$/);
    expect(t.tenants.acme).toMatchObject({ tenantId: t.ids.acme, isolation: "schema", plan: "pro" });
    expect(t.tenants["Big Co"]).toMatchObject({ name: "Big Company", isolation: "database" });
    expect((await app.omni.getTenantByDomain(`${t.ids.acme}.example.test`))?.tenantId).toBe(t.ids.acme);
    expect(() => (t.tenants as Record<string, unknown>).nope).toThrow(/does not exist/);
  });

  it("runs blocks as a tenant, each seeing only its own data", async () => {
    await t.run("acme", () => app.omni.tenantDb().insert(projects()).values({ name: "acme's" }));
    await t.run("Big Co", () => app.omni.tenantDb().insert(projects()).values({ name: "big's" }));
    const names = (key: "acme" | "Big Co") =>
      t.run(key, async () => (await app.omni.tenantDb().select().from(projects())).map((p) => p.name));
    expect(await names("acme")).toEqual(["acme's"]);
    expect(await names("Big Co")).toEqual(["big's"]);
    expect(asTenant(t.tenants.acme, () => TenantContext.current()?.tenantId)).toBe(t.ids.acme);
    expect(asMaster(() => TenantContext.isMaster())).toBe(true);
  });
});

describe("createTestTenants", () => {
  it("creates a schema tenant fast and removes tenants with their data on cleanup (twice is fine)", async () => {
    const started = performance.now();
    const created = await createTestTenants(app.omni, { quick: { isolation: "schema" } });
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(3000); // one transaction; typically ~100 ms
    const other = await createTestTenants(app.omni, { quick: { isolation: "database" } });
    expect(other.ids.quick).not.toBe(created.ids.quick);
    expect(await schemaExists(`tenant_${created.ids.quick}`)).toBe(true);
    expect(await databaseExists(`${app.databasePrefix}${other.ids.quick}`)).toBe(true);

    await created.cleanup();
    await created.cleanup();
    await other[Symbol.asyncDispose]();
    expect(await schemaExists(`tenant_${created.ids.quick}`)).toBe(false);
    expect(await databaseExists(`${app.databasePrefix}${other.ids.quick}`)).toBe(false);
    expect(await app.omni.getTenant(created.ids.quick)).toBeUndefined();
    expect(() => created.tenants.quick).toThrow(/does not exist/);
  });

  it("tolerates tenants the test deleted itself, and can keep the data", async () => {
    const kept = await createTestTenants(
      app.omni,
      { gone: { isolation: "schema" }, kept: { isolation: "schema" } },
      { dropData: false, runId: "fixed1" },
    );
    expect(kept.ids).toEqual({ gone: "gone-fixed1", kept: "kept-fixed1" });
    await app.omni.deleteTenant(kept.ids.gone, { dropData: true });
    await kept.cleanup();
    expect(await app.omni.getTenant(kept.ids.kept)).toBeUndefined();
    expect(await schemaExists("tenant_kept-fixed1")).toBe(true);
    await app.database.sql.unsafe(`drop schema "tenant_kept-fixed1" cascade`);
  });

  it("leaves nothing behind when one of the tenants cannot be created", async () => {
    const taken = `${t.ids.acme}.example.test`;
    const error = await createTestTenants(
      app.omni,
      { fine: { isolation: "schema" }, clash: { isolation: "schema", domains: [taken] } },
      { runId: "clash1" },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainTakenError);
    expect(await app.omni.getTenant("fine-clash1")).toBeUndefined();
    expect(await schemaExists("tenant_fine-clash1")).toBe(false);
  });
});

describe("tenantRequest", () => {
  it("builds requests as a tenant's host, header or path", async () => {
    const byHost = tenantRequest("/projects?x=1", { host: "acme.example.test" });
    expect(byHost.url).toBe("http://acme.example.test/projects?x=1");
    expect(byHost.headers.get("host")).toBe("acme.example.test");

    const toServer = tenantRequest("http://127.0.0.1:3000/projects", { host: "acme.example.test:3000" });
    expect(toServer.url).toBe("http://127.0.0.1:3000/projects");
    expect(toServer.headers.get("host")).toBe("acme.example.test:3000");

    expect(tenantRequest("/p", { header: "acme" }).headers.get("x-tenant-id")).toBe("acme");
    expect(tenantRequest("/p", { header: "acme", headerName: "X-Org" }).headers.get("x-org")).toBe("acme");
    expect(tenantRequest("/projects?x=1", { pathTenant: "acme" }).url).toBe(
      "http://localhost/t/acme/projects?x=1",
    );

    const post = tenantRequest("/projects", { header: "acme", json: { name: "n" } });
    expect(post.method).toBe("POST");
    expect(post.headers.get("content-type")).toBe("application/json");
    expect(await post.json()).toEqual({ name: "n" });
    expect(tenantHeaders({ host: "h.test", header: "acme" })).toEqual({
      host: "h.test",
      "x-tenant-id": "acme",
    });
  });

  it("works with in-memory dispatch: Hono's app.request and Fastify's inject", async () => {
    const hono = new Hono();
    hono.use(tenantMiddleware({ resolver: domainResolver(app.omni) }));
    hono.get("/who", (c) =>
      c.json({ tenant: c.get("tenant")?.tenantId, context: TenantContext.current()?.tenantId }),
    );
    const response = await hono.request(tenantRequest("/who", { host: `${t.ids.acme}.example.test` }));
    expect(await response.json()).toEqual({ tenant: t.ids.acme, context: t.ids.acme });

    const fastify = Fastify();
    await fastify.register(omnitenantPlugin, { resolver: headerResolver(app.omni) });
    fastify.get("/who", async () => ({ context: TenantContext.current()?.tenantId }));
    const injected = await fastify.inject({
      url: "/who",
      headers: tenantHeaders({ header: t.ids["Big Co"] }),
    });
    expect(injected.json()).toEqual({ context: t.ids["Big Co"] });
    await fastify.close();
  });

  it("sendRequest keeps the Host header that fetch() would replace", async () => {
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => {
        body += chunk;
      });
      req.on("end", () => {
        if (req.url === "/empty") return void res.writeHead(204).end();
        res.setHeader("set-cookie", ["a=1", "b=2"]);
        res.writeHead(201, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            host: req.headers.host,
            tenant: req.headers["x-tenant-id"],
            method: req.method,
            url: req.url,
            body,
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const response = await sendRequest(
        tenantRequest("/projects?x=1", { host: "acme.example.test", header: "acme", json: { a: 1 } }),
        { origin },
      );
      expect(response.status).toBe(201);
      expect(response.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
      expect(await response.json()).toEqual({
        host: "acme.example.test",
        tenant: "acme",
        method: "POST",
        url: "/projects?x=1",
        body: '{"a":1}',
      });
      const direct = await sendRequest(tenantRequest(`${origin}/echo`, { host: "globex.test" }));
      expect(((await direct.json()) as { host: string }).host).toBe("globex.test");
      expect((await sendRequest(new Request(`${origin}/empty`))).status).toBe(204);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
