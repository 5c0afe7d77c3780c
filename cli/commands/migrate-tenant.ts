import { defineCommand } from "citty";
import { UnknownMigrationError } from "../../src/migrations/errors.js";
import { globalArgs, jsonArg } from "../lib/args.js";
import { CliError } from "../lib/errors.js";
import { formatMs, planJson, resultJson } from "../lib/format.js";
import { log, print, printJson } from "../lib/io.js";
import { registerTenantSecrets, withRuntime } from "../lib/open.js";

export default defineCommand({
  meta: { name: "migrate-tenant", description: "Apply pending tenant migrations to one tenant" },
  args: {
    "tenant-id": { type: "string", required: true, description: "The tenant", valueHint: "id" },
    plan: { type: "boolean", description: "Only print what is pending; change nothing" },
    to: {
      type: "string",
      description: "Stop after this migration (its tag, e.g. 0001_add_notes)",
      valueHint: "tag",
    },
    ...jsonArg,
    ...globalArgs,
  },
  run: ({ args }) =>
    withRuntime(args, async (omni) => {
      const tenant = await omni.requireTenant(args["tenant-id"]);
      registerTenantSecrets([tenant]);
      if (args.plan) {
        const plan = planJson(await omni.planTenant(tenant.tenantId), tenant.isolation);
        if (args.to) {
          const index = plan.pending.indexOf(args.to);
          if (index >= 0) plan.pending = plan.pending.slice(0, index + 1);
          else if (!omni.migrations().some((m) => m.tag === args.to)) {
            throw new UnknownMigrationError(
              args.to,
              omni.migrations().map((m) => m.tag),
            );
          } else plan.pending = [];
        }
        if (args.json) return printJson({ plan });
        if (plan.error)
          throw new CliError(
            `Tenant "${plan.tenantId}" cannot be planned: ${plan.error.message}`,
            plan.error.code,
          );
        if (plan.state === "shared")
          return print(
            `Tenant "${plan.tenantId}" uses the shared tables (table mode): nothing to migrate on its own.`,
          );
        if (plan.drifted.length) log.warn(`Drifted (edited after being applied): ${plan.drifted.join(", ")}`);
        if (plan.pending.length === 0) return print(`Tenant "${plan.tenantId}" is up to date.`);
        print(`Pending for tenant "${plan.tenantId}":`);
        for (const tag of plan.pending) print(`  ${tag}`);
        return;
      }
      const result = resultJson(await omni.migrateTenant(tenant.tenantId, args.to ? { to: args.to } : {}));
      if (args.json) {
        printJson({ result });
        return result.error ? 1 : 0;
      }
      if (result.error) {
        log.error(`Tenant "${result.tenantId}" ${result.status}: ${result.error.message}`);
        return 1;
      }
      if (result.applied.length === 0) log.success(`Tenant "${result.tenantId}" is up to date.`);
      else
        log.success(
          `Tenant "${result.tenantId}": applied ${result.applied.join(", ")} in ${formatMs(result.durationMs)}.`,
        );
      return 0;
    }),
});
