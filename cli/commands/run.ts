import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { defineCommand } from "citty";
import { globalArgs } from "../lib/args.js";
import { CliError } from "../lib/errors.js";
import { registerTenantSecrets, withRuntime } from "../lib/open.js";

export default defineCommand({
  meta: {
    name: "run",
    description: "Run a TS/JS module's default export ({ tenant, db, omni, args }) in a tenant's context",
  },
  args: {
    file: {
      type: "positional",
      required: true,
      description: "The module to run (TypeScript or JavaScript)",
      valueHint: "file",
    },
    "tenant-id": { type: "string", required: true, description: "The tenant to run it for", valueHint: "id" },
    ...globalArgs,
  },
  run: ({ args }) =>
    withRuntime(args, async (omni) => {
      if (!existsSync(resolve(args.file)))
        throw new CliError(`${args.file} does not exist.`, "FILE_NOT_FOUND");
      const tenant = await omni.requireTenant(args["tenant-id"]);
      registerTenantSecrets([tenant]);
      const file = resolve(args.file);
      const { createJiti } = await import("jiti");
      const jiti = createJiti(pathToFileURL(file).href, { interopDefault: true, moduleCache: false });
      const mod: unknown = await jiti.import(file, { default: true });
      if (typeof mod !== "function") {
        throw new CliError(
          `${args.file} must default-export a function: export default async ({ tenant, db, omni }) => { ... }`,
          "INVALID_MODULE",
        );
      }
      const extra = args._.slice(1);
      await omni.withTenant(tenant.tenantId, () =>
        (mod as (context: unknown) => unknown)({
          tenant,
          db: omni.tenantDb(tenant),
          omni: omni.native,
          args: extra,
        }),
      );
    }),
});
