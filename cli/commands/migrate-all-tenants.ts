import { defineCommand } from "citty";
import type { MigrationProgress } from "../../src/migrations/runner.js";
import { ISOLATION_MODES, type IsolationMode } from "../../src/types.js";
import { globalArgs, jsonArg, noInputArg, positiveInt } from "../lib/args.js";
import { CliError } from "../lib/errors.js";
import { formatMs, type PlanJson, planJson, renderTable, resultJson } from "../lib/format.js";
import { gray, green, io, log, print, printJson, red, redact } from "../lib/io.js";
import { registerTenantSecrets, withRuntime } from "../lib/open.js";
import { askConfirm, mayAsk } from "../lib/prompts.js";

export default defineCommand({
  meta: {
    name: "migrate-all-tenants",
    description: "Apply pending tenant migrations to every tenant, concurrently; exit 1 if any failed",
  },
  args: {
    concurrency: {
      type: "string",
      description: "Tenants migrated at once (default: config migrate.concurrency, else 4)",
      valueHint: "n",
    },
    plan: { type: "boolean", description: "Only print what is pending per tenant; change nothing" },
    isolation: {
      type: "enum",
      options: [...ISOLATION_MODES],
      description: "Only tenants of this isolation mode",
    },
    ...noInputArg,
    ...jsonArg,
    ...globalArgs,
  },
  run: ({ args }) =>
    withRuntime(args, async (omni) => {
      const concurrency = positiveInt(args.concurrency, "concurrency");
      const isolation = args.isolation as IsolationMode | undefined;
      const tenants = await omni.listTenants(isolation ? { isolation } : undefined);
      registerTenantSecrets(tenants);
      const isolationOf = new Map(tenants.map((t) => [t.tenantId, t.isolation]));
      const selection = {
        tenantIds: tenants.map((t) => t.tenantId),
        ...(concurrency ? { concurrency } : {}),
      };

      const ask =
        !args.plan &&
        mayAsk(
          args.input,
          "migrate-all-tenants asks for confirmation; pass --no-input to migrate without asking.",
        );
      if (args.plan || ask) {
        const plans = (await omni.planTenants(selection)).map((p) =>
          planJson(p, isolationOf.get(p.tenantId) ?? null),
        );
        if (args.plan) return printPlans(plans, args.json === true);
        // Nothing pending: no question, and the run below is a cheap no-op (it still secures table mode).
        const pending = plans.filter((p) => p.pending.length > 0).length;
        if (
          pending > 0 &&
          !(await askConfirm(`Apply pending migrations to ${pending} of ${plans.length} tenant(s)?`, true))
        ) {
          throw new CliError("Not confirmed; nothing was migrated.", "NOT_CONFIRMED");
        }
      }

      const progress = progressReporter(args.json === true);
      const result = await omni.migrateTenants({ ...selection, onProgress: progress.update });
      progress.end();
      const results = result.results.map(resultJson);
      const failed = results.filter(
        (r) => r.error || r.status === "failed" || r.status === "drift" || r.status === "locked",
      );
      if (args.json) {
        printJson({
          ok: failed.length === 0,
          total: results.length,
          applied: result.applied,
          upToDate: result.upToDate,
          failed: result.failed,
          durationMs: Math.round(result.durationMs),
          tenants: results,
        });
        return failed.length ? 1 : 0;
      }
      if (results.length === 0) {
        print("No tenants.");
        return 0;
      }
      print(
        renderTable(
          ["TENANT", "ISOLATION", "STATUS", "APPLIED", "TIME"],
          results.map((r) => [
            r.tenantId,
            isolationOf.get(r.tenantId) ?? "",
            r.status,
            r.applied.join(", ") || "-",
            formatMs(r.durationMs),
          ]),
          80,
        ),
      );
      print(
        `\n${results.length} tenant(s): ${result.applied} migrated, ${result.upToDate} up to date, ${result.failed} failed (${formatMs(result.durationMs)}).`,
      );
      for (const r of failed) log.error(`${r.tenantId}: ${r.error?.message ?? r.status}`);
      if (failed.length)
        log.info("Fix the cause and run migrate-all-tenants again: it applies only what is missing.");
      return failed.length ? 1 : 0;
    }),
});

function printPlans(plans: PlanJson[], json: boolean): number {
  if (json) {
    printJson({ tenants: plans });
    return 0;
  }
  if (plans.length === 0) {
    print("No tenants.");
    return 0;
  }
  print(
    renderTable(
      ["TENANT", "ISOLATION", "APPLIED", "PENDING"],
      plans.map((p) => [
        p.tenantId,
        p.isolation ?? "",
        String(p.applied.length),
        p.state === "shared"
          ? "shared tables"
          : p.error
            ? `error: ${p.error.message}`
            : p.pending.join(", ") || "-",
      ]),
      80,
    ),
  );
  const pending = plans.filter((p) => p.pending.length > 0 && p.state !== "error").length;
  print(`\n${pending} of ${plans.length} tenant(s) have pending migrations.`);
  return 0;
}

/** A single rewritten line on a terminal; a plain line per tenant otherwise (CI logs); nothing with --json. */
function progressReporter(json: boolean) {
  const live = io().stderrIsTTY && !json;
  let shown = false;
  return {
    update(event: MigrationProgress) {
      const { done, total, failed, result } = event;
      if (live) {
        const failures = failed ? red(` ${failed} failed`) : "";
        io().stderr(`\r\u001B[2K${gray("migrating")} ${done}/${total}${failures} ${gray(result.tenantId)}`);
        shown = true;
        return;
      }
      if (json) return;
      const ok = result.status === "applied" || result.status === "up-to-date";
      const what =
        result.status === "applied"
          ? `applied ${result.applied.join(", ")}`
          : ok
            ? "up to date"
            : `${result.status}: ${result.error?.message ?? ""}`;
      io().stderr(
        redact(
          `[${done}/${total}] ${ok ? green(result.tenantId) : red(result.tenantId)} ${what} (${formatMs(result.durationMs)})\n`,
        ),
      );
    },
    end() {
      if (live && shown) io().stderr("\r\u001B[2K");
    },
  };
}
