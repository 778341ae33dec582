// auth's remote JWKS against a real OpenID provider (oidc-provider on loopback), black-box on both engines
// from one bootstrap (a cluster "idp" to the provider): before the first fetch 401 with its own body; tokens
// from the provider's token endpoint accepted (RS256, ES256); after a rotation the new key's tokens accepted
// at once (unknown-kid refetch); a withdrawn key's tokens refused after the next refresh; the provider down →
// the cached keys keep working (one log line for the burst); the provider back → recovery; and with two
// workers, one fetch per refresh for the process (requests counted at the provider).
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { bootstrapDoc, DIRECT_OK, pluginFilter } from "../helpers/bootstrap.ts";
import { ENGINES, startEngine, type Engine, type EngineHandle } from "../helpers/engines.ts";
import { requireEnvoy } from "../helpers/envoy.ts";
import { compiledPlugin } from "../helpers/plugins.ts";
import { startOidcProvider, tokenHeader, type OidcProvider } from "../helpers/oidc.ts";
import { eventually, send } from "../robustness/helpers.ts";

const UNAVAILABLE = "Jwks is not available yet: the remote fetch has not succeeded";

function bootstrap(p: OidcProvider, remote: object = {}): object {
  const auth = {
    consumers: [{
      name: "svc",
      jwt: { issuer: p.issuer, audiences: ["https://api.tollgate.test/rs", "https://api.tollgate.test/es"], remote_jwks: { uri: `${p.issuer}/jwks`, cluster: "idp", timeout_ms: 1000, cache_duration_s: 2, kid_refetch_interval_s: 1, ...remote } },
    }],
    jwt_auth: {},
  };
  return bootstrapDoc({ filters: [pluginFilter("auth", auth)], routes: [DIRECT_OK] }, { idp: p.port });
}

async function engineFor(t: TestContext, engine: Engine, doc: object, concurrency = 1): Promise<EngineHandle | null> {
  const envoy = engine === "envoy" ? requireEnvoy(t) : null;
  if (engine === "envoy" && !envoy) return null;
  await compiledPlugin("auth", "release");
  return startEngine(engine, doc, envoy, { concurrency });
}

const call = (gw: EngineHandle, token: string) => send(gw.port("l"), "/api", { authorization: `Bearer ${token}` });
const fetchLines = (gw: EngineHandle) => gw.logs().filter((l) => l.includes("JWKS fetch for issuer"));
/** The "… failed: <why>; keeping …" lines (one per failure burst), not the "recovered after N failed attempts" ones. */
const failureLines = (gw: EngineHandle) => fetchLines(gw).filter((l) => l.includes(" failed: "));

