/**
 * omnitenant quickstart on SQLite (no server needed): a master database, two tenants isolated two ways,
 * handler code that never mentions a tenant, per-tenant migrations, and a tenant removed with its data.
 *
 *   npm run demo
 */
import { rmSync } from "node:fs";
import { eq } from "drizzle-orm";
import { TenantContext } from "omnitenant";
import { createOmnitenant } from "omnitenant/sqlite";
import config from "./omnitenant.config.js";
import { template } from "./template.js";

const { projects, tasks } = template.tables;

// Start from a clean data folder so the demo can be run again and again.
rmSync(new URL(".omnitenant-data", import.meta.url), { recursive: true, force: true });

const omni = createOmnitenant(config);
omni.events.on("tenant:created", ({ tenant }) => console.log(`  event: tenant "${tenant.tenantId}" created`));

// 1. Master migrations (drizzle-kit's output for tenants, domains and the shared tables).
await omni.migrateMaster();

// 2. Provision: acme gets a SQLite file of its own, globex lives in the shared tables.
console.log("Creating tenants");
await omni.createTenant({
  tenantId: "acme",
  name: "Acme",
  isolation: "database",
  domains: ["acme.localhost"],
});
await omni.createTenant({
  tenantId: "globex",
  name: "Globex",
  isolation: "table",
  domains: ["globex.localhost"],
});

// 3. Handler code: the same for every tenant and every mode; tenantDb() follows the context.
async function addProject(name: string, taskTitles: string[]) {
  const db = omni.tenantDb();
  const [project] = await db.insert(projects).values({ name }).returning();
  await db.insert(tasks).values(taskTitles.map((title) => ({ projectId: project!.id, title })));
}
async function listProjects() {
  return omni.tenantDb().query.projects.findMany({ with: { tasks: true } });
}

for (const host of ["acme.localhost", "globex.localhost"]) {
  // What the middleware does for a request: resolve the tenant by host, run the handler in its context.
  const tenant = await omni.getTenantByDomain(host);
  await TenantContext.use(tenant!, () => addProject(`${tenant!.name} launch`, ["design", "build", "ship"]));
}
await omni.withTenant("globex", async () => {
  await omni.tenantDb().update(tasks).set({ done: true }).where(eq(tasks.title, "design"));
});

console.log("\nWhat each tenant sees");
for (const id of ["acme", "globex"]) {
  const rows = await omni.withTenant(id, listProjects);
  for (const project of rows) {
    const done = project.tasks.filter((t) => t.done).length;
    console.log(`  ${id.padEnd(7)} ${project.name.padEnd(16)} ${done}/${project.tasks.length} tasks done`);
  }
}

// 4. Per-tenant migrations: nothing pending right after provisioning.
const plan = await omni.planTenants();
console.log("\nPending tenant migrations");
for (const p of plan)
  console.log(`  ${p.tenantId.padEnd(7)} ${p.pending.length} pending, ${p.applied.length} applied`);

// 5. Without a tenant, tenant data is out of reach.
try {
  omni.tenantDb();
} catch (error) {
  console.log(`\nOutside a tenant context: ${(error as Error).name}`);
}

// 6. Remove a tenant and its data.
await omni.deleteTenant("acme", { dropData: true });
console.log(`Deleted acme; tenants left: ${(await omni.listTenants()).map((t) => t.tenantId).join(", ")}`);

await omni.close();
