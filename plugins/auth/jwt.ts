// JWT verification (RFC 7515/7519) over plain values: token text, config and the current time in, a
// verdict out. Order: structure → header → payload → issuer → key (kid + alg + key type) → signature →
// exp/nbf → audience. Claims other than `iss` and the header's `alg`/`kid` are trusted only after the
// signature verifies, so an unsigned token can never learn which of its claims failed.
import { JsonKind, JsonValue, parseJson, sanitizeHeaderValue } from "tollgate/assembly";
import {
  base64UrlDecode, constantTimeEqual, ecdsaP256Sha256Verify, hmacSha256, rsaPkcs1Sha256Verify,
} from "tollgate/assembly/crypto";
import { AuthConfig, JwtAuth, JwtProvider, normalizeAudience } from "./config";
import { JwtKey, KeyKind } from "./jwks";
import * as C from "./constants";

/** Tokens longer than this are refused before any decoding (jwt_verify_lib's limit is 8096). */
export const MAX_TOKEN_LENGTH: i32 = 8192;
/** A verified token without `exp` stays cached at most this long. */
export const NO_EXP_CACHE_MS: f64 = 300000;

export class JwtVerdict {
  status: u32 = 0;
  details: string = "";
  body: string = "";
  consumer: i32 = -1;
  /** One entry per claims_to_headers item: the header value, or null when the claim is absent or not a scalar. */
  claimValues: Array<string | null> = [];
  /** When a cached copy of this verdict must be dropped (ms since the epoch). */
  expiresAtMs: f64 = 0;
  /** The issuer's provider once the token named one (a remote one may refetch its keys). */
  provider: JwtProvider | null = null;

  static fail(status: u32, details: string, body: string): JwtVerdict {
    const v = new JwtVerdict();
    v.status = status;
    v.details = details;
    v.body = body;
    return v;
  }
}

function withProvider(v: JwtVerdict, p: JwtProvider): JwtVerdict {
  v.provider = p;
  return v;
}

function malformed(body: string): JwtVerdict {
  return JwtVerdict.fail(401, C.D_JWT_MALFORMED, body);
}

function decodeJsonSegment(seg: string): JsonValue | null {
  const bytes = base64UrlDecode(seg);
  if (bytes === null) return null;
  const v = parseJson(String.UTF8.decodeUnsafe(bytes.dataStart, <usize>bytes.length, false));
  if (v === null || !v.isObject()) return null;
  return v;
}

