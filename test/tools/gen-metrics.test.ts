// The deploy side of the plugins' metrics (issue 22 item 4): gen dashboard's Grafana JSON, gen wasmplugin's Istio
// stats inclusion (a note by default, an IstioOperator overlay with --stats-inclusion), gen envoy's stats_tags.
// That these names are the ones the engines export after traffic is test/gateway/plugin-metrics.test.ts.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { parseBootstrap } from "../../tools/gateway/config.ts";
import { PLUGIN_METRICS, STATS_INCLUSION_PREFIX, statsTags } from "../../tools/plugins/metrics.ts";
import { repoRoot } from "../../tools/paths.ts";

function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(repoRoot(), "tools/cli/main.ts"), ...args], { cwd: repoRoot(), encoding: "utf8", timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const docs = (yaml: string) => parseAllDocuments(yaml).map((d) => d.toJS() as Record<string, any>);

test("gen dashboard: Grafana JSON, one row per plugin, one rate panel per metric over its labels", () => {
  const out = cli(["gen", "dashboard"]);
  assert.equal(out.code, 0, out.stderr);
  const board = JSON.parse(out.stdout) as { panels: Array<{ type: string; title: string; targets?: Array<{ expr: string }> }>; templating: { list: Array<{ name: string }> } };
  assert.deepEqual(board.panels.filter((p) => p.type === "row").map((p) => p.title), Object.keys(PLUGIN_METRICS));
  const exprs = board.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr);
  const want = Object.values(PLUGIN_METRICS).flat().map((m) => {
    const rate = `rate(${m.name}{job=~"$job"}[$__rate_interval])`;
    return m.labels.length ? `sum by (${m.labels.join(", ")}) (${rate})` : `sum(${rate})`;
  });
  assert.deepEqual(exprs, want);
  assert.deepEqual(board.templating.list.map((v) => v.name), ["datasource", "job"]);

  const one = cli(["gen", "dashboard", "canary"]);
  assert.deepEqual((JSON.parse(one.stdout) as typeof board).panels.filter((p) => p.type === "row").map((p) => p.title), ["canary"]);
  const bad = cli(["gen", "dashboard", "nope"]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /no metrics for plugin 'nope'/);
});

test("gen wasmplugin: a note with the pod annotation that keeps the metrics; --stats-inclusion emits the IstioOperator overlay", () => {
  const plain = cli(["gen", "wasmplugin", "cors", "--url", "oci://ghcr.io/acme/cors:1", "--selector", "app=web"]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.deepEqual(docs(plain.stdout).map((d) => d.kind), ["WasmPlugin"]);
  const annotation = /proxy\.istio\.io\/config: '(\{.*\})'/.exec(plain.stderr);
  assert.ok(annotation, plain.stderr);
  assert.deepEqual(JSON.parse(annotation[1]), { proxyStatsMatcher: { inclusionPrefixes: [STATS_INCLUSION_PREFIX] }, extraStatTags: ["outcome", "reason", "rule", "consumer", "canary_tag"] });

  const out = cli(["gen", "wasmplugin", "cors", "--url", "oci://ghcr.io/acme/cors:1", "--selector", "app=web", "--stats-inclusion"]);
  assert.equal(out.code, 0, out.stderr);
  const [wp, op] = docs(out.stdout);
  assert.equal(wp.kind, "WasmPlugin");
  assert.equal(op.apiVersion, "install.istio.io/v1alpha1");
  assert.equal(op.kind, "IstioOperator");
  assert.deepEqual(op.spec.meshConfig.defaultConfig.proxyStatsMatcher, { inclusionPrefixes: ["wasmcustom.tollgate."] });
  assert.deepEqual(op.spec.meshConfig.defaultConfig.extraStatTags, statsTags().map((t) => t.tag_name));
  assert.doesNotMatch(out.stderr, /proxy\.istio\.io\/config/);

  // A plugin without metrics gets neither.
  const noop = cli(["gen", "wasmplugin", "noop", "--url", "oci://ghcr.io/acme/noop:1", "--selector", "app=web", "--stats-inclusion"]);
  assert.equal(noop.code, 0, noop.stderr);
  assert.deepEqual(docs(noop.stdout).map((d) => d.kind), ["WasmPlugin"]);
});

test("gen envoy: the bootstrap carries tollgate's stats_tags, and the embedded engine loads it", () => {
  const out = cli(["gen", "envoy", "cors", "--upstream", "127.0.0.1:8080"]);
  assert.equal(out.code, 0, out.stderr);
  const [boot] = docs(out.stdout);
  assert.deepEqual(boot.stats_config, { stats_tags: statsTags() });
  const cfg = parseBootstrap(boot, "gen.yaml", repoRoot());
  assert.deepEqual(cfg.stats?.tags.map((t) => t.name), ["outcome", "reason", "rule", "consumer", "canary_tag"]);
});
