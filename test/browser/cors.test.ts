// cors as a browser enforces it: real Chromium (playwright-core) loads a page from origin A
// (http://127.0.0.1:<a>) and calls a gateway with the cors plugin on origin B (http://127.0.0.1:<b>) with
// fetch(). The browser's verdict (fetch resolves and JS can read, or rejects) is the assertion; what
// reached the upstream and what the browser put on the wire are checked beside it. The same bootstrap runs
// on both engines: the embedded one and real Envoy (2 workers each), each with a fresh browser profile.
//
// Private Network Access: Chromium 156 (Debian) no longer sends PNA preflights. It implements Local
// Network Access instead: a public page's request to a loopback/private address needs a permission, and
// no `Access-Control-Request-Private-Network` header is ever sent. So the PNA subtests check what this
// browser actually does (blocked before any byte reaches the gateway without the permission; with it, an
// ordinary preflight without the PNA header, answered by cors), and the `Access-Control-Allow-Private-
// Network` answer itself is covered where a client sends the PNA header (test/plugins/cors,
// test/scenarios/cors.yaml).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type Server } from "node:http";
import { connect, createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { corsWasm } from "../plugins/cors/helpers.ts";
import { ENGINES, startEngine, type EngineHandle } from "../helpers/engines.ts";
import { requireEnvoy } from "../helpers/envoy.ts";
import { requireTool } from "../helpers/tools.ts";

interface Seen { method: string; path: string; headers: IncomingMessage["headers"] }

function listen(server: Server | TcpServer): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
}

function close(server: Server | TcpServer): Promise<void> {
  return new Promise((resolve) => {
    (server as Server).closeAllConnections?.();
    server.close(() => resolve());
  });
}

/** The upstream: records every request and answers with what it saw, plus one exposed and one hidden header. */
function startUpstream(seen: Seen[]): Server {
  return createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      seen.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers });
      const headers: Record<string, string> = { "content-type": "application/json", "x-exposed": "visible", "x-hidden": "secret" };
      // An upstream with its own (wrong for credentials) CORS answer: cors must replace it, or the browser fails.
      if (req.url?.startsWith("/upstream-star")) Object.assign(headers, { "access-control-allow-origin": "*", "access-control-allow-credentials": "false" });
      res.writeHead(200, headers);
      res.end(JSON.stringify({ method: req.method, path: req.url, cookie: req.headers.cookie ?? null, custom: req.headers["x-custom-header"] ?? null, body: Buffer.concat(chunks).toString() }));
    });
  });
}

function startPage(): Server {
  return createHttpServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end("<!doctype html><title>cors test page</title><p>origin A</p>");
  });
}

/** A transparent TCP relay in front of the gateway that keeps, per connection, the raw bytes the browser sent. */
function startWireTap(targetPort: number, wire: Array<{ text: string }>): TcpServer {
  const sockets = new Set<Socket>();
  const server = createTcpServer((down) => {
    const up = connect(targetPort, "127.0.0.1");
    const conn = { text: "" };
    wire.push(conn);
    sockets.add(down);
    sockets.add(up);
    down.on("data", (d: Buffer) => {
      conn.text += d.toString("latin1");
      up.write(d);
    });
    up.on("data", (d: Buffer) => down.write(d));
    const end = () => {
      down.destroy();
      up.destroy();
    };
    down.on("close", end);
    up.on("close", end);
    down.on("error", end);
    up.on("error", end);
  });
  server.on("close", () => sockets.forEach((s) => s.destroy()));
  return server;
}

interface WireRequest { method: string; path: string; headers: Record<string, string> }

