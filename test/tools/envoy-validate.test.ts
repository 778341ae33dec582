// Envoy config validation. The proto check (tools/envoy/validate.ts, Envoy 1.40's API from
// tools/envoy/api/envoy-api.json) must accept what Envoy 1.40 accepts and reject what it rejects: every
// envoy-configs/*.yaml and what `tollgate gen envoy` produces pass both, and a table of accepted and rejected
// bootstraps gets the same verdict from both. `envoy --mode validate` runs where Envoy is installed; under
// CI=true it is required (requireEnvoy).
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test, type TestContext } from "node:test";
import { parse } from "yaml";
import { compileAssemblyScript } from "../../tools/build/compile.ts";
import { envoyBinary } from "../../tools/envoy/launcher.ts";
import { envoyApiSource, validateBootstrap, validateBootstrapFile, validateEnvoyMessage } from "../../tools/envoy/validate.ts";
import { envoyPlainScalar, parseEnvoyYaml, stringifyEnvoyYaml } from "../../tools/envoy/yaml.ts";
import { UNSUPPORTED } from "../../tools/gateway/bootstrap-fields.ts";
import { BootstrapError, loadBootstrap } from "../../tools/gateway/config.ts";
import { envoyBootstrap, type FailStrategy } from "../../tools/k8s/generate.ts";
import { loadPluginMeta, pluginNames } from "../../tools/plugins/index.ts";
import { pluginDir, pluginWasm, repoRoot } from "../../tools/paths.ts";
import { requireEnvoy } from "../helpers/envoy.ts";

const dir = join(repoRoot(), "envoy-configs");
const files = readdirSync(dir).filter((f) => f.endsWith(".yaml") || f.endsWith(".yml"));
const tmp = mkdtempSync(join(tmpdir(), "tollgate-envoy-validate-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

// `envoy --mode validate` opens the Wasm files a config names (relative to the working directory), so the
// release builds of the plugins must exist: compile them once (cached by input hash).
before(async () => {
  for (const n of pluginNames()) await compileAssemblyScript(join(pluginDir(n), "index.ts"), pluginWasm(n), "release");
});

/** `envoy --mode validate -c <file>` from the repository root: ok, and Envoy's output (at `level` and above). */
function envoyValidate(bin: string, file: string, level = "error"): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    execFile(bin, ["--mode", "validate", "-c", file, "--disable-hot-restart", "-l", level], { cwd: repoRoot(), timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ ok: !err, output: `${stdout}${stderr}`.trim() });
    });
  });
}

/** The Envoy binary, or null after a skip (outside CI without Envoy). */
function envoyBin(t: TestContext): string | null {
  const found = requireEnvoy(t);
  return found ? envoyBinary(found) : null;
}

/** Runs `fn` over `items` two at a time (the machine has two cores). */
async function pairwise<T, R>(items: T[], fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all([worker(), worker()]);
  return out;
}

test("the proto check uses Envoy 1.40's API (go-control-plane/envoy v1.40.0)", () => {
  assert.deepEqual(
    { module: envoyApiSource().module, version: envoyApiSource().version },
    { module: "github.com/envoyproxy/go-control-plane/envoy", version: "v1.40.0" },
  );
  assert.ok(envoyApiSource().files > 500, `only ${envoyApiSource().files} proto files in the dump`);
});

test("envoy-configs/ has the demo and the noop configs", () => {
  assert.ok(files.includes("demo.yaml") && files.includes("noop.yaml"), files.join(", "));
});

for (const f of files) {
  test(`envoy-configs/${f} passes the proto check`, () => {
    assert.deepEqual(validateBootstrapFile(join(dir, f)), []);
  });
}

test("every envoy-configs/*.yaml passes `envoy --mode validate`", async (t) => {
  const bin = envoyBin(t);
  if (!bin) return;
  const results = await pairwise(files, (f) => envoyValidate(bin, join("envoy-configs", f)));
  const failed = files.map((f, i) => [f, results[i]] as const).filter(([, r]) => !r.ok);
  assert.deepEqual(failed.map(([f, r]) => `${f}: ${r.output}`), []);
});

