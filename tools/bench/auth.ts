// auth section of `tollgate bench`: each method's cost per request as a ratio to the noop floor (API key,
// Basic with a {SHA256} password, a cached JWT), the plugin's uncached JWT verification against
// node:crypto (OpenSSL) verifying the same token in the same run, release .wasm size, and linear-memory
// growth across many requests (mixed methods, and a stream of distinct tokens churning the bounded cache).
import { createHash, createHmac, generateKeyPairSync, sign, timingSafeEqual, verify, type KeyObject } from "node:crypto";
import { pluginWasm } from "../paths.ts";
import { type BenchContext, type BenchRequest, median, round, TYPICAL_REQUEST } from "./context.ts";

type Alg = "HS256" | "RS256" | "ES256";
const b64u = (b: Uint8Array | string) => Buffer.from(b).toString("base64url");

interface Keys { rsa: { privateKey: KeyObject; publicKey: KeyObject }; ec: { privateKey: KeyObject; publicKey: KeyObject }; hmac: Buffer }

function makeKeys(): Keys {
  return {
    rsa: generateKeyPairSync("rsa", { modulusLength: 2048 }),
    ec: generateKeyPairSync("ec", { namedCurve: "P-256" }),
    hmac: Buffer.from("bench-hmac-secret-0123456789abcdef0123456789"),
  };
}

function signToken(k: Keys, alg: Alg, payload: object, kid: string): { token: string; input: Buffer; sig: Buffer } {
  const inputText = `${b64u(JSON.stringify({ alg, typ: "JWT", kid }))}.${b64u(JSON.stringify(payload))}`;
  const input = Buffer.from(inputText);
  const sig = alg === "HS256" ? createHmac("sha256", k.hmac).update(input).digest()
    : alg === "RS256" ? sign("sha256", input, k.rsa.privateKey)
    : sign("sha256", input, { key: k.ec.privateKey, dsaEncoding: "ieee-p1363" });
  return { token: `${inputText}.${b64u(sig)}`, input, sig };
}

/**
 * node:crypto's cost of verifying one token, ns: the whole token as the plugin does it (split, base64url,
 * JSON.parse of header and payload, signature) when `whole`, else the signature alone.
 */
function nativeVerifyNs(k: Keys, alg: Alg, token: string, whole: boolean): number {
  const sigOnly = (input: Buffer, sig: Buffer): boolean => alg === "HS256"
    ? timingSafeEqual(createHmac("sha256", k.hmac).update(input).digest(), sig)
    : alg === "RS256"
      ? verify("sha256", input, k.rsa.publicKey, sig)
      : verify("sha256", input, { key: k.ec.publicKey, dsaEncoding: "ieee-p1363" }, sig);
  const d2 = token.lastIndexOf(".");
  const fixedInput = Buffer.from(token.slice(0, d2));
  const fixedSig = Buffer.from(token.slice(d2 + 1), "base64url");
  const once = whole
    ? () => {
      const [h, p, s] = token.split(".");
      const header = JSON.parse(Buffer.from(h, "base64url").toString("utf8"));
      const payload = JSON.parse(Buffer.from(p, "base64url").toString("utf8"));
      return header.alg === alg && typeof payload.exp === "number" && sigOnly(Buffer.from(`${h}.${p}`), Buffer.from(s, "base64url"));
    }
    : () => sigOnly(fixedInput, fixedSig);
  if (!once()) throw new Error(`node:crypto does not verify the ${alg} bench token`);
  const iters = alg === "HS256" ? 20_000 : alg === "RS256" ? 4_000 : 2_000;
  for (let i = 0; i < iters / 4; i++) once();
  const samples: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) once();
    samples.push(Number(process.hrtime.bigint() - t) / iters);
  }
  return median(samples);
}

/** The floor's request with one header swapped for the credential, so both carry 10 headers. */
function withCredential(name: string, value: string): BenchRequest {
  return { ...TYPICAL_REQUEST, headers: [...TYPICAL_REQUEST.headers!.filter(([h]) => h !== "accept-language"), [name, value]] };
}

