// The embedded engine's Envoy subset: what it accepts from a bootstrap, and how it rejects the rest
// (YAML path + "not supported by the embedded engine; run with --engine envoy"; Envoy-invalid files fail
// the proto check first).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { parse } from "yaml";
import { compileAssemblyScript } from "../../tools/build/compile.ts";
import { envoyBinary, launchEnvoy, type FoundEnvoy } from "../../tools/envoy/launcher.ts";
import { UNSUPPORTED } from "../../tools/gateway/bootstrap-fields.ts";
import { BootstrapError, loadBootstrap, parseBootstrap } from "../../tools/gateway/config.ts";
import type { GatewayConfig } from "../../tools/gateway/model.ts";
import { pluginDir, pluginWasm, repoRoot } from "../../tools/paths.ts";
import { requireEnvoy } from "../helpers/envoy.ts";

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

// The same bootstrap text read by the engine (loadBootstrap) and by Envoy 1.40: Envoy's YAML reading (a plain
// `on` is a bool, a plain 1.5 a string), a single value where a list is expected, bool fields given as strings,
// integers given as strings and enums given as numbers. Each case edits noop.yaml as text (the spelling is the
// point). `want` is the value Envoy reads, checked three ways: the engine's reading, `envoy --mode validate`'s
// verdict, and for accepted cases a running Envoy's admin /config_dump (the bootstrap as Envoy parsed it).
const NOOP_TEXT = readFileSync(join(repoRoot(), "envoy-configs", "noop.yaml"), "utf8")
  // Ephemeral ports, so the Envoy runs of the table never clash with anything.
  .replace("port_value: 9901", "port_value: 0")
  .replace("port_value: 10000", "port_value: 0");
const edit = (...pairs: Array<[string, string]>) => (t: string): string =>
  pairs.reduce((acc, [find, replace]) => {
    assert.equal(acc.split(find).length, 2, `'${find}' must occur once in noop.yaml`);
    return acc.replace(find, replace);
  }, t);
const afterRootId = (line: string) => edit(["                root_id: noop\n", `                root_id: noop\n                ${line}\n`]);
const afterCodec = (line: string) => edit(["          codec_type: AUTO\n", `          codec_type: AUTO\n          ${line}\n`]);
const canaryRoute = (line: string) => edit(["                route: { cluster: canary }\n", `                route: { cluster: canary }\n                ${line}\n`]);

// The engine's model and Envoy's /config_dump bootstrap, for the fields the cases read.
const eListener = (c: GatewayConfig) => c.listeners[0];
const eWasm = (c: GatewayConfig) => c.listeners[0].filters[0];
const eRoute = (c: GatewayConfig, i: number) => c.listeners[0].virtualHosts[0].routes[i];
const dHcm = (b: Doc): Doc => b.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
const dWasm = (b: Doc): Doc => dHcm(b).http_filters[0].typed_config.config;
const dRoute = (b: Doc, i: number): Doc => dHcm(b).route_config.virtual_hosts[0].routes[i];