/** The HTTP/1.1 requests the browser sent through the tap, connection by connection (bodies by content-length). */
function requestsOnWire(wire: Array<{ text: string }>): WireRequest[] {
  const out: WireRequest[] = [];
  for (const { text } of wire) {
    let pos = 0;
    for (;;) {
      const end = text.indexOf("\r\n\r\n", pos);
      if (end < 0) break;
      const [line, ...fields] = text.slice(pos, end).split("\r\n");
      const [method, path] = line.split(" ");
      const headers: Record<string, string> = {};
      for (const f of fields) {
        const i = f.indexOf(":");
        headers[f.slice(0, i).toLowerCase()] = f.slice(i + 1).trim();
      }
      out.push({ method, path, headers });
      pos = end + 4 + Number(headers["content-length"] ?? 0);
    }
  }
  return out;
}

type FetchOutcome = { ok: true; status: number; body: string; exposed: string | null; hidden: string | null } | { ok: false; error: string };

/** fetch() inside the page; the browser decides whether JS may see the answer. */
function pageFetch(page: Page, url: string, init: Record<string, unknown> = {}): Promise<FetchOutcome> {
  return page.evaluate(
    async ([u, i]) => {
      try {
        const r = await fetch(u as string, i as RequestInit);
        return { ok: true as const, status: r.status, body: await r.text(), exposed: r.headers.get("x-exposed"), hidden: r.headers.get("x-hidden") };
      } catch (e) {
        return { ok: false as const, error: String(e) };
      }
    },
    [url, init] as const,
  );
}

