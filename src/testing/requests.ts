import http from "node:http";
import https from "node:https";

export type TenantHeadersOptions = {
  /** Send as this host (the `Host` header): for domain and subdomain resolvers. */
  host?: string;
  /** Send this tenant id in a header: for the header resolver. */
  header?: string;
  /** The header carrying the tenant id. */
  headerName?: string;
};

export type TenantRequestOptions = RequestInit &
  TenantHeadersOptions & {
    /** Put the path under `<pathPrefix>/<pathTenant>`: for the path resolver. */
    pathTenant?: string;
    pathPrefix?: string;
    /** A JSON body (sets `content-type`). */
    json?: unknown;
  };

/**
 * The headers that make a request come from a tenant, for clients that take plain headers (Fastify's
 * `inject`, supertest's `.set()`).
 *
 * @example
 * ```ts
 * await app.inject({ url: "/projects", headers: tenantHeaders({ host: "acme.example.test" }) });
 * ```
 */
export function tenantHeaders({
  host,
  header,
  headerName = "X-Tenant-ID",
}: TenantHeadersOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  if (host !== undefined) headers.host = host;
  if (header !== undefined) headers[headerName.toLowerCase()] = header;
  return headers;
}

/**
 * A web `Request` as a tenant's client would send it: by host, by header or under a path prefix. A
 * path-only `url` gets the host as its origin (`http://acme.example.test/projects`), which is what
 * in-memory dispatch (`app.request(req)`, a fetch handler) reads. Note that `fetch()` replaces a `Host`
 * header with the URL's; send to a real server with `sendRequest`, which keeps it.
 *
 * @example
 * ```ts
 * import { sendRequest, tenantRequest } from "omnitenant/testing";
 *
 * await app.request(tenantRequest("/projects", { host: "acme.example.test" })); // Hono, in memory
 * await handler(tenantRequest("/projects", { header: "acme" }));                // a fetch handler
 * await sendRequest(tenantRequest(`${baseUrl}/projects`, { host: "acme.example.test" })); // over HTTP
 * ```
 */
export function tenantRequest(
  url: string | URL,
  { host, header, headerName, pathTenant, pathPrefix = "/t", json, ...init }: TenantRequestOptions = {},
): Request {
  const target = new URL(url, `http://${host ?? "localhost"}`);
  if (pathTenant !== undefined) target.pathname = `${pathPrefix}/${pathTenant}${target.pathname}`;
  const headers = new Headers(init.headers);
  for (const [name, value] of Object.entries(tenantHeaders({ host, header, headerName }))) {
    headers.set(name, value);
  }
  if (json !== undefined) {
    headers.set("content-type", "application/json");
    return new Request(target, {
      ...init,
      headers,
      method: init.method ?? "POST",
      body: JSON.stringify(json),
    });
  }
  return new Request(target, { ...init, headers });
}

export type SendRequestOptions = {
  /** Where to connect (`http://127.0.0.1:3000`); default: the request URL's origin. */
  origin?: string | URL;
  /** A keep-alive agent, for many requests. */
  agent?: http.Agent;
};

/**
 * Sends a `Request` over node:http and keeps its `Host` header (which `fetch()` would replace), so a real
 * server on 127.0.0.1 sees the tenant's host.
 *
 * @example
 * ```ts
 * const res = await sendRequest(tenantRequest("/projects", { host: "acme.example.test" }), {
 *   origin: `http://127.0.0.1:${port}`,
 * });
 * expect(await res.json()).toEqual([...]);
 * ```
 */
export async function sendRequest(
  request: Request,
  { origin, agent }: SendRequestOptions = {},
): Promise<Response> {
  const url = new URL(request.url);
  const target = origin === undefined ? url : new URL(origin);
  const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
  const headers: Record<string, string> = { host: url.host, ...Object.fromEntries(request.headers) };
  if (body) headers["content-length"] = String(body.length);
  const client = target.protocol === "https:" ? https : http;
  return new Promise<Response>((resolve, reject) => {
    const outgoing = client.request(
      {
        protocol: target.protocol,
        hostname: target.hostname,
        port: target.port,
        path: url.pathname + url.search,
        method: request.method,
        headers,
        ...(agent ? { agent } : {}),
      },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
        incoming.on("error", reject);
        incoming.on("end", () => {
          const status = incoming.statusCode ?? 500;
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(incoming.headers)) {
            for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
              responseHeaders.append(name, v);
            }
          }
          const content = Buffer.concat(chunks);
          const empty = [101, 204, 205, 304].includes(status) || content.length === 0;
          resolve(new Response(empty ? null : content, { status, headers: responseHeaders }));
        });
      },
    );
    outgoing.on("error", reject);
    outgoing.end(body);
  });
}
