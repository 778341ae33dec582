// Remote JWKS (remote_jwks, discovery) through the host on the compiled module, with a manual clock and two
// workers sharing one shared-data store: the fetch at start from a tick (one for the process), the refresh
// every cache_duration_s, the unknown-kid refetch (at most one per interval, the request waits for it),
// failures that keep the last good keys (backoff, one log line per burst), oversize and malformed
// documents, discovery, and the verified-token cache dropped when the keys change.
import assert from "node:assert/strict";
import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { describe, test } from "node:test";
import { ManualClock } from "../../../tools/host/index.ts";
import type { PendingCallout, PluginTester } from "../../../tools/host/testing.ts";
import { b64u, BUILDS, type Build, rejected, req, tester } from "./support.ts";

const ISS = "https://idp.example.com/realms/x";
const CERTS = "https://idp.example.com/realms/x/protocol/openid-connect/certs";

interface Key { kid: string; alg: "RS256" | "ES256"; privateKey: KeyObject; jwk: Record<string, unknown> }

function newKey(kid: string, alg: "RS256" | "ES256" = "RS256"): Key {
  const { privateKey, publicKey } = alg === "RS256" ? generateKeyPairSync("rsa", { modulusLength: 2048 }) : generateKeyPairSync("ec", { namedCurve: "P-256" });
  return { kid, alg, privateKey, jwk: { ...(publicKey.export({ format: "jwk" }) as object), kid, alg, use: "sig" } };
}
const K1 = newKey("k1");
const K2 = newKey("k2", "ES256");
const K3 = newKey("k3");

const jwks = (...keys: Key[]) => JSON.stringify({ keys: keys.map((k) => k.jwk) });

function jwt(key: Key, nowMs: number, claims: object = {}): string {
  const input = `${b64u(JSON.stringify({ alg: key.alg, kid: key.kid, typ: "JWT" }))}.${b64u(JSON.stringify({ iss: ISS, sub: "svc", exp: Math.floor(nowMs / 1000) + 3600, ...claims }))}`;
  const sig = sign("sha256", Buffer.from(input), key.alg === "RS256" ? key.privateKey : { key: key.privateKey, dsaEncoding: "ieee-p1363" });
  return `${input}.${b64u(sig)}`;
}

const config = (remote: object = {}) => ({
  consumers: [{ name: "svc", jwt: { issuer: ISS, remote_jwks: { uri: CERTS, cluster: "idp", cache_duration_s: 60, kid_refetch_interval_s: 30, ...remote } } }],
  jwt_auth: {},
});

interface Rig { t: PluginTester; clock: ManualClock; build: Build }

async function rig(build: Build, remote: object = {}): Promise<Rig> {
  const clock = new ManualClock();
  const t = await tester(build, config(remote), { clock, workers: 2, clusters: ["idp"] });
  return { t, clock, build };
}

/** Advances the clock in 10 ms steps (timers fire in order), letting callbacks run. */
async function advance(r: Rig, ms: number): Promise<void> {
  for (let left = ms; left > 0; left -= 10) {
    r.clock.advance(Math.min(10, left));
    await r.t.flush();
  }
}

/** The pending JWKS callouts. */
const pending = (r: Rig): PendingCallout[] => r.t.callouts().filter((c) => c.cluster === "idp");

/** Advances until one JWKS callout is pending (at most `maxMs`), and returns it. */
async function nextCall(r: Rig, maxMs: number): Promise<PendingCallout> {
  for (let waited = 0; waited <= maxMs; waited += 100) {
    const calls = pending(r);
    if (calls.length > 0) {
      assert.equal(calls.length, 1, "one fetch at a time for the process");
      return calls[0];
    }
    await advance(r, 100);
  }
  throw new Error(`no JWKS fetch within ${maxMs} ms`);
}

/** Starts up: the first tick claims, the next fetches; answers the one fetch with `body`. */
async function started(r: Rig, body = jwks(K1)): Promise<void> {
  await advance(r, 200);
  const calls = pending(r);
  assert.equal(calls.length, 1, "one fetch at start for the whole process (two workers)");
  await r.t.respond(calls[0], { status: 200, headers: [["content-type", "application/json"]], body });
  await r.t.flush();
}

