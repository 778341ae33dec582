// Attack class "first-value semantics" (attack finding 13, the parser's part): a value a plugin decides
// on must be read from every copy the client can send, and a credential the plugin removes must go from
// every copy. HTTP/1 clients may send several Cookie headers (Envoy keeps them apart unless Cookie is
// registered inline); query strings may repeat a parameter. On the compiled .wasm through the host,
// release and debug.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { PluginTester } from "../../tools/host/testing.ts";
import { BUILDS, compiledPlugin } from "../helpers/plugins.ts";
import { JWKS, TOKEN } from "./hs256.ts";

const foreignFunctions = { clear_route_cache: () => null };

async function load(plugin: string, build: (typeof BUILDS)[number], configuration: object): Promise<PluginTester> {
  const t = await PluginTester.load({ wasm: await compiledPlugin(plugin, build), configuration, workers: 1, foreignFunctions } as never);
  assert.ok(t.configured, t.logsAt("critical").join(" | "));
  return t;
}

for (const build of BUILDS) {
  describe(`first-value semantics (${build})`, () => {
    test("auth jwt from_cookies: a token in a second Cookie header is found; keep_token: false removes it from every Cookie header", async () => {
      const t = await load("auth", build, { consumers: [{ name: "alice", jwt: { issuer: "issuer", jwks: JWKS } }], jwt_auth: { from_cookies: ["jwt"], keep_token: false } });
      const r = await t.exchange({ headers: [["cookie", "a=1; b=2"], ["cookie", `jwt=${TOKEN}; c=3`], ["cookie", `jwt=${TOKEN}`]] });
      assert.equal(r.status, 200);
      assert.equal(r.upstreamRequest!.header("x-mse-consumer"), "alice");
      const cookies = r.upstreamRequest!.headers.filter(([k]) => k === "cookie").map(([, v]) => v);
      assert.deepEqual(cookies, ["a=1; b=2; c=3"]);
      // A lone token cookie leaves no Cookie header at all.
      const only = await t.exchange({ headers: [["cookie", `jwt=${TOKEN}`], ["cookie", ` jwt = ${TOKEN} `]] });
      assert.equal(only.status, 200);
      assert.equal(only.upstreamRequest!.header("cookie"), undefined);
      t.close();
    });

    test("auth keep_token: false with a query token removes every copy of the parameter, encoded or not", async () => {
      const t = await load("auth", build, { consumers: [{ name: "alice", jwt: { issuer: "issuer", jwks: JWKS } }], jwt_auth: { from_params: ["access_token"], keep_token: false } });
      const r = await t.exchange({ path: `/p?access_token=${TOKEN}&x=1&%61ccess_token=${TOKEN}&access%5Ftoken&y=2&access_token=junk#frag` });
      assert.equal(r.status, 200);
      assert.equal(r.upstreamRequest!.path, "/p?x=1&y=2#frag");
      t.close();
    });

    test("auth key hide_credentials with a repeated query key removes all of them", async () => {
      const t = await load("auth", build, { consumers: [{ name: "c", keys: ["k1"] }], key_auth: { keys: ["apikey"], in_header: false, in_query: true, hide_credentials: true } });
      const r = await t.exchange({ path: "/p?apikey=k1&&apikey=other&keep=1&apikey" });
      assert.equal(r.status, 200);
      assert.equal(r.upstreamRequest!.path, "/p?keep=1");
      const none = await t.exchange({ path: "/p?apikey=k1" });
      assert.equal(none.upstreamRequest!.path, "/p");
      t.close();
    });

    test("rate-limit cookie keys see a key cookie in a second Cookie header", async () => {
      const t = await load("rate-limit", build, { rules: [{ name: "per-sid", key: { cookie: "sid" }, limit: { requests: 1, per: "minute" } }] });
      const send = () => t.exchange({ headers: [["cookie", "theme=dark"], ["cookie", "sid=client-1"]] });
      assert.equal((await send()).status, 200);
      assert.equal((await send()).status, 429, "the second request of the same sid (in the second Cookie header) is limited");
      // A different client is still served.
      assert.equal((await t.exchange({ headers: [["cookie", "sid=client-2"]] })).status, 200);
      t.close();
    });

    test("canary cookie conditions and the pin see a cookie in a second Cookie header", async () => {
      const t = await load("canary", build, { rules: [{ match: { all: [{ type: "cookie", key: "beta", op: "equal", value: "1" }] }, tag: "v2" }] });
      const r = await t.exchange({ headers: [["cookie", "a=b"], ["cookie", "beta=1"]] });
      assert.equal(r.upstreamRequest!.header("x-canary-version"), "v2");
      const miss = await t.exchange({ headers: [["cookie", "a=b"], ["cookie", "beta=2"]] });
      assert.notEqual(miss.upstreamRequest!.header("x-canary-version"), "v2");
      t.close();
    });
  });
}
