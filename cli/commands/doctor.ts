import { defineCommand } from "citty";
import { diagnose } from "../../src/runtime.js";
import { globalArgs, jsonArg } from "../lib/args.js";
import { gray, green, print, printJson, red, yellow } from "../lib/io.js";
import { registerTenantSecrets, withRuntime } from "../lib/open.js";

const MARK = { ok: () => green("✔"), warning: () => yellow("⚠"), error: () => red("✖") };

export default defineCommand({
  meta: {
    name: "doctor",
    description:
      "Check the setup: master database, migrations, row-level security, orphaned schemas/databases",
  },
  args: {
    ...jsonArg,
    ...globalArgs,
  },
  run: ({ args }) =>
    withRuntime(args, async (omni) => {
      registerTenantSecrets(await omni.listTenants().catch(() => []));
      const report = await diagnose(omni);
      const errors = report.checks.filter((c) => c.level === "error").length;
      const warnings = report.checks.filter((c) => c.level === "warning").length;
      if (args.json) {
        printJson({ ok: report.ok, errors, warnings, checks: report.checks });
        return report.ok ? 0 : 1;
      }
      for (const check of report.checks) {
        print(`${MARK[check.level]()} ${check.message}`);
        if (check.fix) print(`  ${gray("→")} ${check.fix}`);
      }
      print("");
      print(
        errors
          ? red(`${errors} error(s), ${warnings} warning(s).`)
          : warnings
            ? yellow(`No errors, ${warnings} warning(s).`)
            : green("Everything looks right."),
      );
      return report.ok ? 0 : 1;
    }),
});
