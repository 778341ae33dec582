// JWKS parsing at configure time (RFC 7517): every key becomes a typed JwtKey bound to exactly one
// algorithm, so a token's `alg` can only ever meet a key of its own kind (RFC 8725 §3.1, no confusion).
import {
  ConfigReader, decimal, describeJson, ErrorSink, JsonKind, JsonValue, log, LogLevel, parseJson,
} from "tollgate/assembly";
import { base64UrlDecode, P256PublicKey, RsaPublicKey } from "tollgate/assembly/crypto";

/** The one algorithm a key verifies. */
export namespace KeyKind {
  // @ts-ignore: decorator
  @inline export const HS256: u8 = 1;
  // @ts-ignore: decorator
  @inline export const RS256: u8 = 2;
  // @ts-ignore: decorator
  @inline export const ES256: u8 = 3;
}

export class JwtKey {
  hmac: Uint8Array | null = null;
  rsa: RsaPublicKey | null = null;
  ec: P256PublicKey | null = null;
  constructor(public kind: u8, public kid: string | null) {}
}

/** JWS algorithms that exist but tollgate does not verify: a key for one of them is refused by name. */
const UNSUPPORTED_ALGS: string[] = ["HS384", "HS512", "RS384", "RS512", "PS256", "PS384", "PS512", "ES384", "ES512", "ES256K", "EdDSA", "Ed25519", "Ed448"];
const PRIVATE_MEMBERS: string[] = ["d", "p", "q", "dp", "dq", "qi", "oth"];

/** `field` of `r` holds a JWKS, as a JSON string or an object; null after recording an error. */
export function parseJwks(r: ConfigReader, field: string): JwtKey[] | null {
  const raw = r.raw(field);
  let doc: JsonValue | null = raw;
  if (raw !== null && raw.isString()) {
    const why = new ErrorSink();
    doc = parseJson(raw.s, why);
    if (doc === null) {
      r.fail(field, "is not valid JSON: " + why.message);
      return null;
    }
  }
  if (doc === null || !doc.isObject()) {
    r.fail(field, "must be a JWKS (an object with a 'keys' array, or that object as a JSON string), got " + describeJson(raw));
    return null;
  }
  const jr = new ConfigReader(doc, r.path(field), r.sink);
  const keysValue = doc.get("keys");
  if (keysValue === null || !keysValue.isArray() || keysValue.items.length == 0) {
    jr.fail("keys", "must be a non-empty array of JWKs, got " + describeJson(keysValue));
    return null;
  }
  const items = jr.children("keys");
  if (!jr.ok()) return null;
  const out = new Array<JwtKey>();
  for (let i = 0; i < items.length; i++) {
    const k = parseJwk(items[i], true);
    if (!jr.ok()) return null;
    if (k !== null) out.push(k);
  }
  if (out.length == 0) {
    jr.fail("keys", "has no signing key (every key is an encryption key)");
    return null;
  }
  return out;
}

/**
 * One JWK; null without an error for an encryption key (`use: enc`), which is skipped (and logged when
 * `logSkipped`: at configure, not for every fetched document).
 */
export function parseJwk(k: ConfigReader, logSkipped: bool): JwtKey | null {
  for (let i = 0; i < PRIVATE_MEMBERS.length; i++) {
    if (k.has(PRIVATE_MEMBERS[i])) {
      k.fail(PRIVATE_MEMBERS[i], "is private key material; configure only the public key");
      return null;
    }
  }
  if (!k.require("kty")) return null;
  const kty = k.str("kty", "");
  const alg = k.strOpt("alg");
  const use = k.strOpt("use");
  const kidValue = k.raw("kid");
  if (kidValue !== null && kidValue.kind != JsonKind.STRING) {
    k.fail("kid", "must be a string, got " + describeJson(kidValue));
    return null;
  }
  if (!k.ok()) return null;
  const kid: string | null = kidValue !== null ? kidValue.s : null;
  if (use !== null && use == "enc") {
    if (logSkipped) log(LogLevel.INFO, "'" + k.prefix + "' is an encryption key (use: enc); skipped");
    return null;
  }
  if (use !== null && use != "sig") {
    k.fail("use", "must be \"sig\" (or \"enc\", which is skipped), got \"" + use + "\"");
    return null;
  }
  if (alg !== null && UNSUPPORTED_ALGS.includes(alg)) {
    k.fail("alg", "is not supported (" + alg + "); tollgate verifies HS256, RS256 and ES256 - remove this key");
    return null;
  }
  if (kty == "RSA") {
    if (!expectAlg(k, alg, "RS256") || !k.require("n") || !k.require("e")) return null;
    const n = k.str("n", "");
    const e = k.str("e", "");
    if (!k.ok()) return null;
    const nb = base64UrlDecode(n);
    if (nb === null) {
      k.fail("n", "must be base64url without padding");
      return null;
    }
    const bits = bitLength(nb);
    if (bits < 2048 || bits > 4096) {
      k.fail("n", "must be a 2048 to 4096-bit RSA modulus, got " + decimal(<i64>bits) + " bits");
      return null;
    }
    const key = RsaPublicKey.fromJwk(n, e);
    if (key === null) {
      k.fail("e", "with 'n' is not a usable RSA public key (odd modulus, odd exponent >= 65537 required)");
      return null;
    }
    const out = new JwtKey(KeyKind.RS256, kid);
    out.rsa = key;
    return out;
  }
  if (kty == "EC") {
    if (!k.require("crv")) return null;
    const crv = k.str("crv", "");
    if (!k.ok()) return null;
    if (crv != "P-256") {
      k.fail("crv", "must be P-256 (ES256); other curves are not supported, got \"" + crv + "\"");
      return null;
    }
    if (!expectAlg(k, alg, "ES256") || !k.require("x") || !k.require("y")) return null;
    const key = P256PublicKey.fromJwk(k.str("x", ""), k.str("y", ""));
    if (!k.ok()) return null;
    if (key === null) {
      k.fail("x", "with 'y' is not a point on P-256 (base64url, 32 bytes each)");
      return null;
    }
    const out = new JwtKey(KeyKind.ES256, kid);
    out.ec = key;
    return out;
  }
  if (kty == "oct") {
    if (!expectAlg(k, alg, "HS256") || !k.require("k")) return null;
    const secret = base64UrlDecode(k.str("k", ""));
    if (!k.ok()) return null;
    if (secret === null) {
      k.fail("k", "must be base64url without padding");
      return null;
    }
    if (secret.length < 32) {
      k.fail("k", "must be at least 32 bytes for HS256 (RFC 7518 §3.2), got " + decimal(<i64>secret.length));
      return null;
    }
    const out = new JwtKey(KeyKind.HS256, kid);
    out.hmac = secret;
    return out;
  }
  k.fail("kty", "must be RSA, EC or oct, got \"" + kty + "\"");
  return null;
}

function expectAlg(k: ConfigReader, alg: string | null, want: string): bool {
  if (alg === null || alg == want) return true;
  return k.fail("alg", "must be " + want + " for this key type, got \"" + alg + "\"");
}

function bitLength(b: Uint8Array): i32 {
  let i = 0;
  while (i < b.length && unchecked(b[i]) == 0) i++;
  if (i == b.length) return 0;
  return (b.length - i) * 8 - <i32>clz<u32>(<u32>unchecked(b[i])) + 24;
}