export async function bench(ctx: BenchContext): Promise<Record<string, unknown>> {
  const k = makeKeys();
  const iss = "https://issuer.example";
  const jwks = {
    keys: [
      { ...k.rsa.publicKey.export({ format: "jwk" }), kid: "r1", alg: "RS256" },
      { ...k.ec.publicKey.export({ format: "jwk" }), kid: "e1", alg: "ES256" },
      { kty: "oct", kid: "h1", alg: "HS256", k: b64u(k.hmac) },
    ],
  };
  const password = "correct horse battery staple";
  const sha = (p: string) => createHash("sha256").update(p).digest("base64");
  // One method per measured config (what a route typically enables), each with a few consumers.
  const keyConfig = { consumers: ["alice", "bob", "carol", "dave"].map((n) => ({ name: n, keys: [`k-${n}-7f3c9a1e2b0d4e5f`] })), key_auth: { keys: ["x-api-key"] } };
  const basicConfig = { consumers: ["alice", "bob", "carol", "dave"].map((n) => ({ name: n, basic: [`${n}:{SHA256}${sha(n === "bob" ? password : `${n}-pw`)}`] })), basic_auth: {} };
  const jwtConfig = (cacheSize: number) => ({
    consumers: [{ name: "svc", jwt: { issuer: iss, audiences: ["api"], jwks } }, { name: "other", jwt: { issuer: "https://other.example", jwks: { keys: [jwks.keys[2]] } } }],
    jwt_auth: { cache_size: cacheSize, claims_to_headers: [{ claim: "sub", header: "x-jwt-sub" }] },
  });
  const allConfig = {
    consumers: [...keyConfig.consumers.slice(0, 2), { name: "bob-basic", basic: [`bob:{SHA256}${sha(password)}`] }, { name: "svc", jwt: { issuer: iss, audiences: ["api"], jwks } }],
    key_auth: { keys: ["x-api-key"] }, basic_auth: {}, jwt_auth: { claims_to_headers: [{ claim: "sub", header: "x-jwt-sub" }] },
  };
  const spec = (configuration: object) => ({ wasm: pluginWasm("auth"), name: "auth", rootId: "auth", configuration });
  const exp = Math.floor(Date.now() / 1000) + 86400;
  const claims = { iss, aud: "api", sub: "user-42", exp, scope: "read write" };

  const KEY = withCredential("x-api-key", "k-bob-7f3c9a1e2b0d4e5f");
  const BASIC = withCredential("authorization", "Basic " + Buffer.from(`bob:${password}`).toString("base64"));
  const tokens = { HS256: signToken(k, "HS256", claims, "h1"), RS256: signToken(k, "RS256", claims, "r1"), ES256: signToken(k, "ES256", claims, "e1") };
  const bearer = (alg: Alg) => withCredential("authorization", `Bearer ${tokens[alg].token}`);

  const key = await ctx.paired(spec(keyConfig), KEY);
  const basic = await ctx.paired(spec(basicConfig), BASIC);
  const jwtCached = await ctx.paired(spec(jwtConfig(1024)), bearer("RS256"));
  const cached: Record<string, number> = {};
  const uncached: Record<string, number> = {};
  const native: Record<string, number> = {};
  const nativeSig: Record<string, number> = {};
  for (const alg of ["HS256", "RS256", "ES256"] as Alg[]) {
    cached[alg] = await ctx.nsPerRequest(spec(jwtConfig(1024)), bearer(alg));
    uncached[alg] = await ctx.nsPerRequest(spec(jwtConfig(0)), bearer(alg), { ms: alg === "HS256" ? 600 : 1200 });
    native[alg] = nativeVerifyNs(k, alg, tokens[alg].token, true);
    nativeSig[alg] = nativeVerifyNs(k, alg, tokens[alg].token, false);
  }
  // The plugin's verification cost: the same request without and with the cache differ only in parse + verify.
  const verifyNs = (alg: Alg) => Math.max(1, uncached[alg] - cached[alg]);

  // Memory: mixed methods, then a stream of distinct tokens (each verified once) churning the cache.
  const requests = ctx.full ? 1_000_000 : 100_000;
  const distinct = Array.from({ length: 4096 }, (_, i) => signToken(k, "HS256", { ...claims, sub: `user-${i}` }, "h1").token);
  const mixed = (i: number): BenchRequest => {
    switch (i % 5) {
      case 0: return KEY;
      case 1: return BASIC;
      case 2: return bearer("RS256");
      case 3: return withCredential("authorization", `Bearer ${distinct[i % distinct.length]}`);
      default: return withCredential("x-api-key", "wrong-key");
    }
  };
  const memoryGrowthPages = await ctx.memoryGrowthPages(spec(allConfig), mixed, requests);

  return {
    keyRatio: key.ratio,
    basicRatio: basic.ratio,
    jwtCachedRatio: jwtCached.ratio,
    hs256VsNative: round(verifyNs("HS256") / native.HS256),
    rs256VsNative: round(verifyNs("RS256") / native.RS256),
    es256VsNative: round(verifyNs("ES256") / native.ES256),
    wasmBytes: ctx.wasmBytes("auth"),
    memoryGrowthPages,
    memoryRequests: requests,
    ns: {
      floor: round(key.floorNs, 0), key: round(key.ns, 0), basic: round(basic.ns, 0),
      jwtCached: { HS256: round(cached.HS256, 0), RS256: round(cached.RS256, 0), ES256: round(cached.ES256, 0) },
      jwtUncached: { HS256: round(uncached.HS256, 0), RS256: round(uncached.RS256, 0), ES256: round(uncached.ES256, 0) },
      pluginVerify: { HS256: round(verifyNs("HS256"), 0), RS256: round(verifyNs("RS256"), 0), ES256: round(verifyNs("ES256"), 0) },
      nativeVerify: { HS256: round(native.HS256, 0), RS256: round(native.RS256, 0), ES256: round(native.ES256, 0) },
      nativeSignatureOnly: { HS256: round(nativeSig.HS256, 0), RS256: round(nativeSig.RS256, 0), ES256: round(nativeSig.ES256, 0) },
    },
    goals: { keyRatio: 2.0, basicRatio: 3.0, jwtCachedRatio: 3.0, hs256VsNative: 3, rs256VsNative: 3, es256VsNative: 5, wasmBytes: 98304, memoryGrowthPages: 0 },
    request: "the floor's 10-header GET with the credential in place of one header, each method alone with its consumers: API key (4 consumers); Basic ({SHA256} passwords, 4 users); Bearer JWT (RS256 for jwtCachedRatio, sub → header). xxVsNative = the plugin's parse + verify of the token (uncached − cached ns per request) ÷ node:crypto doing the same (split, base64url, JSON.parse ×2, verify); ns.nativeSignatureOnly is the signature alone. Memory: all methods in one config, mixed requests, 4096 distinct tokens churning the 1024-entry cache",
  };
}
