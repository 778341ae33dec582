// Operator safety in generated manifests (issue 18 item 7): WasmPlugin match / vmConfig.env, the placement and
// FAIL_OPEN warnings, the networking.istio.io version for older Istio, canary-routes' external hosts through a
// gateway, and `gen envoy` writing the canary routes itself — that bootstrap served on both engines.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { get } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { parse, parseAllDocuments } from "yaml";
import { buildPlugins } from "../../tools/build/plugins.ts";
import { startEcho, type EchoServer } from "../../tools/demo/echo.ts";
import { loadPluginMeta } from "../../tools/plugins/index.ts";
import { repoRoot } from "../../tools/paths.ts";
import { ENGINES, startEngine } from "../helpers/engines.ts";
import { requireEnvoy } from "../helpers/envoy.ts";

const root = repoRoot();
const tmp = mkdtempSync(join(tmpdir(), "tollgate-gen-operator-"));
const echoes: EchoServer[] = [];
after(async () => {
  await Promise.all(echoes.map((e) => e.close()));
  rmSync(tmp, { recursive: true, force: true });
});

function gen(args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(root, "tools/cli/main.ts"), "gen", ...args], { cwd: root, encoding: "utf8", timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

const canary = (() => {
  const ex = loadPluginMeta("canary").examples.find((e) => JSON.stringify(e.config).includes("x-beta"));
  assert.ok(ex, "canary has an x-beta header example");
  return ex.config;
})();
const canaryFile = join(tmp, "canary.json");
const authFile = join(tmp, "auth.json");

before(async () => {
  await buildPlugins(["noop", "canary", "auth"]);
  writeFileSync(canaryFile, JSON.stringify(canary));
  const auth = loadPluginMeta("auth").examples[0].config;
  writeFileSync(authFile, JSON.stringify(auth));
});

test("wasmplugin --match-mode/--match-port/--vm-env/--vm-env-host: spec.match and spec.vmConfig.env, CRD-valid", () => {
  const r = gen(["wasmplugin", "noop", "--url", "oci://ghcr.io/acme/noop:1", "--selector", "app=api", "--match-mode", "SERVER", "--match-port", "8080", "--match-port", "9090", "--vm-env", "REGION=eu-1", "--vm-env-host", "POD_NAME"]);
  assert.equal(r.code, 0, r.err);
  const spec = parse(r.out).spec;
  assert.deepEqual(spec.match, [{ mode: "SERVER", ports: [{ number: 8080 }, { number: 9090 }] }]);
  assert.deepEqual(spec.vmConfig, { env: [{ name: "REGION", value: "eu-1" }, { name: "POD_NAME", valueFrom: "HOST" }] });
  assert.doesNotMatch(r.err, /warning: the WasmPlugins have no --selector/);
  const bad = [
    [["--match-mode", "BOTH"], /--match-mode must be one of UNDEFINED, CLIENT, SERVER, CLIENT_AND_SERVER/],
    [["--match-port", "0"], /--match-port must be a port 1-65535/],
    [["--vm-env", "REGION"], /--vm-env 'REGION' must be NAME=value/],
    [["--vm-env-host", "1X"], /must be an environment variable name/],
  ] as const;
  for (const [extra, re] of bad) {
    const b = gen(["wasmplugin", "noop", "--url", "oci://x/noop:1", "--selector", "app=a", ...extra]);
    assert.equal(b.code, 2, `${extra.join(" ")}: ${b.err}`);
    assert.match(b.err, re);
  }
  const wrongKind = gen(["envoyfilter", "noop", "--url", "file:///w/noop.wasm", "--match-mode", "SERVER"]);
  assert.equal(wrongKind.code, 2);
  assert.match(wrongKind.err, /Istio WasmPlugin fields \(gen wasmplugin\), not envoyfilter/);
});

test("warnings: namespace-wide, mesh-wide (istio-system), no namespace; FAIL_OPEN on an AUTHN plugin", () => {
  const cases: Array<[string[], RegExp]> = [
    [["-n", "shop"], /warning: the WasmPlugins have no --selector or --target-ref: it applies to every workload in namespace shop/],
    [["-n", "istio-system"], /Istio's root namespace: it applies to every workload in the MESH/],
    [[], /no --namespace: it lands in kubectl's current namespace/],
  ];
  for (const [extra, re] of cases) {
    const r = gen(["wasmplugin", "noop", "--url", "oci://x/noop:1", ...extra]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, re);
    assert.match(r.out, /kind: WasmPlugin/, "the manifest still prints");
  }
  const ef = gen(["envoyfilter", "noop", "--url", "file:///w/noop.wasm", "-n", "shop"]);
  assert.match(ef.err, /the EnvoyFilters have no --selector or --target-ref: it applies to every workload in namespace shop/);
  const tr = gen(["wasmplugin", "noop", "--url", "oci://x/noop:1", "--target-ref", "Gateway/public", "-n", "shop"]);
  assert.doesNotMatch(tr.err, /no --selector/);

  const open = gen(["wasmplugin", "auth", "--config", authFile, "--url", "oci://x/auth:1", "--selector", "app=a", "--fail-strategy", "FAIL_OPEN"]);
  assert.equal(open.code, 0, open.err);
  assert.match(open.err, /warning: --fail-strategy FAIL_OPEN on auth \(phase AUTHN\): when its VM fails or its module cannot be fetched, requests pass WITHOUT authentication/);
  const envoy = gen(["envoy", "auth", "--config", authFile, "--upstream", "127.0.0.1:8080", "--fail-strategy", "FAIL_OPEN"]);
  assert.match(envoy.err, /FAIL_OPEN on auth/);
  const closed = gen(["wasmplugin", "auth", "--config", authFile, "--url", "oci://x/auth:1", "--selector", "app=a"]);
  assert.doesNotMatch(closed.err, /FAIL_OPEN/);
  const noopOpen = gen(["wasmplugin", "noop", "--url", "oci://x/noop:1", "--selector", "app=a", "--fail-strategy", "FAIL_OPEN"]);
  assert.doesNotMatch(noopOpen.err, /FAIL_OPEN on/);
});

test("canary-routes: --gateway takes the external --host names; --networking-version for older Istio, checked against that CRD version", () => {
  const svc = "reviews.default.svc.cluster.local";
  const missing = gen(["canary-routes", "--config", canaryFile, "--service", svc, "--gateway", "istio-system/public"]);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /pass the external host names clients use with --host/);
  const meshOnly = gen(["canary-routes", "--config", canaryFile, "--service", svc, "--gateway", "mesh"]);
  assert.equal(meshOnly.code, 0, meshOnly.err);
  for (const version of ["v1", "v1beta1", "v1alpha3"]) {
    const r = gen(["canary-routes", "--config", canaryFile, "--service", svc, "--gateway", "istio-system/public", "--gateway", "mesh", "--host", "reviews.example.com", "--host", svc, "--networking-version", version]);
    assert.equal(r.code, 0, r.err);
    const [vs, dr] = parseAllDocuments(r.out).map((d) => d.toJS());
    assert.equal(vs.apiVersion, `networking.istio.io/${version}`);
    assert.equal(dr.apiVersion, `networking.istio.io/${version}`);
    assert.deepEqual(vs.spec.hosts, ["reviews.example.com", svc]);
    assert.deepEqual(vs.spec.gateways, ["istio-system/public", "mesh"]);
    // Routes still go to the in-mesh service's subsets.
    assert.equal(vs.spec.http[0].route[0].destination.host, svc);
  }
  const bad = gen(["canary-routes", "--config", canaryFile, "--service", svc, "--networking-version", "v2"]);
  assert.equal(bad.code, 2);
  const ef = gen(["envoyfilter", "noop", "--url", "file:///w/noop.wasm", "--selector", "app=a", "--networking-version", "v1beta1"]);
  assert.equal(ef.code, 0, ef.err);
  assert.match(ef.out, /^apiVersion: networking.istio.io\/v1alpha3$/m, "EnvoyFilter exists only as v1alpha3");
});

test("gen envoy canary: refuses tags without an upstream, and needs the canary plugin for tagged upstreams", () => {
  const r = gen(["envoy", "canary", "--config", canaryFile, "--upstream", "v1=127.0.0.1:8081"]);
  assert.equal(r.code, 2);
  assert.match(r.err, /no --upstream for tag v2/);
  const n = gen(["envoy", "noop", "--upstream", "v1=127.0.0.1:8081", "--upstream", "v2=127.0.0.1:8082"]);
  assert.equal(n.code, 2);
  assert.match(n.err, /routes on the canary plugin's tag: add canary/);
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

function httpGet(port: number, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get({ host: "127.0.0.1", port, path: "/", headers, timeout: 10_000 }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

for (const engine of ENGINES) {
  test(`gen envoy canary --upstream v1=… --upstream v2=…: the tag routes to its upstream on ${engine}`, { timeout: 120_000 }, async (t) => {
    const envoy = engine === "envoy" ? requireEnvoy(t) : null;
    if (engine === "envoy" && !envoy) return;
    const [stable, beta] = [await startEcho({ name: "stable", port: 0 }), await startEcho({ name: "beta", port: 0 })];
    echoes.push(stable, beta);
    const r = gen(["envoy", "canary", "--config", canaryFile, "--upstream", `v1=127.0.0.1:${stable.port}`, "--upstream", `v2=127.0.0.1:${beta.port}`, "--listen", `127.0.0.1:${await freePort()}`, "--admin", `127.0.0.1:${await freePort()}`]);
    assert.equal(r.code, 0, r.err);
    const h = await startEngine(engine, r.out, envoy);
    try {
      const port = h.port("tollgate");
      const plain = await httpGet(port, {});
      assert.equal(plain.status, 200);
      assert.equal(JSON.parse(plain.body).upstream, "stable");
      const tester = await httpGet(port, { "x-beta": "true" });
      assert.equal(tester.status, 200);
      assert.equal(JSON.parse(tester.body).upstream, "beta");
      // A client-sent tag is the plugin's to overwrite: it does not pick the version.
      const forged = await httpGet(port, { "x-canary-version": "v2" });
      assert.equal(JSON.parse(forged.body).upstream, "stable");
    } finally {
      await h.stop();
    }
  });
}
