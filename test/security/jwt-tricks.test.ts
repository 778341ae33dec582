// JWT tricks black-box (issue 15 item 9, held class "every JWT trick"), on both engines through
// envoy-configs/auth.yaml's `auth` listener: consumer svc accepts HS256 tokens from
// https://issuer.tollgate.example for audience demo, signed with the demo secret in that file. The tricks
// that need an RSA key in the JWKS (the RSA public key used as an HMAC secret) get one: the test adds a
// freshly generated RS256 key (kid demo-rs) to svc's JWKS, identically on both engines, and a valid RS256
// token shows that key works. Every trick is 401 and never reaches the upstream; the valid tokens are 200
// with the consumer upstream (so the test can fail).
import assert from "node:assert/strict";
import { createHmac, generateKeyPairSync, sign } from "node:crypto";
import { request } from "node:http";
import { test } from "node:test";
import { ENGINES } from "../helpers/engines.ts";
import { requireEnvoy } from "../helpers/envoy.ts";
import { startConfig } from "./blackbox.ts";

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const b64u = (b: Buffer | string): string => Buffer.from(b).toString("base64url");
/** The demo secret of auth.yaml (svc's oct key demo-hs), as the plugin decodes it. */
const SECRET = Buffer.from("dG9sbGdhdGUtZGVtby1oczI1Ni1zZWNyZXQtcGxlYXNlLXJvdGF0ZS1tZSE", "base64url");
const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const RSA_JWK = { ...rsa.publicKey.export({ format: "jwk" }), kid: "demo-rs", alg: "RS256", use: "sig" };

const now = (): number => Math.floor(Date.now() / 1000);
const CLAIMS = (): Obj => ({ iss: "https://issuer.tollgate.example", aud: "demo", sub: "service-42", exp: now() + 3600 });

const hs = (input: string, key: Buffer | string): string => b64u(createHmac("sha256", key).update(input).digest());
function hs256(payload: Obj, header: Obj = {}, key: Buffer | string = SECRET): string {
  const input = `${b64u(JSON.stringify({ alg: "HS256", typ: "JWT", kid: "demo-hs", ...header }))}.${b64u(JSON.stringify(payload))}`;
  return `${input}.${hs(input, key)}`;
}
function rs256(payload: Obj): string {
  const input = `${b64u(JSON.stringify({ alg: "RS256", typ: "JWT", kid: "demo-rs" }))}.${b64u(JSON.stringify(payload))}`;
  return `${input}.${b64u(sign("sha256", Buffer.from(input), rsa.privateKey))}`;
}
function unsigned(alg: string, signature = ""): string {
  return `${b64u(JSON.stringify({ alg, typ: "JWT" }))}.${b64u(JSON.stringify(CLAIMS()))}.${signature}`;
}

