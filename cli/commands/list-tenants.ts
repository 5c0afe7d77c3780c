import { defineCommand } from "citty";
import { ISOLATION_MODES } from "../../src/types.js";
import { globalArgs, jsonArg } from "../lib/args.js";
import { renderTable, stateText, tenantJson } from "../lib/format.js";
import { print, printJson } from "../lib/io.js";
import { registerTenantSecrets, withRuntime } from "../lib/open.js";

export default defineCommand({
  meta: {
    name: "list-tenants",
    description: "List tenants: id, name, isolation, domains and migration state (credentials masked)",
  },
  args: {
    isolation: {
      type: "enum",
      options: [...ISOLATION_MODES],
      description: "Only tenants of this isolation mode",
    },
    ...jsonArg,
    ...globalArgs,
  },
  run: ({ args }) =>
    withRuntime(args, async (omni) => {
      const tenants = await omni.listTenants(args.isolation ? { isolation: args.isolation } : undefined);
      registerTenantSecrets(tenants);
      const [domains, plans] = await Promise.all([
        Promise.all(tenants.map((t) => omni.domainsOf(t.tenantId))),
        omni.planTenants({ tenantIds: tenants.map((t) => t.tenantId) }),
      ]);
      const rows = tenants.map((t, i) => tenantJson(t, domains[i] ?? [], plans[i]));
      if (args.json) {
        printJson({ tenants: rows });
        return;
      }
      if (rows.length === 0) {
        print(
          args.isolation
            ? `No ${args.isolation}-mode tenants.`
            : "No tenants yet (omnitenant create-tenant).",
        );
        return;
      }
      print(
        renderTable(
          ["ID", "NAME", "ISOLATION", "DOMAINS", "MIGRATIONS"],
          rows.map((t) => [
            t.tenantId,
            t.name,
            t.isolation,
            t.domains.map((d) => (d.isPrimary ? `${d.domain}*` : d.domain)).join(", ") || "-",
            stateText(t.migrations),
          ]),
        ),
      );
      print(`\n${rows.length} tenant(s); * primary domain.`);
    }),
});
