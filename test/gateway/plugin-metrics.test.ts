// The plugins' metrics, black-box on both engines from one bootstrap (issue 22): cors, auth, rate-limit and canary
// in one chain in front of an echo upstream get a fixed sequence of requests on the embedded engine and on Envoy 1.40. The
// bootstrap carries the stats_config tollgate documents (tools/plugins/metrics.ts: one regex tag extractor per label, and
// the stats matcher Istio renders from `gen wasmplugin --stats-inclusion`'s proxyStatsMatcher), so it also
// proves that the inclusion prefix keeps every plugin metric and that the extraStatTags label them. Checked on each engine: /stats has the expected
// `wasmcustom.tollgate.…` counters with the expected values; /stats/prometheus has them as
// `tollgate_<name>{<labels>}`; and both engines' expositions are the same, series for series (the differential
// check). The dashboard gen dashboard writes queries only names the engines export. And a real Prometheus
// (Debian's package) scraping both admins returns the labelled series: the dashboard's queries work on it.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { request } from "node:http";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { startEcho } from "../../tools/demo/echo.ts";
import { dashboard } from "../../tools/cli/gen/dashboard.ts";
import { PLUGIN_METRICS, STATS_INCLUSION_PREFIX, statsTags } from "../../tools/plugins/metrics.ts";
import { statsInclusionOperator } from "../../tools/cli/gen/wasmplugin.ts";
import { bootstrapDoc, pluginFilter } from "../helpers/bootstrap.ts";
import { startPrometheus } from "../helpers/prometheus.ts";
import { startEngine, type EngineHandle } from "../helpers/engines.ts";
import { requireEnvoy } from "../helpers/envoy.ts";
import { compiledPlugin } from "../helpers/plugins.ts";
import { requireTool } from "../helpers/tools.ts";

/** The plugins of the chain, in order. */
const PLUGINS = ["cors", "auth", "rate-limit", "canary"];
const APP = "https://app.example.com";
const EVIL = "https://evil.example.net";

const corsConfig = { allow_origins: [APP], allow_methods: ["GET", "POST"], allow_headers: ["x-token"] };

// auth on host secure.example.com only: alice (key) and carol (JWT) may pass, bob (Basic) may not; then the
// authorization service (the echo upstream: always 200) has the last word.
const SECURE = "secure.example.com";
const SECRET = Buffer.from("tollgate-metrics-test-secret-32b");
const ISSUER = "https://issuer.test";
const authConfig = {
  consumers: [
    { name: "alice", keys: ["alice-key"] },
    { name: "bob", basic: ["bob:{SHA256}31PCemYVeIW6FD408l1jgOEhaLD32k8MRu+lTNmgg7c="] },
    { name: "carol", jwt: { issuer: ISSUER, jwks: { keys: [{ kty: "oct", kid: "k1", alg: "HS256", k: SECRET.toString("base64url") }] } } },
  ],
  key_auth: { keys: ["x-api-key"] },
  basic_auth: {},
  jwt_auth: {},
  ext_auth: { cluster: "stable", failure_mode_allow: true },
  global_auth: false,
  _rules_: [{ _match_domain_: [SECURE], allow: ["alice", "carol"] }],
};
function jwt(expOffsetS: number): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const input = `${b64({ alg: "HS256", kid: "k1", typ: "JWT" })}.${b64({ iss: ISSUER, sub: "carol", exp: Math.floor(Date.now() / 1000) + expOffsetS })}`;
  return `${input}.${createHmac("sha256", SECRET).update(input).digest("base64url")}`;
}
const CAROL = jwt(3600);

// rate-limit: 2 requests per hour per x-client-id (requests without it are not limited).
const rateLimitConfig = { rules: [{ name: "per-client", key: { header: "x-client-id" }, limit: { requests: 2, per: "hour" } }] };
const EXPIRED = jwt(-3600);
// v2 has weight 0, so every weighted decision (draw, sticky, pin) lands on default_tag v1 and the counts are
// deterministic; route "plain" trusts a client's tag and otherwise defaults to v1.
const canaryConfig = {
  override_header: "x-canary",
  canary_tag: "v2",
  stable_tag: "v1",
  rules: [{ match: { all: [{ type: "header", key: "x-beta", op: "equal", value: "1" }] }, tag: "v2" }],
  weights: [{ tag: "v2", weight: 0 }],
  default_tag: "v1",
  sticky_by: { header: "x-user" },
  pin_cookie: "canary_pin",
  _rules_: [{ _match_route_: ["plain"], default_tag: "v1", trust_client_tag: true }],
};

