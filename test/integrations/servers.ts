// One small app per framework, with the same routes, for the HTTP integration tests.
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { serve } from "@hono/node-server";
import express from "express";
import Fastify, { type FastifyInstance } from "fastify";
import { Hono } from "hono";
import { TenantContext } from "../../src/context.js";
import * as expressTenant from "../../src/integrations/express.js";
import * as fastifyTenant from "../../src/integrations/fastify.js";
import * as fetchTenant from "../../src/integrations/fetch.js";
import * as honoTenant from "../../src/integrations/hono.js";
import type { Resolver } from "../../src/resolvers/index.js";
import type { PgApp } from "../helpers/app.js";

export type Framework = "express" | "hono" | "fastify" | "fetch";
export const FRAMEWORKS: Framework[] = ["express", "hono", "fastify", "fetch"];

export interface Started {
  origin: string;
  close(): Promise<void>;
}

export interface ServerOptions {
  resolver: Resolver;
  /** Use a custom onError answering 418 `{ custom: code }`. */
  customErrors?: boolean;
}

/** What every route reports: who the framework and TenantContext think the request is for. */
function whoami(frameworkTenant: string | undefined) {
  return {
    tenant: TenantContext.current()?.tenantId ?? null,
    framework: frameworkTenant ?? null,
    master: TenantContext.isMaster(),
  };
}

/** Lists the tenant's projects through tenantDb() without arguments, after yielding to other requests. */
async function listProjects(app: PgApp, frameworkTenant: string | undefined) {
  await sleep(Math.floor(Math.random() * 3));
  const rows = await app.omni.tenantDb().select().from(app.config.template.tables.projects);
  return { ...whoami(frameworkTenant), names: rows.map((r) => r.name).sort() };
}

async function createProject(app: PgApp, name: string, frameworkTenant: string | undefined) {
  const [row] = await app.omni
    .tenantDb()
    .insert(app.config.template.tables.projects)
    .values({ name })
    .returning();
  return { ...whoami(frameworkTenant), created: row!.name };
}

const codeOf = (error: unknown) => String((error as { code?: unknown }).code);

async function listen(server: import("node:http").Server): Promise<string> {
  if (!server.listening) await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const closeServer = (server: import("node:http").Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

export async function startServer(
  framework: Framework,
  app: PgApp,
  options: ServerOptions,
): Promise<Started> {
  switch (framework) {
    case "express":
      return startExpress(app, options);
    case "hono":
      return startHono(app, options);
    case "fastify":
      return startFastify(app, options);
    case "fetch":
      return startFetch(app, options);
  }
}

async function startExpress(app: PgApp, { resolver, customErrors }: ServerOptions): Promise<Started> {
  const server = express();
  server.use(
    expressTenant.tenantMiddleware({
      resolver,
      ...(customErrors
        ? { onError: (error, _req, res) => void res.status(418).json({ custom: codeOf(error) }) }
        : {}),
    }),
  );
  // Mounted after the tenant middleware on purpose: its stream events must not lose the tenant.
  server.use(express.json());
  server.get("/whoami", (req, res) => void res.json(whoami(req.tenant?.tenantId)));
  server.get("/projects", async (req, res) => void res.json(await listProjects(app, req.tenant?.tenantId)));
  server.post(
    "/projects",
    async (req, res) => void res.json(await createProject(app, req.body.name, req.tenant?.tenantId)),
  );
  server.get("/admin", expressTenant.requireMaster(), (_req, res) => void res.json({ admin: true }));
  server.get("/path", (req, res) => void res.json({ route: req.url, original: req.originalUrl }));
  // Reads the body from the request's own events, as upload middlewares (busboy, multer) do.
  server.post("/raw", (req, res) => {
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
    });
    req.on("end", () => void res.json({ ...whoami(req.tenant?.tenantId), size }));
  });
  const http = server.listen(0, "127.0.0.1");
  const origin = await listen(http);
  return { origin, close: () => closeServer(http) };
}

