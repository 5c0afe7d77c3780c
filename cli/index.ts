#!/usr/bin/env node
// The `omnitenant` bin.
import { runCli } from "./main.js";

const code = await runCli(process.argv.slice(2));
// Let stdout and stderr drain (pipes are asynchronous), then exit even if a library left a handle open.
process.exitCode = code;
process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
