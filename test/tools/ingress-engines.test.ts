// `tollgate gen from-ingress --target envoy` served black-box on both engines from the same bootstrap (issue 21):
// preflights answered with the annotations' values, a canary-weight "20" share of 20 ± 4 % over 1,000 requests,
// header/cookie canaries in ingress-nginx's precedence, canary-by-header-pattern matched anywhere in the value,
// limit-rpm per client IP exactly (a second loopback address is a second client; X-Forwarded-For does not make a
// new one), and auth-type basic from the htpasswd Secrets (who gets in, 401/403, what reaches the upstream). The
// bootstrap also passes `envoy --mode validate`.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { compileAssemblyScript } from "../../tools/build/compile.ts";
import { startEcho, type EchoServer } from "../../tools/demo/echo.ts";
import { envoyBinary } from "../../tools/envoy/launcher.ts";
import { BootstrapError, parseBootstrap } from "../../tools/gateway/config.ts";
import { stringifyEnvoyYaml } from "../../tools/envoy/yaml.ts";
import { fromIngress } from "../../tools/k8s/from-ingress.ts";
import { pluginDir, pluginWasm, repoRoot } from "../../tools/paths.ts";
import { ENGINES, startEngine } from "../helpers/engines.ts";
import { foldRawHeaders } from "../helpers/http.ts";
import { requireEnvoy } from "../helpers/envoy.ts";

const FIXTURES = ["cors.yaml", "canary.yaml", "ratelimit.yaml", "auth.yaml", "pattern.yaml", "source-range.yaml"].map((f) => join(repoRoot(), "test", "fixtures", "ingress", f));
const echoes: EchoServer[] = [];
let bootstrap: Record<string, unknown>;