for (const engine of ENGINES) {
  test(`${engine}: tokens from a real OpenID provider through start, rotation, withdrawal, outage and recovery`, { timeout: 120_000 }, async (t) => {
    const p = await startOidcProvider();
    // Down at start: the gateway comes up without keys.
    await p.stop();
    const gw = await engineFor(t, engine, bootstrap(p));
    if (!gw) return;
    try {
      const early = await call(gw, await tokenWhileDown(p));
      assert.equal(early.status, 401, early.body);
      assert.equal(early.body, UNAVAILABLE);
      await eventually(async () => failureLines(gw).length > 0, "the failed first fetch is logged", 10_000);

      await p.start();
      const rs = await p.token("RS256");
      const es = await p.token("ES256");
      await eventually(async () => (await call(gw, rs)).status === 200, "recovery after the provider came up (backoff ≤ cache_duration_s)", 10_000);
      assert.equal((await call(gw, es)).status, 200, "ES256 token");
      assert.ok(gw.logs().some((l) => /recovered after \d+ failed attempts/.test(l)), gw.logs().join("\n"));

      // Rotation: the provider signs with a new key; its tokens are accepted on the first try.
      p.rotate();
      const rotated = await p.token("RS256");
      assert.equal(tokenHeader(rotated).kid, p.currentKids().RS256);
      assert.notEqual(tokenHeader(rotated).kid, tokenHeader(rs).kid);
      const first = await call(gw, rotated);
      assert.equal(first.status, 200, `a token of the new key, first request: ${first.status} ${first.body}`);
      assert.equal((await call(gw, rs)).status, 200, "the old key is still published");

      // Withdrawal: refused once the next refresh (cache_duration_s 2) has the old key gone.
      p.removeOldKey();
      await eventually(async () => (await call(gw, rs)).status === 401, "a withdrawn key's token refused after the refresh", 8_000);
      const refused = await call(gw, rs);
      assert.equal(refused.body, "Jwks doesn't have key to match kid or alg from Jwt");
      assert.equal((await call(gw, rotated)).status, 200);

      // Outage: the cached keys keep working; one log line for the whole burst.
      const failedBefore = failureLines(gw).length;
      await p.stop();
      await new Promise((r) => setTimeout(r, 5_000));
      assert.equal((await call(gw, rotated)).status, 200, "cached keys in use while the provider is down");
      await eventually(async () => failureLines(gw).length === failedBefore + 1, "one failure line for the outage", 5_000);
      const failLine = failureLines(gw).at(-1)!;
      assert.match(failLine, /keeping the \d+ cached keys/);
      t.diagnostic(`${engine}: ${failLine}`);

      // Recovery: the provider is back and rotates again; the gateway follows.
      await p.start();
      await eventually(async () => fetchLines(gw).filter((l) => l.includes("recovered")).length === 2, "second recovery logged", 10_000);
      assert.equal(failureLines(gw).length, failedBefore + 1, "still one line for the burst");
      p.rotate();
      const again = await p.token("ES256");
      assert.equal((await call(gw, again)).status, 200);
    } finally {
      await gw.stop();
      await p.stop();
    }
  });

  test(`${engine}: discovery — the provider's /.well-known/openid-configuration, then its jwks_uri`, { timeout: 60_000 }, async (t) => {
    const p = await startOidcProvider();
    const gw = await engineFor(t, engine, bootstrap(p, { uri: undefined, discovery: true }));
    if (!gw) return;
    try {
      const tok = await p.token("ES256");
      await eventually(async () => (await call(gw, tok)).status === 200, "a token verified with the discovered keys", 10_000);
      assert.equal(p.count("/.well-known/openid-configuration"), 1, "discovered once");
      assert.ok(p.count("/jwks") >= 1);
    } finally {
      await gw.stop();
      await p.stop();
    }
  });

  test(`${engine}: two workers, one JWKS fetch per refresh for the process`, { timeout: 60_000 }, async (t) => {
    const p = await startOidcProvider();
    const gw = await engineFor(t, engine, bootstrap(p, { cache_duration_s: 1 }), 2);
    if (!gw) return;
    try {
      const tok = await p.token();
      await eventually(async () => (await call(gw, tok)).status === 200, "first fetch", 10_000);
      // A slow provider: each fetch spans ticks of every worker, which must not start fetches of their own.
      p.delayJwks(400);
      p.resetCounts();
      const t0 = Date.now();
      // Requests on both workers meanwhile: verification never fetches.
      const end = t0 + 5_500;
      let ok = 0;
      const refused: string[] = [];
      while (Date.now() < end) {
        const r = await call(gw, tok);
        if (r.status === 200) ok++;
        else refused.push(`${r.status} ${r.body}`);
        await new Promise((res) => setTimeout(res, 50));
      }
      const elapsed = (Date.now() - t0) / 1000;
      const fetches = p.count("/jwks");
      t.diagnostic(`${engine}: ${fetches} JWKS fetches in ${elapsed.toFixed(1)} s with cache_duration_s 1 and 2 workers; ${ok} requests accepted`);
      // The plugin's own count (summed over workers by the engine) agrees with the provider's.
      const counted = await gw.counter("wasmcustom.tollgate.outcome=.=ok;.;auth_jwks_fetches_total");
      assert.ok(counted >= fetches, `auth_jwks_fetches_total{outcome="ok"} ${counted} ≥ ${fetches}`);
      assert.deepEqual(refused, [], "every request accepted across the refreshes");
      assert.ok(ok > 5);
      // A refresh cycle is cache_duration_s + the provider's 0.4 s + up to a tick (0.25 s).
      assert.ok(fetches >= Math.floor(elapsed / 2), `refreshes happen: ${fetches}`);
      assert.ok(fetches <= Math.ceil(elapsed) + 1, `at most one fetch per refresh for the process, got ${fetches} in ${elapsed} s`);

      // A flood of tokens with random kids: at most one refetch per kid_refetch_interval_s (1 s), plus the refreshes.
      p.resetCounts();
      const f0 = Date.now();
      const flood = await Promise.all(Array.from({ length: 60 }, (_, i) => call(gw, forged(p, `random-${i}-${Math.random()}`))));
      const floodS = (Date.now() - f0) / 1000;
      assert.ok(flood.every((r) => r.status === 401), flood.map((r) => r.status).join(","));
      const during = p.count("/jwks");
      t.diagnostic(`${engine}: 60 random-kid tokens in ${floodS.toFixed(2)} s caused ${during} JWKS fetches`);
      assert.ok((await gw.counter("wasmcustom.tollgate.auth_jwks_kid_refetches_total")) <= 1 + Math.ceil(floodS), "kid refetches counted");
      assert.ok(during <= 2 * Math.ceil(floodS) + 1, `a random-kid flood must not hammer the provider: ${during} fetches in ${floodS} s`);
    } finally {
      await gw.stop();
      await p.stop();
    }
  });
}

/** A well-formed RS256 token for the provider's issuer with a bogus signature (the provider signs nothing). */
function forged(p: OidcProvider, kid: string): string {
  const b = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${b({ alg: "RS256", kid })}.${b({ iss: p.issuer, exp: Math.floor(Date.now() / 1000) + 600 })}.${Buffer.alloc(256, 1).toString("base64url")}`;
}

/** A syntactically valid token for the provider's issuer, made while its token endpoint is down. */
async function tokenWhileDown(p: OidcProvider): Promise<string> {
  return forged(p, p.currentKids().RS256);
}
