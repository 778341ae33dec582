// cors behaviour through the host on the compiled module (release and debug): config rejection naming the
// field, response-header ownership (replace, never double; strip for refused origins), Vary handling,
// same-origin detection, preflights, Private Network Access, `_rules_`, other filters' local replies in
// a real filter chain, and no trap on arbitrary request input.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import fc from "fast-check";
import Ajv2020 from "ajv/dist/2020.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pluginDir } from "../../../tools/paths.ts";
import { HostEnv, HttpStream, Plugin } from "../../../tools/host/index.ts";
import { PluginTester } from "../../../tools/host/testing.ts";
import { acHeaders, AC_ALLOW, BUILDS, corsWasm, denyWasm, Testers, values, varyTokens, type Pairs } from "./helpers.ts";

const APP = "https://app.example.com";

interface Rejection { config: unknown; field: string; message?: string }

const REJECTIONS: Rejection[] = [
  { config: { max_age: -1 }, field: "max_age", message: "'max_age' must be a non-negative integer, got -1" },
  { config: { max_age: "600" }, field: "max_age" },
  { config: { max_age: 1.5 }, field: "max_age" },
  { config: { allow_origins: ["*"], allow_credentials: true }, field: "allow_credentials", message: "'allow_credentials' cannot be true when 'allow_origins' contains \"*\"" },
  { config: { allow_credentials: true }, field: "allow_credentials", message: "'allow_credentials' cannot be true when 'allow_origins' is not set" },
  { config: { allow_origins: [APP, "*"], allow_credentials: true }, field: "allow_credentials" },
  { config: { allow_origins: APP }, field: "allow_origins" },
  { config: { allow_origins: ["example.com"] }, field: "allow_origins[0]", message: "'allow_origins[0]' must be an origin like" },
  { config: { allow_origins: [APP, "https://a.example.com/path"] }, field: "allow_origins[1]" },
  { config: { allow_origins: ["https://*.example.com"] }, field: "allow_origins[0]", message: "cannot contain a wildcard; put host wildcards in 'allow_origin_patterns'" },
  { config: { allow_origins: ["https://a.example.com:0"] }, field: "allow_origins[0]" },
  { config: { allow_origins: ["https://a.example.com:[80]"] }, field: "allow_origins[0]" },
  { config: { allow_origins: [7] }, field: "allow_origins[0]", message: "'allow_origins[0]' must be a string, got 7" },
  { config: { allow_origin_patterns: ["http://*.example.com:[80,x]"] }, field: "allow_origin_patterns[0]" },
  { config: { allow_origin_patterns: ["*.example.com"] }, field: "allow_origin_patterns[0]" },
  { config: { allow_origin_patterns: ["http://a.example.com:[]"] }, field: "allow_origin_patterns[0]" },
  { config: { allow_origin_patterns: ["http://a.example.com:99999"] }, field: "allow_origin_patterns[0]" },
  { config: { allow_origin_patterns: ["http://a b.example.com"] }, field: "allow_origin_patterns[0]" },
  { config: { allow_methods: [] }, field: "allow_methods", message: "'allow_methods' must list at least one method, or \"*\"" },
  { config: { allow_methods: ["GET POST"] }, field: "allow_methods[0]", message: "must be an HTTP token" },
  { config: { allow_headers: ["X-A", 42] }, field: "allow_headers[1]" },
  { config: { allow_headers: "Content-Type" }, field: "allow_headers" },
  { config: { expose_headers: ["a,b"] }, field: "expose_headers[0]" },
  { config: { preflight_status: 403 }, field: "preflight_status", message: "'preflight_status' must be 200 or 204, got 403" },
  { config: { preflight_status: "204" }, field: "preflight_status" },
  { config: { allow_private_network: "yes" }, field: "allow_private_network" },
  { config: { allow_credentials: 1 }, field: "allow_credentials" },
  { config: { allow_origin: ["*"] }, field: "allow_origin", message: "'allow_origin' is not a known field" },
  { config: { _rules_: [{ _match_domain_: ["a.example.com"], max_age: -5 }] }, field: "_rules_[0].max_age" },
  { config: { _rules_: [{ _match_route_: ["r"], allow_origins: ["nope"] }] }, field: "_rules_[0].allow_origins[0]" },
  { config: { _rules_: [{ allow_origins: ["*"] }] }, field: "_rules_[0]" },
];

