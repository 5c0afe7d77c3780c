import { normalizeDomain } from "../tenant-id.js";
import type { HeadersLike } from "./types.js";

/** One header's value from Node's or the web's headers; a repeated header is returned joined by ", ". */
export function headerValue(headers: HeadersLike, name: string): string | undefined {
  if (typeof headers.get === "function") {
    return (headers as { get(name: string): string | null | undefined }).get(name) ?? undefined;
  }
  const value = (headers as Readonly<Record<string, string | string[] | undefined>>)[name.toLowerCase()];
  return Array.isArray(value) ? value.join(", ") : value;
}

/** Normalised master hosts; a malformed entry is a configuration error, thrown at once. */
export function hostSet(hosts: readonly string[]): ReadonlySet<string> {
  return new Set(hosts.map((host) => normalizeDomain(host)));
}

/** Whether `host` is one of `hosts`; a malformed host is simply not one (it never throws). */
export function isListedHost(hosts: ReadonlySet<string>, host: string | undefined): boolean {
  if (hosts.size === 0 || !host) return false;
  try {
    return hosts.has(normalizeDomain(host));
  } catch {
    return false;
  }
}

/** An IP literal (`10.0.0.1`, `[::1]:8080`) names no tenant by its labels. */
export function isIpLiteral(host: string): boolean {
  return host.startsWith("[") || /^\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?$/.test(host);
}
