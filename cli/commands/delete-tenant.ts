import { defineCommand } from "citty";
import { globalArgs, jsonArg, noInputArg } from "../lib/args.js";
import { CliError } from "../lib/errors.js";
import { log, printJson } from "../lib/io.js";
import { withRuntime } from "../lib/open.js";
import { askConfirm, askText, mayAsk } from "../lib/prompts.js";

export default defineCommand({
  meta: {
    name: "delete-tenant",
    description: "Delete a tenant's row and domains, and with --drop-data its schema/database/file",
  },
  args: {
    "tenant-id": { type: "string", required: true, description: "The tenant", valueHint: "id" },
    "drop-data": {
      type: "boolean",
      description: "Also drop its schema, database or file (or its rows in table mode)",
    },
    ...noInputArg,
    ...jsonArg,
    ...globalArgs,
  },
  run: ({ args }) =>
    withRuntime(args, async (omni) => {
      const tenantId = args["tenant-id"];
      const dropData = args["drop-data"] === true;
      const tenant = await omni.requireTenant(tenantId);
      if (
        mayAsk(args.input, "delete-tenant asks for confirmation; pass --no-input to delete without asking.")
      ) {
        const confirmed = dropData
          ? (await askText(
              `This drops ALL data of tenant "${tenantId}" (${tenant.isolation}). Type its id to confirm`,
              {},
            )) === tenantId
          : await askConfirm(`Delete tenant "${tenantId}" (${tenant.isolation})? Its data is kept.`, false);
        if (!confirmed) throw new CliError("Not confirmed; nothing was deleted.", "NOT_CONFIRMED");
      }
      await omni.deleteTenant(tenantId, { dropData });
      if (args.json) printJson({ deleted: tenantId, dataDropped: dropData });
      else log.success(`Deleted tenant "${tenantId}"${dropData ? " and its data" : " (its data is kept)"}.`);
    }),
});