interface Req {
  path: string;
  method?: string;
  headers?: Record<string, string>;
  status: number;
}
const preflight = (origin: string, method: string, extra: Record<string, string> = {}): Req => ({
  path: "/plain",
  method: "OPTIONS",
  headers: { origin, "access-control-request-method": method, ...extra },
  status: 204,
});
const TRAFFIC: Req[] = [
  // cors (on route "plain": canary then keeps no client tag and writes default v1)
  preflight(APP, "GET"),
  preflight(EVIL, "GET"),
  preflight(APP, "DELETE"),
  preflight(APP, "GET", { "access-control-request-headers": "x-other" }),
  { path: "/plain", headers: { origin: APP }, status: 200 },
  { path: "/plain", headers: { origin: APP }, status: 200 },
  { path: "/plain", headers: { origin: EVIL }, status: 200 },
  // canary
  { path: "/", headers: { "x-canary": "always" }, status: 200 },
  { path: "/", headers: { "x-canary": "never" }, status: 200 },
  { path: "/", headers: { "x-beta": "1" }, status: 200 },
  { path: "/", headers: { "x-user": "alice" }, status: 200 },
  { path: "/", headers: { cookie: "canary_pin=v1" }, status: 200 },
  { path: "/", status: 200 },
  { path: "/", status: 200 },
  { path: "/plain", headers: { "x-canary-version": "v9" }, status: 200 },
  { path: "/plain", status: 200 },
  // auth (on route "plain": the requests it passes get canary's default v1)
  { path: "/plain", headers: { host: SECURE }, status: 401 },
  { path: "/plain", headers: { host: SECURE, "x-api-key": "wrong" }, status: 401 },
  { path: "/plain", headers: { host: SECURE, "x-api-key": "alice-key" }, status: 200 },
  { path: "/plain", headers: { host: SECURE, authorization: `Basic ${Buffer.from("bob:bob-password").toString("base64")}` }, status: 403 },
  { path: "/plain", headers: { host: SECURE, authorization: `Bearer ${CAROL}` }, status: 200 },
  { path: "/plain", headers: { host: SECURE, authorization: `Bearer ${CAROL}` }, status: 200 },
  { path: "/plain", headers: { host: SECURE, authorization: `Bearer ${EXPIRED}` }, status: 401 },
  // rate-limit (on route "plain": the two it passes get canary's default v1)
  { path: "/plain", headers: { "x-client-id": "c1" }, status: 200 },
  { path: "/plain", headers: { "x-client-id": "c1" }, status: 200 },
  { path: "/plain", headers: { "x-client-id": "c1" }, status: 429 },
];