interface ReadCase {
  name: string;
  edit: (t: string) => string;
  /** Envoy 1.40's verdict. */
  accept: boolean;
  /** For accepted cases: the engine's reading, Envoy's reading (from /config_dump), and what both must be. */
  engine?: (c: GatewayConfig) => unknown;
  envoy?: (b: Doc) => unknown;
  want?: unknown;
}
const READ_CASES: ReadCase[] = [
  { name: "vm_id: on (plain on is the bool true)", edit: edit(["vm_id: noop", "vm_id: on"]), accept: false },
  { name: "vm_id: 'on' (quoted, a string)", edit: edit(["vm_id: noop", "vm_id: 'on'"]), accept: true, engine: (c) => eWasm(c).vmId, envoy: (b) => dWasm(b).vm_config.vm_id, want: "on" },
  { name: "stat_prefix: 1.5 (a plain float stays a string)", edit: edit(["stat_prefix: noop", "stat_prefix: 1.5"]), accept: true, engine: (c) => eListener(c).statPrefix, envoy: (b) => dHcm(b).stat_prefix, want: "1.5" },
  { name: "stat_prefix: 0x10 (a plain hex integer is a number)", edit: edit(["stat_prefix: noop", "stat_prefix: 0x10"]), accept: false },
  { name: "domains: '*' (one value for a list)", edit: edit(['domains: ["*"]', 'domains: "*"']), accept: true, engine: (c) => eListener(c).virtualHosts[0].domains, envoy: (b) => dHcm(b).route_config.virtual_hosts[0].domains, want: ["*"] },
  { name: "listeners: one object, not a list", edit: edit(["  listeners:\n  - name: noop\n", "  listeners:\n    name: noop\n"]), accept: true, engine: (c) => c.listeners.map((l) => l.name), envoy: (b) => b.static_resources.listeners.map((l: Doc) => l.name), want: ["noop"] },
  { name: "allow_on_headers_stop_iteration: yes (plain)", edit: afterRootId("allow_on_headers_stop_iteration: yes"), accept: true, engine: (c) => eWasm(c).allowOnHeadersStopIteration, envoy: (b) => dWasm(b).allow_on_headers_stop_iteration ?? false, want: true },
  { name: "allow_on_headers_stop_iteration: 'yes' (a bool string)", edit: afterRootId("allow_on_headers_stop_iteration: 'yes'"), accept: true, engine: (c) => eWasm(c).allowOnHeadersStopIteration, envoy: (b) => dWasm(b).allow_on_headers_stop_iteration ?? false, want: true },
  { name: "fail_open: '1' (deprecated, a bool string)", edit: afterRootId("fail_open: '1'"), accept: true, engine: (c) => eWasm(c).failOpen, envoy: (b) => dWasm(b).fail_open ?? false, want: true },
  { name: "use_remote_address: 'y' (BoolValue from a string)", edit: afterCodec("use_remote_address: 'y'"), accept: true, engine: (c) => eListener(c).forwarding.useRemoteAddress, envoy: (b) => dHcm(b).use_remote_address ?? false, want: true },
  { name: "use_remote_address: 'T'", edit: afterCodec("use_remote_address: 'T'"), accept: true, engine: (c) => eListener(c).forwarding.useRemoteAddress, envoy: (b) => dHcm(b).use_remote_address ?? false, want: true },
  { name: "use_remote_address: off (plain off is the bool false)", edit: afterCodec("use_remote_address: off"), accept: true, engine: (c) => eListener(c).forwarding.useRemoteAddress, envoy: (b) => dHcm(b).use_remote_address ?? false, want: false },
  { name: "use_remote_address: 'off' (not a bool string)", edit: afterCodec("use_remote_address: 'off'"), accept: false },
  { name: "use_remote_address: 1 (a number is not a bool)", edit: afterCodec("use_remote_address: 1"), accept: false },
  { name: "skip_xff_append: 'NO'", edit: afterCodec("skip_xff_append: 'NO'"), accept: true, engine: (c) => eListener(c).forwarding.skipXffAppend, envoy: (b) => dHcm(b).skip_xff_append ?? false, want: false },
  { name: "xff_num_trusted_hops: '2' (an integer string)", edit: afterCodec("xff_num_trusted_hops: '2'"), accept: true, engine: (c) => eListener(c).forwarding.xffNumTrustedHops, envoy: (b) => dHcm(b).xff_num_trusted_hops ?? 0, want: 2 },
  { name: "failure_policy: 1 (the enum's number for FAIL_RELOAD)", edit: afterRootId("failure_policy: 1"), accept: true, engine: (c) => eWasm(c).failurePolicy, envoy: (b) => dWasm(b).failure_policy, want: "FAIL_RELOAD" },
  { name: "failure_policy: 2 (FAIL_CLOSED)", edit: afterRootId("failure_policy: 2"), accept: true, engine: (c) => eWasm(c).failurePolicy, envoy: (b) => dWasm(b).failure_policy, want: "FAIL_CLOSED" },
  {
    name: "cluster type: 1 (STRICT_DNS by number) with a host name",
    edit: edit(["  - name: canary\n    type: STATIC", "  - name: canary\n    type: 1"], ["address: 127.0.0.1, port_value: 18082", "address: localhost, port_value: 18082"]),
    accept: true,
    engine: (c) => c.clusters.get("canary")!.type,
    envoy: (b) => b.static_resources.clusters[1].type,
    want: "STRICT_DNS",
  },
  {
    name: "append_action: 2 (OVERWRITE_IF_EXISTS_OR_ADD by number)",
    edit: canaryRoute("request_headers_to_add: [{ header: { key: x-a, value: b }, append_action: 2 }]"),
    accept: true,
    engine: (c) => eRoute(c, 0).headersToAdd[0].action,
    envoy: (b) => dRoute(b, 0).request_headers_to_add[0].append_action,
    want: "OVERWRITE_IF_EXISTS_OR_ADD",
  },
  { name: "header value: on (plain on is not a string)", edit: canaryRoute("request_headers_to_add: [{ header: { key: x-a, value: on } }]"), accept: false },
  {
    name: "case_sensitive: 'false' and invert_match: 'y'",
    edit: edit(['                  prefix: "/"\n                  headers:', '                  prefix: "/"\n                  case_sensitive: \'false\'\n                  headers:'], ["string_match: { exact: v2 }", "string_match: { exact: v2 }\n                    invert_match: 'y'"]),
    accept: true,
    engine: (c) => [eRoute(c, 0).match.caseSensitive, eRoute(c, 0).match.headers[0].invert],
    envoy: (b) => [dRoute(b, 0).match.case_sensitive ?? true, dRoute(b, 0).match.headers[0].invert_match ?? false],
    want: [false, true],
  },
  { name: "string_match ignore_case: 'Yes'", edit: edit(["string_match: { exact: v2 }", "string_match: { exact: v2, ignore_case: 'Yes' }"]), accept: true, engine: (c) => (eRoute(c, 0).match.headers[0].match as { ignoreCase: boolean }).ignoreCase, envoy: (b) => dRoute(b, 0).match.headers[0].string_match.ignore_case ?? false, want: true },
];

