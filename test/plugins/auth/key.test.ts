// API-key authentication through the host on the compiled module: the shared vectors
// (test/vectors/apikey-cases.json, translated to tollgate's config) and the behaviours of
// features.md §5.2/§5.6 — sources, multiple keys, query decoding, hide_credentials, challenges.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BUILDS, req, tester, vectors } from "./support.ts";

/** Higress key-auth config → tollgate: `credential` becomes `keys: [credential]`, the key fields move into key_auth. */
function translate(c: any): object {
  const cfg: any = {
    consumers: c.consumers.map((x: any) => ({ name: x.name, keys: x.credentials ?? [x.credential] })),
    key_auth: { keys: c.keys, in_header: c.in_header ?? true, in_query: c.in_query ?? false },
  };
  if ("global_auth" in c) cfg.global_auth = c.global_auth;
  if (c._rules_) cfg._rules_ = c._rules_;
  return cfg;
}

/**
 * Where the sources disagree or leave it open, tollgate's decision (README "Decisions"):
 * an invalid key is 401 (Higress README, §5.6), not 403 (Higress code/tests); keys compare exactly
 * (case-sensitive, no prefix match) after RFC 9110 OWS trimming; the README cases run on route-a.
 */
const DECIDED: Record<string, number> = {
  "higress-invalid-header-key": 401,
  "higress-query-key-invalid": 401,
  "higress-query-key-missing": 401,
  "derived-key-case-sensitive": 401,
  "derived-key-prefix": 401,
  "derived-key-with-whitespace": 200,
  "derived-url-encoded-query-key": 200,
};

