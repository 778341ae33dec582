// The embedded gateway end to end over real HTTP: filter chain order, local replies through the encoder
// chain, route re-selection after a header change, worker pinning, router replies, admin, bodies,
// keep-alive, and how `tollgate up` reports unsupported fields and plugins that refuse their config.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Agent, createServer as createHttpServer, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test, type TestContext } from "node:test";
import { stringify } from "yaml";
import { compileAssemblyScript } from "../../tools/build/compile.ts";
import { startEcho, type EchoServer } from "../../tools/demo/echo.ts";
import { UNSUPPORTED } from "../../tools/gateway/bootstrap-fields.ts";
import { parseBootstrap } from "../../tools/gateway/config.ts";
import { Gateway, PluginStartError } from "../../tools/gateway/server.ts";
import { repoRoot } from "../../tools/paths.ts";
import { ENGINES, startEngine, type Engine } from "../helpers/engines.ts";
import { requireEnvoy } from "../helpers/envoy.ts";
import { foldRawHeaders } from "../helpers/http.ts";

const PROBE = join(repoRoot(), "dist", "fixtures", "gateway-probe.wasm");
let stable: EchoServer;
let streamerPort = 9; // set by the streaming test before it starts its gateway
let canary: EchoServer;
const tmp = mkdtempSync(join(tmpdir(), "tollgate-gw-test-"));

before(async () => {
  await compileAssemblyScript(join(repoRoot(), "test", "gateway", "fixtures", "probe", "index.ts"), PROBE, "release");
  stable = await startEcho({ name: "stable" });
  canary = await startEcho({ name: "canary" });
});
after(async () => {
  await Promise.all([stable?.close(), canary?.close()]);
  rmSync(tmp, { recursive: true, force: true });
});

function probe(config: string): object {
  return {
    name: `probe-${config}`,
    typed_config: {
      "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
      config: {
        name: `probe-${config.split(",")[0]}`,
        root_id: "probe",
        configuration: { "@type": "type.googleapis.com/google.protobuf.StringValue", value: config },
        vm_config: { vm_id: "probe", runtime: "envoy.wasm.runtime.v8", code: { local: { filename: PROBE } } },
      },
    },
  };
}

const ep = (port: number) => ({ lb_endpoints: [{ endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: port } } } }] });