before(async () => {
  for (const n of ["cors", "rate-limit", "canary", "auth"]) await compileAssemblyScript(join(pluginDir(n), "index.ts"), pluginWasm(n), "release");
  const common = { files: FIXTURES, target: "envoy" as const, listen: { host: "127.0.0.1", port: 0 }, admin: { host: "127.0.0.1", port: 0 } };
  const first = await fromIngress(common);
  const upstreams: Record<string, string> = {};
  for (const name of first.echoClusters) {
    const e = await startEcho({ name });
    echoes.push(e);
    upstreams[name] = `127.0.0.1:${e.port}`;
  }
  bootstrap = (await fromIngress({ ...common, upstreams })).docs[0] as Record<string, unknown>;
});
after(async () => {
  await Promise.all(echoes.map((e) => e.close()));
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

interface Reply { status: number; headers: Record<string, string>; upstream: string | null; body: string }

function send(port: number, o: { host: string; path: string; method?: string; headers?: Record<string, string>; from?: string; agent?: Agent }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: o.path, method: o.method ?? "GET", headers: { host: o.host, ...o.headers }, localAddress: o.from, agent: o.agent, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const headers = foldRawHeaders(res.rawHeaders);
        resolve({ status: res.statusCode ?? 0, headers, upstream: headers["x-echo-upstream"] ?? null, body: Buffer.concat(chunks).toString("utf8") });
      });
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

async function envoyValidate(envoy: NonNullable<ReturnType<typeof requireEnvoy>>, boot: Record<string, unknown>): Promise<{ ok: boolean; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), "tollgate-ingress-validate-"));
  try {
    const file = join(dir, "ingress.yaml");
    writeFileSync(file, stringifyEnvoyYaml(boot, { lineWidth: 0 }));
    return await new Promise<{ ok: boolean; output: string }>((resolve) => {
      execFile(envoyBinary(envoy), ["--mode", "validate", "-c", file, "--disable-hot-restart", "-l", "error"], { cwd: repoRoot(), timeout: 60_000 }, (err, so, se) => resolve({ ok: !err, output: `${so}${se}` }));
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("the generated bootstrap passes envoy --mode validate", async (t) => {
  const found = requireEnvoy(t);
  if (!found) return;
  const out = await envoyValidate(found, bootstrap);
  assert.ok(out.ok, out.output);
});

// The route header regex the header-pattern canary needs (string_match.safe_regex) is checked at load by both
// engines with RE2's verdict: what one refuses, the other refuses with the same message.
test("a route header regex RE2 refuses is refused at load by both engines", async (t) => {
  const boot = structuredClone(bootstrap) as Any;
  const vhosts = boot.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts;
  const m = vhosts.find((v: Any) => v.domains[0] === "beta.company.com").routes[0].match;
  assert.deepEqual(m.headers[0].string_match, { safe_regex: { regex: ".*(?:(eu|us)-west).*" } });
  m.headers[0].string_match.safe_regex.regex = "(a)\\1";
  assert.throws(() => parseBootstrap(boot, "ingress.yaml"), (e: unknown) => {
    assert.ok(e instanceof BootstrapError, String(e));
    assert.match(e.message, /routes\[0\]\.match\.headers\[0\]\.string_match\.safe_regex\.regex.*invalid escape sequence: \\1/);
    return true;
  });
  const found = requireEnvoy(t);
  if (!found) return;
  const out = await envoyValidate(found, boot);
  assert.equal(out.ok, false);
  assert.match(out.output, /invalid escape sequence: \\1/);
});

for (const engine of ENGINES) {
  test(`Ingress annotations served on ${engine}`, async (t) => {
    const envoy = engine === "envoy" ? requireEnvoy(t) : null;
    if (engine === "envoy" && !envoy) return;
    const h = await startEngine(engine, structuredClone(bootstrap), envoy);
    const port = h.port("ingress");
    try {
      await t.test("preflight on the enable-cors Ingress (Exact /foo) is answered with ingress-nginx's defaults", async () => {
        const r = await send(port, { host: "cors.example.com", path: "/foo", method: "OPTIONS", headers: { origin: "https://site.test", "access-control-request-method": "PATCH", "access-control-request-headers": "range" } });
        assert.equal(r.status, 204);
        assert.equal(r.upstream, null, "a preflight is answered at the gateway");
        assert.equal(r.headers["access-control-allow-origin"], "https://site.test");
        assert.equal(r.headers["access-control-allow-methods"], "GET,PUT,POST,DELETE,PATCH,OPTIONS");
        assert.equal(r.headers["access-control-allow-headers"], "DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization");
        assert.equal(r.headers["access-control-max-age"], "1728000");
        assert.equal(r.headers["access-control-allow-credentials"], undefined, "credentials are dropped with origin * (the reported difference)");
        // Exact: /foo/bar is not this Ingress' path.
        const sub = await send(port, { host: "cors.example.com", path: "/foo/bar", headers: { origin: "https://site.test" } });
        assert.equal(sub.status, 404);
      });
      await t.test("preflight on the Ingress with every cors-* annotation carries their values", async () => {
        const r = await send(port, { host: "cors.example.com", path: "/api/x", method: "OPTIONS", headers: { origin: "https://a.partner.example.com", "access-control-request-method": "POST", "access-control-request-headers": "x-custom-header" } });
        assert.equal(r.status, 204);
        assert.equal(r.headers["access-control-allow-origin"], "https://a.partner.example.com");
        assert.equal(r.headers["access-control-allow-methods"], "GET,POST");
        assert.equal(r.headers["access-control-allow-headers"], "X-Custom-Header,Content-Type");
        assert.equal(r.headers["access-control-max-age"], "600");
        assert.equal(r.headers["access-control-allow-credentials"], "true");
        const actual = await send(port, { host: "cors.example.com", path: "/api/x", headers: { origin: "https://app.example.com" } });
        assert.equal(actual.upstream, "app-api.web");
        assert.equal(actual.headers["access-control-allow-origin"], "https://app.example.com");
        assert.equal(actual.headers["access-control-expose-headers"], "X-Trace-Id");
        const other = await send(port, { host: "cors.example.com", path: "/api/x", method: "OPTIONS", headers: { origin: "https://evil.example.net", "access-control-request-method": "POST" } });
        assert.equal(other.headers["access-control-allow-origin"], undefined);
      });
      await t.test("an Ingress without enable-cors gets no CORS headers", async () => {
        const r = await send(port, { host: "api.company.com", path: "/orders", headers: { origin: "https://site.test" } });
        assert.equal(r.upstream, "orders-v1.default");
        assert.equal(r.headers["access-control-allow-origin"], undefined);
      });
      await t.test("canary-weight 20: 20 ± 4 % of 1,000 requests reach the canary", async () => {
        const agent = new Agent({ keepAlive: true, maxSockets: 8 });
        try {
          let canary = 0;
          let stable = 0;
          for (let i = 0; i < 1000; i += 20) {
            const batch = await Promise.all(Array.from({ length: 20 }, () => send(port, { host: "api.company.com", path: "/users/42", agent })));
            for (const r of batch) {
              if (r.upstream === "users-v2.default") canary++;
              else if (r.upstream === "users-v1.default") stable++;
              else assert.fail(`unexpected reply ${r.status} from ${r.upstream}`);
            }
          }
          assert.equal(canary + stable, 1000);
          assert.ok(canary >= 160 && canary <= 240, `canary share ${canary / 10} %`);
        } finally {
          agent.destroy();
        }
      });
      await t.test("canary-by-header with a value: only that exact value selects the canary", async () => {
        const cases: Array<[Record<string, string>, string]> = [
          [{ "x-region": "eu-west" }, "orders-v2.default"],
          [{ "x-region": "EU-WEST" }, "orders-v1.default"],
          [{ "x-region": "eu-west-1" }, "orders-v1.default"],
          [{ "x-region": "always" }, "orders-v1.default"],
          [{}, "orders-v1.default"],
        ];
        for (const [headers, want] of cases) assert.equal((await send(port, { host: "api.company.com", path: "/orders", headers })).upstream, want, JSON.stringify(headers));
      });
      await t.test("precedence header > cookie > weight (canary-weight 100)", async () => {
        const cases: Array<[Record<string, string>, string]> = [
          [{}, "shop-v2.default"],
          [{ "x-shop-canary": "never" }, "shop-v1.default"],
          [{ "x-shop-canary": "always" }, "shop-v2.default"],
          [{ "x-shop-canary": "never", cookie: "shop_canary=always" }, "shop-v1.default"],
          [{ "x-shop-canary": "always", cookie: "shop_canary=never" }, "shop-v2.default"],
          [{ "x-shop-canary": "maybe", cookie: "a=1; shop_canary=never" }, "shop-v1.default"],
          [{ cookie: "shop_canary=always" }, "shop-v2.default"],
          [{ cookie: "shop_canary=sometimes" }, "shop-v2.default"],
          // The tag header the cookie translates to is the plugin's: a client-sent copy does not pick a version.
          [{ "x-canary-version": "stable" }, "shop-v2.default"],
        ];
        for (const [headers, want] of cases) assert.equal((await send(port, { host: "shop.company.com", path: "/cart", headers })).upstream, want, JSON.stringify(headers));
      });
      await t.test("canary-by-header-pattern: the pattern anywhere in the value selects the canary, as ngx.re.match", async () => {
        const cases: Array<[string, Record<string, string>, string]> = [
          ["/app", { "x-region": "eu-west-1" }, "app-v2.default"],
          ["/app/x", { "x-region": "prod-us-west" }, "app-v2.default"],
          ["/app", { "x-region": "us-west" }, "app-v2.default"],
          ["/app", { "x-region": "EU-WEST" }, "app-v1.default"],
          ["/app", { "x-region": "ap-south" }, "app-v1.default"],
          ["/app", { "x-region": "always" }, "app-v1.default"],
          ["/app", {}, "app-v1.default"],
        ];
        for (const [path, headers, want] of cases) assert.equal((await send(port, { host: "beta.company.com", path, headers })).upstream, want, `${path} ${JSON.stringify(headers)}`);
      });
      await t.test("auth-type basic: the Secret's {SHA} and {PLAIN} users get in, everyone else 401; Authorization stays at the gateway", async () => {
        const basic = (u: string, p: string) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString("base64")}` });
        const none = await send(port, { host: "admin.example.com", path: "/" });
        assert.equal(none.status, 401);
        assert.equal(none.upstream, null);
        assert.equal(none.headers["www-authenticate"], 'Basic realm="Authentication Required - admin"');
        const alice = await send(port, { host: "admin.example.com", path: "/settings", headers: { ...basic("alice", "wonderland"), "x-mse-consumer": "root" } });
        assert.equal(alice.status, 200);
        assert.equal(alice.upstream, "admin.ops");
        const seen = JSON.parse(alice.body).headers as Record<string, string>;
        assert.equal(seen.authorization, undefined, "ingress-nginx does not forward the credentials");
        assert.equal(seen["x-mse-consumer"], "alice", "the consumer header is the gateway's, not the client's");
        const cases: Array<[string, Record<string, string>, number]> = [
          ["/", basic("bob", "builder"), 200],
          ["/", basic("bob", "builder:the comment field nginx ignores"), 401],
          ["/", basic("bob", "wrong"), 401],
          ["/", basic("alice", "other"), 401], // the later alice line: nginx uses the first
          ["/", basic("carol", "anything"), 401], // $apr1$: reported, refused
          ["/", basic("nobody", "x"), 401], // the orphan Secret is not read
          ["/reports/q1", basic("frank", "hunter2"), 200],
          ["/reports/q1", basic("alice", "wonderland"), 200],
          ["/reports/q1", basic("bob", "builder"), 403], // the reported difference: ingress-nginx answers 401
          ["/reports/q1", {}, 401],
        ];
        for (const [path, headers, want] of cases) assert.equal((await send(port, { host: "admin.example.com", path, headers })).status, want, `${path} ${JSON.stringify(headers)}`);
        const other = await send(port, { host: "api.company.com", path: "/orders" });
        assert.equal(other.status, 200, "Ingresses without auth-type stay open");
      });
      await t.test("whitelist-source-range: only the listed client addresses reach the Ingress (403), X-Forwarded-For changes nothing, preflights first", async () => {
        const denied = await send(port, { host: "internal.example.com", path: "/status" });
        assert.equal(denied.status, 403);
        assert.equal(denied.upstream, null);
        assert.equal(denied.body, "RBAC: access denied");
        assert.equal((await send(port, { host: "internal.example.com", path: "/status", headers: { "x-forwarded-for": "127.0.0.2" } })).status, 403, "X-Forwarded-For is not the client");
        const allowed = await send(port, { host: "internal.example.com", path: "/status", from: "127.0.0.2" });
        assert.equal(allowed.status, 200);
        assert.equal(allowed.upstream, "internal.ops");
        // Another Ingress on the same host has no range; another address outside the ranges is refused too.
        assert.equal((await send(port, { host: "internal.example.com", path: "/docs/a" })).upstream, "docs.ops");
        assert.equal((await send(port, { host: "internal.example.com", path: "/", from: "127.0.0.3" })).status, 403);
        // nginx answers the CORS preflight (rewrite phase) before allow/deny (access phase).
        const pre = await send(port, { host: "internal.example.com", path: "/status", method: "OPTIONS", headers: { origin: "https://ops.test", "access-control-request-method": "GET" } });
        assert.equal(pre.status, 204);
        assert.equal(pre.headers["access-control-allow-origin"], "https://ops.test");
      });
      await t.test("limit-rpm 6 × multiplier 1: 7 requests per client IP at once, then 503; another IP has its own", async () => {
        const run = async (from: string, headers: Record<string, string> = {}) => {
          const out: number[] = [];
          for (let i = 0; i < 9; i++) out.push((await send(port, { host: "limited.example.com", path: "/", from, headers })).status);
          return out;
        };
        const ok7 = [200, 200, 200, 200, 200, 200, 200, 503, 503];
        assert.deepEqual(await run("127.0.0.1"), ok7);
        assert.deepEqual(await run("127.0.0.1", { "x-forwarded-for": "203.0.113.9" }), Array(9).fill(503), "X-Forwarded-For does not make a new client");
        assert.deepEqual(await run("127.0.0.2"), ok7);
      });
    } finally {
      await h.stop();
    }
  });
}