async function startHono(app: PgApp, { resolver, customErrors }: ServerOptions): Promise<Started> {
  const api = new Hono();
  api.get("/whoami", (c) => c.json(whoami(c.get("tenant")?.tenantId)));
  api.get("/projects", async (c) => c.json(await listProjects(app, c.get("tenant")?.tenantId)));
  api.post("/projects", async (c) => {
    const body = await c.req.json<{ name: string }>();
    return c.json(await createProject(app, body.name, c.get("tenant")?.tenantId));
  });
  api.get("/admin", honoTenant.requireMaster(), (c) => c.json({ admin: true }));
  api.get("/path", (c) => c.json({ route: c.get("tenantPath"), original: c.req.path }));
  const server = new Hono();
  server.use(
    honoTenant.tenantMiddleware({
      resolver,
      ...(customErrors ? { onError: (error, c) => c.json({ custom: codeOf(error) }, 418) } : {}),
    }),
  );
  server.route("/", api);
  server.route("/t/:tenant", api);
  const http = serve({ fetch: server.fetch, port: 0, hostname: "127.0.0.1" }) as import("node:http").Server;
  const origin = await listen(http);
  return { origin, close: () => closeServer(http) };
}

async function startFastify(app: PgApp, { resolver, customErrors }: ServerOptions): Promise<Started> {
  const server = Fastify();
  await server.register(fastifyTenant.omnitenantPlugin, {
    resolver,
    ...(customErrors
      ? { onError: (error, _request, reply) => void reply.code(418).send({ custom: codeOf(error) }) }
      : {}),
  });
  // User hooks after the plugin's (async ones too): they must already run as the tenant.
  for (const hook of ["onRequest", "preValidation", "preHandler"] as const) {
    server.addHook(hook, async (request, reply) => {
      if (request.tenant && TenantContext.current()?.tenantId !== request.tenant.tenantId) {
        return reply.code(500).send({ error: `${hook} hook outside the tenant's context` });
      }
    });
  }
  server.addHook("onSend", async (_request, reply, payload) => {
    reply.header(
      "x-context-tenant",
      TenantContext.current()?.tenantId ?? (TenantContext.isMaster() ? "master" : "none"),
    );
    return payload;
  });
  const routes = async (scope: FastifyInstance) => {
    scope.get("/whoami", async (request) => whoami(request.tenant?.tenantId));
    scope.get("/projects", async (request) => listProjects(app, request.tenant?.tenantId));
    scope.post<{ Body: { name: string } }>("/projects", async (request) =>
      createProject(app, request.body.name, request.tenant?.tenantId),
    );
    scope.get("/admin", { preHandler: fastifyTenant.requireMaster() }, async () => ({ admin: true }));
    scope.get("/path", async (request) => ({ route: request.tenantPath, original: request.url }));
  };
  await server.register(routes);
  await server.register(routes, { prefix: "/t/:tenant" });
  const origin = await server.listen({ port: 0, host: "127.0.0.1" });
  return { origin, close: () => server.close() };
}

async function startFetch(app: PgApp, { resolver, customErrors }: ServerOptions): Promise<Started> {
  const admin = fetchTenant.requireMaster(async () => Response.json({ admin: true }));
  const handler = fetchTenant.tenantHandler(
    async (request: Request) => {
      const { pathname } = new URL(request.url);
      const tenant = fetchTenant.tenantOf(request)?.tenantId;
      if (pathname === "/whoami") return Response.json(whoami(tenant));
      if (pathname === "/projects" && request.method === "GET")
        return Response.json(await listProjects(app, tenant));
      if (pathname === "/projects" && request.method === "POST") {
        const body = (await request.json()) as { name: string };
        return Response.json(await createProject(app, body.name, tenant));
      }
      if (pathname === "/admin") return admin(request);
      if (pathname === "/path") {
        const { search } = new URL(request.url);
        return Response.json({ route: pathname + search, original: request.headers.get("x-original") });
      }
      return new Response("not found", { status: 404 });
    },
    {
      resolver,
      ...(customErrors
        ? { onError: (error) => Response.json({ custom: codeOf(error) }, { status: 418 }) }
        : {}),
    },
  );
  const http = serve({ fetch: handler, port: 0, hostname: "127.0.0.1" }) as import("node:http").Server;
  const origin = await listen(http);
  return { origin, close: () => closeServer(http) };
}