/** Each trick: a name and the token (built when the test runs, so exp is relative to now). */
function tricks(): Array<[string, string]> {
  const good = hs256(CLAIMS());
  const [h, p, s] = good.split(".");
  const pemSpki = rsa.publicKey.export({ format: "pem", type: "spki" }) as string;
  const pemPkcs1 = rsa.publicKey.export({ format: "pem", type: "pkcs1" }) as string;
  const derSpki = rsa.publicKey.export({ format: "der", type: "spki" });
  const tampered = b64u(JSON.stringify({ ...CLAIMS(), sub: "admin" }));
  const big = hs256({ ...CLAIMS(), pad: "x".repeat(8300) });
  return [
    ["alg none, no signature", unsigned("none")],
    ["alg None, no signature", unsigned("None")],
    ["alg NONE, no signature", unsigned("NONE")],
    ["alg nOnE, no signature", unsigned("nOnE")],
    ["alg none with the original signature", unsigned("none", s)],
    ["alg none, kid demo-hs", `${b64u(JSON.stringify({ alg: "none", kid: "demo-hs" }))}.${p}.`],
    ["HS256 keyed with the RSA public key (PEM SPKI), kid demo-rs", hs256(CLAIMS(), { kid: "demo-rs" }, pemSpki)],
    ["HS256 keyed with the RSA public key (PEM SPKI), no kid", hs256(CLAIMS(), { kid: undefined }, pemSpki)],
    ["HS256 keyed with the RSA public key (PEM PKCS#1), kid demo-rs", hs256(CLAIMS(), { kid: "demo-rs" }, pemPkcs1)],
    ["HS256 keyed with the RSA public key (DER), kid demo-rs", hs256(CLAIMS(), { kid: "demo-rs" }, derSpki)],
    ["HS256 keyed with the RSA modulus, kid demo-rs", hs256(CLAIMS(), { kid: "demo-rs" }, Buffer.from(RSA_JWK.n as string, "base64url"))],
    ["RS256 header over an HMAC signature, kid demo-rs", `${b64u(JSON.stringify({ alg: "RS256", kid: "demo-rs" }))}.${p}.${hs(`${b64u(JSON.stringify({ alg: "RS256", kid: "demo-rs" }))}.${p}`, SECRET)}`],
    ["kid path traversal, empty HMAC key", hs256(CLAIMS(), { kid: "../../../../dev/null" }, "")],
    ["kid SQL injection, HMAC key \"1\"", hs256(CLAIMS(), { kid: "x' UNION SELECT '1" }, "1")],
    ["kid unknown, signed with the demo secret", hs256(CLAIMS(), { kid: "nope" })],
    ["kid as a URL (jku/x5u-style injection)", hs256(CLAIMS(), { kid: "https://evil.test/jwks.json", jku: "https://evil.test/jwks.json" }, "")],
    ["embedded jwk header with the attacker's key", hs256(CLAIMS(), { kid: undefined, jwk: { kty: "oct", k: b64u("attacker") } }, "attacker")],
    ["crit [exp], otherwise valid", hs256(CLAIMS(), { crit: ["exp"] })],
    ["crit [x-custom], otherwise valid", hs256(CLAIMS(), { crit: ["x-custom"], "x-custom": true })],
    ["crit [], otherwise valid", hs256(CLAIMS(), { crit: [] })],
    ["tampered payload, original signature", `${h}.${tampered}.${s}`],
    ["four segments", `${good}.${s}`],
    ["four segments, empty last", `${good}.`],
    ["two segments", `${h}.${p}`],
    ["token over 8 KiB, validly signed", big],
    ["expired an hour ago", hs256({ ...CLAIMS(), exp: now() - 3600 })],
    ["not valid for another hour", hs256({ ...CLAIMS(), nbf: now() + 3600 })],
    ["wrong issuer", hs256({ ...CLAIMS(), iss: "https://evil.test" })],
    ["exp as a string", hs256({ ...CLAIMS(), exp: String(now() + 3600) })],
  ];
}

function send(port: number, headers: Record<string, string>, path = "/hello"): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers, agent: false, timeout: 10_000 }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

function withRsaKey(doc: Obj): void {
  const hcm = doc.static_resources.listeners.find((l: Obj) => l.name === "auth").filter_chains[0].filters[0].typed_config;
  const conf = hcm.http_filters.find((f: Obj) => f.name === "auth").typed_config.config.configuration;
  const cfg = JSON.parse(conf.value);
  cfg.consumers.find((c: Obj) => c.name === "svc").jwt.jwks.keys.push(RSA_JWK);
  conf.value = JSON.stringify(cfg);
}

for (const engine of ENGINES) {
  test(`${engine}: JWT tricks through envoy-configs/auth.yaml are 401, valid tokens 200`, { timeout: 60_000 }, async (t) => {
    const envoy = engine === "envoy" ? requireEnvoy(t) : null;
    if (engine === "envoy" && !envoy) return;
    const gw = await startConfig(engine, "auth.yaml", envoy, { edit: withRsaKey });
    try {
      const port = gw.gw.port("auth");
      for (const [name, token] of [["valid HS256 (demo-hs)", hs256(CLAIMS())], ["valid RS256 (demo-rs)", rs256(CLAIMS())]]) {
        gw.reset();
        const r = await send(port, { authorization: `Bearer ${token}` });
        assert.equal(r.status, 200, `${name}: ${r.body}`);
        const seen = gw.seen();
        assert.equal(seen.length, 1);
        assert.equal(seen[0].headers["x-mse-consumer"], "svc", name);
        assert.equal(seen[0].headers["x-jwt-sub"], "service-42", name);
        assert.equal(seen[0].headers.authorization, undefined, `${name}: keep_token false`);
      }
      const wrong: string[] = [];
      gw.reset();
      for (const [name, token] of tricks()) {
        const r = await send(port, { authorization: `Bearer ${token}` });
        if (r.status !== 401) wrong.push(`${name}: ${r.status} ${r.body.slice(0, 120)}`);
      }
      assert.deepEqual(wrong, [], "every trick must be 401");
      assert.equal(gw.seen().length, 0, "no trick reached the upstream");
      // The query (auth's default second source, ?access_token=) gets the same checks.
      assert.equal((await send(port, {}, `/hello?access_token=${hs256(CLAIMS())}`)).status, 200, "valid token in the query");
      for (const [name, token] of tricks().filter(([n]) => /^(alg none, no|tampered|HS256 keyed with the RSA public key \(PEM SPKI\), kid)/.test(n))) {
        assert.equal((await send(port, {}, `/hello?access_token=${token}`)).status, 401, `${name} in the query`);
      }
    } finally {
      await gw.stop();
    }
  });
}