for (const build of BUILDS) {
  describe(`auth key_auth vectors (${build})`, () => {
    const v = vectors("apikey-cases.json");
    for (const c of v.cases) {
      test(c.id, async () => {
        const t = await tester(build, translate(c.config));
        const headers: Array<[string, string]> = Object.entries(c.request.headers as Record<string, string>).filter(([k]) => !k.startsWith(":")).map(([k, val]) => [k.toLowerCase(), val]);
        const properties = c.id.startsWith("readme-") ? { route_name: "route-a" } : {};
        const res = await t.exchange({ method: c.request.method, path: c.request.path, authority: c.request.headers[":authority"], scheme: "https", headers, properties });
        const raw = c.expect.status;
        const want = DECIDED[c.id] ?? (typeof raw === "number" ? raw : String(raw).startsWith("forwarded") ? 200 : Number.parseInt(String(raw), 10));
        assert.equal(res.status, want, `${c.id}: ${res.body}`);
        if (want === 200) {
          assert.ok(res.upstreamRequest, "reached upstream");
          for (const [k, val] of Object.entries((c.expect.upstream_headers ?? {}) as Record<string, string>)) assert.equal(res.upstreamRequest!.header(k), val);
        } else {
          assert.equal(res.localReply, true);
          if (want === 401) assert.equal(res.header("www-authenticate"), 'Key realm="tollgate"');
          if (typeof c.expect.body === "string") assert.equal(res.body, c.expect.body);
        }
      });
    }
  });

  describe(`auth key_auth behaviour (${build})`, () => {
    const base = {
      consumers: [{ name: "alice", keys: ["k-alice"] }, { name: "bob", keys: ["k-bob", "k-bob-2"] }],
      key_auth: { keys: ["x-api-key", "apikey"], in_header: true, in_query: true },
    };

    test("a key in a header or the query identifies its consumer; every key of a consumer works", async () => {
      const t = await tester(build, base);
      for (const [h, path, who] of [[["x-api-key", "k-alice"], "/a", "alice"], [["apikey", "k-bob-2"], "/a", "bob"], [null, "/a?apikey=k-bob", "bob"]] as const) {
        const res = await t.exchange(req(h ? [[h[0], h[1]]] : [], path));
        assert.equal(res.status, 200);
        assert.equal(res.upstreamRequest!.header("x-mse-consumer"), who);
      }
    });

    test("missing, empty, unknown and two keys are 401 with the Key challenge and their bodies", async () => {
      const t = await tester(build, base);
      const cases: Array<[Array<[string, string]>, string, string, string]> = [
        [[], "/a", "auth.key_missing", "No API key found in request."],
        [[["x-api-key", ""]], "/a", "auth.key_invalid", "Request denied by Key Auth check. Invalid API key."],
        [[["x-api-key", "k-carol"]], "/a", "auth.key_invalid", "Request denied by Key Auth check. Invalid API key."],
        [[["x-api-key", "k-alice"], ["apikey", "k-alice"]], "/a", "auth.key_multiple", "Request denied by Key Auth check. Multiple API keys found in request."],
        [[["x-api-key", "k-alice"]], "/a?apikey=k-bob", "auth.key_multiple", "Request denied by Key Auth check. Multiple API keys found in request."],
      ];
      for (const [headers, path, details, body] of cases) {
        const res = await t.exchange(req(headers, path));
        assert.equal(res.status, 401, details);
        assert.equal(res.details, details);
        assert.equal(res.body, body);
        assert.equal(res.header("www-authenticate"), 'Key realm="tollgate"');
        assert.equal(res.upstreamRequest, null);
      }
    });

    test("query names are case-sensitive and percent-decoded; header names are case-insensitive", async () => {
      const t = await tester(build, { consumers: [{ name: "c", keys: ["a+b/c="] }], key_auth: { keys: ["ApiKey"], in_header: true, in_query: true } });
      assert.equal((await t.exchange(req([], "/x?ApiKey=a%2Bb%2Fc%3D"))).status, 200);
      assert.equal((await t.exchange(req([], "/x?apikey=a%2Bb%2Fc%3D"))).status, 401);
      assert.equal((await t.exchange(req([["apikey", "a+b/c="]], "/x"))).status, 200);
    });

    test("in_query false ignores the query; in_header false ignores headers", async () => {
      const h = await tester(build, { ...base, key_auth: { keys: ["apikey"], in_header: true, in_query: false } });
      assert.equal((await h.exchange(req([], "/a?apikey=k-alice"))).status, 401);
      const q = await tester(build, { ...base, key_auth: { keys: ["apikey"], in_header: false, in_query: true } });
      assert.equal((await q.exchange(req([["apikey", "k-alice"]], "/a"))).status, 401);
      assert.equal((await q.exchange(req([], "/a?apikey=k-alice"))).status, 200);
    });

    test("hide_credentials removes the header or the query parameter, keeping the rest of the query", async () => {
      const t = await tester(build, { ...base, key_auth: { ...base.key_auth, hide_credentials: true } });
      const a = await t.exchange(req([["x-api-key", "k-alice"], ["x-other", "1"]], "/a"));
      assert.equal(a.upstreamRequest!.header("x-api-key"), undefined);
      assert.equal(a.upstreamRequest!.header("x-other"), "1");
      const b = await t.exchange(req([], "/a?x=1&apikey=k-bob&y=2"));
      assert.equal(b.status, 200);
      assert.equal(b.upstreamRequest!.header(":path"), "/a?x=1&y=2");
      const c = await t.exchange(req([], "/a?apikey=k-bob"));
      assert.equal(c.upstreamRequest!.header(":path"), "/a");
      const keep = await tester(build, base);
      assert.equal((await keep.exchange(req([["x-api-key", "k-alice"]], "/a"))).upstreamRequest!.header("x-api-key"), "k-alice");
    });

    test("a realm is quoted in the challenge", async () => {
      const t = await tester(build, { ...base, key_auth: { ...base.key_auth, realm: "MSE Gateway" } });
      assert.equal((await t.exchange(req())).header("www-authenticate"), 'Key realm="MSE Gateway"');
    });
  });
}
