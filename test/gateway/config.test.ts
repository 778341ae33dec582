// The embedded engine's Envoy subset: what it accepts from a bootstrap, and how it rejects the rest
// (YAML path + "not supported by the embedded engine; run with --engine envoy"; Envoy-invalid files fail
// the proto check first).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { BootstrapError, parseBootstrap, UNSUPPORTED } from "../../tools/gateway/config.ts";
import { repoRoot } from "../../tools/paths.ts";

const demoText = readFileSync(join(repoRoot(), "envoy-configs", "demo.yaml"), "utf8");
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = any;
const demo = (): Doc => parse(demoText);
const hcm = (d: Doc): Doc => d.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
const HCM_PATH = "static_resources.listeners[0].filter_chains[0].filters[0].typed_config";

function problems(d: Doc): string[] {
  try {
    parseBootstrap(d, "demo.yaml", "/work/dir");
  } catch (e) {
    assert.ok(e instanceof BootstrapError, String(e));
    return e.problems;
  }
  return [];
}

test("demo.yaml: listener, admin, clusters, routes and wasm filters in order; wasm paths relative to cwd", () => {
  const c = parseBootstrap(demo(), "demo.yaml", "/work/dir");
  assert.deepEqual(c.admin, { address: "127.0.0.1", port: 9901 });
  assert.equal(c.listeners.length, 1);
  const l = c.listeners[0];
  assert.deepEqual(l.address, { address: "127.0.0.1", port: 10000 });
  assert.deepEqual([...c.clusters.keys()].sort(), ["canary", "stable"]);
  assert.deepEqual(c.clusters.get("stable")!.endpoints, [{ address: "127.0.0.1", port: 18081 }]);
  assert.equal(c.clusters.get("stable")!.connectTimeoutMs, 1000);
  assert.ok(l.filters.length >= 1);
  for (const f of l.filters) {
    assert.ok(f.wasmFile.startsWith("/work/dir/"), `${f.wasmFile} resolves against the working directory`);
    assert.equal(f.wasmFile, join("/work/dir", f.filename));
  }
  const routes = l.virtualHosts[0].routes;
  assert.equal(routes[0].match.headers[0].name, "x-canary-version");
  assert.deepEqual(routes.at(-1)!.action, { kind: "route", target: { kind: "cluster", cluster: "stable" }, timeoutMs: 15000 });
});

