// The demo/test upstream: answers every request with what it received, as JSON
// {upstream, method, path, headers, body}. Headers keep their order and repeats as [name, value] pairs
// are flattened into an object whose repeated names hold arrays, so curl output stays readable.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface EchoReply {
  upstream: string;
  method: string;
  path: string;
  headers: Record<string, string | string[]>;
  body: string;
}

export interface EchoServer {
  server: Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

/**
 * Starts an echo upstream on host:port (port 0 = ephemeral). Query `?status=N` answers with status N, and
 * `?delay_ms=N` waits first (at most 60 s) — the hooks tests use to provoke upstream errors and timeouts.
 */
export async function startEcho(opts: { name: string; port?: number; host?: string }): Promise<EchoServer> {
  // Envoy forwards up to its own 60 KiB of request headers (plus what it adds): the echo accepts more than Node's 16 KiB default.
  const server = createServer({ maxHeaderSize: 96 * 1024 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const headers: Record<string, string | string[]> = {};
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const k = req.rawHeaders[i].toLowerCase();
        const v = req.rawHeaders[i + 1];
        const prev = headers[k];
        headers[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
      }
      const reply: EchoReply = { upstream: opts.name, method: req.method ?? "", path: req.url ?? "", headers, body: Buffer.concat(chunks).toString("utf8") };
      // The query alone: a target such as `//x` is a valid path that `new URL(target, base)` would take for a host.
      const target = req.url ?? "/";
      const qi = target.indexOf("?");
      const q = new URLSearchParams(qi >= 0 ? target.slice(qi + 1) : "");
      const status = Number(q.get("status") ?? 200);
      const delay = Math.min(Number(q.get("delay_ms") ?? 0) || 0, 60_000);
      const send = (): void => {
        if (res.destroyed) return;
        const code = status >= 200 && status <= 599 ? status : 200;
        // 204 and 304 have no body (RFC 9110), and Envoy refuses one that announces a length.
        if (code === 204 || code === 304) {
          res.writeHead(code, { "x-echo-upstream": opts.name });
          res.end();
          return;
        }
        const body = JSON.stringify(reply, null, 2) + "\n";
        res.writeHead(code, {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          "x-echo-upstream": opts.name,
        });
        res.end(body);
      };
      if (delay > 0) {
        const t = setTimeout(send, delay);
        res.on("close", () => clearTimeout(t));
      } else send();
    });
  });
  server.keepAliveTimeout = 60_000;
  const host = opts.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
