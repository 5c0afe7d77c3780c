import { Agent, request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { tenantEvents } from "../../src/events.js";
import {
  chainResolvers,
  domainResolver,
  headerResolver,
  pathResolver,
  subdomainResolver,
} from "../../src/resolvers/index.js";
import { createTestTenants, sendRequest, type TestTenants, tenantRequest } from "../../src/testing/index.js";
import { type PgApp, setupPgApp } from "../helpers/app.js";
import { FRAMEWORKS, type Framework, type Started, startServer } from "./servers.js";

// Ten tenants (eight schema, two database mode), each with one project named after it and a domain.
const KEYS = Array.from({ length: 10 }, (_, i) => `t${i}`);

let app: PgApp;
let t: TestTenants<string>;
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

beforeAll(async () => {
  app = await setupPgApp();
  t = await createTestTenants(
    app.omni,
    Object.fromEntries(
      KEYS.map((key, i) => [
        key,
        {
          isolation: i < 8 ? ("schema" as const) : ("database" as const),
          domains: (id: string) => [`${id}.test`],
        },
      ]),
    ),
  );
  for (const key of KEYS) {
    await t.run(key, () =>
      app.omni
        .tenantDb()
        .insert(app.config.template.tables.projects)
        .values({ name: `project of ${key}` }),
    );
  }
});
afterAll(async () => {
  agent.destroy();
  await t?.cleanup();
  await app?.teardown();
});

const idOf = (key: string) => t.ids[key]!;

/** A JSON POST whose body is sent 30 ms after the headers, so it reaches the server as a later stream event. */
function slowPost(
  origin: string,
  path: string,
  headers: Record<string, string>,
  payload: unknown,
  contentType = "application/json",
) {
  const body = JSON.stringify(payload);
  const url = new URL(path, origin);
  return new Promise<{ status: number; body: any }>((resolve, reject) => {
    const outgoing = httpRequest(
      url,
      { method: "POST", headers: { ...headers, "content-type": contentType, "content-length": body.length } },
      (incoming) => {
        let text = "";
        incoming.setEncoding("utf8");
        incoming.on("data", (chunk: string) => {
          text += chunk;
        });
        incoming.on("end", () => resolve({ status: incoming.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    outgoing.on("error", reject);
    outgoing.flushHeaders();
    setTimeout(() => outgoing.end(body), 30);
  });
}

describe.each(FRAMEWORKS)("%s", (framework: Framework) => {
  let chain: Started;
  let headerOnly: Started;
  let custom: Started;

  beforeAll(async () => {
    const resolver = chainResolvers(
      [
        pathResolver(app.omni),
        headerResolver(app.omni),
        subdomainResolver(app.omni, { baseDomains: "example.test" }),
        domainResolver(app.omni),
      ],
      { masterHosts: ["admin.example.test"] },
    );
    chain = await startServer(framework, app, { resolver });
    headerOnly = await startServer(framework, app, { resolver: headerResolver(app.omni) });
    custom = await startServer(framework, app, { resolver: headerResolver(app.omni), customErrors: true });
  });
  afterAll(async () => {
    await Promise.all([chain, headerOnly, custom].map((server) => server?.close()));
  });

  const send = (server: Started, path: string, options: Parameters<typeof tenantRequest>[1] = {}) =>
    sendRequest(tenantRequest(path, { host: "api.other.test", ...options }), {
      origin: server.origin,
      agent,
    });
  const json = async (response: Response) => ({
    status: response.status,
    body: (await response.json()) as any,
  });

  it("resolves by domain, subdomain, header and path, and tenantDb() sees only that tenant", async () => {
    const cases: Array<[string, Parameters<typeof tenantRequest>[1], string]> = [
      ["/projects", { host: `${idOf("t1")}.test` }, "t1"],
      ["/projects", { host: `WWW.${idOf("t9")}.test:8080` }, "t9"],
      ["/projects", { host: `${idOf("t2")}.example.test` }, "t2"],
      ["/projects", { header: idOf("t3") }, "t3"],
      ["/projects", { header: idOf("t8") }, "t8"],
      ["/projects", { pathTenant: idOf("t4") }, "t4"],
      ["/projects?x=1", { pathTenant: idOf("t5") }, "t5"],
    ];
    for (const [path, options, key] of cases) {
      const { status, body } = await json(await send(chain, path, options));
      // Other tests add projects; the seeded ones show whose data this is.
      body.names = body.names.filter((name: string) => name.startsWith("project of "));
      expect({ status, body }, JSON.stringify(options)).toEqual({
        status: 200,
        body: { tenant: idOf(key), framework: idOf(key), master: false, names: [`project of ${key}`] },
      });
    }
  });

  it("keeps the tenant through a JSON body parsed after the middleware", async () => {
    const name = `${framework} posted`;
    const { status, body } = await json(
      await send(chain, "/projects", { header: idOf("t6"), json: { name } }),
    );
    expect(status).toBe(200);
    expect(body).toMatchObject({ tenant: idOf("t6"), created: name });
    const viaPath = await json(await send(chain, "/projects", { pathTenant: idOf("t7"), json: { name } }));
    expect(viaPath.body).toMatchObject({ tenant: idOf("t7"), created: name });
    const t6 = await json(await send(chain, "/projects", { header: idOf("t6") }));
    expect(t6.body.names).toContain(name);
    const t5 = await json(await send(chain, "/projects", { header: idOf("t5") }));
    expect(t5.body.names).not.toContain(name);
  });

  it("keeps the tenant when the body arrives after the headers (stream events from the connection)", async () => {
    const name = `${framework} slow body`;
    const response = await slowPost(chain.origin, "/projects", { "x-tenant-id": idOf("t3") }, { name });
    expect(response).toMatchObject({ status: 200, body: { tenant: idOf("t3"), created: name } });
  });

  it.runIf(framework === "express")("keeps the tenant in the request's own stream events", async () => {
    const response = await slowPost(
      chain.origin,
      "/raw",
      { "x-tenant-id": idOf("t2") },
      "x".repeat(1000),
      "text/plain",
    );
    expect(response).toMatchObject({ status: 200, body: { tenant: idOf("t2"), size: 1002 } });
  });

  it.runIf(framework === "fastify")("keeps the tenant in later hooks and onSend", async () => {
    const response = await send(chain, "/projects", { header: idOf("t4"), json: { name: "hooks" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-context-tenant")).toBe(idOf("t4"));
    const master = await send(chain, "/whoami", { host: "admin.example.test" });
    expect(master.headers.get("x-context-tenant")).toBe("master");
  });

  it("hands on the path after the tenant prefix", async () => {
    const { body } = await json(await send(chain, "/path?x=1", { pathTenant: idOf("t1") }));
    const full = `/t/${idOf("t1")}/path`;
    const expected = {
      express: { route: "/path?x=1", original: `${full}?x=1` }, // routes on the rest, keeps originalUrl
      hono: { route: "/path", original: full }, // routes under the prefix; c.get("tenantPath")
      fastify: { route: "/path?x=1", original: `${full}?x=1` }, // routes under the prefix; request.tenantPath
      fetch: { route: "/path?x=1", original: null }, // the handler gets the rewritten request
    }[framework];
    expect(body).toEqual(expected);
  });

  it("brackets each request with one tenant:activated and one tenant:deactivated", async () => {
    const seen: string[] = [];
    const offs = [
      tenantEvents.on("tenant:activated", ({ tenant }) => void seen.push(`+${tenant.tenantId}`)),
      tenantEvents.on("tenant:deactivated", ({ tenant }) => void seen.push(`-${tenant.tenantId}`)),
    ];
    try {
      const response = await send(chain, "/projects", { header: idOf("t2"), json: { name: "events" } });
      expect(response.status).toBe(200);
      await vi.waitFor(() => expect(seen).toEqual([`+${idOf("t2")}`, `-${idOf("t2")}`]));
    } finally {
      for (const off of offs) off();
    }
  });

  it("answers 404 for an unknown host and 400 for a malformed one", async () => {
    expect(await json(await send(chain, "/projects", { host: "nope.test" }))).toEqual({
      status: 404,
      body: { error: { code: "TENANT_NOT_FOUND", message: "No tenant matches this request." } },
    });
    expect(await json(await send(chain, "/projects", { host: "nope.example.test" }))).toMatchObject({
      status: 404,
    });
    const malformed = await json(await send(chain, "/projects", { host: "bad_host.test" }));
    expect(malformed).toMatchObject({ status: 400, body: { error: { code: "INVALID_DOMAIN" } } });
  });

  it("runs master hosts in master context and guards master-only routes", async () => {
    expect(await json(await send(chain, "/whoami", { host: "admin.example.test" }))).toEqual({
      status: 200,
      body: { tenant: null, framework: null, master: true },
    });
    expect(await json(await send(chain, "/admin", { host: "admin.example.test:443" }))).toEqual({
      status: 200,
      body: { admin: true },
    });
    expect(await json(await send(chain, "/admin", { host: `${idOf("t1")}.test` }))).toMatchObject({
      status: 403,
      body: { error: { code: "MASTER_ONLY" } },
    });
  });

  it("answers 400 for a missing or malformed header, before any SQL", async () => {
    const missing = await json(await send(headerOnly, "/projects"));
    expect(missing).toEqual({
      status: 400,
      body: {
        error: {
          code: "TENANT_IDENTIFIER_MISSING",
          message: "This request does not say which tenant it is for: expected a X-Tenant-ID header.",
        },
      },
    });
    const before = app.statements.length;
    for (const bad of ["ACME", "x".repeat(100), "a;drop table tenants"]) {
      const response = await json(await send(headerOnly, "/projects", { header: bad }));
      expect(response).toMatchObject({ status: 400, body: { error: { code: "INVALID_TENANT_ID" } } });
    }
    expect(app.statements.length).toBe(before);
    expect(await json(await send(headerOnly, "/projects", { header: "nobody" }))).toMatchObject({
      status: 404,
    });
  });

  it("lets onError replace the error response", async () => {
    expect(await json(await send(custom, "/projects"))).toEqual({
      status: 418,
      body: { custom: "TENANT_IDENTIFIER_MISSING" },
    });
    expect(await json(await send(custom, "/projects", { header: "nobody" }))).toEqual({
      status: 418,
      body: { custom: "TENANT_NOT_FOUND" },
    });
  });

  it("500 concurrent requests across 10 tenants each see only their own data", async () => {
    const ways = [
      (key: string) => ({ host: `${idOf(key)}.test` }),
      (key: string) => ({ host: `${idOf(key)}.example.test` }),
      (key: string) => ({ header: idOf(key) }),
      (key: string) => ({ pathTenant: idOf(key) }),
    ];
    const expectedNames = new Map<string, string[]>();
    for (const key of KEYS) {
      const { body } = await json(await send(chain, "/projects", { header: idOf(key) }));
      expectedNames.set(key, body.names);
    }
    const requests = Array.from({ length: 500 }, (_, i) => {
      const key = KEYS[i % KEYS.length]!;
      return { key, options: ways[Math.floor(i / KEYS.length) % ways.length]!(key) };
    });
    const responses = await Promise.all(
      requests.map(async ({ key, options }) => ({
        key,
        ...(await json(await send(chain, "/projects", options))),
      })),
    );
    for (const { key, status, body } of responses) {
      expect(status).toBe(200);
      expect(body).toEqual({
        tenant: idOf(key),
        framework: idOf(key),
        master: false,
        names: expectedNames.get(key),
      });
    }
  });

  it("follows a domain that moves to another tenant on the next request", async () => {
    const moving = `moving-${framework}.test`;
    await app.omni.addDomain(idOf("t1"), moving);
    expect((await json(await send(chain, "/whoami", { host: moving }))).body.tenant).toBe(idOf("t1"));
    await app.omni.removeDomain(moving);
    expect((await json(await send(chain, "/whoami", { host: moving }))).status).toBe(404);
    await app.omni.addDomain(idOf("t8"), moving);
    expect((await json(await send(chain, "/whoami", { host: moving }))).body.tenant).toBe(idOf("t8"));
    await app.omni.removeDomain(moving);
  });
});
