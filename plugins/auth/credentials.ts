// API-key and Basic credential checks over plain values. Every secret comparison runs over all
// configured credentials in constant time per comparison, so timing tells neither which key nor how
// much of it matched.
import { base64Decode, constantTimeEqual, ctEqualRaw, sha1, sha256 } from "tollgate/assembly/crypto";

import { AuthConfig, BasicUser, bytesEqual, PasswordKind } from "./config";
import * as C from "./constants";

/** Index of the consumer owning API key `value`, or -1. */
export function matchKey(cfg: AuthConfig, value: string): i32 {
  const n = value.length;
  if (n == 0) return -1;
  const p = changetype<usize>(value);
  let owner: i32 = -1;
  for (let i = 0; i < cfg.keys.length; i++) {
    const k = unchecked(cfg.keys[i]);
    // UTF-16 code units compared in place (no allocation); no early exit across keys, so every
    // configured key costs the same whether or not an earlier one matched.
    if (k.length == n && ctEqualRaw(changetype<usize>(k), p, <usize>n << 1)) owner = unchecked(cfg.keyOwner[i]);
  }
  return owner;
}

/** Outcome of a Basic check: consumer >= 0 on success, else the 401 details and body. */
export class BasicVerdict {
  constructor(public consumer: i32, public details: string, public body: string) {}
}

/** True when an Authorization value uses the Basic scheme (case-insensitive, RFC 7235 §2.1). */
export function isBasicScheme(value: string): bool {
  if (value.length < 5) return false;
  for (let i = 0; i < 5; i++) {
    let c = value.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) c += 32;
    if (c != "basic".charCodeAt(i)) return false;
  }
  return value.length == 5 || value.charCodeAt(5) == 0x20 || value.charCodeAt(5) == 0x09;
}

/**
 * Checks an Authorization header value against the Basic users (RFC 7617): scheme, one or more spaces,
 * base64 (padding optional) of `user:password`, split on the FIRST colon, compared as bytes.
 */
export function checkBasic(cfg: AuthConfig, value: string | null): BasicVerdict {
  if (value === null) return new BasicVerdict(-1, C.D_BASIC_MISSING, C.B_BASIC_MISSING);
  if (!isBasicScheme(value)) return new BasicVerdict(-1, C.D_BASIC_SCHEME, C.B_BASIC_SCHEME);
  let b64 = value.substring(5).trim();
  if (b64.length == 0) return new BasicVerdict(-1, C.D_BASIC_FORMAT, C.B_BASIC_FORMAT);
  // Envoy decodes without requiring padding; restore it for the strict decoder.
  const rem = b64.length & 3;
  if (rem == 2) b64 += "==";
  else if (rem == 3) b64 += "=";
  const decoded = base64Decode(b64);
  if (decoded === null) return new BasicVerdict(-1, C.D_BASIC_FORMAT, C.B_BASIC_FORMAT);
  let colon = -1;
  for (let i = 0; i < decoded.length; i++) {
    if (unchecked(decoded[i]) == 0x3a) {
      colon = i;
      break;
    }
  }
  if (colon <= 0) return new BasicVerdict(-1, colon == 0 ? C.D_BASIC_INVALID : C.D_BASIC_FORMAT, colon == 0 ? C.B_BASIC_INVALID : C.B_BASIC_FORMAT);
  const user = decoded.subarray(0, colon);
  const pass = decoded.subarray(colon + 1);
  for (let i = 0; i < cfg.basicUsers.length; i++) {
    const u = unchecked(cfg.basicUsers[i]);
    if (bytesEqual(u.user, user)) {
      return passwordMatches(u, pass) ? new BasicVerdict(u.consumer, "", "") : new BasicVerdict(-1, C.D_BASIC_INVALID, C.B_BASIC_INVALID);
    }
  }
  // Unknown users get the same reply as a wrong password: no user enumeration.
  return new BasicVerdict(-1, C.D_BASIC_INVALID, C.B_BASIC_INVALID);
}

function passwordMatches(u: BasicUser, pass: Uint8Array): bool {
  if (u.kind == PasswordKind.SHA256) return constantTimeEqual(sha256(pass), u.secret);
  if (u.kind == PasswordKind.SHA1) return constantTimeEqual(sha1(pass), u.secret);
  return constantTimeEqual(pass, u.secret);
}
