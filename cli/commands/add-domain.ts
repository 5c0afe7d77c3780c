import { defineCommand } from "citty";
import { globalArgs, jsonArg } from "../lib/args.js";
import { log, printJson } from "../lib/io.js";
import { withRuntime } from "../lib/open.js";

export default defineCommand({
  meta: { name: "add-domain", description: "Add a domain (hostname) to a tenant" },
  args: {
    "tenant-id": { type: "string", required: true, description: "The tenant", valueHint: "id" },
    domain: {
      type: "string",
      required: true,
      description: "Hostname, e.g. acme.example.com",
      valueHint: "host",
    },
    primary: { type: "boolean", description: "Make it the tenant's primary domain" },
    ...jsonArg,
    ...globalArgs,
  },
  run: ({ args }) =>
    withRuntime(args, async (omni) => {
      const domain = await omni.addDomain(args["tenant-id"], args.domain, { primary: args.primary === true });
      if (args.json) printJson({ domain });
      else
        log.success(
          `Added ${domain.domain} to tenant "${domain.tenantId}"${domain.isPrimary ? " as its primary domain" : ""}.`,
        );
    }),
});
