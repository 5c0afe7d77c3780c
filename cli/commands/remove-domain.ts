import { defineCommand } from "citty";
import { globalArgs, jsonArg } from "../lib/args.js";
import { CliError } from "../lib/errors.js";
import { log, printJson } from "../lib/io.js";
import { withRuntime } from "../lib/open.js";

export default defineCommand({
  meta: { name: "remove-domain", description: "Remove a domain from whichever tenant has it" },
  args: {
    domain: { type: "string", required: true, description: "Hostname to remove", valueHint: "host" },
    ...jsonArg,
    ...globalArgs,
  },
  run: ({ args }) =>
    withRuntime(args, async (omni) => {
      const removed = await omni.removeDomain(args.domain);
      if (!removed) {
        throw new CliError(
          `No tenant has the domain "${args.domain}" (omnitenant list-tenants shows them).`,
          "DOMAIN_NOT_FOUND",
        );
      }
      if (args.json) printJson({ removed: args.domain });
      else log.success(`Removed ${args.domain}.`);
    }),
});