/** /stats names (as both engines print them) → the value after TRAFFIC. */
const EXPECTED_STATS: Record<string, number> = {
  "wasmcustom.tollgate.outcome=.=answered;.;cors_preflights_total": 1,
  "wasmcustom.tollgate.outcome=.=refused;.;reason=.=origin_not_allowed;.;cors_preflights_total": 1,
  "wasmcustom.tollgate.outcome=.=refused;.;reason=.=method_not_allowed;.;cors_preflights_total": 1,
  "wasmcustom.tollgate.outcome=.=refused;.;reason=.=headers_not_allowed;.;cors_preflights_total": 1,
  "wasmcustom.tollgate.outcome=.=allowed;.;cors_requests_total": 2,
  "wasmcustom.tollgate.outcome=.=refused;.;reason=.=origin_not_allowed;.;cors_requests_total": 1,
  "wasmcustom.tollgate.canary_tag=.=v2;.;reason=.=override;.;canary_decisions_total": 1,
  "wasmcustom.tollgate.canary_tag=.=v1;.;reason=.=override;.;canary_decisions_total": 1,
  "wasmcustom.tollgate.canary_tag=.=v2;.;reason=.=rule;.;canary_decisions_total": 1,
  "wasmcustom.tollgate.canary_tag=.=v1;.;reason=.=sticky;.;canary_decisions_total": 1,
  "wasmcustom.tollgate.canary_tag=.=v1;.;reason=.=pin;.;canary_decisions_total": 1,
  "wasmcustom.tollgate.canary_tag=.=v1;.;reason=.=draw;.;canary_decisions_total": 2,
  // No draw, sticky or pin series for v2: a tag of weight 0 can never be picked.
  "wasmcustom.tollgate.reason=.=client;.;canary_decisions_total": 1,
  // 3 cors actual requests + 1 plain request + 3 that auth passed + 2 that rate-limit passed
  "wasmcustom.tollgate.canary_tag=.=v1;.;reason=.=default;.;canary_decisions_total": 9,
  "wasmcustom.tollgate.outcome=.=allowed;.;rule=.=per-client;.;rate_limit_requests_total": 2,
  "wasmcustom.tollgate.outcome=.=rejected;.;rule=.=per-client;.;rate_limit_requests_total": 1,
  "wasmcustom.tollgate.outcome=.=shadow_rejected;.;rule=.=per-client;.;rate_limit_requests_total": 0,
  "wasmcustom.tollgate.rule=.=per-client;.;rate_limit_cas_exhausted_total": 0,
  "wasmcustom.tollgate.rule=.=per-client;.;rate_limit_evictions_total": 0,
  "wasmcustom.tollgate.consumer=.=alice;.;auth_allowed_total": 1,
  "wasmcustom.tollgate.consumer=.=bob;.;auth_allowed_total": 0,
  "wasmcustom.tollgate.consumer=.=carol;.;auth_allowed_total": 2,
  "wasmcustom.tollgate.reason=.=no_credential;.;auth_denied_total": 1,
  "wasmcustom.tollgate.reason=.=bad_credential;.;auth_denied_total": 1,
  "wasmcustom.tollgate.reason=.=expired;.;auth_denied_total": 1,
  "wasmcustom.tollgate.reason=.=not_allowed;.;auth_denied_total": 1,
  "wasmcustom.tollgate.reason=.=jwks_unavailable;.;auth_denied_total": 0,
  "wasmcustom.tollgate.reason=.=ext_denied;.;auth_denied_total": 0,
  "wasmcustom.tollgate.reason=.=ext_error;.;auth_denied_total": 0,
  "wasmcustom.tollgate.outcome=.=hit;.;auth_jwt_cache_lookups_total": 1,
  "wasmcustom.tollgate.outcome=.=miss;.;auth_jwt_cache_lookups_total": 2,
  "wasmcustom.tollgate.auth_ext_failure_mode_allowed_total": 0,
};

