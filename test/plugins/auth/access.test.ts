// Who may pass where: Higress's global_auth × allow matrix (features.md §5.1), rule precedence, the
// anti-spoofing of the consumer header, and several methods configured together.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BUILDS, nowSec, onRoute, req, signJwt, tester, testKeys } from "./support.ts";

const consumers = [{ name: "alice", keys: ["k-alice"] }, { name: "bob", keys: ["k-bob"] }];
const rules = [{ _match_route_: ["admin"], allow: ["alice"] }];
const alice: [string, string] = ["x-api-key", "k-alice"];
const bob: [string, string] = ["x-api-key", "k-bob"];

for (const build of BUILDS) {
  describe(`auth global_auth matrix (${build})`, () => {
    // [global_auth, has rules, route, credential, expected status]
    type Row = [boolean | undefined, boolean, string, [string, string] | null, number];
    const rows: Row[] = [
      [true, true, "public", null, 401], [true, true, "public", bob, 200], [true, true, "admin", bob, 403], [true, true, "admin", alice, 200], [true, true, "admin", null, 401],
      [false, true, "public", null, 200], [false, true, "admin", null, 401], [false, true, "admin", bob, 403], [false, true, "admin", alice, 200],
      [false, false, "public", null, 200],
      [undefined, false, "public", null, 401], [undefined, false, "public", bob, 200],
      [undefined, true, "public", null, 200], [undefined, true, "admin", null, 401], [undefined, true, "admin", bob, 403], [undefined, true, "admin", alice, 200],
    ];
    for (const [global, hasRules, route, cred, want] of rows) {
      test(`global_auth=${global} rules=${hasRules} route=${route} cred=${cred ? cred[1] : "none"} → ${want}`, async () => {
        const cfg: Record<string, unknown> = { consumers, key_auth: { keys: ["x-api-key"] } };
        if (global !== undefined) cfg.global_auth = global;
        if (hasRules) cfg._rules_ = rules;
        const t = await tester(build, cfg);
        const res = await t.exchange(onRoute(route, cred ? [cred] : []));
        assert.equal(res.status, want, res.body);
        if (want === 403) {
          assert.equal(res.details, "auth.not_allowed");
          assert.equal(res.body, "Request denied by Key Auth check. Unauthorized consumer.");
          assert.equal(res.header("www-authenticate"), undefined);
        }
      });
    }

    test("domain rules, and the first matching rule wins (a route rule shadows a broader domain rule)", async () => {
      const t = await tester(build, { consumers, key_auth: {}, _rules_: [{ _match_route_: ["admin"], allow: ["alice"] }, { _match_domain_: ["*.example.com"], allow: ["bob"] }] });
      const dom = (route: string, host: string, cred: [string, string]) => t.exchange({ ...onRoute(route, [cred]), authority: host });
      assert.equal((await dom("other", "api.example.com", bob)).status, 200);
      assert.equal((await dom("other", "api.example.com", alice)).status, 403);
      assert.equal((await dom("admin", "api.example.com", bob)).status, 403);
      assert.equal((await dom("admin", "api.example.com", alice)).status, 200);
      assert.equal((await dom("other", "elsewhere.io", bob)).status, 200, "no rule, global_auth unset with rules → no auth");
    });
  });

  describe(`auth consumer header (${build})`, () => {
    test("a client-sent consumer header never reaches upstream: replaced on success, removed where no auth applies", async () => {
      const t = await tester(build, { consumers, key_auth: {}, global_auth: false, _rules_: rules });
      const a = await t.exchange(onRoute("admin", [alice, ["x-mse-consumer", "root"], ["x-mse-consumer", "bob"]]));
      assert.equal(a.status, 200);
      assert.deepEqual(a.upstreamRequest!.headers.filter(([k]: [string, string]) => k === "x-mse-consumer"), [["x-mse-consumer", "alice"]]);
      const b = await t.exchange(onRoute("public", [["x-mse-consumer", "alice"]]));
      assert.equal(b.status, 200);
      assert.equal(b.upstreamRequest!.header("x-mse-consumer"), undefined);
    });

    test("consumer_header names the header", async () => {
      const t = await tester(build, { consumers, key_auth: {}, consumer_header: "X-Consumer" });
      const res = await t.exchange(req([bob, ["x-consumer", "alice"]]));
      assert.equal(res.upstreamRequest!.header("x-consumer"), "bob");
      assert.equal(res.upstreamRequest!.header("x-mse-consumer"), undefined);
    });
  });

  describe(`auth several methods (${build})`, () => {
    const all = {
      consumers: [
        { name: "alice", keys: ["k-alice"] },
        { name: "bob", basic: ["bob:pw"] },
        { name: "svc", jwt: { issuer: "https://issuer.example", jwks: testKeys().jwks } },
      ],
      key_auth: {}, basic_auth: { realm: "r" }, jwt_auth: { realm: "r" },
    };

    test("no credential: 401 with one challenge per method", async () => {
      const t = await tester(build, all);
      const res = await t.exchange(req());
      assert.equal(res.status, 401);
      assert.equal(res.details, "auth.missing_credential");
      const challenges = res.headers.filter(([k]: [string, string]) => k === "www-authenticate").map(([, v]: [string, string]) => v);
      assert.deepEqual(challenges, ['Key realm="tollgate"', 'Basic realm="r"', 'Bearer realm="r"']);
    });

    test("each method identifies its consumer; the first present credential (key, Basic, JWT) decides", async () => {
      const t = await tester(build, all);
      const token = signJwt("ES256", { iss: "https://issuer.example", exp: nowSec() + 60 });
      assert.equal((await t.exchange(req([["x-api-key", "k-alice"]]))).upstreamRequest!.header("x-mse-consumer"), "alice");
      assert.equal((await t.exchange(req([["authorization", "Basic " + Buffer.from("bob:pw").toString("base64")]]))).upstreamRequest!.header("x-mse-consumer"), "bob");
      assert.equal((await t.exchange(req([["authorization", `Bearer ${token}`]]))).upstreamRequest!.header("x-mse-consumer"), "svc");
      const mixed = await t.exchange(req([["x-api-key", "wrong"], ["authorization", `Bearer ${token}`]]));
      assert.equal(mixed.status, 401);
      assert.equal(mixed.details, "auth.key_invalid");
    });
  });
}