const bearer = (token: string, worker = 0) => ({ ...req([["authorization", `Bearer ${token}`]]), worker });

for (const build of BUILDS) {
  describe(`remote_jwks (${build})`, () => {
    test("fetched at start from a tick: one GET for two workers; 401 auth.jwks_unavailable before it, then both workers accept", async () => {
      const r = await rig(build);
      const before = await r.t.exchange(bearer(jwt(K1, r.clock.nowMillis())));
      assert.equal(before.status, 401);
      assert.equal(before.details, "auth.jwks_unavailable");
      await advance(r, 200);
      const calls = pending(r);
      assert.equal(calls.length, 1);
      const c = calls[0];
      assert.equal(c.header(":method"), "GET");
      assert.equal(c.header(":path"), "/realms/x/protocol/openid-connect/certs");
      assert.equal(c.header(":authority"), "idp.example.com");
      assert.equal(c.timeoutMs, 5000);
      await r.t.respond(c, { status: 200, body: jwks(K1, K2) });
      for (const worker of [0, 1]) {
        for (const key of [K1, K2]) {
          const res = await r.t.exchange(bearer(jwt(key, r.clock.nowMillis()), worker));
          assert.equal(res.status, 200, `worker ${worker} ${key.kid}: ${res.body}`);
          assert.equal(res.upstreamRequest?.header("x-mse-consumer"), "svc");
        }
      }
      assert.equal(pending(r).length, 0, "no fetch per request");
    });

    test("refreshed every cache_duration_s (one fetch per refresh); a key removed at a refresh is refused, cached verdicts included", async () => {
      const r = await rig(build);
      await started(r, jwks(K1, K3));
      const t3 = jwt(K3, r.clock.nowMillis());
      assert.equal((await r.t.exchange(bearer(t3, 0))).status, 200);
      assert.equal((await r.t.exchange(bearer(t3, 1))).status, 200);
      await advance(r, 55_000);
      assert.equal(pending(r).length, 0, "not before cache_duration_s");
      await r.t.respond(await nextCall(r, 6_000), { status: 200, body: jwks(K1) });
      await advance(r, 1_100);
      // Worker 0 still refetches once for the now unknown kid (rotation could have brought it back) …
      const p = r.t.exchange(bearer(t3, 0));
      await r.t.respond(await nextCall(r, 1_000), { status: 200, body: jwks(K1) });
      for (const res of [await p, await r.t.exchange(bearer(t3, 1))]) {
        assert.equal(res.status, 401, "a token of the removed key (verified and cached before)");
        assert.equal(res.details, "auth.jwt_no_key");
      }
      // … and worker 1 did not: one refetch per kid_refetch_interval_s for the process.
      assert.equal(pending(r).length, 0);
      assert.equal((await r.t.exchange(bearer(jwt(K1, r.clock.nowMillis()), 1))).status, 200);
    });

    test("unknown kid: the request waits for one refetch and passes with the new key; a second unknown kid within the interval does not refetch", async () => {
      const r = await rig(build);
      await started(r);
      const p = r.t.exchange(bearer(jwt(K3, r.clock.nowMillis()), 1));
      await r.t.flush();
      const calls = pending(r);
      assert.equal(calls.length, 1, "the unknown kid triggered a refetch");
      await r.t.respond(calls[0], { status: 200, body: jwks(K1, K3) });
      const res = await p;
      assert.equal(res.status, 200, res.body);
      // The other worker learns the new keys from shared data, without a fetch of its own.
      assert.equal((await r.t.exchange(bearer(jwt(K3, r.clock.nowMillis()), 0))).status, 200);
      assert.equal(pending(r).length, 0);
      // A flood of random kids: at most one refetch per kid_refetch_interval_s.
      const flood = await Promise.all([0, 1].map((w) => r.t.exchange(bearer(jwt(newKeyCached("zz"), r.clock.nowMillis()), w))));
      for (const f of flood) {
        assert.equal(f.status, 401);
        assert.equal(f.details, "auth.jwt_no_key");
      }
      assert.equal(pending(r).length, 0, "no refetch within the interval");
      await advance(r, 31_000);
      const later = r.t.exchange(bearer(jwt(newKeyCached("zz"), r.clock.nowMillis()), 0));
      await r.t.flush();
      assert.equal(pending(r).length, 1, "after the interval, one more refetch");
      await r.t.respond(pending(r)[0], { status: 200, body: jwks(K1, K3) });
      assert.equal((await later).details, "auth.jwt_no_key");
    });

    test("a request waits for the refetch another worker has in flight, and passes when that worker publishes the keys", async () => {
      const r = await rig(build, { cache_duration_s: 5 });
      await started(r);
      const refresh = await nextCall(r, 7_000);
      const other = refresh.worker === 0 ? 1 : 0;
      const p = r.t.exchange(bearer(jwt(K3, r.clock.nowMillis()), other));
      await r.t.flush();
      assert.equal(pending(r).length, 1, "no second fetch: the refresh in flight will do");
      await r.t.respond(refresh, { status: 200, body: jwks(K1, K3) });
      await advance(r, 100);
      const res = await p;
      assert.equal(res.status, 200, res.body);
    });

    test("after the wait, the request goes on to ext_auth like any other", async () => {
      const clock = new ManualClock();
      const cfg = { ...config(), ext_auth: { cluster: "authz", timeout_ms: 1000 } };
      const t = await tester(build, cfg, { clock, workers: 2, clusters: ["idp", "authz"] });
      const r: Rig = { t, clock, build };
      await started(r);
      const p = t.exchange(bearer(jwt(K3, clock.nowMillis()), 0));
      await t.respond(await nextCall(r, 1_000), { status: 200, body: jwks(K1, K3) });
      await t.flush();
      const check = t.callouts().filter((c) => c.cluster === "authz");
      assert.equal(check.length, 1, "the check request follows the refetch");
      await t.respond(check[0], { status: 200 });
      const res = await p;
      assert.equal(res.status, 200, res.body);
      assert.equal(res.upstreamRequest?.header("x-mse-consumer"), "svc");
    });

    test("at most 256 requests per worker wait for a refetch; the rest get their 401 at once", async () => {
      const r = await rig(build);
      await started(r);
      const waiting = Array.from({ length: 256 }, (_, i) => r.t.exchange(bearer(jwt(newKeyCached(`w${i % 4}`), r.clock.nowMillis()), 0)));
      await r.t.flush();
      const over = await r.t.exchange(bearer(jwt(newKeyCached("w0"), r.clock.nowMillis()), 0));
      assert.equal(over.details, "auth.jwt_no_key", "the 257th is answered without waiting");
      assert.equal(pending(r).length, 1, "one refetch for all of them");
      await r.t.respond(pending(r)[0], { status: 200, body: jwks(K1, newKeyCached("w0")) });
      const done = await Promise.all(waiting);
      assert.equal(done.filter((d) => d.status === 200).length, 64, "the w0 tokens pass once the key is there");
      assert.equal(done.filter((d) => d.details === "auth.jwt_no_key").length, 192);
    });

    test("a refetch that fails answers the waiting request with the keys at hand (401 auth.jwt_no_key)", async () => {
      const r = await rig(build);
      await started(r);
      const p = r.t.exchange(bearer(jwt(K3, r.clock.nowMillis()), 0));
      await r.t.respond(await nextCall(r, 1_000), { status: 500, body: "oops" });
      const res = await p;
      assert.equal(res.status, 401);
      assert.equal(res.details, "auth.jwt_no_key");
      assert.equal((await r.t.exchange(bearer(jwt(K1, r.clock.nowMillis()), 1))).status, 200);
    });

    test("a waiting request whose client went away is forgotten; the fetch completes and later requests pass", async () => {
      const r = await rig(build);
      await started(r);
      const s = r.t.stream(1);
      const status = s.requestHeaders([[":method", "GET"], [":path", "/api"], [":authority", "api.example.com"], [":scheme", "https"], ["authorization", `Bearer ${jwt(K3, r.clock.nowMillis())}`]], true);
      assert.notEqual(status, 0, "paused for the refetch");
      assert.equal(s.continued.request, 0);
      s.complete();
      await r.t.respond(await nextCall(r, 1_000), { status: 200, body: jwks(K1, K3) });
      await advance(r, 100);
      assert.equal(r.t.logsAt("critical").length, 0, r.t.logsAt("critical").join("\n"));
      assert.equal((await r.t.exchange(bearer(jwt(K3, r.clock.nowMillis()), 1))).status, 200);
    });

    test("fetch failures keep the last good keys, back off, log once per burst and recover", async () => {
      const r = await rig(build, { cache_duration_s: 10 });
      await started(r);
      const tok = jwt(K1, r.clock.nowMillis());
      await r.t.respond(await nextCall(r, 12_000), { status: 503, body: "down" });
      const fetchTimes: number[] = [];
      for (let i = 0; i < 4; i++) {
        const t0 = r.clock.nowMillis();
        const c = await nextCall(r, 20_000);
        fetchTimes.push(r.clock.nowMillis() - t0);
        await r.t.respond(c, i % 2 ? { failure: "reset" } : { status: 200, body: "{not json" });
        assert.equal((await r.t.exchange(bearer(tok, i % 2))).status, 200, "cached keys still in use");
      }
      assert.ok(fetchTimes[1] > fetchTimes[0] && fetchTimes[2] > fetchTimes[1], `backoff grows: ${fetchTimes}`);
      const warns = r.t.logsAt("warn").filter((l) => l.includes("JWKS fetch"));
      assert.equal(warns.length, 1, warns.join("\n"));
      assert.match(warns[0], /issuer "https:\/\/idp\.example\.com\/realms\/x" failed: HTTP status 503 .*keeping the 1 cached keys/);
      await r.t.respond(await nextCall(r, 20_000), { status: 200, body: jwks(K1, K3) });
      assert.ok(r.t.logsAt("info").some((l) => /recovered after 5 failed attempts/.test(l)), r.t.logs.map((l) => l.message).join("\n"));
      assert.equal(r.t.metric("tollgate.outcome=.=failed;.;auth_jwks_fetches_total"), 5);
      assert.equal(r.t.metric("tollgate.outcome=.=ok;.;auth_jwks_fetches_total"), 2);
      await advance(r, 1_100);
      assert.equal((await r.t.exchange(bearer(jwt(K3, r.clock.nowMillis()), 1))).status, 200);
    });

    test("oversize, malformed or keyless documents are refused; the cached keys stay", async () => {
      const r = await rig(build, { cache_duration_s: 1 });
      await started(r);
      const tok = jwt(K1, r.clock.nowMillis());
      const bad = [
        "x".repeat(256 * 1024 + 1),
        JSON.stringify({ keys: "nope" }),
        JSON.stringify({ keys: [{ kty: "OKP", crv: "Ed25519", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" }] }),
        JSON.stringify({ keys: [{ ...K3.jwk, d: "AAAA" }] }),
      ];
      for (const body of bad) {
        await r.t.respond(await nextCall(r, 10_000), { status: 200, body });
        assert.equal((await r.t.exchange(bearer(tok, 1))).status, 200);
      }
      const warn = r.t.logsAt("warn").find((l) => l.includes("JWKS fetch"))!;
      assert.match(warn, /is 262145 bytes \(at most 262144\)/);
    });

    test("keys tollgate does not verify are skipped in a fetched document (an inline jwks refuses them)", async () => {
      const r = await rig(build);
      const ed = { kty: "OKP", crv: "Ed25519", kid: "ed", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" };
      const enc = { ...K3.jwk, kid: "enc", use: "enc", alg: "RSA-OAEP" };
      const rs384 = { ...K3.jwk, kid: "rs384", alg: "RS384" };
      await started(r, JSON.stringify({ keys: [ed, enc, rs384, K1.jwk] }));
      assert.equal((await r.t.exchange(bearer(jwt(K1, r.clock.nowMillis())))).status, 200);
      assert.ok(r.t.logsAt("info").some((l) => /: 1 keys \(3 skipped/.test(l)), r.t.logsAt("info").join("\n"));
    });

    test("discovery: <issuer>/.well-known/openid-configuration, then its jwks_uri", async () => {
      const r = await rig(build, { uri: undefined, discovery: true });
      await advance(r, 200);
      let calls = pending(r);
      assert.equal(calls.length, 1);
      assert.equal(calls[0].header(":path"), "/realms/x/.well-known/openid-configuration");
      await r.t.respond(calls[0], { status: 200, body: JSON.stringify({ issuer: ISS, jwks_uri: "https://keys.idp.example.com/x/jwks.json", token_endpoint: `${ISS}/token` }) });
      calls = pending(r);
      assert.equal(calls.length, 1);
      assert.equal(calls[0].header(":authority"), "keys.idp.example.com");
      assert.equal(calls[0].header(":path"), "/x/jwks.json");
      await r.t.respond(calls[0], { status: 200, body: jwks(K2) });
      assert.equal((await r.t.exchange(bearer(jwt(K2, r.clock.nowMillis()), 1))).status, 200);
    });

    test("discovery: a document naming another issuer is refused", async () => {
      const r = await rig(build, { uri: undefined, discovery: true });
      await advance(r, 200);
      await r.t.respond(pending(r)[0], { status: 200, body: JSON.stringify({ issuer: "https://evil.example.com", jwks_uri: "https://evil.example.com/jwks" }) });
      assert.equal(pending(r).length, 0);
      assert.ok(r.t.logsAt("warn").some((l) => l.includes("names another issuer")), r.t.logsAt("warn").join("\n"));
      assert.equal((await r.t.exchange(bearer(jwt(K1, r.clock.nowMillis())))).details, "auth.jwks_unavailable");
    });
  });
}

const cachedKeys = new Map<string, Key>();
function newKeyCached(kid: string): Key {
  let k = cachedKeys.get(kid);
  if (!k) cachedKeys.set(kid, (k = newKey(kid)));
  return k;
}

describe("remote_jwks configuration errors", () => {
  const one = (jwt: object) => ({ consumers: [{ name: "a", jwt: { issuer: ISS, ...jwt } }], jwt_auth: {} });
  const cases: Array<[string, object, RegExp]> = [
    ["neither", one({}), /'consumers\[0\]\.jwt' needs exactly one of 'jwks' or 'remote_jwks'/],
    ["both", one({ jwks: { keys: [K1.jwk] }, remote_jwks: { uri: CERTS, cluster: "idp" } }), /needs exactly one of 'jwks' or 'remote_jwks', not both/],
    ["a URL in jwks", one({ jwks: CERTS }), /'consumers\[0\]\.jwt\.jwks' is a URL; .*'remote_jwks': \{"uri": "https:\/\/idp\.example\.com\/realms\/x\/protocol\/openid-connect\/certs", "cluster": /],
    ["no cluster", one({ remote_jwks: { uri: CERTS } }), /'consumers\[0\]\.jwt\.remote_jwks\.cluster' is required/],
    ["not a URL", one({ remote_jwks: { uri: "idp.example.com/certs", cluster: "idp" } }), /'consumers\[0\]\.jwt\.remote_jwks\.uri' must be an absolute http\(s\) URL/],
    ["uri and discovery", one({ remote_jwks: { uri: CERTS, discovery: true, cluster: "idp" } }), /needs exactly one of 'uri' or 'discovery': true/],
    ["discovery without a URL issuer", { consumers: [{ name: "a", jwt: { issuer: "idp", remote_jwks: { discovery: true, cluster: "idp" } } }], jwt_auth: {} }, /'consumers\[0\]\.jwt\.issuer' must be an http\(s\) URL for discovery/],
    ["timeout", one({ remote_jwks: { uri: CERTS, cluster: "idp", timeout_ms: 0 } }), /'consumers\[0\]\.jwt\.remote_jwks\.timeout_ms'/],
    ["cache duration", one({ remote_jwks: { uri: CERTS, cluster: "idp", cache_duration_s: 0 } }), /'consumers\[0\]\.jwt\.remote_jwks\.cache_duration_s'/],
    ["unknown field", one({ remote_jwks: { uri: CERTS, cluster: "idp", http_uri: {} } }), /'consumers\[0\]\.jwt\.remote_jwks\.http_uri' is not a known field/],
  ];
  for (const [name, cfg, re] of cases) {
    test(name, async () => {
      assert.match(await rejected("release", cfg), re);
    });
  }
});
