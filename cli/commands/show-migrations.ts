import { defineCommand } from "citty";
import { globalArgs, jsonArg } from "../lib/args.js";
import { planJson } from "../lib/format.js";
import { gray, green, print, printJson, red, yellow } from "../lib/io.js";
import { registerTenantSecrets, withRuntime } from "../lib/open.js";

export default defineCommand({
  meta: {
    name: "show-migrations",
    description: "Show applied, pending and drifted tenant migrations, per tenant",
  },
  args: {
    "tenant-id": { type: "string", description: "Only this tenant", valueHint: "id" },
    ...jsonArg,
    ...globalArgs,
  },
  run: ({ args }) =>
    withRuntime(args, async (omni) => {
      const tenants = args["tenant-id"]
        ? [await omni.requireTenant(args["tenant-id"])]
        : await omni.listTenants();
      registerTenantSecrets(tenants);
      const migrations = omni.migrations().map((m) => m.tag);
      const plans = await omni.planTenants({ tenantIds: tenants.map((t) => t.tenantId) });
      const rows = plans.map((p, i) => planJson(p, tenants[i]?.isolation ?? null));
      if (args.json) {
        printJson({ migrations, tenants: rows });
        return;
      }
      print(`Tenant migrations (${migrations.length}): ${migrations.join(", ") || "none"}`);
      if (rows.length === 0) print("No tenants.");
      for (const plan of rows) {
        print("");
        print(`${plan.tenantId} (${plan.isolation}): ${plan.state}`);
        if (plan.state === "shared") {
          print(gray("  uses the shared tables, created by the master migrations"));
          continue;
        }
        if (plan.error) {
          print(red(`  error: ${plan.error.message}`));
          continue;
        }
        for (const tag of migrations) {
          if (plan.drifted.includes(tag))
            print(`  ${red("[!]")} ${tag}  ${red("drifted: edited after it was applied")}`);
          else if (plan.applied.includes(tag)) print(`  ${green("[x]")} ${tag}`);
          else if (plan.pending.includes(tag)) print(`  ${yellow("[ ]")} ${tag}  ${yellow("pending")}`);
        }
        for (const hash of plan.unknown)
          print(`  ${red("[?]")} applied migration ${hash.slice(0, 12)} is not in the folder`);
      }
    }),
});