/** The same counters in /stats/prometheus (labels in the extractors' order: outcome, reason, rule, consumer, canary_tag). */
const EXPECTED_SERIES: Record<string, number> = {
  'tollgate_cors_preflights_total{outcome="answered"}': 1,
  'tollgate_cors_preflights_total{outcome="refused",reason="origin_not_allowed"}': 1,
  'tollgate_cors_preflights_total{outcome="refused",reason="method_not_allowed"}': 1,
  'tollgate_cors_preflights_total{outcome="refused",reason="headers_not_allowed"}': 1,
  'tollgate_cors_requests_total{outcome="allowed"}': 2,
  'tollgate_cors_requests_total{outcome="refused",reason="origin_not_allowed"}': 1,
  'tollgate_canary_decisions_total{reason="override",canary_tag="v2"}': 1,
  'tollgate_canary_decisions_total{reason="override",canary_tag="v1"}': 1,
  'tollgate_canary_decisions_total{reason="rule",canary_tag="v2"}': 1,
  'tollgate_canary_decisions_total{reason="sticky",canary_tag="v1"}': 1,
  'tollgate_canary_decisions_total{reason="pin",canary_tag="v1"}': 1,
  'tollgate_canary_decisions_total{reason="draw",canary_tag="v1"}': 2,
  'tollgate_canary_decisions_total{reason="client"}': 1,
  'tollgate_canary_decisions_total{reason="default",canary_tag="v1"}': 9,
  'tollgate_rate_limit_requests_total{outcome="allowed",rule="per-client"}': 2,
  'tollgate_rate_limit_requests_total{outcome="rejected",rule="per-client"}': 1,
  'tollgate_rate_limit_requests_total{outcome="shadow_rejected",rule="per-client"}': 0,
  'tollgate_rate_limit_cas_exhausted_total{rule="per-client"}': 0,
  'tollgate_rate_limit_evictions_total{rule="per-client"}': 0,
  'tollgate_auth_allowed_total{consumer="alice"}': 1,
  'tollgate_auth_allowed_total{consumer="bob"}': 0,
  'tollgate_auth_allowed_total{consumer="carol"}': 2,
  'tollgate_auth_denied_total{reason="no_credential"}': 1,
  'tollgate_auth_denied_total{reason="bad_credential"}': 1,
  'tollgate_auth_denied_total{reason="expired"}': 1,
  'tollgate_auth_denied_total{reason="not_allowed"}': 1,
  'tollgate_auth_denied_total{reason="jwks_unavailable"}': 0,
  'tollgate_auth_denied_total{reason="ext_denied"}': 0,
  'tollgate_auth_denied_total{reason="ext_error"}': 0,
  'tollgate_auth_jwt_cache_lookups_total{outcome="hit"}': 1,
  'tollgate_auth_jwt_cache_lookups_total{outcome="miss"}': 2,
  'tollgate_auth_ext_failure_mode_allowed_total{}': 0,
};

function send(port: number, r: Req): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: r.path, method: r.method ?? "GET", headers: r.headers ?? {}, agent: false, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on("timeout", () => req.destroy(new Error(`${r.method ?? "GET"} ${r.path}: timeout`)));
    req.on("error", reject);
    req.end();
  });
}

/** `name{labels}` → value for every series of the exposition text (comments skipped). */
function series(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const i = line.lastIndexOf(" ");
    out.set(line.slice(0, i), line.slice(i + 1));
  }
  return out;
}

function bootstrap(echoPort: number): object {
  const doc = bootstrapDoc(
    {
      name: "m",
      filters: [pluginFilter("cors", corsConfig), pluginFilter("auth", authConfig), pluginFilter("rate-limit", rateLimitConfig), pluginFilter("canary", canaryConfig)],
      routes: [
        { name: "plain", match: { prefix: "/plain" }, route: { cluster: "stable" } },
        { name: "r1", match: { prefix: "/" }, route: { cluster: "stable" } },
      ],
    },
    { stable: echoPort },
  );
  return { ...doc, stats_config: istioStatsConfig() };
}

/**
 * The stats_config an Istio proxy's bootstrap gets from `gen wasmplugin --stats-inclusion`'s ProxyConfig, as
 * Istio's bootstrap template renders it (tools/packaging/common/envoy_bootstrap.json): one extractor
 * `(<tag>=\.=(.*?);\.;)` per extraStatTags entry, one inclusion prefix per proxyStatsMatcher.inclusionPrefixes.
 */
function istioStatsConfig(): object {
  const dc = statsInclusionOperator().spec as { meshConfig: { defaultConfig: { extraStatTags: string[]; proxyStatsMatcher: { inclusionPrefixes: string[] } } } };
  const { extraStatTags, proxyStatsMatcher } = dc.meshConfig.defaultConfig;
  const stats_tags = extraStatTags.map((tag) => ({ tag_name: tag, regex: `(${tag}=\\.=(.*?);\\.;)` }));
  // tollgate's own bootstrap extractors (gen envoy) are the same.
  assert.deepEqual(stats_tags, statsTags());
  return { stats_tags, stats_matcher: { inclusion_list: { patterns: proxyStatsMatcher.inclusionPrefixes.map((prefix) => ({ prefix })) } } };
}

