// The HS256 token material the linear-time and first-value suites share: a JWKS with one oct key and a
// signer for payloads under it.
import { createHmac } from "node:crypto";

export const b64u = (b: Buffer | string): string => Buffer.from(b).toString("base64url");
export const HMAC = Buffer.from("tollgate-security-hmac-key-0123456789abcdef");
export const JWKS = { keys: [{ kty: "oct", kid: "h1", alg: "HS256", k: b64u(HMAC) }] };

/** An HS256 JWT (kid h1) over `payload`. */
export function hs256(payload: object): string {
  const input = `${b64u(JSON.stringify({ alg: "HS256", typ: "JWT", kid: "h1" }))}.${b64u(JSON.stringify(payload))}`;
  return `${input}.${b64u(createHmac("sha256", HMAC).update(input).digest())}`;
}

/** A valid token for alice from "issuer", expiring in 2100. */
export const TOKEN = hs256({ iss: "issuer", sub: "alice", exp: 4102444800 });
