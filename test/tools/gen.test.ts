// tollgate gen: every kind for every plugin (plugins/*/plugin.json, each example config), validated against the
// official CRDs (tools/k8s/crds) and the Envoy v3 protos; plus the validators themselves must reject bad output.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { WasmPlugin } from "@kubernetes-models/istio/extensions.istio.io/v1alpha1";
import { EnvoyFilter } from "@kubernetes-models/istio/networking.istio.io/v1alpha3";
import { VirtualService, DestinationRule } from "@kubernetes-models/istio/networking.istio.io/v1beta1";
import { allCelRules, CEL_RULES, parseDuration, validateK8sObject } from "../../tools/k8s/crd.ts";
import { checkBootstrap, checkEnvoyRoutes, checkK8sObject } from "../../tools/k8s/check.ts";
import { GenError } from "../../tools/k8s/errors.ts";
import { envoyBootstrap, envoyFilters, higressPlugins, toHigressConfig, wasmPlugins, type Obj, type PluginInput } from "../../tools/k8s/generate.ts";
import { parseEnvoyYaml } from "../../tools/envoy/yaml.ts";
import { envoyCanaryRoutes, istioCanaryRoutes } from "../../tools/k8s/canary-routes.ts";
import { loadPluginMeta, pluginNames } from "../../tools/plugins/index.ts";
import { repoRoot } from "../../tools/paths.ts";
import { parseBootstrap } from "../../tools/gateway/config.ts";

const SHA = "0123456789abcdef".repeat(4);
const plugins = pluginNames();

function inputs(name: string): PluginInput[] {
  const meta = loadPluginMeta(name);
  return meta.examples.map((ex) => ({ meta, config: ex.config, url: `oci://ghcr.io/acme/${name}:${meta.version}`, sha256: SHA }));
}

function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(repoRoot(), "tools/cli/main.ts"), ...args], { cwd: repoRoot(), encoding: "utf8", timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Higress' convertIstioWasmPlugin (deploy.md §2.2): what the plugin will receive from a Higress WasmPlugin. */
function higressToPluginJson(spec: Obj): Obj | null {
  if (spec.pluginConfig) return spec.pluginConfig as Obj;
  const out: Obj = spec.defaultConfigDisable ? {} : { ...((spec.defaultConfig as Obj) ?? {}) };
  const rules: Obj[] = [];
  for (const r of (spec.matchRules ?? []) as Obj[]) {
    if (r.configDisable) continue;
    const o: Obj = { ...((r.config as Obj) ?? {}) };
    if (r.ingress) o._match_route_ = r.ingress;
    if (r.service) o._match_service_ = r.service;
    if (r.domain) o._match_domain_ = r.domain;
    if (!r.ingress && !r.service && !r.domain) throw new Error("invalid match rule has no match condition");
    rules.push(o);
  }
  if (rules.length) out._rules_ = rules;
  return out;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v as Obj).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, sortKeys(x)]));
  return v;
}

test("plugins with plugin.json exist (noop at least)", () => {
  assert.ok(plugins.includes("noop"), plugins.join(","));
});

