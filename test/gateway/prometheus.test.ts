// GET /stats/prometheus, black-box on both engines from one bootstrap: the rate-limit plugin in front of an
// echo upstream gets the same traffic on the embedded engine and on Envoy 1.40; every series the embedded
// engine exports must be in Envoy's exposition with the same name, labels, type and value (Envoy prints many
// more), and the plugin's counters must be among them. Then a real Prometheus (Debian's package) scrapes both
// admins on loopback and its HTTP API must return the plugin's counters with the expected values.
import assert from "node:assert/strict";
import { request } from "node:http";
import { test, type TestContext } from "node:test";
import { startEcho } from "../../tools/demo/echo.ts";
import { bootstrapDoc, pluginFilter } from "../helpers/bootstrap.ts";
import { statsTags } from "../../tools/plugins/metrics.ts";
import { startEngine, type EngineHandle } from "../helpers/engines.ts";
import { requireEnvoy } from "../helpers/envoy.ts";
import { compiledPlugin } from "../helpers/plugins.ts";
import { startPrometheus } from "../helpers/prometheus.ts";
import { requireTool } from "../helpers/tools.ts";

const PER_KEY_LIMIT = 3;
const pluginConfig = {
  rules: [
    { name: "per-key", key: { header: "x-api-key" }, limit: { requests: PER_KEY_LIMIT, per: "hour" } },
    { name: "all", key: { global: {} }, limit: { requests: 1000, per: "hour" } },
  ],
};
// Key "a" sends 5 (3 allowed, 2 refused), key "b" sends 2 (allowed): per-key allowed 5, rejected 2.
const TRAFFIC = ["a", "a", "a", "a", "a", "b", "b"];
// Series selectors (the bootstrap has tollgate's tag extractors: plugins/README.md, Metrics).
const EXPECTED: Record<string, number> = {
  'tollgate_rate_limit_requests_total{outcome="allowed",rule="per-key"}': 5,
  'tollgate_rate_limit_requests_total{outcome="rejected",rule="per-key"}': 2,
};

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    // A connection per request, so the listener's connection counters are the same on both engines.
    const req = request({ host: "127.0.0.1", port, path, headers, agent: false, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), type: String(res.headers["content-type"]) }));
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${path}: timeout`)));
    req.on("error", reject);
    req.end();
  });
}

interface Exposition {
  /** `name{labels}` → value, labels as printed. */
  series: Map<string, string>;
  /** Metric name → its `# TYPE`. */
  types: Map<string, string>;
}

/** Parses the text format strictly: every series follows a `# TYPE` line for its name (histograms: its _bucket/_sum/_count). */
function parseExposition(text: string): Exposition {
  const series = new Map<string, string>();
  const types = new Map<string, string>();
  let current = "";
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      assert.ok(!types.has(type[1]), `second # TYPE line for ${type[1]}`);
      types.set(type[1], type[2]);
      current = type[1];
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\}) (\S+)$/.exec(line);
    assert.ok(m, `not a series line: ${JSON.stringify(line)}`);
    const base = types.get(current) === "histogram" ? m[1].replace(/_(bucket|sum|count)$/, "") : m[1];
    assert.equal(base, current, `series ${m[1]} is not under its # TYPE line`);
    series.set(m[1] + m[2], m[3]);
  }
  return { series, types };
}