async function withEngines(t: TestContext, fn: (handles: EngineHandle[]) => Promise<void>): Promise<void> {
  const envoyBin = requireEnvoy(t);
  if (!envoyBin) return;
  await compiledPlugin("cors", "release");
  await compiledPlugin("canary", "release");
  await compiledPlugin("auth", "release");
  await compiledPlugin("rate-limit", "release");
  const echo = await startEcho({ name: "stable" });
  const handles: EngineHandle[] = [];
  try {
    const doc = bootstrap(echo.port);
    handles.push(await startEngine("embedded", doc, null), await startEngine("envoy", doc, envoyBin));
    for (const h of handles) {
      const statuses: number[] = [];
      for (const r of TRAFFIC) statuses.push((await send(h.port("m"), r)).status);
      assert.deepEqual(statuses, TRAFFIC.map((r) => r.status), `${h.engine}: statuses`);
    }
    await fn(handles);
  } finally {
    for (const h of handles) await h.stop();
    await echo.close();
  }
}

test("cors, auth, rate-limit and canary metrics: the same counters on both engines, in /stats and /stats/prometheus; the dashboard queries only exported names", async (t) => {
  await withEngines(t, async (handles) => {
    const expositions: Map<string, string>[] = [];
    for (const h of handles) {
      const stats = await h.stats();
      const ours = [...stats].filter(([k]) => k.startsWith(STATS_INCLUSION_PREFIX)).map(([k, v]) => [k, Number(v)] as const);
      assert.deepEqual(Object.fromEntries(ours.sort()), Object.fromEntries(Object.entries(EXPECTED_STATS).sort()), `${h.engine}: /stats`);
      // The inclusion list keeps the plugin metrics and nothing else.
      assert.deepEqual([...stats.keys()].filter((k) => !k.startsWith(STATS_INCLUSION_PREFIX)), [], `${h.engine}: stats outside the inclusion prefix`);
      const text = await new Promise<string>((resolve, reject) => {
        request({ host: "127.0.0.1", port: h.adminPort, path: "/stats/prometheus", agent: false }, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve(Buffer.concat(chunks).toString()));
        }).on("error", reject).end();
      });
      const s = series(text);
      const got = Object.fromEntries([...s].filter(([k]) => k.startsWith("tollgate_")).map(([k, v]) => [k, Number(v)]));
      assert.deepEqual(got, EXPECTED_SERIES, `${h.engine}: /stats/prometheus\n${text}`);
      expositions.push(s);
    }
    // The differential check: the same series, names, labels and values, on both engines.
    assert.deepEqual(Object.fromEntries(expositions[0]), Object.fromEntries(expositions[1]), "embedded vs Envoy /stats/prometheus");

    // gen dashboard: every metric name its PromQL uses is exported, every label it groups by is on that metric.
    const board = dashboard(PLUGINS);
    const exported = new Map<string, Set<string>>();
    for (const key of expositions[1].keys()) {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\}$/.exec(key);
      if (!m) continue;
      const labels = exported.get(m[1]) ?? new Set<string>();
      for (const l of m[2].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) labels.add(l[1]);
      exported.set(m[1], labels);
    }
    const exprs = board.panels.flatMap((p) => (p.targets ?? []).map((x) => x.expr));
    assert.equal(exprs.length, PLUGINS.reduce((n, p) => n + PLUGIN_METRICS[p].length, 0), "one query per metric");
    assert.deepEqual(board.panels.filter((p) => p.type === "row").map((p) => p.title), PLUGINS, "one row per plugin");
    for (const expr of exprs) {
      const names = [...expr.matchAll(/\b(tollgate_[a-z_]+)\b/g)].map((m) => m[1]);
      assert.ok(names.length > 0, `query without a tollgate metric: ${expr}`);
      for (const n of names) {
        // remote_jwks (test/idp/remote-jwks.test.ts) and rls (test/gateway/rate-limit-global.test.ts) are not in this config.
        const needs = Object.values(PLUGIN_METRICS).flat().find((m) => m.name === n)?.needs;
        if (needs === "remote_jwks" || needs === "rls") continue;
        assert.ok(exported.has(n), `dashboard queries ${n}, not exported (exported: ${[...exported.keys()].join(", ")})`);
        for (const by of [...expr.matchAll(/by \(([^)]*)\)/g)].flatMap((m) => m[1].split(",").map((x) => x.trim()))) {
          assert.ok(exported.get(n)!.has(by), `dashboard groups ${n} by ${by}, which it does not carry`);
        }
      }
    }
    for (const plugin of PLUGINS) {
      // Series of a feature this config does not use (remote_jwks: test/idp/remote-jwks.test.ts) are not defined.
      for (const m of PLUGIN_METRICS[plugin]) if (!m.needs || m.needs === "ext_auth.failure_mode_allow") assert.ok(exported.has(m.name), `tools/plugins/metrics.ts lists ${m.name}, not exported`);
    }
  });
});