for (const engine of ENGINES) test(`cors in a real browser (Chromium via playwright-core) on ${engine}`, { timeout: 180_000 }, async (t) => {
  const bin = requireTool(t, "chromium", "apt-get install -y chromium");
  if (!bin) return;
  const envoy = engine === "envoy" ? requireEnvoy(t) : null;
  if (engine === "envoy" && !envoy) return;
  let started = Date.now();
  const seen: Seen[] = [];
  const wire: Array<{ text: string }> = [];
  const upstream = startUpstream(seen);
  const pageA = startPage();
  const pageC = startPage();
  const pageP = startPage();
  const profile = mkdtempSync(join(tmpdir(), "tollgate-cors-chromium-"));
  let gateway: EngineHandle | null = null;
  let tap: TcpServer | null = null;
  let ctx: BrowserContext | null = null;
  try {
    const upstreamPort = await listen(upstream);
    const originA = `http://127.0.0.1:${await listen(pageA)}`;
    const originC = `http://127.0.0.1:${await listen(pageC)}`;
    const portP = await listen(pageP);
    const originP = `http://127.0.0.1:${portP}`;

    await corsWasm("release");
    started = Date.now();
    const corsConfig = {
      allow_origins: [originA, originP],
      allow_methods: ["GET", "POST", "PUT"],
      allow_headers: ["Content-Type", "X-Custom-Header"],
      expose_headers: ["X-Exposed"],
      allow_credentials: true,
      // No preflight caching, so every subtest's preflight really happens.
      max_age: 0,
      allow_private_network: true,
      // Reached as "localhost": the same origins without credentials.
      _rules_: [{ _match_domain_: ["localhost"], allow_origins: [originA], expose_headers: ["X-Exposed"] }],
    };
    const bootstrap = {
      static_resources: {
        listeners: [{
          name: "browser",
          address: { socket_address: { address: "127.0.0.1", port_value: 0 } },
          filter_chains: [{
            filters: [{
              name: "envoy.filters.network.http_connection_manager",
              typed_config: {
                "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                stat_prefix: "browser",
                route_config: {
                  name: "browser",
                  virtual_hosts: [{
                    name: "all",
                    domains: ["*"],
                    routes: [
                      { name: "private", match: { prefix: "/private" }, direct_response: { status: 401, body: { inline_string: "{\"error\":\"unauthorized\"}" } } },
                      { name: "default", match: { prefix: "/" }, route: { cluster: "upstream", timeout: "15s" } },
                    ],
                  }],
                },
                http_filters: [
                  {
                    name: "cors",
                    typed_config: {
                      "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
                      config: {
                        name: "cors",
                        root_id: "cors",
                        configuration: { "@type": "type.googleapis.com/google.protobuf.StringValue", value: JSON.stringify(corsConfig) },
                        vm_config: { vm_id: "cors", runtime: "envoy.wasm.runtime.v8", code: { local: { filename: "dist/plugins/cors.wasm" } } },
                      },
                    },
                  },
                  { name: "envoy.filters.http.router", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } },
                ],
              },
            }],
          }],
        }],
        clusters: [{
          name: "upstream",
          type: "STATIC",
          connect_timeout: "1s",
          load_assignment: { cluster_name: "upstream", endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: upstreamPort } } } }] }] },
        }],
      },
    };
    gateway = await startEngine(engine, bootstrap, envoy, { concurrency: 2 });
    tap = startWireTap(gateway.port("browser"), wire);
    const portB = await listen(tap);
    const B = `http://127.0.0.1:${portB}`;
    const B_LOCALHOST = `http://localhost:${portB}`;

    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: bin,
      headless: true,
      args: [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
        // Page P is treated as a public site, so its calls to the loopback gateway are local-network requests.
        `--ip-address-space-overrides=127.0.0.1:${portP}=public`,
      ],
    });
    const a = await ctx.newPage();
    await a.goto(`${originA}/`);
    const c = await ctx.newPage();
    await c.goto(`${originC}/`);

    await t.test("simple GET from an allowed origin: JS reads the answer", async () => {
      const r = await pageFetch(a, `${B}/simple`);
      assert.equal(r.ok, true, JSON.stringify(r));
      if (!r.ok) return;
      assert.equal(r.status, 200);
      assert.equal(JSON.parse(r.body).path, "/simple");
      const sent = requestsOnWire(wire).find((q) => q.path === "/simple");
      assert.equal(sent?.headers.origin, originA, "the browser sent Origin A");
    });

    await t.test("exposed header readable from JS, unexposed one hidden", async () => {
      const r = await pageFetch(a, `${B}/expose`);
      assert.equal(r.ok, true, JSON.stringify(r));
      if (!r.ok) return;
      assert.equal(r.exposed, "visible");
      assert.equal(r.hidden, null, "x-hidden is not in Access-Control-Expose-Headers");
    });

    await t.test("credentialed request: the cookie goes out and JS reads the answer", async () => {
      await a.evaluate(() => {
        document.cookie = "session=s3cr3t; path=/; SameSite=Lax";
      });
      const r = await pageFetch(a, `${B}/cred`, { credentials: "include" });
      assert.equal(r.ok, true, JSON.stringify(r));
      if (!r.ok) return;
      assert.equal(JSON.parse(r.body).cookie, "session=s3cr3t");
    });

    await t.test("credentialed request through an upstream that answers ACAO '*': cors replaces it, the browser accepts", async () => {
      const r = await pageFetch(a, `${B}/upstream-star`, { credentials: "include" });
      assert.equal(r.ok, true, JSON.stringify(r));
    });

    await t.test("credentialed request where the policy has no credentials: fetch rejects", async () => {
      const r = await pageFetch(a, `${B_LOCALHOST}/nocreds`, { credentials: "include" });
      assert.equal(r.ok, false, JSON.stringify(r));
      const plain = await pageFetch(a, `${B_LOCALHOST}/nocreds-plain`);
      assert.equal(plain.ok, true, `the same policy serves a request without credentials: ${JSON.stringify(plain)}`);
    });

    await t.test("preflighted PUT with a custom header: preflight answered by cors, PUT reaches the upstream", async () => {
      const before = seen.length;
      const r = await pageFetch(a, `${B}/put`, { method: "PUT", headers: { "X-Custom-Header": "42", "Content-Type": "application/json" }, body: "{\"v\":1}" });
      assert.equal(r.ok, true, JSON.stringify(r));
      if (!r.ok) return;
      // Default credentials mode ("same-origin"): no cookie on a cross-origin call.
      assert.deepEqual(JSON.parse(r.body), { method: "PUT", path: "/put", cookie: null, custom: "42", body: "{\"v\":1}" });
      const preflight = requestsOnWire(wire).find((q) => q.method === "OPTIONS" && q.path === "/put");
      assert.ok(preflight, "the browser sent a preflight");
      assert.equal(preflight.headers["access-control-request-method"], "PUT");
      assert.equal(preflight.headers["access-control-request-headers"], "content-type,x-custom-header");
      assert.deepEqual(seen.slice(before).map((s) => s.method), ["PUT"], "the upstream never saw the preflight");
    });

    await t.test("a 401 from another filter (router direct_response local reply) is readable from JS", async () => {
      const r = await pageFetch(a, `${B}/private/data`, { credentials: "include" });
      assert.equal(r.ok, true, JSON.stringify(r));
      if (!r.ok) return;
      assert.equal(r.status, 401);
      assert.deepEqual(JSON.parse(r.body), { error: "unauthorized" });
      const fromC = await pageFetch(c, `${B}/private/data`);
      assert.equal(fromC.ok, false, "the same 401 is hidden from a refused origin");
    });

    await t.test("disallowed origin: fetch rejects (the simple GET still reached the upstream; the PUT did not)", async () => {
      const before = seen.length;
      const r = await pageFetch(c, `${B}/from-c`);
      assert.equal(r.ok, false, JSON.stringify(r));
      assert.match((r as { error: string }).error, /TypeError/);
      assert.deepEqual(seen.slice(before).map((s) => s.path), ["/from-c"], "CORS is enforced by the browser, not by a 403");
      const put = await pageFetch(c, `${B}/put-from-c`, { method: "PUT", headers: { "X-Custom-Header": "1" }, body: "x" });
      assert.equal(put.ok, false, JSON.stringify(put));
      assert.equal(seen.some((s) => s.path === "/put-from-c"), false, "the refused preflight stopped the PUT");
      assert.ok(requestsOnWire(wire).some((q) => q.method === "OPTIONS" && q.path === "/put-from-c"), "the preflight was sent and refused");
    });

    await t.test("private network (Local Network Access in this Chromium): without permission the browser sends nothing", async () => {
      const p = await ctx!.newPage();
      await p.goto(`${originP}/`);
      const before = requestsOnWire(wire).length;
      const r = await pageFetch(p, `${B}/pna-denied`);
      assert.equal(r.ok, false, JSON.stringify(r));
      assert.equal(requestsOnWire(wire).length, before, "blocked before any request reached the gateway (no PNA preflight is sent)");
      await p.close();
    });

    await t.test("private network with the permission granted: an ordinary preflight (no PNA header), answered by cors", async () => {
      await ctx!.grantPermissions(["local-network-access"], { origin: originP });
      const p = await ctx!.newPage();
      await p.goto(`${originP}/`);
      const r = await pageFetch(p, `${B}/pna-put`, { method: "PUT", headers: { "X-Custom-Header": "7" }, body: "x" });
      assert.equal(r.ok, true, JSON.stringify(r));
      const preflight = requestsOnWire(wire).find((q) => q.method === "OPTIONS" && q.path === "/pna-put");
      assert.ok(preflight, `a preflight was sent: ${JSON.stringify(requestsOnWire(wire).slice(-3))}`);
      assert.equal(preflight.headers.origin, originP);
      assert.equal(preflight.headers["access-control-request-private-network"], undefined, "Chromium 156 sends no PNA header (Local Network Access replaced PNA preflights)");
      await p.close();
    });
  } finally {
    await ctx?.close().catch(() => undefined);
    if (tap) await close(tap);
    await gateway?.stop();
    await Promise.all([close(upstream), close(pageA), close(pageC), close(pageP)]);
    rmSync(profile, { recursive: true, force: true });
    t.diagnostic(`${engine}: ${Date.now() - started} ms including the gateway's and the browser's start and stop`);
  }
});
