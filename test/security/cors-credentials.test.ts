// Attack class 6 (issue 15, attack-findings 8): `allow_credentials: true` with anything that admits every
// site is refused exactly as `allow_origins: ["*"]` is — "*" in allow_origin_patterns, a pattern whose host
// wildcard is not confined to a domain (the host decides, whatever the scheme and port list), and the opaque
// origin "null" (any page can send it from a sandboxed iframe). Checked on the compiled .wasm (release and
// debug) with the schema agreeing, and at start on both engines. Confined patterns keep working: an
// attacker's origin gets no Access-Control-Allow-* through the gateway (both engines).
import assert from "node:assert/strict";
import { request } from "node:http";
import { describe, test } from "node:test";
import { pluginVerdict } from "../../tools/plugins/index.ts";
import { PluginTester } from "../../tools/host/testing.ts";
import { checkConfig } from "../../tools/plugins/index.ts";
import { pluginWasm } from "../../tools/paths.ts";
import { ENGINES, startEngine } from "../helpers/engines.ts";
import { requireEnvoy } from "../helpers/envoy.ts";
import { BUILDS, compiledPlugin } from "../helpers/plugins.ts";
import { bootstrap, refusedAtStart } from "./support.ts";

type Obj = Record<string, unknown>;

/** Patterns that admit hosts anyone can register, and the reason the log must give. */
const ANY_SITE: Array<[string, RegExp]> = [
  ["*", /"\*" alone matches every origin/],
  [" * ", /"\*" alone matches every origin/],
  ["https://*", /its host is only "\*", which matches every site/],
  ["http://*", /its host is only "\*", which matches every site/],
  ["http://*:[*]", /its host is only "\*", which matches every site/],
  ["https://*:[443,8443]", /its host is only "\*", which matches every site/],
  ["https://**", /a '\*' in the host must stand for whole labels/],
  ["https://*example.com", /whole labels/],
  ["https://app*.example.com.*", /whole labels/],
  ["https://example.*", /whole labels/],
  ["https://*.com", /directly under a top-level domain/],
  ["https://*.com.", /directly under a top-level domain/],
  ["http://*.*", /whole labels/],
  ["https://*.", /its host is only "\*"/],
];
/** Confined to a domain the operator names: accepted with credentials. */
const CONFINED = ["https://*.example.com", "https://*.*.example.com", "http://*.example.com:[*]", "https://app-*.example.com", "https://app.example.com"];

function config(pattern: string): Obj {
  return { allow_origin_patterns: ["https://app.example.com", pattern], allow_credentials: true };
}

