// Cryptography for the auth plugin, in AssemblyScript with no imports: hashes, HMAC, base64,
// constant-time comparison, RS256 and ES256 verification. Nothing here traps on any input:
// malformed data yields null/false.
export { sha256, hmacSha256 } from "./sha256";
export { sha1 } from "./sha1";
export { base64Decode, base64UrlDecode, base64Encode, base64UrlEncode } from "./base64";
export { constantTimeEqual, ctEqualRaw } from "./ct";
export { RsaPublicKey, rsaPkcs1Sha256Verify } from "./rsa";
export { P256PublicKey, ecdsaP256Sha256Verify } from "./p256";
