// A small keep-alive HTTP/1.1 load loop over raw sockets (no autocannon/wrk in the bench runtime): each
// connection sends a request, reads the whole response (Content-Length framed), and sends the next.
import net from "node:net";

export interface LoadResult {
  ok: number;
  errors: number;
  ms: number;
}

/** GET requests for `path`, one a Host, written once and reused. */
export function requests(path: string, hosts: readonly string[]): Buffer[] {
  return hosts.map((host) =>
    Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nAccept: */*\r\n\r\n`, "latin1"),
  );
}

/** Runs `connections` request loops against 127.0.0.1:`port` for `durationMs`. */
export async function load(
  port: number,
  payloads: readonly Buffer[],
  { connections, durationMs }: { connections: number; durationMs: number },
): Promise<LoadResult> {
  const counters = { ok: 0, errors: 0 };
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(
    Array.from({ length: connections }, (_, c) => loop(port, payloads, c, deadline, counters)),
  );
  return { ...counters, ms: performance.now() - started };
}

function loop(
  port: number,
  payloads: readonly Buffer[],
  offset: number,
  deadline: number,
  counters: { ok: number; errors: number },
): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.setNoDelay(true);
    let buffer: Buffer = Buffer.alloc(0);
    let next = offset;
    let finished = false;
    const finish = (error?: Error) => {
      if (finished) return;
      finished = true;
      socket.destroy();
      if (error) reject(error);
      else resolve();
    };
    const send = () => {
      if (performance.now() >= deadline) return finish();
      socket.write(payloads[next++ % payloads.length]!);
    };
    socket.on("connect", send);
    socket.on("data", (chunk: Buffer) => {
      buffer = buffer.length > 0 ? Buffer.concat([buffer, chunk]) : chunk;
      for (;;) {
        const headerEnd = buffer.indexOf("\r\n\r\n");
        if (headerEnd < 0) return;
        const head = buffer.subarray(0, headerEnd).toString("latin1");
        const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        if (!length) return finish(new Error(`response without Content-Length: ${head.slice(0, 200)}`));
        const total = headerEnd + 4 + Number(length[1]);
        if (buffer.length < total) return;
        if (head.startsWith("HTTP/1.1 200")) counters.ok++;
        else counters.errors++;
        buffer = buffer.subarray(total);
        send();
      }
    });
    socket.on("error", (error) => finish(error));
    socket.on("close", () => finish());
  });
}