for (const build of BUILDS) {
  describe(`cors: credentials never go to every site (${build})`, () => {
    test("every pattern that admits any site is refused naming the field, the pattern and why", async () => {
      const wasm = pluginWasm("cors", build === "debug");
      await compiledPlugin("cors", build);
      const problems: string[] = [];
      for (const [pattern, why] of ANY_SITE) {
        const v = await pluginVerdict(wasm, "cors", config(pattern));
        const critical = v.logs.filter((l) => l.levelName === "critical").map((l) => l.message).join(" | ");
        if (v.accepted) problems.push(`${JSON.stringify(pattern)}: accepted`);
        else if (!critical.includes("'allow_credentials' cannot be true when 'allow_origin_patterns' admits every site: ") || !why.test(critical)) {
          problems.push(`${JSON.stringify(pattern)}: ${critical}`);
        }
        if (checkConfig("cors", config(pattern)).length === 0) problems.push(`${JSON.stringify(pattern)}: the schema accepts it`);
        // Without credentials the same pattern is a legitimate public API.
        const open = { allow_origin_patterns: [pattern] };
        if (!(await pluginVerdict(wasm, "cors", open)).accepted || checkConfig("cors", open).length) problems.push(`${JSON.stringify(pattern)} without credentials: refused`);
      }
      for (const pattern of CONFINED) {
        const v = await pluginVerdict(wasm, "cors", config(pattern));
        if (!v.accepted) problems.push(`${JSON.stringify(pattern)}: refused (${v.message})`);
        const schema = checkConfig("cors", config(pattern));
        if (schema.length) problems.push(`${JSON.stringify(pattern)}: schema refuses: ${schema.join("; ")}`);
      }
      assert.deepEqual(problems, []);
    });

    test("\"null\" with credentials is refused (any page can send Origin: null); in a rule too", async () => {
      const wasm = pluginWasm("cors", build === "debug");
      for (const cfg of [
        { allow_origins: ["https://app.example.com", "null"], allow_credentials: true },
        { allow_origins: ["https://app.example.com"], _rules_: [{ _match_route_: ["r"], allow_origins: ["null"], allow_credentials: true }] },
      ]) {
        const v = await pluginVerdict(wasm, "cors", cfg);
        assert.equal(v.accepted, false);
        assert.match(v.logs.map((l) => l.message).join(" | "), /'(_rules_\[0\]\.)?allow_credentials' cannot be true when 'allow_origins' contains "null" \(any page can send Origin: null/);
        assert.notDeepEqual(checkConfig("cors", cfg), []);
      }
      const open = { allow_origins: ["null"] };
      assert.equal((await pluginVerdict(wasm, "cors", open)).accepted, true, "null without credentials stays possible");
      assert.deepEqual(checkConfig("cors", open), []);
    });

    test("a confined pattern with credentials admits its subdomains only", async () => {
      const t = await PluginTester.load({ wasm: await compiledPlugin("cors", build), configuration: { allow_origin_patterns: ["https://*.example.com"], allow_credentials: true } });
      try {
        const acao = async (origin: string) => (await t.exchange({ authority: "api.example.net", scheme: "https", headers: [["origin", origin], ["cookie", "s=1"]] })).header("access-control-allow-origin");
        assert.equal(await acao("https://app.example.com"), "https://app.example.com");
        for (const evil of ["https://evil.test", "https://example.com.evil.test", "https://evilexample.com", "null", "http://app.example.com"]) {
          assert.equal(await acao(evil), undefined, evil);
        }
      } finally {
        t.close();
      }
    });
  });
}

function get(port: number, origin: string): Promise<Record<string, string | string[] | undefined>> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/", headers: { host: "api.example.net", origin, cookie: "s=1" }, timeout: 10_000 }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.headers));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

describe("cors credentials through the gateway, both engines", () => {
  for (const engine of ENGINES) {
    test(engine, async (t) => {
      const envoy = engine === "envoy" ? requireEnvoy(t) : null;
      if (engine === "envoy" && !envoy) return;
      for (const [pattern, why] of [["*", /"\*" alone/], ["http://*:[*]", /its host is only "\*", which matches every site/], ["https://*.com", /top-level domain/]] as Array<[string, RegExp]>) {
        const err = await refusedAtStart(engine, envoy, "cors", config(pattern));
        assert.match(err, /'allow_credentials' cannot be true when 'allow_origin_patterns' admits every site/, `${engine} ${pattern}`);
        assert.match(err, why);
      }
      assert.match(await refusedAtStart(engine, envoy, "cors", { allow_origins: ["null"], allow_credentials: true }), /contains "null"/);

      await compiledPlugin("cors", "release");
      const gw = await startEngine(engine, bootstrap("cors", { allow_origin_patterns: ["http://*.example.com:[*]"], allow_credentials: true }), envoy);
      try {
        const ok = await get(gw.port("main"), "http://app.example.com:8080");
        assert.equal(ok["access-control-allow-origin"], "http://app.example.com:8080");
        assert.equal(ok["access-control-allow-credentials"], "true");
        for (const evil of ["http://evil.test", "http://app.example.com.evil.test", "null"]) {
          const h = await get(gw.port("main"), evil);
          assert.equal(h["access-control-allow-origin"], undefined, `${engine}: ${evil}`);
          assert.equal(h["access-control-allow-credentials"], undefined, `${engine}: ${evil}`);
        }
      } finally {
        await gw.stop();
      }
    });
  }
});