test("fields outside the subset are rejected with their YAML path and the --engine envoy hint", () => {
  const cases: Array<[string, (d: Doc) => void, string]> = [
    ["lb_policy", (d) => (d.static_resources.clusters[0].lb_policy = "LEAST_REQUEST"), "static_resources.clusters[0].lb_policy"],
    ["cluster type", (d) => (d.static_resources.clusters[0].type = "LOGICAL_DNS"), "static_resources.clusters[0].type"],
    ["hcm field", (d) => (hcm(d).generate_request_id = false), `${HCM_PATH}.generate_request_id`],
    ["codec", (d) => (hcm(d).codec_type = "HTTP2"), `${HCM_PATH}.codec_type`],
    [
      "other http filter",
      (d) => hcm(d).http_filters.unshift({ name: "envoy.filters.http.cors", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors" } }),
      `${HCM_PATH}.http_filters[0].typed_config.@type`,
    ],
    [
      "regex route match",
      (d) => (hcm(d).route_config.virtual_hosts[0].routes[1].match = { safe_regex: { regex: "/.*" } }),
      `${HCM_PATH}.route_config.virtual_hosts[0].routes[1].match.safe_regex`,
    ],
    [
      "regex header match",
      (d) => (hcm(d).route_config.virtual_hosts[0].routes[0].match.headers[0] = { name: "x", safe_regex_match: { regex: "v.*" } }),
      `${HCM_PATH}.route_config.virtual_hosts[0].routes[0].match.headers[0].safe_regex_match`,
    ],
    ["retry policy", (d) => (hcm(d).route_config.virtual_hosts[0].routes[1].route.retry_policy = { retry_on: "5xx" }), `${HCM_PATH}.route_config.virtual_hosts[0].routes[1].route.retry_policy`],
    ["vhost headers", (d) => (hcm(d).route_config.virtual_hosts[0].request_headers_to_add = [{ header: { key: "a", value: "b" } }]), `${HCM_PATH}.route_config.virtual_hosts[0].request_headers_to_add`],
    ["header formatter", (d) => (hcm(d).route_config.virtual_hosts[0].routes[1].request_headers_to_add = [{ header: { key: "a", value: "%DOWNSTREAM_REMOTE_ADDRESS%" } }]), `${HCM_PATH}.route_config.virtual_hosts[0].routes[1].request_headers_to_add[0].header.value`],
    ["wasm remote code", (d) => (hcm(d).http_filters[0].typed_config.config.vm_config.code = { remote: { http_uri: { uri: "https://x/y.wasm", cluster: "stable", timeout: "1s" }, sha256: "ab" } }), `${HCM_PATH}.http_filters[0].typed_config.config.vm_config.code.remote`],
    ["admin access log", (d) => (d.admin.access_log = [{ name: "envoy.access_loggers.stdout", typed_config: { "@type": "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog" } }]), "admin.access_log"],
    ["bootstrap field", (d) => (d.stats_flush_interval = "5s"), "stats_flush_interval"],
    ["two filter chains", (d) => d.static_resources.listeners[0].filter_chains.push(d.static_resources.listeners[0].filter_chains[0]), "static_resources.listeners[0].filter_chains"],
  ];
  for (const [what, mutate, path] of cases) {
    const d = demo();
    mutate(d);
    const p = problems(d);
    const hit = p.find((x) => x.startsWith(path + ":"));
    assert.ok(hit, `${what}: expected a problem at ${path}, got ${JSON.stringify(p)}`);
    assert.ok(hit.endsWith(UNSUPPORTED), `${what}: ${hit}`);
  }
});

test("files Envoy itself would reject fail the proto check first (unknown field, bad @type, bad duration)", () => {
  const cases: Array<[(d: Doc) => void, string, RegExp]> = [
    [(d) => (d.static_resources.clusters[0].conect_timeout = "1s"), "static_resources.clusters[0].conect_timeout", /unknown field/],
    [(d) => (hcm(d).http_filters[0].typed_config["@type"] = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasmm"), `${HCM_PATH}.http_filters[0].typed_config.@type`, /not defined/],
    [(d) => (hcm(d).route_config.virtual_hosts[0].routes[1].route.timeout = 5), `${HCM_PATH}.route_config.virtual_hosts[0].routes[1].route.timeout`, /duration/],
  ];
  for (const [mutate, path, re] of cases) {
    const d = demo();
    mutate(d);
    const p = problems(d);
    const hit = p.find((x) => x.startsWith(path + ":"));
    assert.ok(hit && re.test(hit) && hit.includes("Envoy would reject this too"), `${path}: ${JSON.stringify(p)}`);
  }
});

test("semantic errors Envoy rejects at load: router not last, unknown cluster, hostname in STATIC, weights not summing to total", () => {
  let d = demo();
  hcm(d).http_filters.reverse();
  assert.ok(problems(d).some((p) => p.includes("router must be the last")));
  d = demo();
  hcm(d).route_config.virtual_hosts[0].routes[1].route.cluster = "nope";
  assert.ok(problems(d).some((p) => p.includes("unknown cluster 'nope'")));
  d = demo();
  d.static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address = "localhost";
  assert.ok(problems(d).some((p) => p.startsWith("static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address: 'localhost' is not an IP address")));
  d = demo();
  hcm(d).route_config.virtual_hosts[0].routes[1].route = { weighted_clusters: { clusters: [{ name: "stable", weight: 1 }, { name: "canary", weight: 1 }], total_weight: 3 } };
  assert.ok(problems(d).some((p) => p.includes("sum to 2")));
});

test("accepted options: camelCase field names, STRICT_DNS, append_action, fail_open, vm configuration", () => {
  const d = demo();
  d.static_resources.clusters[0].connectTimeout = d.static_resources.clusters[0].connect_timeout;
  delete d.static_resources.clusters[0].connect_timeout;
  d.static_resources.clusters[1].type = "STRICT_DNS";
  d.static_resources.clusters[1].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address = "localhost";
  const r = hcm(d).route_config.virtual_hosts[0].routes[1];
  r.request_headers_to_add = [{ header: { key: "X-A", value: "1" }, append_action: "OVERWRITE_IF_EXISTS_OR_ADD" }];
  const wasm = hcm(d).http_filters[0].typed_config.config;
  wasm.fail_open = true;
  wasm.vm_config.configuration = { "@type": "type.googleapis.com/google.protobuf.StringValue", value: "vm" };
  const c = parseBootstrap(d, "demo.yaml", "/w");
  assert.equal(c.clusters.get("stable")!.connectTimeoutMs, 1000);
  assert.equal(c.clusters.get("canary")!.type, "STRICT_DNS");
  assert.deepEqual(c.listeners[0].virtualHosts[0].routes[1].headersToAdd, [{ key: "x-a", value: "1", action: "OVERWRITE_IF_EXISTS_OR_ADD", keepEmpty: false }]);
  assert.equal(c.listeners[0].filters[0].failOpen, true);
  assert.equal(c.listeners[0].filters[0].vmConfig, "vm");
});
