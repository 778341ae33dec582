// HTTP Basic through the host on the compiled module: test/vectors/basic-auth-cases.json
// (Envoy basic_auth tests, RFC 7617 examples, derived edge cases) translated to consumers, plus
// hashed passwords, colon-in-password and hide_credentials.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, test } from "node:test";
import { BUILDS, req, tester, vectors } from "./support.ts";

const v = vectors("basic-auth-cases.json");

/** Envoy's htpasswd users become consumers named after the user; Envoy's realm is the request URL. */
function translate(c: any): { config: object; route?: string } | null {
  const envoyUsers = (v.envoy_users.users_htpasswd_sha as string[]).map((line) => ({ name: line.split(":")[0], basic: [line] }));
  const envoy = { consumers: envoyUsers, basic_auth: { realm: "http://host/" }, consumer_header: "x-username" };
  if (c.config === "envoy_users") return { config: envoy };
  if (typeof c.config === "string" && c.config.startsWith("per-route users")) {
    // Envoy swaps the user list per route; tollgate keeps one consumer list and restricts the route with `allow`.
    return {
      config: { ...envoy, consumers: [...envoyUsers, { name: "admin", basic: ["admin:{SHA}0DPiKuNIrrVmD8IUCuw1hQxNqZc="] }], _rules_: [{ _match_route_: ["admin-route"], allow: ["admin"] }] },
      route: "admin-route",
    };
  }
  if (typeof c.config === "string" && c.config.startsWith("per-route FilterConfig disabled")) {
    return { config: { ...envoy, global_auth: false, _rules_: [{ _match_route_: ["protected"], allow: ["user1"] }] }, route: "open" };
  }
  if (typeof c.config === "string") return null; // authentication_header override: not a tollgate option
  const consumers = Object.entries(c.config.users as Record<string, string>)
    .filter(([user]) => user.length > 0) // an empty user-id cannot be configured (RFC 7617 needs one)
    // Consumer names travel in a header (visible ASCII); a UTF-8 user gets an ASCII consumer name.
    .map(([user, pass], i) => ({ name: /^[!-~]+$/.test(user) ? user : `user-${i}`, basic: [`${user}:${pass}`] }));
  return { config: { consumers, basic_auth: { realm: c.config.realm ?? "tollgate" } } };
}

/** tollgate's choices where the vectors say "implementation-defined" / "recommended" (README "Decisions"). */
const DECIDED: Record<string, number> = {
  "edge-empty-password": 200, // bob's configured password is empty
  "edge-empty-user": 401,
  "edge-lowercase-scheme": 200, // RFC 7235 §2.1: the scheme is case-insensitive
  "edge-uppercase-scheme": 200,
  "edge-double-space": 200,
  "edge-base64-no-padding": 200, // as Envoy (decodeWithoutPadding)
  "edge-trailing-whitespace": 200,
  "edge-multiple-authorization-headers": 200, // the first value, as every Envoy filter sees it
  "edge-utf8-username": 200,
  "envoy-per-route-admin-rejects-global-user": 403, // valid consumer outside `allow` (Envoy: 401, its per-route list lacks user1)
};

for (const build of BUILDS) {
  describe(`auth basic_auth vectors (${build})`, () => {
    for (const c of v.cases) {
      const tr = translate(c);
      test(c.id, { skip: tr === null ? "authentication_header override is not a tollgate option" : false }, async () => {
        const t = await tester(build, tr!.config);
        const headers: Array<[string, string]> = [];
        for (const [k, val] of Object.entries(c.request.headers as Record<string, string | string[]>)) {
          if (k.startsWith(":")) continue;
          for (const one of Array.isArray(val) ? val : [val]) headers.push([k, one]);
        }
        const properties = tr!.route ? { route_name: tr!.route } : {};
        const res = await t.exchange({ method: c.request.method, path: c.request.path, authority: c.request.headers[":authority"], scheme: "http", headers, properties });
        const raw = c.expect.status;
        const want = DECIDED[c.id] ?? (typeof raw === "number" ? raw : Number.parseInt(String(raw), 10));
        assert.equal(res.status, want, `${c.id}: ${res.body}`);
        if (want === 200) {
          for (const [k, val] of Object.entries((c.expect.upstream_headers ?? {}) as Record<string, string>)) assert.equal(res.upstreamRequest!.header(k), val);
        }
        if (want === 401) {
          if (c.expect.body) assert.equal(res.body, c.expect.body);
          if (c.expect["www-authenticate"]) assert.equal(res.header("www-authenticate"), c.expect["www-authenticate"]);
          else assert.match(res.header("www-authenticate") ?? "", /^Basic realm="/);
        }
      });
    }
  });

  describe(`auth basic_auth behaviour (${build})`, () => {
    const sha256 = (s: string) => createHash("sha256").update(s).digest("base64");
    const sha1 = (s: string) => createHash("sha1").update(s).digest("base64");
    const basic = (s: string) => "Basic " + Buffer.from(s).toString("base64");
    const cfg = {
      consumers: [
        { name: "plain", basic: ["plain:pa:ss:word"] },
        { name: "hashed", basic: [`h256:{SHA256}${sha256("s3cret:x")}`, `h1:{SHA}${sha1("old")}`] },
      ],
      basic_auth: { realm: "tollgate" },
    };

    test("plain, {SHA256} and {SHA} passwords; the password may contain ':'", async () => {
      const t = await tester(build, cfg);
      for (const [cred, who] of [["plain:pa:ss:word", "plain"], ["h256:s3cret:x", "hashed"], ["h1:old", "hashed"]]) {
        const res = await t.exchange(req([["authorization", basic(cred)]]));
        assert.equal(res.status, 200, cred);
        assert.equal(res.upstreamRequest!.header("x-mse-consumer"), who);
        assert.equal(res.upstreamRequest!.header("authorization"), basic(cred));
      }
      for (const cred of ["plain:pa", "plain:pa:ss:word ", "h256:s3cret", "h1:OLD", "nobody:x", "plain"]) {
        const res = await t.exchange(req([["authorization", basic(cred)]]));
        assert.equal(res.status, 401, cred);
        assert.equal(res.header("www-authenticate"), 'Basic realm="tollgate"');
      }
    });

    test("unknown user and wrong password get the same reply (no user enumeration)", async () => {
      const t = await tester(build, cfg);
      const a = await t.exchange(req([["authorization", basic("nobody:x")]]));
      const b = await t.exchange(req([["authorization", basic("plain:wrong")]]));
      assert.equal(a.body, b.body);
      assert.equal(a.details, b.details);
      assert.equal(a.details, "auth.basic_invalid");
    });

    test("another scheme is 401 'Expected Basic'; no header is 401 'Missing'", async () => {
      const t = await tester(build, cfg);
      const a = await t.exchange(req([["authorization", "Bearer abc"]]));
      assert.equal(a.status, 401);
      assert.equal(a.details, "auth.basic_scheme");
      const b = await t.exchange(req());
      assert.equal(b.details, "auth.basic_missing");
    });

    test("hide_credentials removes Authorization upstream", async () => {
      const t = await tester(build, { ...cfg, basic_auth: { hide_credentials: true } });
      const res = await t.exchange(req([["authorization", basic("h1:old")]]));
      assert.equal(res.status, 200);
      assert.equal(res.upstreamRequest!.header("authorization"), undefined);
    });
  });
}