/** A bootstrap with the given wasm filters (by probe config) and routes; clusters stable, canary, empty. */
function bootstrap(filters: string[], routes?: object[]): Record<string, unknown> {
  return {
    admin: { address: { socket_address: { address: "127.0.0.1", port_value: 0 } } },
    static_resources: {
      listeners: [
        {
          name: "test",
          address: { socket_address: { address: "127.0.0.1", port_value: 0 } },
          filter_chains: [
            {
              filters: [
                {
                  name: "envoy.filters.network.http_connection_manager",
                  typed_config: {
                    "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                    stat_prefix: "test",
                    route_config: {
                      virtual_hosts: [
                        {
                          name: "all",
                          domains: ["*"],
                          routes: routes ?? [
                            { match: { prefix: "/", headers: [{ name: "x-canary-version", string_match: { exact: "v2" } }] }, route: { cluster: "canary" } },
                            { match: { prefix: "/" }, route: { cluster: "stable" } },
                          ],
                        },
                      ],
                    },
                    http_filters: [
                      ...filters.map(probe),
                      { name: "envoy.filters.http.router", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters: [
        { name: "stable", type: "STATIC", connect_timeout: "1s", load_assignment: { cluster_name: "stable", endpoints: [ep(stable.port)] } },
        { name: "canary", type: "STATIC", connect_timeout: "1s", load_assignment: { cluster_name: "canary", endpoints: [ep(canary.port)] } },
        { name: "empty", type: "STATIC", connect_timeout: "1s", load_assignment: { cluster_name: "empty", endpoints: [] } },
        { name: "streamer", type: "STATIC", connect_timeout: "1s", load_assignment: { cluster_name: "streamer", endpoints: [ep(streamerPort)] } },
      ],
    },
  };
}

/** The same bootstrap on either engine (null after a skip outside CI when Envoy is missing). */
async function gatewayOn(engine: Engine, t: TestContext, filters: string[], routes?: object[]): Promise<{ port: number; adminPort: number; close(): Promise<void> } | null> {
  const envoy = engine === "envoy" ? requireEnvoy(t) : null;
  if (engine === "envoy" && !envoy) return null;
  const h = await startEngine(engine, bootstrap(filters, routes), envoy, { concurrency: 1 });
  return { port: h.port("test"), adminPort: h.adminPort, close: () => h.stop() };
}

async function gateway(filters: string[], routes?: object[], workers = 2): Promise<Gateway> {
  return Gateway.start(parseBootstrap(bootstrap(filters, routes), "test.yaml", repoRoot()), { workers, random: () => 0 });
}

interface Res {
  status: number;
  headers: Record<string, string>;
  body: string;
  localPort: number;
}

function send(port: number, path: string, opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer; agent?: Agent } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const body = opts.body === undefined ? undefined : Buffer.from(opts.body);
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (body) headers["content-length"] = String(body.length);
    const req = request({ host: "127.0.0.1", port, path, method: opts.method ?? "GET", headers, agent: opts.agent ?? new Agent({ keepAlive: false }), timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const h = foldRawHeaders(res.rawHeaders);
        resolve({ status: res.statusCode ?? 0, headers: h, body: Buffer.concat(chunks).toString(), localPort: req.socket?.localPort ?? 0 });
      });
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end(body);
  });
}

const upstreamView = (r: Res) => JSON.parse(r.body) as { upstream: string; path: string; body: string; headers: Record<string, string | string[]> };
const joined = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join(",") : v);

for (const engine of ENGINES) {
  test(`${engine}: filter order: request path in order, response path in reverse`, { timeout: 60_000 }, async (t) => {
    const gw = await gatewayOn(engine, t, ["A", "B"]);
    if (!gw) return;
    try {
      const r = await send(gw.port, "/x");
      assert.equal(r.status, 200);
      assert.equal(joined(upstreamView(r).headers["x-order"]), "A,B");
      assert.equal(r.headers["x-order-resp"], "B,A");
      assert.equal(r.headers.server, "envoy");
    } finally {
      await gw.close();
    }
  });
}

for (const engine of ENGINES) {
  test(`${engine}: local reply: stops the request path, runs the response path of the filters that saw the request`, { timeout: 60_000 }, async (t) => {
    const gw = await gatewayOn(engine, t, ["A,deny", "B,deny"]);
    if (!gw) return;
    try {
      const port = gw.port;
      const b = await send(port, "/deny-B");
      assert.equal(b.status, 403);
      assert.equal(b.body, "denied by B");
      assert.equal(b.headers["x-denied-by"], "B");
      assert.equal(b.headers["content-type"], "text/plain");
      assert.equal(b.headers["x-echo-upstream"], undefined, "never reached the upstream");
      assert.equal(b.headers["x-order-resp"], "B,A", "the sender sees its own reply, then A");
      const a = await send(port, "/deny-A");
      assert.equal(a.status, 403);
      assert.equal(a.body, "denied by A");
      assert.equal(a.headers["x-order-resp"], "A", "B never saw the request, so its VM context does not run");
    } finally {
      await gw.close();
    }
  });
}

for (const engine of ENGINES) {
  test(`${engine}: a request-header change by a wasm filter re-selects the route (route cache cleared)`, { timeout: 60_000 }, async (t) => {
    const gw = await gatewayOn(engine, t, ["A,reroute"]);
    if (!gw) return;
    try {
      const port = gw.port;
      assert.equal(upstreamView(await send(port, "/r")).upstream, "stable");
      const r = await send(port, "/r", { headers: { "x-route-to": "canary" } });
      assert.equal(upstreamView(r).upstream, "canary");
      assert.equal(joined(upstreamView(r).headers["x-canary-version"]), "v2");
    } finally {
      await gw.close();
    }
  });
}

test("N VMs per plugin; each connection pinned to one worker; keep-alive reuses the connection", async () => {
  const gw = await gateway(["A"], undefined, 2);
  try {
    const port = gw.listeners[0].port;
    const c1 = new Agent({ keepAlive: true, maxSockets: 1 });
    const c2 = new Agent({ keepAlive: true, maxSockets: 1 });
    const c3 = new Agent({ keepAlive: true, maxSockets: 1 });
    const r1 = [await send(port, "/", { agent: c1 }), await send(port, "/", { agent: c1 }), await send(port, "/", { agent: c1 })];
    assert.deepEqual(r1.map((r) => r.headers["x-vm-requests-a"]), ["1", "2", "3"], "same VM for one connection");
    assert.equal(new Set(r1.map((r) => r.localPort)).size, 1, "one keep-alive connection");
    assert.equal((await send(port, "/", { agent: c2 })).headers["x-vm-requests-a"], "1", "second connection → the other worker's fresh VM");
    assert.equal((await send(port, "/", { agent: c3 })).headers["x-vm-requests-a"], "4", "third connection → back to worker 0");
    assert.equal((await send(port, "/", { agent: c1 })).headers["x-vm-requests-a"], "5");
    for (const a of [c1, c2, c3]) a.destroy();
  } finally {
    await gw.close();
  }
});

for (const engine of ENGINES) {
  test(`${engine}: admin: /ready answers LIVE, /stats lists wasm metrics (as wasmcustom.<name>, like Envoy) and gateway counters`, { timeout: 60_000 }, async (t) => {
    const gw = await gatewayOn(engine, t, ["A"]);
    if (!gw) return;
    try {
      for (let i = 0; i < 3; i++) await send(gw.port, "/");
      const ready = await send(gw.adminPort, "/ready");
      assert.equal(ready.status, 200);
      assert.equal(ready.body, "LIVE\n");
      const stats = await send(gw.adminPort, "/stats");
      assert.match(stats.body, /^wasmcustom\.probe_requests_A: 3$/m);
      assert.match(stats.body, /^http\.test\.downstream_rq_total: 3$/m);
      assert.match(stats.body, /^http\.test\.downstream_rq_2xx: 3$/m);
      assert.match(stats.body, /^cluster\.stable\.upstream_rq_total: 3$/m);
      assert.equal((await send(gw.adminPort, "/nope")).status, 404);
    } finally {
      await gw.close();
    }
  });
}

for (const engine of ENGINES) {
  test(`${engine}: router replies: 404 no route, direct_response, 503 cluster_header naming nothing, 503 no healthy upstream, 504 timeout`, { timeout: 60_000 }, async (t) => {
    const gw = await gatewayOn(
      engine,
      t,
      ["A"],
      [
        { match: { path: "/direct" }, direct_response: { status: 202, body: { inline_string: "accepted" } } },
        { match: { prefix: "/by-header" }, route: { cluster_header: "x-cluster" } },
        { match: { prefix: "/empty" }, route: { cluster: "empty" } },
        { match: { prefix: "/slow" }, route: { cluster: "stable", timeout: "0.2s" } },
        { match: { prefix: "/added" }, route: { cluster: "stable" }, request_headers_to_add: [{ header: { key: "x-added", value: "yes" } }, { header: { key: "x-order", value: "R" }, append_action: "OVERWRITE_IF_EXISTS_OR_ADD" }] },
      ],
    );
    if (!gw) return;
    try {
      const port = gw.port;
      const none = await send(port, "/nothing");
      assert.equal(none.status, 404);
      assert.equal(none.body, "");
      assert.equal(none.headers["x-order-resp"], "A", "router replies run through the encoder chain");
      const direct = await send(port, "/direct");
      assert.deepEqual([direct.status, direct.body, direct.headers["content-type"]], [202, "accepted", "text/plain"]);
      assert.equal(upstreamView(await send(port, "/by-header", { headers: { "x-cluster": "canary" } })).upstream, "canary");
      const unknown = await send(port, "/by-header", { headers: { "x-cluster": "nope" } });
      assert.deepEqual([unknown.status, unknown.body], [503, ""]);
      const empty = await send(port, "/empty");
      assert.deepEqual([empty.status, empty.body], [503, "no healthy upstream"]);
      const slow = await send(port, "/slow?delay_ms=3000");
      assert.deepEqual([slow.status, slow.body], [504, "upstream request timeout"]);
      const added = upstreamView(await send(port, "/added"));
      assert.equal(joined(added.headers["x-added"]), "yes");
      assert.equal(joined(added.headers["x-order"]), "R", "route headers are applied by the router, after the filters");
      assert.equal(joined(added.headers["x-envoy-expected-rq-timeout-ms"]), "15000");
    } finally {
      await gw.close();
    }
  });
}

for (const engine of ENGINES) {
  test(`${engine}: bodies: a 1 MiB request body reaches the upstream intact and its echo comes back whole`, { timeout: 60_000 }, async (t) => {
    const gw = await gatewayOn(engine, t, ["A"]);
    if (!gw) return;
    try {
      const big = Buffer.alloc(1 << 20, "abcdefghij");
      const r = await send(gw.port, "/upload", { method: "POST", body: big, headers: { "content-type": "application/octet-stream" } });
      assert.equal(r.status, 200);
      const v = upstreamView(r);
      assert.equal(v.body.length, big.length);
      assert.equal(v.body, big.toString());
      assert.equal(Number(r.headers["content-length"]), Buffer.byteLength(r.body));
    } finally {
      await gw.close();
    }
  });
}

for (const engine of ENGINES) {
  test(`${engine}: proxy_http_call goes to the named cluster; one without hosts and an unknown one are refused, as Envoy does`, { timeout: 60_000 }, async (t) => {
    const down = await gatewayOn(engine, t, ["A,callout=empty"]);
    if (!down) return;
    try {
      assert.equal(joined(upstreamView(await send(down.port, "/")).headers["x-callout-status"]), "refused", "no host: Envoy's async client fails the call inline");
    } finally {
      await down.close();
    }
    const up = await gatewayOn(engine, t, ["A,callout=canary"]);
    if (!up) return;
    try {
      const r = await send(up.port, "/with-callout");
      assert.equal(upstreamView(r).upstream, "stable");
      assert.equal(joined(upstreamView(r).headers["x-callout-status"]), "200");
    } finally {
      await up.close();
    }
    const unknown = await gatewayOn(engine, t, ["A,callout=nope"]);
    if (!unknown) return;
    try {
      assert.equal(joined(upstreamView(await send(unknown.port, "/")).headers["x-callout-status"]), "refused");
    } finally {
      await unknown.close();
    }
  });
}

for (const engine of ENGINES) {
  test(`${engine}: HEAD and 204: no body, HEAD keeps the upstream's content-length`, { timeout: 60_000 }, async (t) => {
    const gw = await gatewayOn(engine, t, ["A"]);
    if (!gw) return;
    try {
      const port = gw.port;
      const head = await send(port, "/h", { method: "HEAD" });
      assert.equal(head.status, 200);
      assert.equal(head.body, "");
      assert.ok(Number(head.headers["content-length"]) > 0, JSON.stringify(head.headers));
      const none = await send(port, "/n?status=204");
      assert.deepEqual([none.status, none.body], [204, ""]);
      const after = await send(port, "/after");
      assert.equal(after.status, 200, "the connection stays usable");
    } finally {
      await gw.close();
    }
  });
}

test("response bodies stream: the client gets the first chunk before the upstream finishes", async () => {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const upstream = createHttpServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/plain" });
    res.write("first;");
    void released.then(() => res.end("second"));
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
  streamerPort = (upstream.address() as { port: number }).port;
  const gw = await gateway(["A"], [{ match: { prefix: "/" }, route: { cluster: "streamer" } }]);
  try {
    const body = await new Promise<string>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port: gw.listeners[0].port, path: "/stream" }, (res) => {
        assert.equal(res.headers["x-order-resp"], "A");
        let got = "";
        res.on("data", (c: Buffer) => {
          got += c.toString();
          // Only a streaming gateway delivers this before the upstream is told to finish.
          if (got === "first;") release();
        });
        res.on("end", () => resolve(got));
      });
      req.setTimeout(5000, () => req.destroy(new Error("no streaming: the first chunk never arrived before the upstream finished")));
      req.on("error", reject);
      req.end();
    });
    assert.equal(body, "first;second");
  } finally {
    release();
    await gw.close();
    upstream.closeAllConnections();
    await new Promise<void>((r) => upstream.close(() => r()));
  }
});

test("a plugin refusing its configuration stops start-up with the plugin's own log line", async () => {
  await assert.rejects(gateway(["A", "B,fail"]), (e: unknown) => {
    assert.ok(e instanceof PluginStartError, String(e));
    assert.match(e.message, /http_filters\[1\]\.typed_config: plugin 'probe-B' .* failed to configure: .*'fail' is set: probe B refuses this configuration/);
    return true;
  });
});

function up(doc: object): { status: number | null; stdout: string; stderr: string } {
  const file = join(tmp, `up-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, stringify(doc));
  const r = spawnSync(process.execPath, ["--import", "tsx", join(repoRoot(), "tools/cli/main.ts"), "up", file, "--engine", "embedded"], { cwd: repoRoot(), encoding: "utf8", timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("tollgate up: a configure failure prints the plugin's log line, not a stack trace", () => {
  const r = up(bootstrap(["A,fail"]));
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stdout.split("\n")[0], /^engine: embedded — requested with --engine embedded$/);
  assert.match(r.stderr, /failed to configure: .*'fail' is set: probe A refuses this configuration/);
  assert.ok(!/\n\s+at /.test(r.stderr), r.stderr);
});

test("tollgate up: an unsupported field is rejected with its YAML path and the --engine envoy hint", () => {
  const doc = bootstrap([]) as { static_resources: { clusters: Array<Record<string, unknown>> } };
  doc.static_resources.clusters[0].lb_policy = "RING_HASH";
  const r = up(doc);
  assert.equal(r.status, 1);
  assert.ok(r.stderr.includes(`static_resources.clusters[0].lb_policy: lb_policy RING_HASH is ${UNSUPPORTED}`), r.stderr);
  assert.ok(!/\n\s+at /.test(r.stderr), r.stderr);
});