/** The same bootstrap and traffic on both engines; `fn` runs while both are up, then everything stops. */
async function withEngines(t: TestContext, fn: (embedded: EngineHandle, envoy: EngineHandle) => Promise<void>): Promise<void> {
  const envoyBin = requireEnvoy(t);
  if (!envoyBin) return;
  await compiledPlugin("rate-limit", "release");
  const echo = await startEcho({ name: "stable" });
  const handles: EngineHandle[] = [];
  try {
    const doc = { ...bootstrapDoc({ name: "rl", filters: [pluginFilter("rate-limit", pluginConfig)] }, { stable: echo.port }), stats_config: { stats_tags: statsTags() } };
    handles.push(await startEngine("embedded", doc, null), await startEngine("envoy", doc, envoyBin));
    for (const h of handles) {
      const statuses: number[] = [];
      for (const key of TRAFFIC) statuses.push((await get(h.port("rl"), "/", { "x-api-key": key })).status);
      assert.deepEqual(statuses, [200, 200, 200, 429, 429, 200, 200], `${h.engine}: statuses`);
      // Envoy counts a request's response class when the stream completes, just after the client has the reply.
      const deadline = Date.now() + 5_000;
      while ((await h.counter("http.rl.downstream_rq_4xx")) < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    }
    await fn(handles[0], handles[1]);
  } finally {
    for (const h of handles) await h.stop();
    await echo.close();
  }
}

test("/stats/prometheus: every series the embedded engine exports is Envoy's, with the same name, labels, type and value", async (t) => {
  await withEngines(t, async (embedded, envoy) => {
    const [e, v] = await Promise.all([get(embedded.adminPort, "/stats/prometheus"), get(envoy.adminPort, "/stats/prometheus")]);
    assert.equal(e.status, 200);
    assert.equal(v.status, 200);
    assert.equal(e.type, v.type, "content-type");
    const ours = parseExposition(e.body);
    const theirs = parseExposition(v.body);
    // The plugin's counters are there, without the `wasmcustom` namespace and without `envoy_`.
    for (const [series, value] of Object.entries(EXPECTED)) assert.equal(ours.series.get(series), String(value), `embedded: ${series}`);
    for (const series of [
      'tollgate_rate_limit_requests_total{outcome="allowed",rule="all"}',
      'tollgate_rate_limit_cas_exhausted_total{rule="per-key"}',
      'tollgate_rate_limit_evictions_total{rule="per-key"}',
      'tollgate_rate_limit_requests_total{outcome="shadow_rejected",rule="per-key"}',
    ]) {
      assert.ok(ours.series.has(series), `embedded: ${series}`);
    }
    // And the engine's own stats with Envoy's labels.
    for (const s of [
      'envoy_http_downstream_rq_total{envoy_http_conn_manager_prefix="rl"}',
      'envoy_http_downstream_rq_xx{envoy_response_code_class="4",envoy_http_conn_manager_prefix="rl"}',
      'envoy_cluster_upstream_rq_total{envoy_cluster_name="stable"}',
      'envoy_listener_worker_downstream_cx_total{envoy_worker_id="0",envoy_listener_address="127.0.0.1_0"}',
      "envoy_wasm_rate_limit_vm_reload{}",
    ]) {
      assert.ok(ours.series.has(s), `embedded exports ${s}\n${e.body}`);
    }
    const diffs: string[] = [];
    for (const [series, value] of ours.series) {
      const envoyValue = theirs.series.get(series);
      if (envoyValue !== value) diffs.push(`${series}: embedded ${value}, Envoy ${envoyValue ?? "(absent)"}`);
    }
    for (const [name, type] of ours.types) if (theirs.types.get(name) !== type) diffs.push(`# TYPE ${name}: embedded ${type}, Envoy ${theirs.types.get(name) ?? "(absent)"}`);
    assert.deepEqual(diffs, [], "embedded series that differ from Envoy's");
    // Envoy prints the embedded engine's series in the same order (its names are sorted within each type).
    const order = (x: Exposition) => [...x.series.keys()].filter((k) => ours.series.has(k));
    assert.deepEqual(order(ours), order(theirs), "series order");
  });
});

test("Prometheus scrapes both engines' /stats/prometheus and returns the plugin's counters", async (t) => {
  const prometheus = requireTool(t, "prometheus", "apt-get install -y prometheus");
  if (!prometheus) return;
  await withEngines(t, async (embedded, envoy) => {
    const prom = await startPrometheus(prometheus, [{ adminPort: embedded.adminPort, engine: "embedded" }, { adminPort: envoy.adminPort, engine: "envoy" }]);
    try {
      const query = async (q: string): Promise<Map<string, string>> => new Map((await prom.series(q)).map((x) => [x.metric.engine, x.value]));
      let seen = new Map<string, Map<string, string>>();
      const done = () =>
        Object.entries(EXPECTED).every(([name, value]) => ["embedded", "envoy"].every((engine) => seen.get(name)?.get(engine) === String(value)));
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && prom.running()) {
        try {
          seen = new Map(await Promise.all(Object.keys(EXPECTED).map(async (name) => [name, await query(name)] as const)));
        } catch {
          // Not listening yet.
        }
        if (done()) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      const report = JSON.stringify(Object.fromEntries([...seen].map(([k, v]) => [k, Object.fromEntries(v)])));
      assert.ok(done(), `Prometheus query results ${report}, want ${JSON.stringify(EXPECTED)} from both engines\n${prom.output().slice(-2000)}`);
      // Both targets are healthy scrapes (a parse error would make `up` 0).
      assert.deepEqual(Object.fromEntries(await query("up")), { embedded: "1", envoy: "1" });
    } finally {
      await prom.stop();
    }
  });
});