describe("every kind for every plugin and example validates", () => {
  for (const name of plugins) {
    test(name, () => {
      for (const [i, input] of inputs(name).entries()) {
        const where = `${name} example ${i}`;
        const wp = wasmPlugins([input], { namespace: "istio-system", selector: { app: "gateway" }, failStrategy: "FAIL_CLOSE", imagePullPolicy: "IfNotPresent" });
        assert.equal(wp.length, 1);
        assert.deepEqual(checkK8sObject(wp[0]), [], where);
        const spec = wp[0].spec as Obj;
        assert.equal(spec.pluginName, name);
        assert.equal(spec.phase, input.meta.phase);
        assert.equal(spec.priority, input.meta.priority);
        if (Object.keys(input.config!).length) assert.deepEqual(spec.pluginConfig, input.config);
        else assert.equal(spec.pluginConfig, undefined);
        new WasmPlugin(wp[0] as never).validate();

        const gw = wasmPlugins([input], { targetRefs: [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "edge" }] });
        assert.deepEqual(checkK8sObject(gw[0]), [], where);

        const hg = higressPlugins([input], {});
        assert.deepEqual(checkK8sObject(hg[0]), [], where);
        assert.equal((hg[0].metadata as Obj).namespace, "higress-system");
        // Round trip through Higress' conversion gives the plugin exactly the validated JSON.
        assert.deepEqual(sortKeys(higressToPluginJson(hg[0].spec as Obj)), sortKeys(input.config), where);

        for (const url of [`file:///etc/istio/extensions/${name}.wasm`, `https://artifacts.example.com/${name}.wasm`]) {
          const ef = envoyFilters([{ ...input, url }], { context: "GATEWAY", selector: { istio: "ingressgateway" }, failStrategy: "FAIL_OPEN" });
          assert.deepEqual(checkK8sObject(ef[0]), [], `${where} ${url}`);
          new EnvoyFilter(ef[0] as never).validate();
          const patches = (ef[0].spec as Obj).configPatches as Obj[];
          const filter = (patches.at(-1)!.patch as Obj).value as Obj;
          const cfg = ((filter.typed_config as Obj).config as Obj);
          assert.equal(cfg.root_id, name);
          if (Object.keys(input.config!).length) assert.deepEqual(JSON.parse((cfg.configuration as Obj).value as string), input.config);
          assert.equal(patches.length, url.startsWith("https") ? 2 : 1);
        }

        const boot = envoyBootstrap([input], { upstream: { host: "127.0.0.1", port: 8080 }, listen: { host: "127.0.0.1", port: 10000 }, admin: { host: "127.0.0.1", port: 9901 }, wasmFile: (n) => `dist/plugins/${n}.wasm` });
        assert.deepEqual(checkBootstrap(boot), [], where);
      }
    });
  }
});

test("several plugins: one document each, in Istio's chain order (phase, then priority descending)", () => {
  const all = plugins.map((n) => inputs(n)[0]);
  const docs = wasmPlugins(all, {});
  assert.equal(docs.length, all.length);
  const rank = ["AUTHN", "AUTHZ", "STATS", "UNSPECIFIED_PHASE"];
  const keys = docs.map((d) => [rank.indexOf((d.spec as Obj).phase as string), -((d.spec as Obj).priority as number)]);
  for (let i = 1; i < keys.length; i++) assert.ok(keys[i - 1][0] < keys[i][0] || (keys[i - 1][0] === keys[i][0] && keys[i - 1][1] <= keys[i][1]), JSON.stringify(keys));
  const boot = envoyBootstrap(all, { upstream: { host: "upstream.local", port: 80 }, listen: { host: "0.0.0.0", port: 10000 }, admin: null, wasmFile: (n) => `/wasm/${n}.wasm` });
  assert.deepEqual(checkBootstrap(boot), []);
  const hcm = ((((boot.static_resources as Obj).listeners as Obj[])[0].filter_chains as Obj[])[0].filters as Obj[])[0].typed_config as Obj;
  const names = (hcm.http_filters as Obj[]).map((f) => f.name);
  assert.deepEqual(names, [...docs.map((d) => (d.metadata as Obj).name), "envoy.filters.http.router"]);
  // The embedded engine reads the same bootstrap (wasm paths resolve against the repository root).
  const local = envoyBootstrap(all, { upstream: { host: "127.0.0.1", port: 18081 }, listen: { host: "127.0.0.1", port: 10000 }, admin: { host: "127.0.0.1", port: 9901 }, wasmFile: (n) => `dist/plugins/${n}.wasm` });
  const parsed = parseBootstrap(local, "generated", repoRoot());
  assert.equal(parsed.listeners.length, 1);
  assert.deepEqual([...parsed.clusters.keys()], ["upstream"]);
  const efs = envoyFilters(all.map((i) => ({ ...i, url: `file:///wasm/${i.meta.name}.wasm` })), {});
  assert.deepEqual(efs.map((e) => (e.spec as Obj).priority), efs.map((_, i) => i));
  for (const e of efs) assert.deepEqual(checkK8sObject(e), []);
});