/** Verifies `token` for some consumer of `cfg`; `nowMs` is the current wall-clock time. */
export function verifyJwt(token: string, cfg: AuthConfig, jwt: JwtAuth, nowMs: f64): JwtVerdict {
  if (token.length > MAX_TOKEN_LENGTH) return malformed(C.B_JWT_TOO_LARGE);
  const d1 = token.indexOf(".");
  const d2 = d1 < 0 ? -1 : token.indexOf(".", d1 + 1);
  if (d1 <= 0 || d2 < 0 || token.indexOf(".", d2 + 1) >= 0) return malformed(C.B_JWT_BAD_FORMAT);

  const header = decodeJsonSegment(token.substring(0, d1));
  if (header === null) return malformed(C.B_JWT_HEADER_PARSE);
  const algValue = header.get("alg");
  if (algValue === null || !algValue.isString()) return malformed(C.B_JWT_ALG_NOT_STRING);
  const kind = algKind(algValue.s);
  // "none" in any spelling, and every algorithm tollgate does not verify, ends here.
  if (kind == 0) return malformed(C.B_JWT_ALG_INVALID);
  const kidValue = header.get("kid");
  if (kidValue !== null && !kidValue.isString()) return malformed(C.B_JWT_KID_NOT_STRING);
  // RFC 7515 §4.1.11: a recipient that does not understand a critical extension must reject the JWS.
  if (header.has("crit")) return malformed(C.B_JWT_CRIT);

  const payload = decodeJsonSegment(token.substring(d1 + 1, d2));
  if (payload === null) return malformed(C.B_JWT_PAYLOAD_PARSE);
  const typeError = checkClaimTypes(payload);
  if (typeError.length > 0) return malformed(typeError);

  const sig = base64UrlDecode(token.substring(d2 + 1));
  if (sig === null) return malformed(C.B_JWT_SIGNATURE_PARSE);

  const issValue = payload.get("iss");
  const provider = issValue !== null ? findProvider(cfg, issValue.s) : null;
  if (provider === null) return JwtVerdict.fail(401, C.D_JWT_UNKNOWN_ISSUER, C.B_JWT_UNKNOWN_ISSUER);

  const remote = provider.remote;
  if (remote !== null && !remote.loaded) return withProvider(JwtVerdict.fail(401, C.D_JWKS_UNAVAILABLE, C.B_JWKS_UNAVAILABLE), provider);
  const keys = remote !== null ? remote.keys : provider.keys;
  const kid: string | null = kidValue !== null ? kidValue.s : null;
  const message = asciiBytes(token, d2);
  let candidates = 0;
  let verified = false;
  for (let i = 0; i < keys.length && !verified; i++) {
    const key = unchecked(keys[i]);
    if (key.kind != kind) continue;
    // With a kid only that key may verify; without one, every key of the token's type is tried.
    if (kid !== null) {
      const kk = key.kid;
      if (kk === null || kk != kid) continue;
    }
    candidates++;
    verified = verifyWith(key, message, sig);
  }
  if (candidates == 0) return withProvider(JwtVerdict.fail(401, C.D_JWT_NO_KEY, C.B_JWT_NO_KEY), provider);
  if (!verified) return JwtVerdict.fail(401, C.D_JWT_BAD_SIGNATURE, C.B_JWT_BAD_SIGNATURE);

  const nowSec = nowMs / 1000.0;
  const skew = jwt.clockSkewSeconds;
  const exp = payload.get("exp");
  if (exp !== null) {
    // RFC 7519 §4.1.4: valid only while now < exp (plus the allowed skew).
    if (nowSec >= exp.n + skew) return JwtVerdict.fail(401, C.D_JWT_EXPIRED, C.B_JWT_EXPIRED);
  } else if (jwt.requireExp) {
    return JwtVerdict.fail(401, C.D_JWT_EXP_REQUIRED, C.B_JWT_EXP_REQUIRED);
  }
  const nbf = payload.get("nbf");
  if (nbf !== null && nowSec + skew < nbf.n) return JwtVerdict.fail(401, C.D_JWT_NOT_YET_VALID, C.B_JWT_NOT_YET_VALID);

  if (provider.audiences.length > 0 && !audienceAllowed(payload.get("aud"), provider.audiences)) {
    return JwtVerdict.fail(403, C.D_JWT_AUDIENCE, C.B_JWT_AUDIENCE);
  }

  const v = new JwtVerdict();
  v.consumer = provider.consumer;
  const claims = jwt.claimsToHeaders;
  for (let i = 0; i < claims.length; i++) {
    const value = claimString(payload, unchecked(claims[i]).claim);
    // Sanitised once here, so neither a fresh nor a cached verdict can inject a header line.
    v.claimValues.push(value !== null ? sanitizeHeaderValue(value) : null);
  }
  const ttlEnd = nowMs + NO_EXP_CACHE_MS;
  v.expiresAtMs = exp !== null ? Math.min(exp.n * 1000.0, ttlEnd) : ttlEnd;
  return v;
}

/** KeyKind for a JWS `alg`, 0 for anything else (including every spelling of "none"). */
export function algKind(alg: string): u8 {
  if (alg == "HS256") return KeyKind.HS256;
  if (alg == "RS256") return KeyKind.RS256;
  if (alg == "ES256") return KeyKind.ES256;
  return 0;
}

function verifyWith(key: JwtKey, message: Uint8Array, sig: Uint8Array): bool {
  if (key.kind == KeyKind.HS256) {
    const secret = key.hmac;
    if (secret === null || sig.length != 32) return false;
    return constantTimeEqual(hmacSha256(secret, message), sig);
  }
  if (key.kind == KeyKind.RS256) {
    const rsa = key.rsa;
    if (rsa === null) return false;
    return rsaPkcs1Sha256Verify(rsa, message, sig);
  }
  if (key.kind == KeyKind.ES256) {
    const ec = key.ec;
    // RFC 7518 §3.4: exactly R||S, 64 bytes; a DER signature is refused here.
    if (ec === null || sig.length != 64) return false;
    return ecdsaP256Sha256Verify(ec, message, sig);
  }
  return false;
}

function findProvider(cfg: AuthConfig, iss: string): JwtProvider | null {
  for (let i = 0; i < cfg.providers.length; i++) {
    const p = unchecked(cfg.providers[i]);
    if (p.issuer == iss) return p;
  }
  return null;
}