const pluginJson = JSON.parse(readFileSync(join(pluginDir("cors"), "plugin.json"), "utf8")) as { schema: object; examples: Array<{ title: string; config: unknown }> };

test("plugin.json schema agrees with the plugin: it rejects every rejected config and accepts every example", () => {
  const validate = new Ajv2020({ allErrors: true }).compile(pluginJson.schema);
  for (const r of REJECTIONS) assert.equal(validate(r.config), false, `schema accepts ${JSON.stringify(r.config)}`);
  for (const e of pluginJson.examples) assert.equal(validate(e.config), true, `${e.title}: ${JSON.stringify(validate.errors)}`);
  assert.equal(validate({}), true);
});

function headerOf(headers: Pairs, name: string): string | undefined {
  return values(headers, name)[0];
}

for (const build of BUILDS) {
  describe(`cors config (${build})`, () => {
    const testers = new Testers(build);
    after(() => testers.close());

    for (const r of REJECTIONS) {
      test(`rejects ${JSON.stringify(r.config)} naming '${r.field}'`, async () => {
        const t = await testers.get(r.config);
        assert.equal(t.configured, false);
        const lines = t.logsAt("critical");
        assert.ok(lines.length >= 1, "one critical line");
        const line = lines.find((l) => l.includes(`'${r.field}'`));
        assert.ok(line, `a critical line names '${r.field}': ${JSON.stringify(lines)}`);
        if (r.message) assert.ok(line.includes(r.message), `${JSON.stringify(line)} includes ${JSON.stringify(r.message)}`);
      });
    }

    test("rejects text that is not JSON", async () => {
      const t = await testers.get("{not json");
      assert.equal(t.configured, false);
      assert.match(t.logsAt("critical").join("\n"), /not valid JSON/);
    });

    test("accepts the empty config (all defaults) and every plugin.json example", async () => {
      for (const cfg of [{}, ...pluginJson.examples.map((e) => e.config)]) {
        const t = await testers.get(cfg);
        assert.equal(t.configured, true, `${JSON.stringify(cfg)}: ${JSON.stringify(t.logs)}`);
      }
    });

    test("expose_headers '*' with credentials is accepted with a warning (browsers read '*' literally then)", async () => {
      const t = await testers.get({ allow_origins: [APP], allow_credentials: true, expose_headers: ["*"] });
      assert.equal(t.configured, true);
      assert.ok(t.logsAt("warn").some((l) => l.includes("'expose_headers'")));
    });
  });

  describe(`cors behaviour (${build})`, () => {
    const testers = new Testers(build);
    after(() => testers.close());

    const get = (config: unknown, origin: string | null, upstreamHeaders: Pairs = [], extra: Partial<{ authority: string; scheme: string; method: string; headers: Pairs; properties: Record<string, unknown> }> = {}) =>
      testers.get(config).then((t) => {
        assert.equal(t.configured, true, JSON.stringify(t.logs));
        return t.exchange({
          method: extra.method ?? "GET",
          path: "/api/items",
          authority: extra.authority ?? "api.example.com",
          scheme: extra.scheme ?? "https",
          headers: [...(origin === null ? [] : [["origin", origin] as [string, string]]), ...(extra.headers ?? [])],
          properties: extra.properties,
          upstream: () => ({ status: 200, headers: [["content-type", "text/plain"], ...upstreamHeaders], body: "payload" }),
        });
      });

    test("allowed origin: the upstream's CORS headers are replaced, never doubled, and the policy's win", async () => {
      const res = await get({ allow_origins: [APP] }, APP, [
        ["access-control-allow-origin", "*"],
        ["access-control-allow-credentials", "true"],
        ["access-control-expose-headers", "x-secret"],
        ["vary", "Accept-Encoding"],
      ]);
      assert.equal(res.status, 200);
      assert.equal(res.body, "payload");
      assert.deepEqual(acHeaders(res.headers), { "access-control-allow-origin": APP });
      assert.deepEqual(varyTokens(res.headers), ["accept-encoding", "origin"]);
    });

    test("allowed origin with credentials and expose headers", async () => {
      const res = await get({ allow_origins: [APP], allow_credentials: true, expose_headers: ["X-Request-Id", "X-Trace"] }, APP, [["access-control-expose-headers", "x-upstream"]]);
      assert.deepEqual(acHeaders(res.headers), {
        "access-control-allow-origin": APP,
        "access-control-allow-credentials": "true",
        "access-control-expose-headers": "X-Request-Id,X-Trace",
      });
    });

    test("Vary: '*' and an existing Origin token are left alone; other Vary lines are kept", async () => {
      let res = await get({ allow_origins: [APP] }, APP, [["vary", "*"]]);
      assert.deepEqual(values(res.headers, "vary"), ["*"]);
      res = await get({ allow_origins: [APP] }, APP, [["vary", "accept-encoding, origin"]]);
      assert.deepEqual(varyTokens(res.headers), ["accept-encoding", "origin"]);
      res = await get({ allow_origins: [APP] }, APP, [["vary", "Accept-Encoding"], ["vary", "Cookie"]]);
      assert.deepEqual(varyTokens(res.headers).sort(), ["accept-encoding", "cookie", "origin"]);
    });

    test("refused origin: the request still reaches the upstream and every Access-Control-Allow-* it sent is removed", async () => {
      const upstream: Pairs = AC_ALLOW.map((n) => [n, n.endsWith("origin") ? "https://evil.example" : "true"]);
      const res = await get({ allow_origins: [APP] }, "https://evil.example", upstream);
      assert.notEqual(res.upstreamRequest, null);
      assert.equal(res.status, 200);
      assert.equal(res.body, "payload");
      assert.deepEqual(acHeaders(res.headers), {});
      assert.deepEqual(varyTokens(res.headers), ["origin"]);
    });

    test("same-origin requests pass untouched (scheme, host, port; default ports folded; case ignored)", async () => {
      const same: Array<[string, string, string]> = [
        ["https://api.example.com", "https", "api.example.com"],
        ["https://api.example.com", "https", "api.example.com:443"],
        ["https://api.example.com:443", "https", "api.example.com"],
        ["http://API.Example.com", "http", "api.example.com:80"],
        ["http://api.example.com:8080", "http", "api.example.com:8080"],
        ["http://[::1]:8080", "http", "[::1]:8080"],
      ];
      for (const [origin, scheme, authority] of same) {
        const res = await get({ allow_origins: [APP] }, origin, [["access-control-allow-origin", "upstream-owned"]], { scheme, authority });
        assert.deepEqual(acHeaders(res.headers), { "access-control-allow-origin": "upstream-owned" }, `${origin} vs ${scheme}://${authority}`);
        assert.deepEqual(values(res.headers, "vary"), [], `${origin}: no Vary`);
      }
      const cross: Array<[string, string, string]> = [
        ["http://api.example.com", "https", "api.example.com"],
        ["https://api.example.com:8443", "https", "api.example.com"],
        ["https://www.example.com", "https", "api.example.com"],
        ["http://[::1]:8081", "http", "[::1]:8080"],
      ];
      for (const [origin, scheme, authority] of cross) {
        const res = await get({ allow_origins: ["*"] }, origin, [], { scheme, authority });
        assert.equal(headerOf(res.headers, "access-control-allow-origin"), origin, `${origin} vs ${scheme}://${authority}`);
      }
    });

    test("no Origin: untouched", async () => {
      const res = await get({}, null, [["access-control-allow-origin", "upstream-owned"]]);
      assert.deepEqual(acHeaders(res.headers), { "access-control-allow-origin": "upstream-owned" });
    });

    test("OPTIONS without Access-Control-Request-Method is not a preflight: it goes upstream", async () => {
      const res = await get({ allow_origins: [APP] }, APP, [], { method: "OPTIONS" });
      assert.notEqual(res.upstreamRequest, null);
      assert.equal(res.localReply, false);
      assert.equal(headerOf(res.headers, "access-control-allow-origin"), APP);
    });

    test("allowed preflight: exact answer, upstream never reached", async () => {
      const res = await get(
        { allow_origins: [APP], allow_methods: ["GET", "PUT"], allow_headers: ["Content-Type", "X-Token"], expose_headers: ["X-Id"], allow_credentials: true, max_age: 600 },
        APP,
        [],
        { method: "OPTIONS", headers: [["access-control-request-method", "PUT"], ["access-control-request-headers", "x-token,content-type"]] },
      );
      assert.equal(res.upstreamRequest, null);
      assert.equal(res.localReply, true);
      assert.equal(res.status, 204);
      assert.equal(res.details, "cors.preflight");
      assert.equal(res.body, "");
      assert.deepEqual(acHeaders(res.headers), {
        "access-control-allow-origin": APP,
        "access-control-allow-credentials": "true",
        "access-control-allow-methods": "GET,PUT",
        "access-control-allow-headers": "Content-Type,X-Token",
        "access-control-max-age": "600",
      });
      assert.deepEqual(values(res.headers, "vary"), ["Origin, Access-Control-Request-Method, Access-Control-Request-Headers"]);
    });

    test("'*' methods and headers echo what the preflight asked for (normalised); none asked → no Allow-Headers", async () => {
      const cfg = { allow_origins: [APP], allow_methods: ["*"], allow_headers: ["*"], preflight_status: 200 };
      let res = await get(cfg, APP, [], { method: "OPTIONS", headers: [["access-control-request-method", "PROPFIND"], ["access-control-request-headers", " X-A , x-b,, "]] });
      assert.equal(res.status, 200);
      assert.equal(headerOf(res.headers, "access-control-allow-methods"), "PROPFIND");
      assert.equal(headerOf(res.headers, "access-control-allow-headers"), "X-A,x-b");
      res = await get(cfg, APP, [], { method: "OPTIONS", headers: [["access-control-request-method", "GET"]] });
      assert.equal(headerOf(res.headers, "access-control-allow-headers"), undefined);
    });

    test("refused preflights (origin, method, header) answer preflight_status with no Access-Control-Allow-*", async () => {
      const cfg = { allow_origins: [APP], allow_methods: ["GET"], allow_headers: ["X-A"] };
      const cases: Array<[string, Pairs]> = [
        ["https://evil.example", [["access-control-request-method", "GET"]]],
        [APP, [["access-control-request-method", "DELETE"]]],
        [APP, [["access-control-request-method", "GET"], ["access-control-request-headers", "x-a, x-b"]]],
      ];
      for (const [origin, headers] of cases) {
        const res = await get(cfg, origin, [], { method: "OPTIONS", headers });
        assert.equal(res.upstreamRequest, null);
        assert.equal(res.status, 204);
        assert.equal(res.details, "cors.preflight.invalid");
        assert.deepEqual(acHeaders(res.headers), {}, JSON.stringify(headers));
      }
    });

    test("Private Network Access: granted only when enabled and asked with exactly 'true'", async () => {
      const pre = (cfg: object, v: string | null) =>
        get(cfg, APP, [], { method: "OPTIONS", headers: [["access-control-request-method", "GET"], ...(v === null ? [] : [["access-control-request-private-network", v] as [string, string]])] });
      const on = { allow_origins: [APP], allow_private_network: true };
      let res = await pre(on, "true");
      assert.equal(headerOf(res.headers, "access-control-allow-private-network"), "true");
      assert.ok(varyTokens(res.headers).includes("access-control-request-private-network"));
      res = await pre(on, null);
      assert.equal(headerOf(res.headers, "access-control-allow-private-network"), undefined);
      assert.equal(headerOf(res.headers, "access-control-allow-origin"), APP);
      res = await pre(on, "yes");
      assert.equal(headerOf(res.headers, "access-control-allow-private-network"), undefined);
      res = await pre({ allow_origins: [APP] }, "true");
      assert.equal(headerOf(res.headers, "access-control-allow-private-network"), undefined);
      assert.equal(headerOf(res.headers, "access-control-allow-origin"), APP, "the CORS part is still answered");
    });

    test("patterns are anchored and honour port lists", async () => {
      const cfg = { allow_origin_patterns: ["http://*.example.com", "https://*.example.org:[8443,9443]", "https://*.example.net:[*]", "https://[::1]:[*]"] };
      const allowed = ["http://api.example.com", "http://a.b.example.com", "http://x.example.com:80", "https://a.example.org:8443", "https://a.example.org:9443", "https://a.example.net", "https://a.example.net:1", "https://[::1]:3000"];
      const refused = ["http://api.example.com.evil.com", "http://example.com", "https://api.example.com", "http://api.example.com:8080", "https://a.example.org", "https://a.example.org:8444", "http://a.example.net", "http://api.example.com:8080.evil.com", "http://evil.com/.example.com", "http://evil.com?.example.com", "http://user@a.example.com"];
      for (const o of allowed) assert.equal(headerOf((await get(cfg, o)).headers, "access-control-allow-origin"), o, `${o} allowed`);
      for (const o of refused) assert.equal(headerOf((await get(cfg, o)).headers, "access-control-allow-origin"), undefined, `${o} refused`);
    });

    test("exact origins ignore case and fold default ports; 'null' only when listed", async () => {
      const cfg = { allow_origins: ["https://App.Example.com:443/", "null"] };
      for (const o of ["https://app.example.com", "https://APP.example.com:443", "null"]) {
        assert.equal(headerOf((await get(cfg, o)).headers, "access-control-allow-origin"), o);
      }
      for (const o of ["http://app.example.com", "https://app.example.com:8443", "https://app.example.com.evil.com"]) {
        assert.equal(headerOf((await get(cfg, o)).headers, "access-control-allow-origin"), undefined, o);
      }
      assert.equal(headerOf((await get({}, "null")).headers, "access-control-allow-origin"), undefined, "'*' never matches null");
    });

    test("_rules_: first matching rule, else the global policy, else nothing", async () => {
      const cfg = {
        allow_origins: ["https://www.example.com"],
        _rules_: [
          { _match_domain_: ["admin.example.com"], allow_origins: ["https://admin-ui.example.com"], allow_credentials: true },
          { _match_domain_: ["*.example.com"], allow_origins: ["https://any.example.com"] },
        ],
      };
      let res = await get(cfg, "https://admin-ui.example.com", [], { authority: "admin.example.com" });
      assert.deepEqual(acHeaders(res.headers), { "access-control-allow-origin": "https://admin-ui.example.com", "access-control-allow-credentials": "true" });
      res = await get(cfg, "https://www.example.com", [], { authority: "admin.example.com" });
      assert.deepEqual(acHeaders(res.headers), {}, "no merging with the global policy");
      res = await get(cfg, "https://any.example.com", [], { authority: "shop.example.com:8443" });
      assert.equal(headerOf(res.headers, "access-control-allow-origin"), "https://any.example.com");
      res = await get(cfg, "https://www.example.com", [], { authority: "api.other.org" });
      assert.equal(headerOf(res.headers, "access-control-allow-origin"), "https://www.example.com", "global policy");
      const only = { _rules_: [{ _match_domain_: ["admin.example.com"], allow_origins: [APP] }] };
      res = await get(only, "https://evil.example", [["access-control-allow-origin", "upstream-owned"]], { authority: "api.other.org" });
      assert.deepEqual(acHeaders(res.headers), { "access-control-allow-origin": "upstream-owned" }, "no rule, no global: untouched");
    });

    test("never traps on arbitrary request input", async () => {
      const cfgs = [{}, { allow_origin_patterns: ["http://*.a.example:[*]", "https://*x*y*z*.b:[1,2]"], allow_methods: ["*"], allow_headers: ["*"], allow_private_network: true }, { allow_origins: ["https://a.example", "null"], allow_headers: ["X-A"] }];
      const testersList = await Promise.all(cfgs.map((c) => testers.get(c)));
      const str = fc.oneof(
        fc.string({ maxLength: 40 }),
        fc.string({ unit: fc.constantFrom(..."htps:/[]*.,:0123456789abcxyzAZ -\t\u00e9"), maxLength: 60 }),
        fc.constantFrom("", "null", "http://", "https://a.example", "http://[", "http://[::1", "http://a:99999", "http://a:", "x://y", ":", "[]"),
      );
      await fc.assert(
        fc.asyncProperty(fc.nat(cfgs.length - 1), str, str, fc.constantFrom("GET", "OPTIONS", "options", "PUT"), fc.option(str), fc.option(str), fc.option(str), fc.constantFrom("http", "https", "", "HTTPS"), async (ci, origin, authority, method, acrm, acrh, pna, scheme) => {
          const t = testersList[ci];
          const headers: Pairs = [["origin", origin]];
          if (acrm !== null) headers.push(["access-control-request-method", acrm]);
          if (acrh !== null) headers.push(["access-control-request-headers", acrh]);
          if (pna !== null) headers.push(["access-control-request-private-network", pna]);
          const res = await t.exchange({ method, path: "/", authority: authority || "x", scheme: scheme || "http", headers, upstream: () => ({ status: 200, headers: [], body: "" }) });
          assert.notEqual(res.details, "wasm_fail_stream", `trap on ${JSON.stringify({ origin, authority, method, acrm, acrh, pna, scheme })}`);
          assert.ok(res.status === 200 || res.status === 204, `status ${res.status}`);
          const ac = acHeaders(res.headers);
          const acao = ac["access-control-allow-origin"];
          // Header values reach the plugin as UTF-8 text: an ASCII Origin (all a browser sends) is echoed
          // byte-exact; a non-UTF-8 one cannot be, and must at least never yield a non-ASCII echo.
          if (acao !== undefined && /^[\x21-\x7e]*$/.test(origin.trim())) assert.equal(acao, origin.trim());
          if (acao !== undefined) assert.match(acao, /^[\x21-\x7e]+$/);
        }),
        { numRuns: build === "debug" ? 300 : 150, seed: 42 },
      );
      for (const t of testersList) assert.deepEqual(t.logsAt("critical"), [], "no abort logged");
    });
  });

  describe(`cors in a filter chain with another filter's local reply (${build})`, () => {
    // cors first, then a filter that answers 401 without `authorization` (the auth plugin's role). Envoy
    // sends that reply through the whole response path, so cors must decorate it like an upstream answer.
    const env = new HostEnv();
    const plugins: Plugin[] = [];
    after(() => plugins.forEach((p) => p.close()));

    async function chain(): Promise<{ cors: Plugin; deny: Plugin }> {
      if (plugins.length === 0) {
        plugins.push(await Plugin.load(env, { wasm: await corsWasm(build), name: "cors", rootId: "cors", configuration: { allow_origins: [APP], allow_credentials: true, expose_headers: ["WWW-Authenticate"] } }));
        plugins.push(await Plugin.load(env, { wasm: await denyWasm(build), name: "deny", rootId: "deny", configuration: "" }));
      }
      return { cors: plugins[0], deny: plugins[1] };
    }

    async function run(headers: Pairs, method = "GET") {
      const { cors, deny } = await chain();
      let upstreamCalls = 0;
      const stream = new HttpStream([cors.createFilter(0), deny.createFilter(0)], async () => {
        upstreamCalls++;
        return { headers: [[":status", "200"], ["content-type", "text/plain"]], body: new TextEncoder().encode("secret") };
      });
      const res = await stream.run({ headers: [[":method", method], [":path", "/private"], [":authority", "api.example.com"], [":scheme", "https"], ...headers] });
      return { res, upstreamCalls };
    }

    test("a 401 from the next filter carries the CORS headers for an allowed origin", async () => {
      const { res, upstreamCalls } = await run([["origin", APP]]);
      assert.equal(upstreamCalls, 0);
      assert.equal(res.status, 401);
      assert.equal(res.details, "deny.missing_token");
      assert.equal(new TextDecoder().decode(res.body), "{\"error\":\"unauthorized\"}");
      assert.deepEqual(acHeaders(res.headers as Pairs), {
        "access-control-allow-origin": APP,
        "access-control-allow-credentials": "true",
        "access-control-expose-headers": "WWW-Authenticate",
      });
      assert.ok(varyTokens(res.headers as Pairs).includes("origin"));
    });

    test("a 401 for a refused origin carries no Access-Control-Allow-*", async () => {
      const { res } = await run([["origin", "https://evil.example"]]);
      assert.equal(res.status, 401);
      assert.deepEqual(acHeaders(res.headers as Pairs), {});
    });

    test("the preflight is answered by cors before the 401 filter sees it", async () => {
      const { res, upstreamCalls } = await run([["origin", APP], ["access-control-request-method", "GET"], ["access-control-request-headers", "authorization"]], "OPTIONS");
      assert.equal(upstreamCalls, 0);
      assert.equal(res.status, 204);
      assert.equal(res.details, "cors.preflight");
      assert.equal(headerOf(res.headers as Pairs, "access-control-allow-origin"), APP);
      assert.equal(headerOf(res.headers as Pairs, "access-control-allow-headers")?.includes("Authorization"), true);
    });

    test("with the token the request reaches the upstream and the answer is decorated", async () => {
      const { res, upstreamCalls } = await run([["origin", APP], ["authorization", "Bearer x"]]);
      assert.equal(upstreamCalls, 1);
      assert.equal(res.status, 200);
      assert.equal(headerOf(res.headers as Pairs, "access-control-allow-origin"), APP);
    });
  });
}

