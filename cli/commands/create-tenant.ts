import { defineCommand } from "citty";
import { InvalidTenantIdError, TenantExistsError } from "../../src/errors.js";
import type { CreateTenantInput } from "../../src/provision.js";
import { assertTenantId, normalizeDomain, tenantDatabaseName } from "../../src/tenant-id.js";
import { ISOLATION_MODES, type IsolationMode, type TenantConfig } from "../../src/types.js";
import { globalArgs, jsonArg, noInputArg, repeated } from "../lib/args.js";
import { CliError } from "../lib/errors.js";
import { tenantJson } from "../lib/format.js";
import { addSecret, log, printJson } from "../lib/io.js";
import { withRuntime } from "../lib/open.js";
import { askConfirm, askSelect, askText, mayAsk } from "../lib/prompts.js";

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

export default defineCommand({
  meta: {
    name: "create-tenant",
    description: "Create a tenant: its schema/database, migrations, row and domains (asks in a terminal)",
  },
  args: {
    "tenant-id": { type: "string", description: "Tenant id: a DNS label (a-z, 0-9, -)", valueHint: "id" },
    name: { type: "string", description: "Display name (default: the id)", valueHint: "name" },
    isolation: { type: "enum", options: [...ISOLATION_MODES], description: "How its data is kept apart" },
    domain: {
      type: "string",
      description: "A hostname of the tenant; repeat the flag for more (the first is primary)",
      valueHint: "host",
    },
    "database-url-env": {
      type: "string",
      description: "Database mode: environment variable holding the tenant database's URL",
      valueHint: "VAR",
    },
    database: {
      type: "string",
      description: "Database mode: database name on the master's server (default: prefix + id)",
      valueHint: "name",
    },
    migrate: {
      type: "boolean",
      default: true,
      description: "Apply the tenant migrations now",
      negativeDescription: "Create the tenant without applying migrations",
    },
    ...noInputArg,
    ...jsonArg,
    ...globalArgs,
  },
  run: ({ args, rawArgs }) =>
    withRuntime(args, async (omni) => {
      const ask = mayAsk(
        args.input,
        "create-tenant asks for what the flags leave out; pass --tenant-id, --name and --isolation with --no-input.",
      );
      const modes = [...omni.modes];

      // id
      let tenantId = args["tenant-id"];
      if (tenantId !== undefined) assertTenantId(tenantId);
      else if (ask) {
        tenantId = await askText("Tenant id (a-z, 0-9 and -, e.g. acme)", {
          validate: async (answer) => {
            try {
              assertTenantId(answer);
            } catch (error) {
              if (error instanceof InvalidTenantIdError) return error.message;
              throw error;
            }
            return (await omni.getTenant(answer)) ? new TenantExistsError(answer).message : undefined;
          },
        });
      } else throw new CliError("--tenant-id is required with --no-input.", "INVALID_ARGUMENTS");

      // name
      let name = args.name;
      if (name === undefined && ask) {
        name = await askText("Name", {
          initial: tenantId,
          validate: (answer) => (answer.length > 200 ? "At most 200 characters." : undefined),
        });
      }
      name ??= tenantId;

      // isolation
      let isolation = args.isolation as IsolationMode | undefined;
      if (isolation === undefined) {
        if (!ask) {
          throw new CliError(
            `--isolation is required with --no-input (this app offers ${modes.join(", ")}).`,
            "INVALID_ARGUMENTS",
          );
        }
        isolation = (await askSelect("Isolation", modes, modes[0])) as IsolationMode;
      }

      // database details
      const config: TenantConfig = {};
      let urlEnv = args["database-url-env"];
      const database = args.database;
      if ((urlEnv || database) && isolation !== "database") {
        throw new CliError(
          "--database-url-env and --database apply to database-mode tenants only.",
          "INVALID_ARGUMENTS",
        );
      }
      if (urlEnv && database) {
        throw new CliError("Give either --database-url-env or --database, not both.", "INVALID_ARGUMENTS");
      }
      if (isolation === "database" && omni.dialect === "postgresql" && !urlEnv && !database && ask) {
        const naming = "naming" in omni.config ? omni.config.naming : undefined;
        const onMaster = `A new database on the master's server (${tenantDatabaseName(tenantId, naming)})`;
        const where = await askSelect(
          "Where does its database live?",
          [onMaster, "At a URL held in an environment variable"],
          onMaster,
        );
        if (where !== onMaster) {
          urlEnv = await askText("Environment variable holding the URL", { validate: validateEnv });
        }
      }
      if (urlEnv) {
        const problem = validateEnv(urlEnv);
        if (problem) throw new CliError(problem, "INVALID_ARGUMENTS");
        addSecret(process.env[urlEnv]);
        config.databaseUrlEnv = urlEnv;
      }
      if (database) config.database = database;

      // domains
      let domains = repeated(rawArgs, "domain");
      for (const domain of domains) normalizeDomain(domain);
      if (domains.length === 0 && args.domain === undefined && ask) {
        const answer = await askText("Domains (comma-separated, the first is primary; empty for none)", {
          validate: (text) => {
            for (const domain of splitList(text)) {
              try {
                normalizeDomain(domain);
              } catch (error) {
                return (error as Error).message;
              }
            }
            return undefined;
          },
        });
        domains = splitList(answer);
      }

      // migrations
      let migrate = args.migrate !== false;
      if (ask && args.migrate !== false && !rawArgs.includes("--migrate") && isolation !== "table") {
        migrate = await askConfirm("Apply the tenant migrations now?", true);
      }

      const input: CreateTenantInput = {
        tenantId,
        name,
        isolation,
        config,
        domains,
        migrate,
      };
      if (!args.json) log.info(`Creating tenant "${tenantId}" (${isolation})...`);
      const result = await omni.createTenant(input);
      if (args.json) {
        printJson({ tenant: tenantJson(result.tenant, result.domains, undefined), applied: result.applied });
        return;
      }
      const applied = result.applied.length
        ? `; applied ${result.applied.length} migration(s): ${result.applied.join(", ")}`
        : migrate
          ? ""
          : "; migrations not applied (omnitenant migrate-tenant)";
      const hosts = result.domains.length
        ? `; domains: ${result.domains.map((d) => d.domain).join(", ")}`
        : "";
      log.success(`Created tenant "${tenantId}" (${isolation})${hosts}${applied}.`);
    }),
});

function validateEnv(name: string): string | undefined {
  if (!ENV_NAME.test(name)) return `"${name}" is not an environment variable name (letters, digits and _).`;
  if (!process.env[name])
    return `$${name} is not set in this environment: set it to the tenant database's URL first.`;
  return undefined;
}

function splitList(text: string): string[] {
  return text
    .split(/[,\s]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}