/**
 * What `tollgate gen envoy` produces, as the YAML text a user gets: every plugin with its first documented
 * example under each --fail-strategy, and noop alone via the CLI (its stdout as it is).
 */
function generatedBootstraps(): Array<[string, string]> {
  const names = pluginNames();
  const all = (failStrategy?: FailStrategy): unknown => envoyBootstrap(
    names.map((n) => {
      const meta = loadPluginMeta(n);
      return { meta, config: meta.examples[0]?.config ?? {} };
    }),
    { upstream: { host: "127.0.0.1", port: 18081 }, listen: { host: "127.0.0.1", port: 10000 }, admin: { host: "127.0.0.1", port: 9901 }, wasmFile: (n) => `dist/plugins/${n}.wasm`, failStrategy },
  );
  const cli = (...extra: string[]): string => {
    const r = spawnSync(process.execPath, ["--import", "tsx", join(repoRoot(), "tools/cli/main.ts"), "gen", "envoy", "noop", "--upstream", "127.0.0.1:18081", ...extra], { cwd: repoRoot(), encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  return [
    [`all plugins (${names.join(", ")})`, stringifyEnvoyYaml(all())],
    ...(["FAIL_CLOSE", "FAIL_OPEN", "FAIL_RELOAD"] as const).map((s): [string, string] => [`all plugins, --fail-strategy ${s}`, stringifyEnvoyYaml(all(s))]),
    ["tollgate gen envoy noop --upstream 127.0.0.1:18081", cli()],
    ["tollgate gen envoy noop --upstream 127.0.0.1:18081 --fail-strategy FAIL_RELOAD", cli("--fail-strategy", "FAIL_RELOAD")],
  ];
}

test("`tollgate gen envoy` output passes the proto check and `envoy --mode validate`, without deprecated fields", async (t) => {
  const generated = generatedBootstraps();
  const files = generated.map(([what, text], i) => {
    const file = join(tmp, `generated-${i}.yaml`);
    writeFileSync(file, text);
    assert.deepEqual(validateBootstrapFile(file), [], what);
    return file;
  });
  const bin = envoyBin(t);
  if (!bin) return;
  const results = await pairwise(files, (f) => envoyValidate(bin, f, "warning"));
  for (const [i, [what]] of generated.entries()) {
    assert.ok(results[i].ok, `${what}: ${results[i].output}`);
    // `fail_open` is deprecated in 1.40 ("Using deprecated option …"): generated configs use failure_policy.
    assert.doesNotMatch(results[i].output, /[Dd]eprecated/, `${what}: ${results[i].output}`);
  }
});

// The agreement table: each case edits envoy-configs/noop.yaml (as data, written back with YAML 1.1 quoting so
// strings stay strings under Envoy's YAML reading, or as text where the YAML spelling is the point); `accept` is
// Envoy 1.40's verdict, checked against Envoy itself where it is installed.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = any;
const NOOP = readFileSync(join(dir, "noop.yaml"), "utf8");
const hcm = (d: Doc): Doc => d.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
const wasm = (d: Doc): Doc => hcm(d).http_filters[0].typed_config.config;
const route = (d: Doc, i: number): Doc => hcm(d).route_config.virtual_hosts[0].routes[i];
const cluster = (d: Doc): Doc => d.static_resources.clusters[0];
/** A text edit of noop.yaml: `find` must occur exactly once. */
const text = (find: string, replace: string) => (t: string): string => {
  assert.equal(t.split(find).length, 2, `'${find}' must occur once in noop.yaml`);
  return t.replace(find, replace);
};
const wasmLine = (line: string): ((t: string) => string) => text("                root_id: noop\n", `                root_id: noop\n                ${line}\n`);

interface Case {
  name: string;
  accept: boolean;
  edit?: (d: Doc) => void;
  raw?: (t: string) => string;
}
const CASES: Case[] = [
  { name: "noop.yaml as it is", accept: true },
  { name: "wasm failure_policy: FAIL_OPEN", accept: true, edit: (d) => (wasm(d).failure_policy = "FAIL_OPEN") },
  { name: "wasm failure_policy: FAIL_CLOSED", accept: true, edit: (d) => (wasm(d).failure_policy = "FAIL_CLOSED") },
  { name: "wasm failure_policy: FAIL_RELOAD with reload_config backoff", accept: true, edit: (d) => Object.assign(wasm(d), { failure_policy: "FAIL_RELOAD", reload_config: { backoff: { base_interval: "1s", max_interval: "10s" } } }) },
  { name: "wasm failure_policy: UNSPECIFIED", accept: true, edit: (d) => (wasm(d).failure_policy = "UNSPECIFIED") },
  { name: "wasm allow_on_headers_stop_iteration: true", accept: true, edit: (d) => (wasm(d).allow_on_headers_stop_iteration = true) },
  { name: "wasm fail_open (deprecated in 1.40, still accepted)", accept: true, edit: (d) => (wasm(d).fail_open = true) },
  { name: "lowerCamelCase field names (rootId, vmConfig)", accept: true, edit: (d) => { const c = wasm(d); c.rootId = c.root_id; delete c.root_id; c.vmConfig = c.vm_config; delete c.vm_config; } },
  { name: "enum given as its number (cluster type 0 = STATIC)", accept: true, edit: (d) => (cluster(d).type = 0) },
  { name: "fractional duration 0.250s", accept: true, edit: (d) => (cluster(d).connect_timeout = "0.250s") },
  { name: "a single value where a list is expected (domains: '*')", accept: true, edit: (d) => (hcm(d).route_config.virtual_hosts[0].domains = "*") },
  { name: "listeners given as one object, not a list", accept: true, edit: (d) => (d.static_resources.listeners = d.static_resources.listeners[0]) },
  { name: "YAML: allow_on_headers_stop_iteration: yes (plain yes is a bool)", accept: true, raw: wasmLine("allow_on_headers_stop_iteration: yes") },
  { name: "YAML: allow_on_headers_stop_iteration: 'y' (a bool string the JSON parser takes)", accept: true, raw: wasmLine("allow_on_headers_stop_iteration: 'y'") },
  { name: "YAML: stat_prefix: 1.5 (a plain float stays a string)", accept: true, raw: text("stat_prefix: noop", "stat_prefix: 1.5") },
  { name: "YAML: port_value: '9901' (a numeric string)", accept: true, raw: text("port_value: 9901", "port_value: '9901'") },
  { name: "YAML: port_value: 1e3", accept: true, raw: text("port_value: 9901", "port_value: 1e3") },
  { name: "fail_open: true with failure_policy: UNSPECIFIED", accept: true, edit: (d) => Object.assign(wasm(d), { fail_open: true, failure_policy: "UNSPECIFIED" }) },
  { name: "fail_open: false with failure_policy: FAIL_OPEN", accept: true, edit: (d) => Object.assign(wasm(d), { fail_open: false, failure_policy: "FAIL_OPEN" }) },
  { name: "vm_config runtime left empty (Envoy's default, v8)", accept: true, edit: (d) => (wasm(d).vm_config.runtime = "") },
  { name: "fail_open: true with failure_policy: FAIL_CLOSED (only one may be set)", accept: false, edit: (d) => Object.assign(wasm(d), { fail_open: true, failure_policy: "FAIL_CLOSED" }) },
  { name: "vm_config runtime envoy.wasm.runtime.wamr (not in Envoy's official build)", accept: false, edit: (d) => (wasm(d).vm_config.runtime = "envoy.wasm.runtime.wamr") },
  { name: "vm_config runtime envoy.wasm.runtime.null with a .wasm file", accept: false, edit: (d) => (wasm(d).vm_config.runtime = "envoy.wasm.runtime.null") },
  { name: "failure_policy: FAIL_SOMETIMES (no such enum value)", accept: false, edit: (d) => (wasm(d).failure_policy = "FAIL_SOMETIMES") },
  { name: "allow_on_headers_stop_iteration: 'maybe' (not a bool)", accept: false, edit: (d) => (wasm(d).allow_on_headers_stop_iteration = "maybe") },
  { name: "YAML: allow_on_headers_stop_iteration: 'off' (quoted off is not a bool string)", accept: false, raw: wasmLine("allow_on_headers_stop_iteration: 'off'") },
  { name: "YAML: vm_id: on (plain on is a bool, not a string)", accept: false, raw: text("vm_id: noop", "vm_id: on") },
  { name: "YAML: stat_prefix: 0x10 (a plain hex integer is a number)", accept: false, raw: text("stat_prefix: noop", "stat_prefix: 0x10") },
  { name: "YAML: port_value: '9901.5' (not integral)", accept: false, raw: text("port_value: 9901", "port_value: '9901.5'") },
  { name: "unknown field inside the wasm PluginConfig", accept: false, edit: (d) => (wasm(d).failure_mode = "open") },
  { name: "unknown top-level field", accept: false, edit: (d) => (d.bogus = 1) },
  { name: "typed_config with an unknown @type", accept: false, edit: (d) => (hcm(d).http_filters[0].typed_config["@type"] = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Nope") },
  { name: "typed_config with a v2 API @type (gone from Envoy)", accept: false, edit: (d) => (hcm(d).http_filters[1].typed_config["@type"] = "type.googleapis.com/envoy.config.filter.http.router.v2.Router") },
  { name: "typed_config without @type", accept: false, edit: (d) => delete hcm(d).http_filters[0].typed_config["@type"] },
  { name: "cluster without a name", accept: false, edit: (d) => delete cluster(d).name },
  { name: "port_value 65536", accept: false, edit: (d) => (d.admin.address.socket_address.port_value = 65536) },
  { name: "connect_timeout '1 second' (not a duration)", accept: false, edit: (d) => (cluster(d).connect_timeout = "1 second") },
  { name: "connect_timeout 0s (must be > 0)", accept: false, edit: (d) => (cluster(d).connect_timeout = "0s") },
  { name: "route with both route and direct_response", accept: false, edit: (d) => (route(d, 0).direct_response = { status: 200 }) },
  { name: "route match without a path specifier", accept: false, edit: (d) => (route(d, 2).match = {}) },
  { name: "virtual host with no domains", accept: false, edit: (d) => (hcm(d).route_config.virtual_hosts[0].domains = []) },
  { name: "direct_response status 99 (must be 100-599)", accept: false, edit: (d) => (route(d, 1).direct_response.status = 99) },
];

/** The case's bootstrap as YAML text. */
function caseYaml(c: Case): string {
  if (c.raw) return c.raw(NOOP);
  const d = parse(NOOP);
  c.edit?.(d);
  return stringifyEnvoyYaml(d);
}

/** Writes each case's YAML to a file (the proto check reads files as Envoy does: tools/envoy/yaml.ts). */
function caseFiles(): Array<{ c: Case; file: string }> {
  return CASES.map((c, i) => {
    const file = join(tmp, `case-${i}.yaml`);
    writeFileSync(file, caseYaml(c));
    return { c, file };
  });
}

test("the proto check's verdicts on the agreement table (Envoy 1.40's verdicts)", () => {
  const wrong = caseFiles().map(({ c, file }) => ({ c, errors: validateBootstrapFile(file) })).filter(({ c, errors }) => (errors.length === 0) !== c.accept);
  assert.deepEqual(wrong.map(({ c, errors }) => `${c.name}: expected ${c.accept ? "accept" : "reject"}, proto check says ${errors.length ? errors.join("; ") : "ok"}`), []);
});

test("the embedded engine's reader gives the table's verdicts (a refusal for Envoy's reason, not the engine's subset)", () => {
  const wrong: string[] = [];
  for (const { c, file } of caseFiles()) {
    let problems: string[] = [];
    try {
      loadBootstrap(file, repoRoot());
    } catch (e) {
      assert.ok(e instanceof BootstrapError, String(e));
      problems = e.problems;
    }
    if (c.accept && problems.length) wrong.push(`${c.name}: Envoy accepts, the engine refuses: ${problems.join("; ")}`);
    if (!c.accept && !problems.length) wrong.push(`${c.name}: Envoy refuses, the engine accepts`);
    if (!c.accept && problems.some((p) => p.endsWith(UNSUPPORTED))) wrong.push(`${c.name}: the engine calls it unsupported, Envoy calls it invalid: ${problems.join("; ")}`);
  }
  assert.deepEqual(wrong, []);
});

test("`envoy --mode validate` and the proto check agree on the table", async (t) => {
  const bin = envoyBin(t);
  if (!bin) return;
  const results = await pairwise(caseFiles(), async ({ c, file }) => ({ c, envoy: await envoyValidate(bin, file), proto: validateBootstrapFile(file) }));
  const problems: string[] = [];
  for (const { c, envoy, proto } of results) {
    if (envoy.ok !== c.accept) problems.push(`${c.name}: Envoy ${envoy.ok ? "accepts" : "rejects"} (table says ${c.accept ? "accept" : "reject"}): ${envoy.output.split("\n").slice(-2).join(" ")}`);
    if ((proto.length === 0) !== envoy.ok) problems.push(`${c.name}: Envoy ${envoy.ok ? "accepts" : "rejects"}, the proto check ${proto.length ? `rejects: ${proto.join("; ")}` : "accepts"}`);
  }
  assert.deepEqual(problems, []);
});

test("YAML is read as Envoy reads it (tools/envoy/yaml.ts)", () => {
  const table: Array<[string, unknown]> = [
    ["yes", true], ["On", true], ["Y", true], ["off", false], ["NO", false], ["~", null], ["", null], ["Null", null],
    ["12", 12], ["-3", -3], ["0x10", 16], ["0o17", 15], ["1.5", "1.5"], ["1e3", "1e3"], ["12345678901234567890", "12345678901234567890"],
    ["2020-01-01", "2020-01-01"], ["1:20", "1:20"], ["noop", "noop"], [".inf", ".inf"],
  ];
  for (const [plain, want] of table) assert.deepEqual(envoyPlainScalar(plain), want, plain);
  assert.deepEqual(parseEnvoyYaml("a: 'yes'\nb: yes\nc: \"12\"\nd: 12\ne: |\n  on\nf: &x [on, 'on']\ng: *x\n"), {
    a: "yes", b: true, c: "12", d: 12, e: "on\n", f: [true, "on"], g: [true, "on"],
  });
  assert.throws(() => parseEnvoyYaml("a: [1, 2"), /./);
});

test("stringifyEnvoyYaml writes what Envoy reads back unchanged: strings a plain scalar would turn into bools, nulls or numbers are quoted", () => {
  const strings = ["on", "Off", "yes", "Y", "n", "NO", "true", "~", "", "null", "12", "0x10", "0o17", "1_000", "1.5", "1e3", "1:20", "noop", "*", "a\nb"];
  const value = { strings, keys: { on: 1, y: "n" }, n: 12, b: true, z: null };
  const text = stringifyEnvoyYaml(value);
  assert.deepEqual(parseEnvoyYaml(text), value, text);
  for (const s of ["on", "yes", "Y", "n", "0o17"]) assert.match(text, new RegExp(`- "${s}"\n`), `${s} is quoted`);
  assert.match(text, /- noop\n/, "an unambiguous string stays plain");
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const demo = (): any => parse(readFileSync(join(dir, "demo.yaml"), "utf8"));
const HCM = "static_resources.listeners[0].filter_chains[0].filters[0].typed_config";

test("strictness: unknown fields, unresolvable @type, wrong shapes, PGV rules, oneofs — each with its YAML path", () => {
  const cases: Array<[string, (d: ReturnType<typeof demo>) => void, string]> = [
    ["unknown top-level", (d) => (d.bogus = 1), "bogus: unknown field 'bogus' in envoy.config.bootstrap.v3.Bootstrap"],
    ["unknown nested in typed_config", (d) => (d.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.stat_prefx = "x"), `${HCM}.stat_prefx: unknown field`],
    ["unknown inside wasm config", (d) => (d.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config.config.rootid = "x"), `${HCM}.http_filters[0].typed_config.config.rootid: unknown field`],
    ["@type unknown", (d) => (d.static_resources.listeners[0].filter_chains[0].filters[0].typed_config["@type"] = "type.googleapis.com/envoy.nope.v3.Nope"), `${HCM}.@type: type envoy.nope.v3.Nope is not defined`],
    ["@type missing", (d) => delete d.static_resources.listeners[0].filter_chains[0].filters[0].typed_config["@type"], `${HCM}.@type: is required`],
    ["enum", (d) => (d.static_resources.clusters[0].type = "STATICK"), "static_resources.clusters[0].type: must be one of"],
    ["duration", (d) => (d.static_resources.clusters[0].connect_timeout = "1 second"), "static_resources.clusters[0].connect_timeout: must be a duration"],
    ["duration bound", (d) => (d.static_resources.clusters[0].connect_timeout = "0s"), "static_resources.clusters[0].connect_timeout: must be longer than 0s"],
    ["uint32 bound", (d) => (d.admin.address.socket_address.port_value = 65536), "admin.address.socket_address.port_value: must be at most 65535"],
    ["object expected", (d) => (d.admin.address = "x"), "admin.address: must be an object"],
    ["string expected", (d) => (d.static_resources.clusters[0].name = 5), "static_resources.clusters[0].name: must be a string"],
    ["required string", (d) => delete d.static_resources.clusters[0].name, "static_resources.clusters[0].name: is required"],
    ["oneof twice", (d) => (d.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[1].direct_response = { status: 200 }), "only one of 'route'"],
    ["StringValue shape", (d) => (d.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config.config.configuration.value = { a: 1 }), `${HCM}.http_filters[0].typed_config.config.configuration.value: must be a string`],
  ];
  for (const [what, mutate, want] of cases) {
    const d = demo();
    mutate(d);
    const errors = validateBootstrap(d);
    assert.ok(errors.some((e) => e.includes(want)), `${what}: wanted '${want}' in ${JSON.stringify(errors, null, 1)}`);
  }
});

test("validateEnvoyMessage checks any Envoy message by name (used for generated configs)", () => {
  const wasmFilter = {
    config: {
      name: "cors",
      root_id: "cors",
      configuration: { "@type": "type.googleapis.com/google.protobuf.StringValue", value: "{}" },
      vm_config: { vm_id: "cors", runtime: "envoy.wasm.runtime.v8", code: { local: { filename: "cors.wasm" } } },
      failure_policy: "FAIL_RELOAD",
      allow_on_headers_stop_iteration: true,
    },
  };
  assert.deepEqual(validateEnvoyMessage("envoy.extensions.filters.http.wasm.v3.Wasm", wasmFilter), []);
  assert.deepEqual(validateEnvoyMessage("type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm", wasmFilter), []);
  assert.deepEqual(validateEnvoyMessage("envoy.extensions.filters.http.wasm.v3.Wasm", { config: { vmConfig: { vmId: "x" } } }), [], "lowerCamelCase JSON names are accepted like Envoy's JSON parser does");
  assert.match(validateEnvoyMessage("envoy.extensions.filters.http.wasm.v3.Wasm", { config: { fail_open: "maybe" } })[0], /^config\.fail_open: must be true or false/);
  assert.match(validateEnvoyMessage("envoy.extensions.filters.http.wasm.v3.Wasm", { config: { failure_policy: "FAIL_SOMETIMES" } })[0], /^config\.failure_policy: must be one of .*FAIL_RELOAD/);
  assert.match(validateEnvoyMessage("envoy.Nope", {})[0], /not defined/);
});