test("--fail-strategy: Envoy outputs set failure_policy (FAIL_RELOAD included), never the deprecated fail_open; WasmPlugins keep their own schema", () => {
  const input = inputs("noop")[0];
  const wasmCfg = (boot: Obj): Obj => {
    const hcm = ((((boot.static_resources as Obj).listeners as Obj[])[0].filter_chains as Obj[])[0].filters as Obj[])[0].typed_config as Obj;
    return ((hcm.http_filters as Obj[])[0].typed_config as Obj).config as Obj;
  };
  const opts = { upstream: { host: "127.0.0.1", port: 18081 }, listen: { host: "127.0.0.1", port: 10000 }, admin: null, wasmFile: (n: string) => `dist/plugins/${n}.wasm` };
  const table = [
    [undefined, undefined, "FAIL_CLOSED"],
    ["FAIL_CLOSE", "FAIL_CLOSED", "FAIL_CLOSED"],
    ["FAIL_OPEN", "FAIL_OPEN", "FAIL_OPEN"],
    ["FAIL_RELOAD", "FAIL_RELOAD", "FAIL_RELOAD"],
  ] as const;
  for (const [strategy, policy, engine] of table) {
    const boot = envoyBootstrap([input], { ...opts, failStrategy: strategy });
    assert.deepEqual(checkBootstrap(boot), [], String(strategy));
    const cfg = wasmCfg(boot);
    assert.equal(cfg.failure_policy, policy, String(strategy));
    assert.equal("fail_open" in cfg, false, `${strategy}: no deprecated fail_open`);
    // The embedded engine reads the policy from the same bootstrap (reload_config absent: Envoy's 1 s backoff).
    const f = parseBootstrap(boot, "generated", repoRoot()).listeners[0].filters[0];
    assert.deepEqual([f.failurePolicy, f.failOpen], [engine, false], String(strategy));

    const ef = envoyFilters([{ ...input, url: "file:///wasm/noop.wasm" }], { failStrategy: strategy });
    assert.deepEqual(checkK8sObject(ef[0]), [], String(strategy));
    const efCfg = ((((ef[0].spec as Obj).configPatches as Obj[]).at(-1)!.patch as Obj).value as Obj).typed_config as Obj;
    assert.equal((efCfg.config as Obj).failure_policy, policy);
    assert.equal("fail_open" in (efCfg.config as Obj), false);

    const wp = wasmPlugins([input], { failStrategy: strategy });
    assert.deepEqual(checkK8sObject(wp[0]), [], String(strategy));
    assert.equal((wp[0].spec as Obj).failStrategy, strategy, "Istio's WasmPlugin names (FAIL_CLOSE, not FAIL_CLOSED)");
  }
  // Higress' WasmPlugin CRD has FAIL_CLOSE and FAIL_OPEN only.
  assert.deepEqual(checkK8sObject(higressPlugins([input], { failStrategy: "FAIL_OPEN" })[0]), []);
  assert.throws(() => higressPlugins([input], { failStrategy: "FAIL_RELOAD" }), (e: Error) => e instanceof GenError && /FAIL_CLOSE or FAIL_OPEN only/.test(e.message));
});

test("Higress mapping: global keys → defaultConfig, _rules_ → matchRules; _match_route_prefix_ passes through", () => {
  const cfg = { a: 1, _rules_: [{ _match_route_: ["ns/ing"], b: 2 }, { _match_domain_: ["*.example.com"], _match_service_: ["svc.ns.svc.cluster.local"], c: 3 }] };
  assert.deepEqual(toHigressConfig("x", cfg), {
    defaultConfig: { a: 1 },
    matchRules: [{ ingress: ["ns/ing"], config: { b: 2 } }, { domain: ["*.example.com"], service: ["svc.ns.svc.cluster.local"], config: { c: 3 } }],
  });
  assert.deepEqual(toHigressConfig("x", { _rules_: [{ _match_domain_: ["a.com"], z: 1 }] }), { matchRules: [{ domain: ["a.com"], config: { z: 1 } }] });
  const prefix = { _rules_: [{ _match_route_prefix_: ["/api"], z: 1 }] };
  assert.deepEqual(toHigressConfig("x", prefix), { pluginConfig: prefix });
  assert.deepEqual(toHigressConfig("x", {}), {});
});