const readTmp = mkdtempSync(join(tmpdir(), "tollgate-config-read-"));
after(() => rmSync(readTmp, { recursive: true, force: true }));
/** Each case's bootstrap file (wasm paths relative to the repository root, as Envoy resolves them from there). */
const readFiles = READ_CASES.map((c, i) => {
  const file = join(readTmp, `case-${i}.yaml`);
  writeFileSync(file, c.edit(NOOP_TEXT));
  return { c, file };
});

/** The engine's verdict: its model, or the problems (an accepted case must have none; a refused one, Envoy's kind). */
function engineRead(file: string): { config: GatewayConfig | null; problems: string[] } {
  try {
    return { config: loadBootstrap(file, repoRoot()), problems: [] };
  } catch (e) {
    assert.ok(e instanceof BootstrapError, String(e));
    return { config: null, problems: e.problems };
  }
}

test("the engine reads each table case as Envoy 1.40 does (YAML spelling, one value for a list, bool/int strings, enum numbers)", () => {
  const wrong: string[] = [];
  for (const { c, file } of readFiles) {
    const { config, problems } = engineRead(file);
    if (c.accept) {
      if (!config) wrong.push(`${c.name}: Envoy accepts, the engine refuses: ${problems.join("; ")}`);
      else if (JSON.stringify(c.engine!(config)) !== JSON.stringify(c.want)) wrong.push(`${c.name}: the engine reads ${JSON.stringify(c.engine!(config))}, Envoy ${JSON.stringify(c.want)}`);
    } else if (config) wrong.push(`${c.name}: Envoy refuses, the engine accepts`);
    // A refusal must be Envoy's (a proto or load-time rule), not the engine's subset.
    else if (problems.some((p) => p.endsWith(UNSUPPORTED))) wrong.push(`${c.name}: refused as outside the subset, not as Envoy refuses it: ${problems.join("; ")}`);
  }
  assert.deepEqual(wrong, []);
});

function envoyValidate(bin: string, file: string): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    execFile(bin, ["--mode", "validate", "-c", file, "--disable-hot-restart", "-l", "error"], { cwd: repoRoot(), timeout: 60_000 }, (err, stdout, stderr) => resolve({ ok: !err, output: `${stdout}${stderr}`.trim() }));
  });
}

/** Runs Envoy on `file` and returns the bootstrap from its admin /config_dump (the config as Envoy parsed it). */
async function envoyDump(found: FoundEnvoy, file: string): Promise<Doc> {
  const lines: string[] = [];
  const running = await launchEnvoy(found, file, {
    hasAdmin: true,
    cwd: repoRoot(),
    onLine: (l) => lines.push(l),
    extraArgs: ["--concurrency", "1", "-l", "error"],
    env: { ...process.env, ENVOY_VERSION: process.env.ENVOY_VERSION ?? "1.40.0" },
    readyTimeoutMs: 60_000,
  }).catch((e: Error) => {
    throw new Error(`${e.message}\n${lines.slice(-10).join("\n")}`);
  });
  try {
    const dump = (await (await fetch(`${running.adminUrl}/config_dump`)).json()) as { configs: Doc[] };
    return dump.configs.find((c) => String(c["@type"]).endsWith(".BootstrapConfigDump")).bootstrap;
  } finally {
    await running.stop();
  }
}

test("Envoy 1.40 agrees with the table: `--mode validate` verdicts, and /config_dump values of a running Envoy", async (t) => {
  const found = requireEnvoy(t);
  if (!found) return;
  const bin = envoyBinary(found);
  // Envoy opens the module the file names.
  await compileAssemblyScript(join(pluginDir("noop"), "index.ts"), pluginWasm("noop"), "release");
  const problems: string[] = [];
  // Two at a time (two cores).
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < readFiles.length) {
      const { c, file } = readFiles[next++];
      const v = await envoyValidate(bin, file);
      if (v.ok !== c.accept) {
        problems.push(`${c.name}: Envoy ${v.ok ? "accepts" : "refuses"}, the table says ${c.accept ? "accept" : "refuse"}: ${v.output.split("\n").slice(-2).join(" ")}`);
        continue;
      }
      if (!c.accept) continue;
      const read = c.envoy!(await envoyDump(found, file));
      if (JSON.stringify(read) !== JSON.stringify(c.want)) problems.push(`${c.name}: Envoy reads ${JSON.stringify(read)}, the table says ${JSON.stringify(c.want)}`);
    }
  };
  await Promise.all([worker(), worker()]);
  assert.deepEqual(problems, []);
});
