// Global (cluster-wide) rate limits, black-box: the rate-limit plugin's `scope: "global"` rules on Envoy's
// rate limit service (envoyproxy/ratelimit on Redis, started by test/helpers/ratelimit-service.ts with the
// config `tollgate gen ratelimit-config` writes). Two gateways in front of one service enforce one limit
// exactly: two real Envoys, and one Envoy + one embedded engine, from the same bootstrap. With the service
// stopped mid-run, each engine fails open (or closed with failure_mode_deny), without a trap, counted in the
// plugin's metrics and logged once, not per request.
import assert from "node:assert/strict";
import { request } from "node:http";
import { createServer as createHttp2Server, type Http2Server, type ServerHttp2Stream } from "node:http2";
import { describe, test, type TestContext } from "node:test";
import { startEcho, type EchoServer } from "../../tools/demo/echo.ts";
import { serviceConfigYaml } from "../../tools/ratelimit/config.ts";
import { bootstrapDoc, pluginFilter } from "../helpers/bootstrap.ts";
import { ENGINES, startEngine, type Engine, type EngineHandle } from "../helpers/engines.ts";
import { requireEnvoy } from "../helpers/envoy.ts";
import { compiledPlugin } from "../helpers/plugins.ts";
import { startRateLimitService, type RateLimitService } from "../helpers/ratelimit-service.ts";

const N = 5;
const DOMAIN = "tollgate-test";

function pluginConfig(opts: { deny?: boolean; shadow?: boolean } = {}): object {
  return {
    rls: { cluster: "rls", domain: DOMAIN, timeout_ms: 1000, failure_mode_deny: opts.deny ?? false },
    ...(opts.shadow ? { shadow: true } : {}),
    rules: [
      { name: "fleet", scope: "global", key: { global: {} }, limit: { requests: N, per: "hour" } },
      // Per API key across the fleet: a counter per value in the service.
      { name: "per-key", scope: "global", key: { header: "x-api-key" }, limit: { requests: 2, per: "hour" } },
      // A local rule beside it that never denies here: the local check runs first and must not consume on a global 429.
      { name: "local-roomy", key: { global: {} }, limit: { requests: 1000, per: "hour" } },
    ],
  };
}

/** The service's gRPC cluster, as `tollgate gen envoy` writes it (HTTP/2 to the service). */
function rlsCluster(port: number): object {
  return {
    name: "rls",
    type: "STATIC",
    connect_timeout: "1s",
    lb_policy: "ROUND_ROBIN",
    typed_extension_protocol_options: {
      "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
        "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
        explicit_http_config: { http2_protocol_options: {} },
      },
    },
    load_assignment: { cluster_name: "rls", endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: port } } } }] }] },
  };
}

function bootstrap(config: object, upstream: number, rlsPort: number): object {
  const doc = bootstrapDoc({ name: "l", filters: [pluginFilter("rate-limit", config)] }, { upstream }) as { static_resources: { clusters: object[] } };
  doc.static_resources.clusters.push(rlsCluster(rlsPort));
  return doc;
}

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; body: string }

