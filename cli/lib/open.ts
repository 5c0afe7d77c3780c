/** Loads the app's config and opens its runtime for one command, registering what must never be printed. */
import { loadConfig } from "../../src/config.js";
import { createOmnitenantFromConfig, type OmnitenantRuntime } from "../../src/runtime.js";
import type { Tenant } from "../../src/types.js";
import { addSecret } from "./io.js";

const SECRET_NAME = /(URL|URI|DSN|PASSWORD|PASSWD|PASS|SECRET|TOKEN|CREDENTIALS?)$/i;

/** Values of the environment that look like connection strings or secrets. */
export function registerEnvironmentSecrets(env: NodeJS.ProcessEnv = process.env): void {
  for (const [name, value] of Object.entries(env)) {
    if (!value) continue;
    if (value.includes("://") || (SECRET_NAME.test(name) && value.length >= 8)) addSecret(value);
  }
}

/** Tenants name the environment variable that holds their URL; its value is a secret. */
export function registerTenantSecrets(tenants: readonly Tenant[]): void {
  for (const tenant of tenants) {
    const env = tenant.config?.databaseUrlEnv;
    if (typeof env === "string") addSecret(process.env[env]);
  }
}

export async function openRuntime(args: { config?: string | undefined }): Promise<OmnitenantRuntime> {
  registerEnvironmentSecrets();
  const config = await loadConfig(args.config || undefined);
  if (config.dialect === "postgresql") addSecret(config.masterUrl);
  return createOmnitenantFromConfig(config);
}

/** Runs `fn` with the app's runtime and always closes its pools. */
export async function withRuntime<T>(
  args: { config?: string | undefined },
  fn: (omni: OmnitenantRuntime) => Promise<T>,
): Promise<T> {
  const omni = await openRuntime(args);
  try {
    return await fn(omni);
  } finally {
    await omni.close().catch(() => {});
  }
}
