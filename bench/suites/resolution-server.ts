// A child process serving GET /hello ("ok") with Hono or Express: bare (plain), behind omnitenant's tenant
// middleware (domain resolver), or behind the floor: a hand-written middleware doing the least any
// AsyncLocalStorage-based tenant middleware must (a Map lookup of the Host and AsyncLocalStorage.run).
// Only the omnitenant variant loads omnitenant. Sends { port } over IPC when ready.
//   node --import tsx bench/suites/resolution-server.ts <hono|express> <plain|floor|omnitenant> [masterUrl]
import { AsyncLocalStorage } from "node:async_hooks";
import type { Server } from "node:http";

const [framework, variant, masterUrl] = process.argv.slice(2);

async function omnitenantResolver() {
  const { fileURLToPath } = await import("node:url");
  const { defineConfig } = await import("../../src/config.js");
  const { createOmnitenant } = await import("../../src/pg.js");
  const { domainResolver } = await import("../../src/resolvers/domain.js");
  const masterSchema = await import("../fixtures/master/schema.js");
  const { template } = await import("../fixtures/query/template.js");
  const omni = createOmnitenant(
    defineConfig({
      dialect: "postgresql",
      masterUrl: masterUrl!,
      template,
      tables: masterSchema,
      root: fileURLToPath(new URL("../fixtures/query/", import.meta.url)),
      migrations: { tenant: "./drizzle/tenant" },
      modes: ["schema"],
      pool: { max: 2 },
    }),
  );
  return { omni, resolver: domainResolver(omni) };
}

/** The floor's tenant lookup: the 50 bench hosts, in a Map. */
const floorTenants = new Map<string, { tenantId: string }>(
  Array.from({ length: 50 }, (_, i) => {
    const id = `t${String(i).padStart(2, "0")}`;
    return [`${id}.bench.test`, { tenantId: id }] as const;
  }),
);
const floorContext = new AsyncLocalStorage<{ tenantId: string } | undefined>();

let server: Server;
if (framework === "hono") {
  const { Hono } = await import("hono");
  const { serve } = await import("@hono/node-server");
  const app = new Hono();
  if (variant === "omnitenant") {
    const { tenantMiddleware } = await import("../../src/integrations/hono.js");
    const { TenantContext } = await import("../../src/context.js");
    app.use(tenantMiddleware({ resolver: (await omnitenantResolver()).resolver }));
    app.get("/whoami", (c) => c.text(TenantContext.current()?.tenantId ?? "none"));
  } else if (variant === "floor") {
    app.use((c, next) => {
      const tenant = floorTenants.get(c.req.header("host") ?? "");
      if (!tenant) return Promise.resolve(c.text("unknown tenant", 404)) as never;
      c.set("tenant" as never, tenant as never);
      return floorContext.run(tenant, next);
    });
    app.get("/whoami", (c) => c.text(floorContext.getStore()?.tenantId ?? "none"));
  }
  app.get("/hello", (c) => c.text("ok"));
  server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s as Server));
  });
} else if (framework === "express") {
  const { default: express } = await import("express");
  const app = express();
  if (variant === "omnitenant") {
    const { tenantMiddleware } = await import("../../src/integrations/express.js");
    const { TenantContext } = await import("../../src/context.js");
    app.use(tenantMiddleware({ resolver: (await omnitenantResolver()).resolver }));
    app.get("/whoami", (_req, res) => {
      res.send(TenantContext.current()?.tenantId ?? "none");
    });
  } else if (variant === "floor") {
    app.use((req, res, next) => {
      const tenant = floorTenants.get(req.headers.host ?? "");
      if (!tenant) return void res.status(404).send("unknown tenant");
      floorContext.run(tenant, next);
    });
    app.get("/whoami", (_req, res) => {
      res.send(floorContext.getStore()?.tenantId ?? "none");
    });
  }
  app.get("/hello", (_req, res) => {
    res.send("ok");
  });
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
  });
} else {
  throw new Error(`unknown framework ${framework}`);
}
const address = server.address();
process.send?.({ port: typeof address === "object" && address ? address.port : 0 });
process.on("disconnect", () => process.exit(0));