function get(port: number, path = "/", headers: Record<string, string> = {}, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers, agent: false, timeout: 15_000, method: body === undefined ? "GET" : "POST" }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${path}: timeout`)));
    req.on("error", reject);
    req.end(body);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The service counts hour windows aligned to the clock: never start a count in an hour's last 20 s. */
async function awayFromHourEnd(): Promise<void> {
  const left = 3_600_000 - (Date.now() % 3_600_000);
  if (left < 20_000) await sleep(left + 500);
}

/** The seconds left in the current hour window, as the service reports them (bounds for x-ratelimit-reset). */
const secondsToHourEnd = () => Math.ceil((3_600_000 - (Date.now() % 3_600_000)) / 1000);

/** A wasm custom counter in /stats, by the name the plugin defined (Envoy lists it under wasmcustom.). */
async function pluginCounter(h: EngineHandle, name: string): Promise<number> {
  const stats = await h.stats();
  return Number(stats.get(`wasmcustom.${name}`) ?? stats.get(name) ?? 0);
}

interface Setup {
  service: RateLimitService;
  echo: EchoServer;
  gateways: EngineHandle[];
}

/** The service with the plugin config's generated config, an echo upstream, and one gateway per engine in `engines`. */
async function setup(t: TestContext, engines: Engine[], config: object): Promise<Setup | null> {
  const envoy = engines.includes("envoy") ? requireEnvoy(t) : null;
  if (engines.includes("envoy") && !envoy) return null;
  const service = await startRateLimitService(t, { config: serviceConfigYaml(config) });
  if (!service) return null;
  const echo = await startEcho({ name: "upstream" });
  const gateways: EngineHandle[] = [];
  t.after(async () => {
    for (const g of gateways) await g.stop();
    await echo.close();
    await service.stop();
  });
  await compiledPlugin("rate-limit", "release");
  const doc = bootstrap(config, echo.port, service.grpcPort);
  for (const e of engines) gateways.push(await startEngine(e, doc, envoy));
  return { service, echo, gateways };
}

function header(r: Reply, name: string): string | undefined {
  const v = r.headers[name];
  return Array.isArray(v) ? v.join(",") : v;
}

/** 3N requests over the gateways in turn: exactly N pass, in order, and every reply carries the global limit's headers. */
async function oneLimitAcross(gateways: EngineHandle[]): Promise<void> {
  await awayFromHourEnd();
  const replies: Reply[] = [];
  for (let i = 0; i < 3 * N; i++) replies.push(await get(gateways[i % gateways.length].port("l")));
  const where = (i: number) => `request ${i} (${gateways[i % gateways.length].engine}): ${replies[i].status} ${JSON.stringify(replies[i].headers)} ${replies[i].body}`;
  const hourLeft = secondsToHourEnd();
  for (let i = 0; i < 3 * N; i++) {
    const r = replies[i];
    assert.equal(r.status, i < N ? 200 : 429, where(i));
    assert.equal(header(r, "x-ratelimit-limit"), String(N), where(i));
    // The count is the fleet's, not the gateway's: remaining goes N-1 … 0 across both.
    assert.equal(header(r, "x-ratelimit-remaining"), String(Math.max(0, N - 1 - i)), where(i));
    const reset = Number(header(r, "x-ratelimit-reset"));
    assert.ok(reset >= 1 && reset <= hourLeft + 2, `${where(i)}: reset ${reset} within the hour window (${hourLeft} s left)`);
    if (i >= N) {
      assert.equal(header(r, "retry-after"), String(reset), where(i));
      assert.equal(r.body, "Too Many Requests", where(i));
    }
  }
  // Concurrently now, on a fresh window for a second key is not needed: every further request is over the limit.
  const more = await Promise.all(Array.from({ length: 2 * N }, (_, i) => get(gateways[i % gateways.length].port("l"))));
  assert.deepEqual(more.map((r) => r.status), Array(2 * N).fill(429));
}

describe("global rate limit: one limit across gateways", () => {
  test("two real Envoys in front of one service: exactly N pass, the rest 429 with the fleet's headers", async (t) => {
    const s = await setup(t, ["envoy", "envoy"], pluginConfig());
    if (!s) return;
    await oneLimitAcross(s.gateways);
    for (const g of s.gateways) {
      assert.equal(g.logs().filter((l) => /failed|abort|panic/i.test(l)).length, 0, `${g.engine}: ${g.logs().join("\n")}`);
    }
  });

  test("one Envoy + one embedded engine in front of one service: exactly N pass, the rest 429", async (t) => {
    const s = await setup(t, ["envoy", "embedded"], pluginConfig());
    if (!s) return;
    await oneLimitAcross(s.gateways);
  });

  test("concurrent requests through both engines: exactly N of 4N pass", async (t) => {
    const s = await setup(t, ["envoy", "embedded"], pluginConfig());
    if (!s) return;
    await awayFromHourEnd();
    const replies = await Promise.all(Array.from({ length: 4 * N }, (_, i) => get(s.gateways[i % 2].port("l"))));
    assert.equal(replies.filter((r) => r.status === 200).length, N, JSON.stringify(replies.map((r) => r.status)));
    assert.equal(replies.filter((r) => r.status === 429).length, 3 * N);
  });

  test("a per-key global rule counts each key across both engines; POST bodies wait for the answer and arrive whole", async (t) => {
    const s = await setup(t, ["envoy", "embedded"], pluginConfig());
    if (!s) return;
    await awayFromHourEnd();
    const [envoy, embedded] = s.gateways;
    const body = "x".repeat(100_000);
    const a1 = await get(envoy.port("l"), "/upload", { "x-api-key": "alice" }, body);
    const a2 = await get(embedded.port("l"), "/upload", { "x-api-key": "alice" }, body);
    for (const r of [a1, a2]) {
      assert.equal(r.status, 200, r.body.slice(0, 200));
      assert.equal((JSON.parse(r.body) as { body: string }).body.length, body.length, "the upstream got the whole body");
    }
    // The tightest rule is reported: alice has 0 left of 2 after her second request.
    assert.equal(header(a2, "x-ratelimit-limit"), "2");
    assert.equal(header(a2, "x-ratelimit-remaining"), "0");
    const a3 = await get(envoy.port("l"), "/", { "x-api-key": "alice" });
    assert.equal(a3.status, 429);
    assert.equal(header(a3, "x-ratelimit-limit"), "2");
    // bob has his own counter. The service counts every descriptor of a call, also of one it refuses: the
    // fleet counter is at 4 of N = 5 after alice's three and bob's first, so both report 1 left.
    const b1 = await get(embedded.port("l"), "/", { "x-api-key": "bob" });
    assert.equal(b1.status, 200);
    assert.equal(header(b1, "x-ratelimit-remaining"), "1");
    const b2 = await get(envoy.port("l"), "/", { "x-api-key": "bob" });
    assert.equal(b2.status, 200, "bob's second: his counter allows it, and the fleet's last unit");
    assert.equal(header(b2, "x-ratelimit-remaining"), "0");
    assert.equal((await get(embedded.port("l"), "/", { "x-api-key": "carol" })).status, 429, "the fleet limit is spent for everyone");
  });
});

for (const engine of ENGINES) {
  describe(`global rate limit on ${engine}: the service down mid-run`, () => {
    test("fails open: requests pass, counted, logged once; enforced again when it is back", async (t) => {
      const s = await setup(t, [engine], pluginConfig());
      if (!s) return;
      const [g] = s.gateways;
      await awayFromHourEnd();
      for (let i = 0; i < 2; i++) assert.equal((await get(g.port("l"))).status, 200);
      await s.service.stopService();
      const down: number[] = [];
      for (let i = 0; i < 3 * N; i++) down.push((await get(g.port("l"))).status);
      assert.deepEqual(down, Array(3 * N).fill(200), "fail open while the service is down");
      assert.equal(await pluginCounter(g, "tollgate.outcome=.=failed;.;rate_limit_rls_calls_total"), 3 * N, "each failed call is counted");
      assert.equal(await pluginCounter(g, "tollgate.rate_limit_rls_failure_mode_denied_total"), 0);
      const logged = g.logs().filter((l) => l.includes("rate limit service"));
      assert.equal(logged.length, 1, `logged once, not per request:\n${logged.join("\n")}`);
      assert.equal(g.logs().filter((l) => /proxy_on_|abort|unreachable/.test(l)).length, 0, `no trap:\n${g.logs().join("\n")}`);
      await s.service.startService();
      // Two passed before the outage; the service counts them, so N-2 more pass.
      const back: number[] = [];
      for (let i = 0; i < N; i++) back.push((await get(g.port("l"))).status);
      assert.deepEqual(back, [...Array(N - 2).fill(200), 429, 429]);
    });

    test("failure_mode_deny: requests are refused (500) while it is down, counted", async (t) => {
      const s = await setup(t, [engine], pluginConfig({ deny: true }));
      if (!s) return;
      const [g] = s.gateways;
      await awayFromHourEnd();
      assert.equal((await get(g.port("l"))).status, 200);
      await s.service.stopService();
      for (let i = 0; i < 4; i++) {
        const r = await get(g.port("l"));
        assert.equal(r.status, 500, JSON.stringify(r));
      }
      assert.equal(await pluginCounter(g, "tollgate.outcome=.=failed;.;rate_limit_rls_calls_total"), 4);
      assert.equal(await pluginCounter(g, "tollgate.rate_limit_rls_failure_mode_denied_total"), 4);
      assert.equal(g.logs().filter((l) => l.includes("rate limit service")).length, 1);
    });

    test("shadow mode: over the limit and with the service down (failure_mode_deny), nothing is refused; the upstream sees the verdict", async (t) => {
      const s = await setup(t, [engine], pluginConfig({ shadow: true, deny: true }));
      if (!s) return;
      const [g] = s.gateways;
      await awayFromHourEnd();
      const seen: Array<string | undefined> = [];
      for (let i = 0; i < N + 2; i++) {
        const r = await get(g.port("l"), "/", { "x-ratelimit-shadow": "client-sent" });
        assert.equal(r.status, 200, r.body);
        const shadow = (JSON.parse(r.body) as { headers: Record<string, string> }).headers["x-ratelimit-shadow"];
        seen.push(shadow);
      }
      assert.deepEqual(seen, [...Array(N).fill(undefined), "fleet", "fleet"]);
      assert.equal(await pluginCounter(g, "tollgate.outcome=.=shadow_rejected;.;rule=.=fleet;.;rate_limit_requests_total"), 2);
      await s.service.stopService();
      assert.equal((await get(g.port("l"))).status, 200);
      assert.equal(await pluginCounter(g, "tollgate.outcome=.=failed;.;rate_limit_rls_calls_total"), 1);
      assert.equal(await pluginCounter(g, "tollgate.rate_limit_rls_failure_mode_denied_total"), 0);
    });
  });
}

/** A gRPC endpoint that takes calls and never answers (an overloaded or wedged service). */
async function silentService(): Promise<{ port: number; calls: () => number; close: () => Promise<void> }> {
  const streams: ServerHttp2Stream[] = [];
  const server: Http2Server = createHttp2Server();
  server.on("stream", (stream) => {
    streams.push(stream);
    stream.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as { port: number }).port,
    calls: () => streams.length,
    close: async () => {
      for (const st of streams) st.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

for (const engine of ENGINES) {
  test(`global rate limit on ${engine}: a service that does not answer — each request waits rls.timeout_ms, then passes (or 500 with failure_mode_deny)`, async (t) => {
    const envoy = engine === "envoy" ? requireEnvoy(t) : null;
    if (engine === "envoy" && !envoy) return;
    await compiledPlugin("rate-limit", "release");
    const silent = await silentService();
    const echo = await startEcho({ name: "upstream" });
    const gateways: EngineHandle[] = [];
    t.after(async () => {
      for (const g of gateways) await g.stop();
      await echo.close();
      await silent.close();
    });
    for (const deny of [false, true]) {
      const config = {
        rls: { cluster: "rls", domain: DOMAIN, timeout_ms: 300, failure_mode_deny: deny },
        rules: [{ name: "fleet", scope: "global", key: { global: {} }, limit: { requests: N, per: "hour" } }],
      };
      const g = await startEngine(engine, bootstrap(config, echo.port, silent.port), envoy);
      gateways.push(g);
      const before = silent.calls();
      for (let i = 0; i < 3; i++) {
        const t0 = Date.now();
        const r = await get(g.port("l"));
        const took = Date.now() - t0;
        assert.equal(r.status, deny ? 500 : 200, `deny ${deny}: ${r.status} ${r.body}`);
        assert.ok(took >= 250 && took < 5_000, `deny ${deny}: answered after ${took} ms (timeout 300 ms)`);
      }
      assert.equal(silent.calls() - before, 3, "each request made one call");
      assert.equal(await pluginCounter(g, "tollgate.outcome=.=failed;.;rate_limit_rls_calls_total"), 3);
      assert.equal(await pluginCounter(g, "tollgate.rate_limit_rls_failure_mode_denied_total"), deny ? 3 : 0);
      const logged = g.logs().filter((l) => l.includes("rate limit service call failed"));
      assert.equal(logged.length, 1, logged.join("\n"));
    }
  });
}
