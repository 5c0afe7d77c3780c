import { InvalidDomainError, InvalidIdentifierError, InvalidTenantIdError } from "./errors.js";

export type TenantId = string & { readonly __brand?: "TenantId" };

const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const MAX_IDENTIFIER_BYTES = 63;

/** Throws `InvalidTenantIdError` unless `value` is a DNS label; runs before any SQL sees the id. */
export function assertTenantId(value: unknown): asserts value is TenantId {
  if (typeof value !== "string") throw new InvalidTenantIdError(value, "it must be a string");
  if (value.length === 0) throw new InvalidTenantIdError(value, "it is empty");
  if (value.length > 63)
    throw new InvalidTenantIdError(value, `it is ${value.length} characters long (at most 63)`);
  if (!DNS_LABEL.test(value)) {
    throw new InvalidTenantIdError(
      value,
      /[A-Z]/.test(value)
        ? "it contains uppercase letters"
        : "it contains characters other than a-z, 0-9 and '-'",
    );
  }
}

export function isTenantId(value: unknown): value is TenantId {
  return typeof value === "string" && value.length <= 63 && DNS_LABEL.test(value);
}

export interface NamingOptions {
  /** Prefix of the PostgreSQL schema of a schema-mode tenant. Default `tenant_`. */
  schemaPrefix?: string;
  /** Prefix of the database of a database-mode tenant. Default `tenant_`. */
  databasePrefix?: string;
}

/** The schema of a schema-mode tenant: `tenant_acme` for `acme`. */
export function tenantSchemaName(tenantId: string, { schemaPrefix = "tenant_" }: NamingOptions = {}): string {
  assertTenantId(tenantId);
  return assertIdentifier(`${schemaPrefix}${tenantId}`);
}

/** The database of a database-mode tenant on the master's server: `tenant_acme` for `acme`. */
export function tenantDatabaseName(
  tenantId: string,
  { databasePrefix = "tenant_" }: NamingOptions = {},
): string {
  assertTenantId(tenantId);
  return assertIdentifier(`${databasePrefix}${tenantId}`);
}

/** A PostgreSQL identifier we are willing to quote into SQL: printable, no quotes or NUL, at most 63 bytes. */
export function assertIdentifier(name: string): string {
  if (name.length === 0) throw new InvalidIdentifierError(name, "it is empty");
  if (Buffer.byteLength(name) > MAX_IDENTIFIER_BYTES) {
    throw new InvalidIdentifierError(
      name,
      `it is longer than ${MAX_IDENTIFIER_BYTES} bytes, PostgreSQL would truncate it`,
    );
  }
  if (!/^[A-Za-z0-9_$-]+$/.test(name)) {
    throw new InvalidIdentifierError(name, "only letters, digits, '_', '$' and '-' are allowed");
  }
  return name;
}

/** Quotes an identifier for SQL text after validating it. */
export function quoteIdentifier(name: string): string {
  return `"${assertIdentifier(name)}"`;
}

const HOST_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** A hostname already in normal form (lowercase, no port, no trailing dot, no `www.`): the common case. */
const NORMAL_HOST =
  /^(?=.{1,253}$)(?!www\.)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/**
 * Normalises a domain for storage and lookup: lowercase, no port, no trailing dot, no leading `www.`.
 * Throws `InvalidDomainError` for anything that is not a hostname.
 */

export function normalizeDomain(value: unknown): string {
  if (typeof value === "string" && NORMAL_HOST.test(value)) return value;
  if (typeof value !== "string") throw new InvalidDomainError(value, "it must be a string");
  let host = value.trim().toLowerCase();
  if (host.length === 0) throw new InvalidDomainError(value, "it is empty");
  if (host.length > 260) throw new InvalidDomainError(value, "it is too long");
  host = host.replace(/:\d{1,5}$/, "").replace(/\.$/, "");
  if (host.startsWith("www.")) host = host.slice(4);
  if (host.length > 253) throw new InvalidDomainError(value, "it is longer than 253 characters");
  const labels = host.split(".");
  for (const label of labels) {
    if (!HOST_LABEL.test(label))
      throw new InvalidDomainError(value, `"${label}" is not a valid hostname label`);
  }
  return host;
}
