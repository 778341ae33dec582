// `tollgate gen from-ingress` (issue 21): the three targets from the fixtures, validated (CRDs, Envoy protos, each
// plugin's on_configure — fromIngress refuses anything that fails), every untranslated annotation on stderr with
// its Ingress, input errors naming file, field and fix; and `tollgate up --ingress` serving on both engines.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, test } from "node:test";
import { parseAllDocuments } from "yaml";
import { compileAssemblyScript } from "../../tools/build/compile.ts";
import { runIngressUp } from "../../tools/cli/up.ts";
import { fromIngress } from "../../tools/k8s/from-ingress.ts";
import { cookieRegex } from "../../tools/k8s/ingress-out.ts";
import { pluginDir, pluginWasm, repoRoot } from "../../tools/paths.ts";
import { requireEnvoy } from "../helpers/envoy.ts";

const fx = (f: string) => join("test", "fixtures", "ingress", f);
const ALL = ["cors.yaml", "canary.yaml", "ratelimit.yaml", "auth.yaml", "pattern.yaml", "source-range.yaml"].map(fx);

before(async () => {
  for (const n of ["cors", "rate-limit", "canary", "auth"]) await compileAssemblyScript(join(pluginDir(n), "index.ts"), pluginWasm(n), "release");
});

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(repoRoot(), "tools/cli/main.ts"), ...args], { cwd: repoRoot(), encoding: "utf8", timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

test("--target istio: Gateway with the TLS server, VirtualServices with routes named <namespace>/<ingress>, WasmPlugins scoped by route", async () => {
  const r = await fromIngress({ files: ALL.map((f) => join(repoRoot(), f)), target: "istio", url: "oci://registry.test/{name}:{version}" });
  const docs = r.docs as Any[];
  const gw = docs.find((d) => d.kind === "Gateway");
  assert.deepEqual(gw.spec.servers[1], { port: { number: 443, name: "https-0", protocol: "HTTPS" }, hosts: ["limited.example.com"], tls: { mode: "SIMPLE", credentialName: "limited-tls" } });
  const api = docs.find((d) => d.kind === "VirtualService" && d.spec.hosts[0] === "api.company.com");
  const users = api.spec.http.find((h: Any) => h.name === "default/users");
  assert.deepEqual(users.route.map((x: Any) => [x.destination.host, x.weight]), [["users-v1.default.svc.cluster.local", 80], ["users-v2.default.svc.cluster.local", 20]]);
  assert.deepEqual(users.match, [{ uri: { exact: "/users" } }, { uri: { prefix: "/users/" } }], "Prefix is element-wise");
  const shop = docs.find((d) => d.kind === "VirtualService" && d.spec.hosts[0] === "shop.company.com").spec.http;
  assert.deepEqual(shop.map((h: Any) => [h.name, JSON.stringify(h.match[0].headers ?? null), h.route[0].destination.host.split(".")[0]]), [
    ["default/shop", '{"x-shop-canary":{"exact":"always"}}', "shop-v2"],
    ["default/shop", '{"x-shop-canary":{"exact":"never"}}', "shop-v1"],
    ["default/shop", JSON.stringify({ cookie: { regex: cookieRegex("shop_canary", "always") } }), "shop-v2"],
    ["default/shop", JSON.stringify({ cookie: { regex: cookieRegex("shop_canary", "never") } }), "shop-v1"],
    ["default/shop", "null", "shop-v2"],
  ]);
  const re = new RegExp(cookieRegex("shop_canary", "always"));
  assert.ok(re.test("a=1; shop_canary=always") && re.test("shop_canary=always;b=2"));
  assert.ok(!re.test("xshop_canary=always") && !re.test("shop_canary=alwaysx"));
  const cors = docs.find((d) => d.kind === "WasmPlugin" && d.metadata.name === "cors");
  assert.equal(cors.spec.url, "oci://registry.test/cors:1.0.0");
  assert.deepEqual(cors.spec.pluginConfig._rules_.map((x: Any) => x._match_route_), [["default/foo", "ops/internal"], ["web/app-api"]]);
  const rl = docs.find((d) => d.kind === "WasmPlugin" && d.metadata.name === "rate-limit");
  assert.deepEqual(rl.spec.pluginConfig._rules_[0].rules[0], { name: "rpm", key: { client_ip: {} }, limit: { max_tokens: 7, tokens_per_fill: 6, fill_interval_ms: 60000 } });
  assert.equal(rl.spec.pluginConfig._rules_[0].status, 503);
  assert.ok(!docs.some((d) => d.kind === "WasmPlugin" && d.metadata.name === "canary"), "Istio routes cookie canaries itself");
  // canary-by-header-pattern: matched anywhere in the value, as ingress-nginx's ngx.re.match.
  const beta = docs.find((d) => d.kind === "VirtualService" && d.spec.hosts[0] === "beta.company.com").spec.http;
  assert.deepEqual(beta.map((h: Any) => [JSON.stringify(h.match[0].headers ?? null), h.route[0].destination.host.split(".")[0]]), [
    ['{"x-region":{"regex":".*(?:(eu|us)-west).*"}}', "app-v2"],
    ["null", "app-v1"],
  ]);
  // auth-type basic: the Secrets' checkable users as consumers, allowed per route; Authorization not forwarded.
  const auth = docs.find((d) => d.kind === "WasmPlugin" && d.metadata.name === "auth");
  assert.equal(auth.spec.phase, "AUTHN");
  assert.deepEqual(auth.spec.pluginConfig.basic_auth, { realm: "Authentication Required - admin", hide_credentials: true });
  assert.deepEqual(auth.spec.pluginConfig.consumers.map((c: Any) => c.basic[0].replace(/\{SHA\}.*/, "{SHA}…")), ["alice:{SHA}…", "bob:builder", "frank:{SHA}…"]);
  assert.deepEqual(auth.spec.pluginConfig._rules_, [{ _match_route_: ["ops/admin"], allow: ["alice", "bob"] }, { _match_route_: ["ops/reports"], allow: ["alice", "frank"] }]);
  assert.ok(r.notes.some((l) => l.startsWith("note: the auth WasmPlugin carries the Basic credentials of Secret ops/basic-auth, ops/report-users")), r.notes.join("\n"));
  // whitelist-source-range: a DENY policy for requests from outside the ranges, on the Ingress' hosts and paths only.
  const policies = docs.filter((d) => d.kind === "AuthorizationPolicy");
  assert.deepEqual(policies.map((p) => [p.metadata.name, p.metadata.namespace, p.spec]), [
    ["ops-internal-source-range", "istio-system", {
      selector: { matchLabels: { istio: "ingressgateway" } },
      action: "DENY",
      rules: [{ from: [{ source: { notRemoteIpBlocks: ["127.0.0.2/32", "10.0.0.0/8"] } }], to: [{ operation: { hosts: ["internal.example.com", "internal.example.com:*"], paths: ["/*"] } }] }],
    }],
    ["shop-limited-source-range", "istio-system", {
      selector: { matchLabels: { istio: "ingressgateway" } },
      action: "DENY",
      rules: [{ from: [{ source: { notRemoteIpBlocks: ["127.0.0.0/8"] } }], to: [{ operation: { hosts: ["limited.example.com", "limited.example.com:*"], paths: ["/*"] } }] }],
    }],
  ]);
});

test("--target higress: WasmPlugins with matchRules by ingress", async () => {
  const r = await fromIngress({ files: ALL.map((f) => join(repoRoot(), f)), target: "higress", url: "oci://registry.test/{name}:{version}" });
  const docs = r.docs as Any[];
  assert.deepEqual(docs.map((d) => [d.kind, d.metadata.name, d.metadata.namespace]), [["WasmPlugin", "cors", "higress-system"], ["WasmPlugin", "rate-limit", "higress-system"]], "Higress enforces basic auth and source ranges itself");
  assert.ok(r.notes.includes("note: Higress enforces auth-type basic of Ingress ops/admin itself from Secret ops/basic-auth (apply the Secret with the Ingress); no auth WasmPlugin is generated"), r.notes.join("\n"));
  assert.ok(r.notes.includes("note: Higress enforces whitelist-source-range of Ingress shop/limited itself (apply the Ingress unchanged); no WasmPlugin is generated"), r.notes.join("\n"));
  assert.ok(r.notes.includes("note: Higress enforces whitelist-source-range of Ingress ops/internal itself (apply the Ingress unchanged); no WasmPlugin is generated"), r.notes.join("\n"));
  assert.ok(!r.notes.some((l) => l.includes('user "carol"')), "what the auth plugin cannot check is moot on Higress");
  assert.deepEqual(docs[0].spec.matchRules.map((m: Any) => m.ingress), [["default/foo", "ops/internal"], ["web/app-api"]]);
  assert.equal(docs[0].spec.matchRules[1].config.max_age, 600);
});

test("gen from-ingress on the CLI: YAML on stdout, every untranslated annotation on stderr with its Ingress", () => {
  const r = cli("gen", "from-ingress", ...ALL, "--target", "envoy", "--upstream", "users-v1=127.0.0.1:9000");
  assert.equal(r.status, 0, r.stderr);
  const boot = parseAllDocuments(r.stdout)[0].toJS() as Any;
  const hcm = boot.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
  assert.equal(hcm.use_remote_address, true);
  assert.deepEqual(hcm.http_filters.map((f: Any) => f.name), ["cors", "envoy.filters.http.rbac", "auth", "rate-limit", "canary", "envoy.filters.http.router"]);
  const internal = hcm.route_config.virtual_hosts.find((v: Any) => v.domains[0] === "internal.example.com").routes;
  assert.deepEqual(internal.map((r: Any) => [r.name, r.typed_per_filter_config?.["envoy.filters.http.rbac"]?.rbac.rules.policies["whitelist-source-range"].principals ?? null]), [
    ["ops/internal-docs", null],
    ["ops/internal-docs", null],
    ["ops/internal", [{ remote_ip: { address_prefix: "127.0.0.2", prefix_len: 32 } }, { remote_ip: { address_prefix: "10.0.0.0", prefix_len: 8 } }]],
  ]);
  const beta = boot.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts.find((v: Any) => v.domains[0] === "beta.company.com");
  assert.deepEqual(beta.routes[0].match, { path: "/app", headers: [{ name: "x-region", string_match: { safe_regex: { regex: ".*(?:(eu|us)-west).*" } } }] });
  const users = boot.static_resources.clusters.find((c: Any) => c.name === "users-v1.default");
  assert.equal(users.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value, 9000);
  for (const line of [
    "not translated: Ingress web/app-api: nginx.ingress.kubernetes.io/rewrite-target",
    "not translated: Ingress shop/limited: nginx.ingress.kubernetes.io/proxy-body-size",
    'not translated: Ingress ops/admin: nginx.ingress.kubernetes.io/auth-secret: Secret ops/basic-auth line 4, user "carol": Apache MD5 ($apr1$, htpasswd\'s default) is not one the auth plugin checks',
    'not translated: Ingress ops/admin: nginx.ingress.kubernetes.io/auth-secret: Secret ops/basic-auth line 5, user "dave": bcrypt',
    'not translated: Ingress ops/admin: nginx.ingress.kubernetes.io/auth-secret: Secret ops/basic-auth line 6, user "eve": a crypt(3) hash',
    'not translated: Ingress ops/admin: nginx.ingress.kubernetes.io/auth-secret: Secret ops/basic-auth line 7, user "alice": a later entry for the same user is ignored',
    'difference: Ingress ops/reports: higress.io/auth-realm: realm "reports" differs',
    "note: test/fixtures/ingress/auth.yaml[4]: Secret ops/orphan ignored",
    "not translated: Ingress shop/limited: kubernetes.io/ingress.class",
    "not translated: Ingress default/orders-canary: nginx.ingress.kubernetes.io/enable-cors: ignored on a canary Ingress",
    "not translated: Ingress shop/limited: tls (limited.example.com)",
    "difference: Ingress default/foo: nginx.ingress.kubernetes.io/enable-cors: cors-allow-credentials is true",
    "note: test/fixtures/ingress/ratelimit.yaml[1]: Service limited ignored",
    "upstream: users-v2.default → http://127.0.0.1:",
  ]) assert.ok(r.stderr.includes(line), `stderr lacks '${line}':\n${r.stderr}`);
  assert.ok(!r.stderr.includes("upstream: users-v1.default"), "a mapped service gets no echo");
});

test("input errors name the file, the field and the fix", () => {
  const dir = mkdtempSync(join(tmpdir(), "tollgate-ingress-"));
  try {
    const write = (name: string, text: string) => {
      const f = join(dir, name);
      writeFileSync(f, text);
      return f;
    };
    const base = (ann: string) => `apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: a\n  annotations:\n${ann}\nspec:\n  rules:\n    - http:\n        paths:\n          - path: /\n            pathType: Prefix\n            backend: {service: {name: s, port: {number: 80}}}\n`;
    const cases: Array<[string, string, RegExp, RegExp]> = [
      ["unquoted.yaml", base('    nginx.ingress.kubernetes.io/limit-rps: 5'), /metadata\.annotations\["nginx\.ingress\.kubernetes\.io\/limit-rps"\]: must be a string/, /fix: quote the value/],
      ["weight.yaml", base('    nginx.ingress.kubernetes.io/limit-rps: "lots"'), /limit-rps"\]: must be an integer/, /fix: set a number/],
      ["origin.yaml", base('    nginx.ingress.kubernetes.io/enable-cors: "true"\n    nginx.ingress.kubernetes.io/cors-allow-origin: "app.example.com"'), /cors-allow-origin"\]: 'app\.example\.com' is not an origin/, /fix: list origins/],
      ["v1beta1.yaml", base("    {}").replace("networking.k8s.io/v1", "networking.k8s.io/v1beta1"), /apiVersion: must be networking\.k8s\.io\/v1/, /fix: convert the Ingress/],
    ];
    for (const [name, text, msg, fix] of cases) {
      const r = cli("gen", "from-ingress", write(name, text), "--target", "envoy");
      assert.equal(r.status, 1, `${name}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`${name.replace(".", "\\.")}: `), name);
      assert.match(r.stderr, msg, name);
      assert.match(r.stderr, fix, name);
    }
    const noUrl = cli("gen", "from-ingress", fx("cors.yaml"), "--target", "istio");
    assert.equal(noUrl.status, 2);
    assert.match(noUrl.stderr, /--target istio needs --url for the cors plugin/);
    const bad = cli("gen", "from-ingress", fx("cors.yaml"), "--target", "envoy", "--upstream", "nope=127.0.0.1:1");
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /no backend service named 'nope'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function get(url: string, headers: Record<string, string>): Promise<{ status: number; upstream: string | undefined; acao: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, method: headers["access-control-request-method"] ? "OPTIONS" : "GET" }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, upstream: res.headers["x-echo-upstream"] as string | undefined, acao: res.headers["access-control-allow-origin"] as string | undefined }));
    });
    req.on("error", reject);
    req.end();
  });
}

for (const engine of ["embedded", "envoy"] as const) {
  test(`tollgate up --ingress serves the Ingresses on ${engine} with echo upstreams named after the services`, async (t) => {
    if (engine === "envoy" && !requireEnvoy(t)) return;
    const ac = new AbortController();
    const lines: string[] = [];
    let listener = "";
    let done: Promise<unknown> = Promise.resolve();
    const ready = new Promise<void>((resolve) => {
      done = runIngressUp({
        files: ALL.map((f) => join(repoRoot(), f)),
        upstreams: [],
        listen: "127.0.0.1:0",
        engine,
        workers: 1,
        signal: ac.signal,
        print: (l) => lines.push(l),
        printErr: (l) => lines.push(l),
        onReady: (info) => {
          listener = info.listeners[0].url;
          resolve();
        },
      }).catch((e) => lines.push(`failed: ${(e as Error).message}`)).finally(resolve);
    });
    await ready;
    try {
      assert.ok(listener, lines.join("\n"));
      assert.ok(lines[0].startsWith("not translated: ") || lines.some((l) => l.startsWith("engine: ")), lines.join("\n"));
      assert.ok(lines.some((l) => l.startsWith(`engine: ${engine}`)), lines.join("\n"));
      assert.ok(lines.some((l) => /^upstream users-v2\.default: echo http:\/\/127\.0\.0\.1:\d+$/.test(l)), lines.join("\n"));
      assert.deepEqual(await get(`${listener}/orders`, { host: "api.company.com", "x-region": "eu-west" }), { status: 200, upstream: "orders-v2.default", acao: undefined });
      const pre = await get(`${listener}/foo`, { host: "cors.example.com", origin: "https://x.test", "access-control-request-method": "PUT" });
      assert.deepEqual(pre, { status: 204, upstream: undefined, acao: "https://x.test" });
      assert.equal((await get(`${listener}/`, { host: "admin.example.com" })).status, 401);
      const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString("base64")}`;
      assert.deepEqual(await get(`${listener}/`, { host: "admin.example.com", authorization: basic("alice", "wonderland") }), { status: 200, upstream: "admin.ops", acao: undefined });
      assert.equal((await get(`${listener}/`, { host: "internal.example.com" })).status, 403, "127.0.0.1 is outside whitelist-source-range");
    } finally {
      ac.abort();
      await done;
    }
  });
}