// The filter memoizes decisions by the identity of repeated header values (the same Origin, the same
// preflight). Whatever came before, a request must get exactly the answer a fresh VM gives it.
describe("cors answers do not depend on the requests before them (memoized decisions)", () => {
  const config = {
    allow_origins: [APP, "https://admin.example.com"], allow_origin_patterns: ["https://*.example.org:[*]"],
    allow_methods: ["GET", "PUT"], allow_headers: ["Content-Type", "X-Request-Id"], allow_credentials: true,
    allow_private_network: true, max_age: 600,
    _rules_: [{ _match_domain_: ["open.example.com"], allow_origins: ["*"], allow_methods: ["*"], allow_headers: ["*"] }],
  };
  type Req = { method: string; authority: string; headers: Pairs };
  const origins = [APP, "https://admin.example.com", "https://x.example.org:8443", "https://evil.example", "https://api.example.com", " " + APP, "null"];
  const pool: Req[] = [];
  for (const origin of origins) {
    for (const authority of ["api.example.com", "open.example.com"]) {
      pool.push({ method: "GET", authority, headers: [["origin", origin]] });
      for (const [acrm, acrh] of [["PUT", "content-type"], ["PUT", "x-request-id, content-type"], ["DELETE", ""], ["PUT", "x-other"], ["GET", ""]]) {
        const headers: Pairs = [["origin", origin], ["access-control-request-method", acrm]];
        if (acrh) headers.push(["access-control-request-headers", acrh]);
        pool.push({ method: "OPTIONS", authority, headers });
        if (acrm === "PUT" && acrh === "content-type") pool.push({ method: "OPTIONS", authority, headers: [...headers, ["access-control-request-private-network", "true"]] });
      }
    }
  }
  const answer = async (t: PluginTester, r: Req) => {
    const res = await t.exchange({ method: r.method, path: "/", authority: r.authority, scheme: "https", headers: r.headers, upstream: () => ({ status: 200, headers: [], body: "" }) });
    return JSON.stringify({ status: res.status, local: res.localReply, details: res.details, ac: acHeaders(res.headers as Pairs), vary: varyTokens(res.headers as Pairs) });
  };

  test(`${pool.length} distinct requests, random sequences on one VM = each on a fresh VM`, async () => {
    const wasm = await corsWasm("release");
    const expected: string[] = [];
    for (const r of pool) {
      const fresh = await PluginTester.load({ wasm, configuration: config, workers: 1 });
      expected.push(await answer(fresh, r));
      fresh.close?.();
    }
    const t = await PluginTester.load({ wasm, configuration: config, workers: 1 });
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.nat(pool.length - 1), { minLength: 1, maxLength: 60 }), async (seq) => {
          for (const i of seq) assert.equal(await answer(t, pool[i]), expected[i], JSON.stringify(pool[i]));
        }),
        { numRuns: 40, seed: 20261122 },
      );
    } finally {
      t.close?.();
    }
  });
});