const STRING_CLAIMS: string[] = ["iss", "sub", "jti"];
const TIME_CLAIMS: string[] = ["exp", "nbf", "iat"];

/** jwt_verify_lib's claim type rules; "" when every registered claim has its type. */
function checkClaimTypes(p: JsonValue): string {
  for (let i = 0; i < STRING_CLAIMS.length; i++) {
    const v = p.get(unchecked(STRING_CLAIMS[i]));
    if (v !== null && !v.isString()) return "Jwt payload [" + STRING_CLAIMS[i] + "] field is not a string";
  }
  for (let i = 0; i < TIME_CLAIMS.length; i++) {
    const v = p.get(unchecked(TIME_CLAIMS[i]));
    if (v !== null && (!v.isNumber() || !isFinite(v.n))) return "Jwt payload [" + TIME_CLAIMS[i] + "] field is not a number";
  }
  const aud = p.get("aud");
  if (aud !== null) {
    if (aud.isArray()) {
      for (let i = 0; i < aud.items.length; i++) {
        if (!unchecked(aud.items[i]).isString()) return "Jwt payload [aud] field is not a string or an array of strings";
      }
    } else if (!aud.isString()) {
      return "Jwt payload [aud] field is not a string or an array of strings";
    }
  }
  return "";
}

/** Any token audience (string or array) equals any configured one, both normalised as Envoy does. */
export function audienceAllowed(aud: JsonValue | null, allowed: string[]): bool {
  if (aud === null) return false;
  if (aud.isString()) return allowed.includes(normalizeAudience(aud.s));
  for (let i = 0; i < aud.items.length; i++) {
    const a = unchecked(aud.items[i]);
    if (a.isString() && allowed.includes(normalizeAudience(a.s))) return true;
  }
  return false;
}

/**
 * The claim at `path` as a header value: a top-level member with exactly that name first (claim names
 * may contain dots, e.g. "http://example.com/is_root"), else a dotted path into nested objects.
 * Strings as-is, numbers without ".0", booleans as true/false; objects, arrays and null give null.
 */
export function claimString(payload: JsonValue, path: string): string | null {
  let v = payload.get(path);
  if (v === null && path.indexOf(".") > 0) {
    const parts = path.split(".");
    let cur: JsonValue | null = payload;
    for (let i = 0; i < parts.length && cur !== null; i++) cur = cur.get(unchecked(parts[i]));
    v = cur;
  }
  if (v === null) return null;
  if (v.kind == JsonKind.STRING) return v.s;
  // As the issuer wrote it: no float formatting, no precision lost on large integers.
  if (v.kind == JsonKind.NUMBER) return v.s;
  if (v.kind == JsonKind.BOOL) return v.b ? "true" : "false";
  return null;
}

/** Space or tab (RFC 9110 OWS). */
export function isOws(c: i32): bool {
  return c == 0x20 || c == 0x09;
}

/**
 * Where the token starts in a header value: after `prefix` (matched case-insensitively, RFC 7235 §2.1)
 * and any spaces; -1 when the prefix differs. "Bearer" alone gives an empty token (value.length).
 */
export function tokenStartAfterPrefix(value: string, prefix: string): i32 {
  let p = prefix.length;
  // A prefix's trailing spaces are matched by the spaces skipped below, so "Bearer" alone still counts.
  while (p > 0 && isOws(prefix.charCodeAt(p - 1))) p--;
  if (value.length < p) return -1;
  for (let i = 0; i < p; i++) {
    let a = value.charCodeAt(i);
    let b = prefix.charCodeAt(i);
    if (a >= 0x41 && a <= 0x5a) a += 32;
    if (b >= 0x41 && b <= 0x5a) b += 32;
    if (a != b) return -1;
  }
  let i = p;
  if (p < prefix.length) {
    // The prefix ends in a space: the value needs at least one there too, unless nothing follows.
    if (i < value.length && !isOws(value.charCodeAt(i))) return -1;
  }
  while (i < value.length && isOws(value.charCodeAt(i))) i++;
  return i;
}

/** The first `n` code units of `s` as bytes; the signing input is ASCII once both segments decoded as base64url. */
function asciiBytes(s: string, n: i32): Uint8Array {
  const out = new Uint8Array(n);
  const src = changetype<usize>(s);
  const dst = out.dataStart;
  for (let i = 0; i < n; i++) store<u8>(dst + <usize>i, <u8>load<u16>(src + (<usize>i << 1)));
  return out;
}
