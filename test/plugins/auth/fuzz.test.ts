// Property test of the token and header parsers on the compiled module: random and mutated API keys,
// Basic credentials, JWTs (valid ones with flipped/inserted/deleted characters, random JSON segments,
// random bytes), cookies and query strings. The plugin must never trap and must always answer
// 200 (passed upstream), 401 or 403.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { b64u, BUILDS, nowSec, req, signJwt, signature, tester, testKeys } from "./support.ts";

const RUNS = Number(process.env.AUTH_FUZZ_RUNS ?? 150);

function config() {
  return {
    consumers: [
      { name: "alice", keys: ["k-alice"] },
      { name: "bob", basic: ["bob:p:w"] },
      { name: "svc", jwt: { issuer: "https://issuer.example", audiences: ["api"], jwks: testKeys().jwks } },
    ],
    key_auth: { keys: ["x-api-key", "apikey"], in_query: true, hide_credentials: true },
    basic_auth: {},
    jwt_auth: { from_headers: [{ name: "authorization", value_prefix: "Bearer " }], from_params: ["access_token"], from_cookies: ["jwt"], keep_token: false, claims_to_headers: [{ claim: "sub", header: "x-sub" }, { claim: "a.b", header: "x-ab" }] },
    _rules_: [{ _match_route_: ["admin"], allow: ["alice"] }],
  };
}

/** A valid token, then mutated: a character replaced, inserted or deleted, or segments swapped. */
const mutatedToken = fc
  .tuple(fc.constantFrom("HS256", "RS256", "ES256"), fc.integer({ min: 0, max: 10_000 }), fc.string({ maxLength: 3 }), fc.integer({ min: 0, max: 3 }))
  .map(([alg, at, s, op]) => {
    const t = signJwt(alg as "HS256", { iss: "https://issuer.example", aud: "api", sub: "u", exp: nowSec() + 60 });
    const i = at % (t.length + 1);
    if (op === 0) return t.slice(0, i) + s + t.slice(i + 1);
    if (op === 1) return t.slice(0, i) + s + t.slice(i);
    if (op === 2) return t.slice(0, i) + t.slice(i + s.length + 1);
    const [h, p, g] = t.split(".");
    return [p, h, g].join(".");
  });

/** Well-signed tokens whose header and payload are arbitrary JSON (types the parser must survive). */
const signedJunk = fc.tuple(fc.constantFrom("HS256", "RS256", "ES256"), fc.jsonValue({ maxDepth: 4 }), fc.jsonValue({ maxDepth: 4 }), fc.boolean()).map(([alg, h, p, withAlg]) => {
  const header = withAlg && h !== null && typeof h === "object" && !Array.isArray(h) ? { ...h, alg } : h;
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(p))}`;
  return `${input}.${b64u(signature(alg as "HS256", input))}`;
});

const randomToken = fc.oneof(fc.string({ maxLength: 200 }), fc.stringMatching(/^[A-Za-z0-9_\-.=+/]{0,300}$/), fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString("latin1")));

const headerValue = fc.oneof(
  mutatedToken.map((t) => `Bearer ${t}`),
  signedJunk.map((t) => `Bearer ${t}`),
  randomToken.map((t) => `Bearer ${t}`),
  fc.uint8Array({ maxLength: 100 }).map((b) => `Basic ${Buffer.from(b).toString("base64")}`),
  fc.tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 })).map(([u, p]) => `basic ${Buffer.from(`${u}:${p}`).toString("base64")}`),
  randomToken,
);

const request = fc.record({
  authorization: fc.option(headerValue, { nil: undefined }),
  key: fc.option(fc.oneof(fc.constant("k-alice"), fc.string({ maxLength: 40 })), { nil: undefined }),
  query: fc.oneof(fc.constant(""), fc.string({ maxLength: 60 }).map((s) => `?${s}`), mutatedToken.map((t) => `?access_token=${t}`), fc.string({ maxLength: 30 }).map((s) => `?apikey=${encodeURIComponent(s)}&apikey=${s}`)),
  cookie: fc.option(fc.oneof(mutatedToken.map((t) => `a=1; jwt=${t}`), fc.string({ maxLength: 80 })), { nil: undefined }),
  route: fc.constantFrom("admin", "public"),
});

/** Header values a real HTTP parser would have rejected are not interesting here (the host may refuse them). */
const clean = (s: string) => s.replace(/[\r\n\0]/g, "");

for (const build of BUILDS) {
  describe(`auth fuzz (${build})`, () => {
    test(`${RUNS} random/mutated credentials: no trap, always 200/401/403`, async () => {
      const t = await tester(build, config());
      const seen = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(request, async (r) => {
          const headers: Array<[string, string]> = [];
          if (r.authorization !== undefined) headers.push(["authorization", clean(r.authorization)]);
          if (r.key !== undefined) headers.push(["x-api-key", clean(r.key)]);
          if (r.cookie !== undefined) headers.push(["cookie", clean(r.cookie)]);
          const path = "/p" + clean(r.query).replace(/[ #]/g, "");
          const res = await t.exchange(req(headers, path, { properties: { route_name: r.route } }));
          assert.ok([200, 401, 403].includes(res.status), `status ${res.status} ${res.details} for ${JSON.stringify(r)}`);
          seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
          if (res.status !== 200) assert.equal(res.upstreamRequest, null);
        }),
        { numRuns: RUNS },
      );
      assert.deepEqual(t.logsAt("critical"), []);
      // The generators must reach both the success and the failure paths, or the property proves little.
      assert.ok((seen.get(200) ?? 0) > 0 && (seen.get(401) ?? 0) > 0, `outcomes: ${JSON.stringify([...seen])}`);
    });
  });
}