describe("the CRD checker rejects what the API server would", () => {
  const base = () => ({ apiVersion: "extensions.istio.io/v1alpha1", kind: "WasmPlugin", metadata: { name: "cors", namespace: "istio-system" }, spec: { url: "oci://ghcr.io/acme/cors:1" } as Obj });
  test("a minimal WasmPlugin is valid", () => assert.deepEqual(validateK8sObject(base()), []));
  const cases: Array<[string, (o: ReturnType<typeof base>) => void, RegExp]> = [
    ["unknown field", (o) => (o.spec.bogus = 1), /spec: unknown field 'bogus'/],
    ["sha256 with prefix", (o) => (o.spec.sha256 = `sha256:${SHA}`), /spec\.sha256: must match pattern/],
    ["bad phase", (o) => (o.spec.phase = "AUTH"), /spec\.phase: must be equal to one of the allowed values/],
    ["priority not int32", (o) => (o.spec.priority = 2 ** 40), /spec\.priority: must match format "int32"/],
    ["selector and targetRefs (CEL)", (o) => Object.assign(o.spec, { selector: { matchLabels: { a: "b" } }, targetRefs: [{ kind: "Gateway", name: "g" }] }), /only one of targetRefs or selector can be set/],
    ["wildcard label (CEL)", (o) => (o.spec.selector = { matchLabels: { app: "*" } }), /wildcard not allowed in label value match/],
    ["url scheme (CEL)", (o) => (o.spec.url = "ftp://x/y.wasm"), /url must have schema one of/],
    ["url with a bare host:port (CEL, as Go parses it)", (o) => (o.spec.url = "localhost:5000/x:1"), /url must have schema one of/],
    ["cross-namespace targetRef (CEL)", (o) => (o.spec.targetRefs = [{ kind: "Gateway", name: "g", namespace: "other" }]), /cross namespace referencing/],
    ["missing url", (o) => delete o.spec.url, /spec: must have required property 'url'/],
    ["bad name", (o) => (o.metadata.name = "Cors_1"), /metadata\.name: 'Cors_1' must be a lowercase RFC 1123 subdomain/],
    ["env value with HOST (CEL)", (o) => (o.spec.vmConfig = { env: [{ name: "A", valueFrom: "HOST", value: "x" }] }), /value may only be set when valueFrom is INLINE/],
  ];
  for (const [what, mutate, re] of cases) {
    test(what, () => {
      const o = base();
      mutate(o);
      const errs = validateK8sObject(o);
      assert.ok(errs.some((e) => re.test(e)), errs.join("\n") || "(no errors)");
    });
  }
  test("a url without scheme is oci (CEL accepts it)", () => {
    const o = base();
    o.spec.url = "ghcr.io/acme/cors:1";
    assert.deepEqual(validateK8sObject(o), []);
  });
  test("EnvoyFilter: the Envoy config inside is checked against the protos", () => {
    const ef = envoyFilters([{ ...inputs("noop")[0], url: "file:///x.wasm" }], {});
    ((((ef[0].spec as Obj).configPatches as Obj[])[0].patch as Obj).value as Obj).typed_config = { "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm", config: { vm_config: { bogus: 1 } } };
    assert.match(checkK8sObject(ef[0]).join("\n"), /unknown field 'bogus'/);
  });
  test("VirtualService durations (CEL)", () => {
    const vs = { apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name: "r" }, spec: { hosts: ["r"], http: [{ timeout: "0.5ms", route: [{ destination: { host: "r" } }] }] } };
    assert.match(validateK8sObject(vs).join("\n"), /spec\.http\[0\]\.timeout: must be a valid duration greater than 1ms/);
    vs.spec.http[0].timeout = "1.5s";
    assert.deepEqual(validateK8sObject(vs), []);
  });
  test("unknown apiVersion/kind", () => {
    assert.match(validateK8sObject({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" } }).join(), /no bundled CRD/);
  });
  test("every CEL rule in the bundled CRDs is implemented", () => {
    assert.deepEqual(allCelRules().filter((r) => !CEL_RULES[r]), []);
  });
  test("durations parse like CEL/Go", () => {
    assert.equal(parseDuration("1ms"), 1e6);
    assert.equal(parseDuration("1h2m3.5s"), 3723.5e9);
    assert.equal(parseDuration("0"), 0);
    assert.equal(parseDuration("10"), null);
    assert.equal(parseDuration("1x"), null);
  });
});

const configs: Obj[] = plugins.includes("canary") ? loadPluginMeta("canary").examples.map((e) => e.config) : [];
configs.push({ tag_header: "x-version", rules: [{ match: { all: [{ type: "header", key: "x-beta", op: "present" }] }, tag: "beta" }], weights: [{ tag: "v2", weight: 10 }] });

describe("canary-routes", () => {
  test("Istio VirtualService + DestinationRule validate for every config; Envoy routes validate", () => {
    for (const config of configs) {
      const docs = istioCanaryRoutes({ config, service: "reviews.default.svc.cluster.local", stable: "v1", canary: "v2", namespace: "default", gateways: ["mesh"] });
      assert.equal(docs.length, 2);
      for (const d of docs) assert.deepEqual(checkK8sObject(d), [], JSON.stringify(config));
      new VirtualService({ ...docs[0], apiVersion: "networking.istio.io/v1beta1" } as never).validate();
      new DestinationRule({ ...docs[1], apiVersion: "networking.istio.io/v1beta1" } as never).validate();
      const routes = envoyCanaryRoutes({ config, service: "reviews", stable: "v1", canary: "v2", clusterFor: (t) => `reviews-${t}` });
      assert.deepEqual(checkEnvoyRoutes(routes), []);
      // One name for every entry, so the tag header cannot pick route-scoped rules (test/security/steering).
      assert.ok(routes.every((r) => r.name === "reviews"));
    }
  });
  test("header match on tag_header → subset; stable last; subsets by version label", () => {
    const config = configs.at(-1)!;
    const [vs, dr] = istioCanaryRoutes({ config, service: "reviews", stable: "v1", canary: "v2" });
    const http = (vs.spec as Obj).http as Obj[];
    assert.deepEqual(http.map((h) => h.name), ["reviews", "reviews", "reviews"]);
    assert.deepEqual(http[0].match, [{ headers: { "x-version": { exact: "v2" } } }]);
    assert.deepEqual(http[1].route, [{ destination: { host: "reviews", subset: "beta" } }]);
    assert.equal(http[2].match, undefined);
    assert.deepEqual((dr.spec as Obj).subsets, [{ name: "v1", labels: { version: "v1" } }, { name: "v2", labels: { version: "v2" } }, { name: "beta", labels: { version: "beta" } }]);
    const routes = envoyCanaryRoutes({ config: {}, service: "r", stable: "v1", canary: "v2", clusterFor: (t) => (t === "v1" ? "stable" : "canary") });
    assert.equal(envoyCanaryRoutes({ config: {}, service: "r", stable: "v1", canary: "v2", routeName: "shop", clusterFor: (t) => t })[1].name, "shop");
    assert.throws(() => envoyCanaryRoutes({ config: {}, service: "r", stable: "v1", canary: "v2", routeName: "Bad Name", clusterFor: (t) => t }), /--route-name/);
    assert.deepEqual(routes[0], { name: "r", match: { prefix: "/", headers: [{ name: "x-canary-version", string_match: { exact: "v2" } }] }, route: { cluster: "canary" } });
  });
});

describe("the gen command", () => {
  const tmp = mkdtempSync(join(tmpdir(), "tollgate-gen-"));
  test("wasmplugin for several plugins prints ordered documents; -o writes the file", () => {
    const withCfg = plugins.filter((p) => p !== "noop").slice(0, 2);
    const args = ["gen", "wasmplugin", "noop", ...withCfg, "--url", "oci://ghcr.io/acme/{name}:{version}", "-n", "istio-system"];
    for (const p of withCfg) {
      const f = join(tmp, `${p}.json`);
      writeFileSync(f, JSON.stringify(loadPluginMeta(p).examples[0].config));
      args.push("--config", `${p}=${f}`);
    }
    const r = cli(args);
    assert.equal(r.code, 0, r.stderr);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as Obj);
    assert.equal(docs.length, 1 + withCfg.length);
    for (const d of docs) {
      assert.deepEqual(checkK8sObject(d), []);
      assert.equal((d.spec as Obj).url, `oci://ghcr.io/acme/${(d.metadata as Obj).name}:${loadPluginMeta(String((d.metadata as Obj).name)).version}`);
    }
    const out = join(tmp, "out.yaml");
    const r2 = cli([...args, "-o", out]);
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal(r2.stdout, "");
  });
  test("strings a YAML 1.1 reader would take for bools are quoted (Envoy, Kubernetes: a plain `on` or `yes` is true)", () => {
    const r = cli(["gen", "wasmplugin", "noop", "--url", "oci://a.io/b:1", "-n", "on", "--selector", "app=yes", "--selector", "y=n"]);
    assert.equal(r.code, 0, r.stderr);
    const d = parseEnvoyYaml(r.stdout) as Obj;
    assert.deepEqual([(d.metadata as Obj).namespace, ((d.spec as Obj).selector as Obj).matchLabels], ["on", { app: "yes", y: "n" }], r.stdout);
  });
  test("errors name the file, the field and the fix", () => {
    const target = plugins.find((p) => p !== "noop");
    if (target) {
      const f = join(tmp, "bad.json");
      writeFileSync(f, JSON.stringify({ definitely_not_a_field: 1 }));
      const r = cli(["gen", "wasmplugin", target, "--url", "oci://a.io/b:1", "--config", f]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`${f.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: not a valid ${target} config`));
      assert.match(r.stderr, /fix: /);
    }
    const amb = cli(["gen", "wasmplugin", "noop", ...plugins.filter((p) => p !== "noop").slice(0, 1), "--url", "oci://a.io/b:1", "--config", "x.json"]);
    if (plugins.length > 1) {
      assert.equal(amb.code, 2);
      assert.match(amb.stderr, /ambiguous[\s\S]*fix: write --config <plugin>=<value>/);
    }
    const sha = cli(["gen", "wasmplugin", "noop", "--url", "oci://a.io/b:1", "--sha256", "xyz"]);
    assert.equal(sha.code, 2);
    assert.match(sha.stderr, /--sha256 for 'noop' must be 64 lowercase hex/);
    const oci = cli(["gen", "envoyfilter", "noop", "--url", "oci://a.io/b:1"]);
    assert.equal(oci.code, 2);
    assert.match(oci.stderr, /fix: use 'tollgate gen wasmplugin' for oci:\/\//);
  });
  test("envoy bootstrap and canary-routes --format envoy", () => {
    const r = cli(["gen", "envoy", "noop", "--upstream", "127.0.0.1:18081"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(checkBootstrap(parseAllDocuments(r.stdout)[0].toJS()), []);
    for (const s of ["FAIL_RELOAD", "FAIL_OPEN"]) {
      for (const kind of [["envoy", "--upstream", "127.0.0.1:18081"], ["envoyfilter", "--url", "file:///wasm/noop.wasm"]]) {
        const f = cli(["gen", ...kind.slice(0, 1), "noop", ...kind.slice(1), "--fail-strategy", s]);
        assert.equal(f.code, 0, `${kind[0]} ${s}: ${f.stderr}`);
        assert.match(f.stdout, new RegExp(`failure_policy: ${s}\n`), `${kind[0]} ${s}`);
        assert.doesNotMatch(f.stdout, /fail_open/, `${kind[0]} ${s}`);
      }
    }
    const f = join(tmp, "canary.json");
    writeFileSync(f, JSON.stringify(configs[0]));
    const c = cli(["gen", "canary-routes", "--config", f, "--service", "reviews", "--format", "envoy"]);
    assert.equal(c.code, 0, c.stderr);
    assert.deepEqual(checkEnvoyRoutes(parseAllDocuments(c.stdout)[0].toJS()), []);
    const i = cli(["gen", "canary-routes", "--config", f, "--service", "reviews.default.svc.cluster.local", "--stable", "v1", "--canary", "v2"]);
    assert.equal(i.code, 0, i.stderr);
    assert.deepEqual(parseAllDocuments(i.stdout).map((d) => (d.toJS() as Obj).kind), ["VirtualService", "DestinationRule"]);
    rmSync(tmp, { recursive: true, force: true });
  });
});