test("Prometheus scrapes both engines and answers the dashboard's queries with the plugins' labels", async (t) => {
  const prometheus = requireTool(t, "prometheus", "apt-get install -y prometheus");
  if (!prometheus) return;
  await withEngines(t, async ([embedded, envoy]) => {
    const prom = await startPrometheus(prometheus, [{ adminPort: embedded.adminPort, engine: "embedded" }, { adminPort: envoy.adminPort, engine: "envoy" }]);
    try {
      // The dashboard's grouping, over the raw counters (a rate needs two scrapes apart). Keys: the labels' values joined by "/".
      const queries = [
        { metric: "tollgate_cors_preflights_total", by: ["outcome", "reason"], want: { "answered/": "1", "refused/origin_not_allowed": "1", "refused/method_not_allowed": "1", "refused/headers_not_allowed": "1" } },
        { metric: "tollgate_canary_decisions_total", by: ["canary_tag", "reason"], want: { "v1/default": "9", "/client": "1", "v2/rule": "1", "v1/pin": "1", "v1/draw": "2" } },
        { metric: "tollgate_auth_denied_total", by: ["reason"], want: { no_credential: "1", bad_credential: "1", expired: "1", not_allowed: "1" } },
        { metric: "tollgate_rate_limit_requests_total", by: ["outcome", "rule"], want: { "allowed/per-client": "2", "rejected/per-client": "1" } },
      ];
      const ask = async (metric: string, by: string[]): Promise<Record<string, string>> => {
        const expr = `sum by (engine, ${by.join(", ")}) (${metric})`;
        return Object.fromEntries((await prom.series(expr)).map((x) => [`${x.metric.engine}:${by.map((l) => x.metric[l] ?? "").join("/")}`, x.value]));
      };
      let got: Array<Record<string, string>> = [];
      const done = () => queries.every((q, i) => ["embedded", "envoy"].every((e) => Object.entries(q.want).every(([k, v]) => got[i]?.[`${e}:${k}`] === v)));
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && prom.running() && !done()) {
        try {
          got = await Promise.all(queries.map((q) => ask(q.metric, q.by)));
        } catch {
          // Not listening yet.
        }
        if (!done()) await new Promise((r) => setTimeout(r, 250));
      }
      assert.ok(done(), `Prometheus answered ${JSON.stringify(got, null, 1)}\n${prom.output().slice(-2000)}`);

      // The dashboard's own queries, with Grafana's variables as it would fill them, once two scrapes are in:
      // each parses and returns series (one per label combination) carrying the labels it groups by.
      await new Promise((r) => setTimeout(r, 2500));
      const board = dashboard(PLUGINS);
      const needs = (expr: string) => Object.values(PLUGIN_METRICS).flat().find((m) => expr.includes(`${m.name}{`))?.needs;
      for (const target of board.panels.flatMap((p) => p.targets ?? [])) {
        if (needs(target.expr) === "remote_jwks" || needs(target.expr) === "rls") continue;
        const expr = target.expr.replaceAll("$job", ".*").replaceAll("$__rate_interval", "1m");
        const r = await prom.query(expr);
        assert.equal(r.status, 200, `${expr}: ${r.body}`);
        const result = (JSON.parse(r.body) as { data: { result: Array<{ metric: Record<string, string> }> } }).data.result;
        assert.ok(result.length > 0, `${expr}: no series`);
        const by = /by \(([^)]*)\)/.exec(expr)?.[1].split(", ") ?? [];
        assert.ok(result.some((x) => by.every((l) => l in x.metric)), `${expr}: no series with every label of ${by.join(", ")}: ${r.body}`);
      }
    } finally {
      await prom.stop();
    }
  });
});
