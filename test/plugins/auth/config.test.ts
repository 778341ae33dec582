// Configuration rejected at on_configure with one critical line naming the field and the rule.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { generateKeyPairSync } from "node:crypto";
import { BUILDS, b64u, rejected, tester, testKeys } from "./support.ts";

const key = { consumers: [{ name: "alice", keys: ["k"] }], key_auth: {} };
const jwtWith = (jwks: unknown, extra: object = {}) => ({ consumers: [{ name: "s", jwt: { issuer: "i", jwks, ...extra } }], jwt_auth: {} });
const rsa1024 = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ format: "jwk" });
const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" }).publicKey.export({ format: "jwk" });
const ecPub = testKeys().jwks.keys[1] as Record<string, string>;

const CASES: Array<[string, unknown, RegExp]> = [
  ["not JSON", "{consumers", /configuration is not valid JSON/],
  ["no method", { consumers: [] }, /needs at least one method: key_auth, basic_auth, jwt_auth or ext_auth/],
  ["unknown global field", { ...key, bogus: 1 }, /'bogus' is not a known field; allowed: consumers, key_auth/],
  ["unknown key_auth field", { ...key, key_auth: { header: "x" } }, /'key_auth\.header' is not a known field/],
  ["unknown consumer field", { ...key, consumers: [{ name: "a", keys: ["k"], credential: "x" }] }, /'consumers\[0\]\.credential' is not a known field/],
  ["auth settings in a rule", { ...key, _rules_: [{ _match_route_: ["r"], key_auth: {} }] }, /'_rules_\[0\]\.key_auth' is not a known field; allowed: allow/],
  ["rule without allow", { ...key, _rules_: [{ _match_route_: ["r"] }] }, /'_rules_\[0\]\.allow' is required/],
  ["allow naming an unknown consumer", { ...key, _rules_: [{ _match_route_: ["r"], allow: ["alice", "carol"] }] }, /'_rules_\[0\]\.allow\[1\]' names unknown consumer "carol"; known: alice/],
  ["duplicate consumer names", { ...key, consumers: [{ name: "a", keys: ["k1"] }, { name: "a", keys: ["k2"] }] }, /'consumers\[1\]\.name' duplicates consumers\[0\]/],
  ["a key shared by two consumers", { ...key, consumers: [{ name: "a", keys: ["k"] }, { name: "b", keys: ["k"] }] }, /'consumers\[1\]\.keys\[0\]' is also a key of consumer "a"/],
  ["consumer without credential", { ...key, consumers: [{ name: "a", keys: ["k"] }, { name: "b" }] }, /'consumers\[1\]' needs at least one credential/],
  ["keys without key_auth", { consumers: [{ name: "a", keys: ["k"] }], basic_auth: {} }, /'consumers\[0\]\.keys' needs the 'key_auth' block/],
  ["key_auth without keys", { consumers: [{ name: "a", basic: ["a:b"] }], key_auth: {}, basic_auth: {} }, /'key_auth' is set, but no consumer has 'keys'/],
  ["both lookups off", { ...key, key_auth: { in_header: false, in_query: false } }, /'key_auth\.in_header' and 'in_query' cannot both be false/],
  ["consumer name with a space", { ...key, consumers: [{ name: "a b", keys: ["k"] }] }, /'consumers\[0\]\.name' must be 1 to 256 visible ASCII/],
  ["bad consumer_header", { ...key, consumer_header: "x consumer" }, /'consumer_header' must be a header name/],
  ["realm with a quote", { ...key, key_auth: { realm: 'a"b' } }, /'key_auth\.realm' must be printable ASCII without/],
  ["global_auth not a bool", { ...key, global_auth: "yes" }, /'global_auth' must be true or false/],
  ["basic without colon", { consumers: [{ name: "a", basic: ["nocolon"] }], basic_auth: {} }, /'consumers\[0\]\.basic\[0\]' must be "user:password"/],
  ["basic digest of the wrong size", { consumers: [{ name: "a", basic: ["a:{SHA256}" + Buffer.alloc(20).toString("base64")] }], basic_auth: {} }, /'consumers\[0\]\.basic\[0\]' must carry a base64 SHA-256 digest \(32 bytes\)/],
  ["duplicate basic user", { consumers: [{ name: "a", basic: ["u:1"] }, { name: "b", basic: ["u:2"] }], basic_auth: {} }, /'consumers\[1\]\.basic\[0\]' names a user that another credential already has/],
  ["JWKS that is not JSON", jwtWith("{not json"), /'consumers\[0\]\.jwt\.jwks' is not valid JSON/],
  ["JWKS without keys", jwtWith({ kty: "oct" }), /'consumers\[0\]\.jwt\.jwks\.keys' must be a non-empty array of JWKs/],
  ["RSA key of 1024 bits", jwtWith({ keys: [rsa1024] }), /'consumers\[0\]\.jwt\.jwks\.keys\[0\]\.n' must be a 2048 to 4096-bit RSA modulus, got 1024 bits/],
  ["EC P-384 key", jwtWith({ keys: [p384] }), /'consumers\[0\]\.jwt\.jwks\.keys\[0\]\.crv' must be P-256/],
  ["OKP key", jwtWith({ keys: [{ kty: "OKP", crv: "Ed25519", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" }] }), /'consumers\[0\]\.jwt\.jwks\.keys\[0\]\.kty' must be RSA, EC or oct, got "OKP"/],
  ["unsupported alg", jwtWith({ keys: [{ kty: "oct", alg: "HS512", k: b64u(Buffer.alloc(64, 1)) }] }), /'consumers\[0\]\.jwt\.jwks\.keys\[0\]\.alg' is not supported \(HS512\)/],
  ["alg that does not fit kty", jwtWith({ keys: [{ ...ecPub, alg: "RS256" }] }), /'consumers\[0\]\.jwt\.jwks\.keys\[0\]\.alg' must be ES256 for this key type/],
  ["private key material", jwtWith({ keys: [{ ...ecPub, d: "AAAA" }] }), /'consumers\[0\]\.jwt\.jwks\.keys\[0\]\.d' is private key material/],
  ["EC point not on the curve", jwtWith({ keys: [{ ...ecPub, y: b64u(Buffer.alloc(32, 7)) }] }), /'consumers\[0\]\.jwt\.jwks\.keys\[0\]\.x' with 'y' is not a point on P-256/],
  ["kid not a string", jwtWith({ keys: [{ ...ecPub, kid: 5 }] }), /'consumers\[0\]\.jwt\.jwks\.keys\[0\]\.kid' must be a string, got 5/],
  ["duplicate issuer", { consumers: [{ name: "a", jwt: { issuer: "i", jwks: testKeys().jwks } }, { name: "b", jwt: { issuer: "i", jwks: testKeys().jwks } }], jwt_auth: {} }, /'consumers\[1\]\.jwt\.issuer' is also the issuer of consumer "a"/],
  ["claims_to_headers onto the consumer header", { ...jwtWith(testKeys().jwks), jwt_auth: { claims_to_headers: [{ claim: "sub", header: "x-mse-consumer" }] } }, /'jwt_auth\.claims_to_headers\[0\]\.header' must be a header name other than/],
  ["claims_to_headers onto content-length", { ...jwtWith(testKeys().jwks), jwt_auth: { claims_to_headers: [{ claim: "sub", header: "Content-Length" }] } }, /'jwt_auth\.claims_to_headers\[0\]\.header' cannot be "content-length": a framing header/],
  ["consumer_header that carries the key", { ...key, consumer_header: "x-api-key" }, /'consumer_header' cannot be a header that carries credentials \("x-api-key"\)/],
  ["ext_auth copying a framing header", { ext_auth: { cluster: "c", allowed_upstream_headers: ["x-user", "transfer-encoding"] } }, /'ext_auth\.allowed_upstream_headers\[1\]' cannot be "transfer-encoding": a framing header/],
  ["ext_auth without cluster", { ext_auth: {} }, /'ext_auth\.cluster' is required/],
  ["ext_auth path_prefix without slash", { ext_auth: { cluster: "c", path_prefix: "check" } }, /'ext_auth\.path_prefix' must start with '\/'/],
  ["ext_auth negative timeout", { ext_auth: { cluster: "c", timeout_ms: -1 } }, /'ext_auth\.timeout_ms' must be an integer between 1 and 60000, got -1/],
];

for (const build of BUILDS) {
  describe(`auth config rejection (${build})`, () => {
    for (const [name, cfg, message] of CASES) {
      test(name, async () => {
        const log = await rejected(build, cfg as object);
        assert.match(log, message);
      });
    }

    test("encryption keys (use: enc) are skipped; a JWKS of only those is refused", async () => {
      const enc = { ...(testKeys().jwks.keys[0] as object), kid: "enc", use: "enc", alg: undefined };
      await tester(build, jwtWith({ keys: [enc, testKeys().jwks.keys[1]] }));
      assert.match(await rejected(build, jwtWith({ keys: [enc] })), /has no signing key/);
    });

    test("the JWKS may be a JSON string or an object; RSA 4096 is accepted", async () => {
      const big = generateKeyPairSync("rsa", { modulusLength: 4096 }).publicKey.export({ format: "jwk" });
      await tester(build, jwtWith(JSON.stringify({ keys: [big] })));
      await tester(build, jwtWith({ keys: [big] }));
    });
  });
}
