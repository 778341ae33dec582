// RSASSA-PKCS1-v1_5 verification with SHA-256 (RFC 8017 §8.2.2). The encoded message is rebuilt
// in full — 00 01 FF..FF 00 || DigestInfo(sha256) || H — and compared byte for byte, so no DER
// parser exists to be fooled (BER lengths, missing NULL, trailing garbage all fail the compare).
// Arithmetic: u32 limbs, u64 products, Montgomery multiplication (FIOS); e = 65537 costs 16
// squarings + 1 multiplication.
import { base64UrlDecode } from "./base64";
import { sha256Init, sha256Update } from "./sha256";

const MIN_BITS = 2048;
const MAX_BITS = 4096;
const MAX_LIMBS: usize = 128;

/** Scratch for one verification (MAX_LIMBS + 2 words each). */
const S_BASE: usize = memory.data(<i32>(MAX_LIMBS + 2) * 4);
const S_X: usize = memory.data(<i32>(MAX_LIMBS + 2) * 4);
const S_ACC: usize = memory.data(<i32>(MAX_LIMBS + 2) * 4);
const S_T: usize = memory.data(<i32>(MAX_LIMBS + 2) * 4);
const S_EM: usize = memory.data(<i32>MAX_LIMBS * 4);
const S_HASH: usize = memory.data(32);

/** DER of DigestInfo { AlgorithmIdentifier { sha256, NULL }, OCTET STRING (32) } (RFC 8017 §9.2 note 1). */
const DIGEST_INFO: usize = memory.data<u8>([
  0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
]);

/** Reads big-endian bytes [p, p+len) into `limbs` little-endian u32 words (zero-extended). */
function bytesToLimbs(dst: usize, limbs: usize, p: usize, len: usize): void {
  memory.fill(dst, 0, limbs << 2);
  for (let i: usize = 0; i < len; i++) {
    const j = len - 1 - i; // little-endian byte index
    const w = dst + ((j >> 2) << 2);
    store<u32>(w, load<u32>(w) | (<u32>load<u8>(p + i) << (<u32>(j & 3) << 3)));
  }
}

/** a >= b over `n` words. */
function geq(a: usize, b: usize, n: usize): bool {
  for (let i = <isize>n - 1; i >= 0; i--) {
    const x = load<u32>(a + (<usize>i << 2));
    const y = load<u32>(b + (<usize>i << 2));
    if (x != y) return x > y;
  }
  return true;
}

/** a -= b over `n` words; returns the borrow. */
function subInPlace(a: usize, b: usize, n: usize): u32 {
  let borrow: i64 = 0;
  for (let i: usize = 0; i < n; i++) {
    const d = <i64>load<u32>(a + (i << 2)) - <i64>load<u32>(b + (i << 2)) + borrow;
    store<u32>(a + (i << 2), <u32>d);
    borrow = d >> 32;
  }
  return <u32>(-borrow);
}

/**
 * r = a·b·R⁻¹ mod n (R = 2^(32·L)), inputs < n. FIOS: one pass per word of b folds the product row
 * and the reduction row together. `r` may alias `a` or `b` (the result goes through S_T).
 */
function montMul(r: usize, a: usize, b: usize, n: usize, n0inv: u32, L: usize): void {
  const t = S_T;
  memory.fill(t, 0, (L + 2) << 2);
  const a0 = <u64>load<u32>(a);
  const nw0 = <u64>load<u32>(n);
  for (let i: usize = 0; i < L; i++) {
    const bi = <u64>load<u32>(b + (i << 2));
    let x = <u64>load<u32>(t) + a0 * bi;
    let c1 = x >> 32;
    const m = <u64>(<u32>x * n0inv);
    let y = (x & 0xffffffff) + m * nw0;
    let c2 = y >> 32;
    for (let j: usize = 1; j < L; j++) {
      const o = j << 2;
      x = <u64>load<u32>(t + o) + <u64>load<u32>(a + o) * bi + c1;
      c1 = x >> 32;
      y = (x & 0xffffffff) + <u64>load<u32>(n + o) * m + c2;
      c2 = y >> 32;
      store<u32>(t + o - 4, <u32>y);
    }
    const z = <u64>load<u32>(t + (L << 2)) + c1 + c2;
    store<u32>(t + ((L - 1) << 2), <u32>z);
    store<u32>(t + (L << 2), <u32>(z >> 32));
  }
  // t < 2n: one conditional subtraction.
  if (load<u32>(t + (L << 2)) != 0 || geq(t, n, L)) subInPlace(t, n, L);
  memory.copy(r, t, L << 2);
}

export class RsaPublicKey {
  /** Modulus, little-endian u32 words. */
  n: StaticArray<u32>;
  /** R² mod n, for entering the Montgomery domain. */
  rr: StaticArray<u32>;
  n0inv: u32;
  e: u32;
  limbs: i32;
  byteLen: i32;
  bitLen: i32;

  private constructor(limbs: i32) {
    this.n = new StaticArray<u32>(limbs);
    this.rr = new StaticArray<u32>(limbs);
    this.limbs = limbs;
    this.n0inv = 0;
    this.e = 0;
    this.byteLen = 0;
    this.bitLen = 0;
  }

  /** From a JWK's base64url `n` and `e`; null unless 2048–4096 bits, odd n, odd e in [65537, 2³²). */
  static fromJwk(nB64url: string, eB64url: string): RsaPublicKey | null {
    const n = base64UrlDecode(nB64url);
    const e = base64UrlDecode(eB64url);
    if (n === null || e === null) return null;
    return RsaPublicKey.fromBytes(n, e);
  }

  /** From big-endian modulus and exponent bytes (leading zero bytes allowed), same limits as fromJwk. */
  static fromBytes(nBytes: Uint8Array, eBytes: Uint8Array): RsaPublicKey | null {
    let np = nBytes.dataStart;
    let nl = <usize>nBytes.length;
    while (nl > 0 && load<u8>(np) == 0) { np++; nl--; }
    let ep = eBytes.dataStart;
    let el = <usize>eBytes.length;
    while (el > 0 && load<u8>(ep) == 0) { ep++; el--; }
    if (el == 0 || el > 4) return null;
    let e: u32 = 0;
    for (let i: usize = 0; i < el; i++) e = (e << 8) | <u32>load<u8>(ep + i);
    // NIST SP 800-89 / FIPS 186-5 require e > 2^16; e = 1 or 3 and even exponents are refused.
    if ((e & 1) == 0 || e < 65537) return null;
    if (nl == 0) return null;
    const bitLen = <i32>(nl << 3) - <i32>clz<u32>(<u32>load<u8>(np)) + 24;
    if (bitLen < MIN_BITS || bitLen > MAX_BITS) return null;
    if ((load<u8>(np + nl - 1) & 1) == 0) return null;
    const limbs = <i32>((nl + 3) >> 2);
    const key = new RsaPublicKey(limbs);
    const L = <usize>limbs;
    const nw = changetype<usize>(key.n);
    bytesToLimbs(nw, L, np, nl);
    key.e = e;
    key.byteLen = <i32>nl;
    key.bitLen = bitLen;
    // -n⁻¹ mod 2³² by Newton iteration (each step doubles the correct low bits).
    const n0 = load<u32>(nw);
    let inv: u32 = n0;
    for (let i = 0; i < 5; i++) inv *= 2 - n0 * inv;
    key.n0inv = -inv;
    // R² mod n: start from 2^(bitLen-1) < n and double (mod n) up to 2^(64·L).
    const rr = changetype<usize>(key.rr);
    const x = S_X;
    memory.fill(x, 0, (L + 1) << 2);
    const top = <usize>(bitLen - 1);
    store<u32>(x + ((top >> 5) << 2), <u32>1 << <u32>(top & 31));
    const steps = (L << 6) - top;
    for (let s: usize = 0; s < steps; s++) {
      let carry: u32 = 0;
      for (let i: usize = 0; i < L; i++) {
        const w = load<u32>(x + (i << 2));
        store<u32>(x + (i << 2), (w << 1) | carry);
        carry = w >>> 31;
      }
      if (carry != 0 || geq(x, nw, L)) subInPlace(x, nw, L);
    }
    memory.copy(rr, x, L << 2);
    return key;
  }

  bits(): i32 {
    return this.bitLen;
  }
}

/** RS256 verify: `signature` must be exactly the modulus length and < n. Never traps. */
export function rsaPkcs1Sha256Verify(key: RsaPublicKey, message: Uint8Array, signature: Uint8Array): bool {
  sha256Init();
  sha256Update(message.dataStart, <usize>message.length, 0, S_HASH);
  return rsaPkcs1Sha256VerifyDigest(key, S_HASH, signature);
}

/** Same, given the 32-byte SHA-256 digest at `digest`. */
export function rsaPkcs1Sha256VerifyDigest(key: RsaPublicKey, digest: usize, signature: Uint8Array): bool {
  const k = <usize>key.byteLen;
  if (<usize>signature.length != k) return false;
  const L = <usize>key.limbs;
  const n = changetype<usize>(key.n);
  const base = S_BASE;
  bytesToLimbs(base, L, signature.dataStart, k);
  if (geq(base, n, L)) return false;
  // x = s·R mod n; acc = x^e (Montgomery domain), left to right over the bits of e.
  const x = S_X;
  const acc = S_ACC;
  montMul(x, base, changetype<usize>(key.rr), n, key.n0inv, L);
  memory.copy(acc, x, L << 2);
  const e = key.e;
  for (let bit = 30 - <i32>clz<u32>(e); bit >= 0; bit--) {
    montMul(acc, acc, acc, n, key.n0inv, L);
    if (((e >>> <u32>bit) & 1) != 0) montMul(acc, acc, x, n, key.n0inv, L);
  }
  // Leave the Montgomery domain: multiply by 1.
  memory.fill(base, 0, L << 2);
  store<u32>(base, 1);
  montMul(acc, acc, base, n, key.n0inv, L);
  // Expected EM, big-endian: 00 01 FF…FF 00 DigestInfo H.
  const em = S_EM;
  const psEnd = k - 19 - 32;
  store<u8>(em, 0);
  store<u8>(em + 1, 1);
  memory.fill(em + 2, 0xff, psEnd - 3);
  store<u8>(em + psEnd - 1, 0);
  memory.copy(em + psEnd, DIGEST_INFO, 19);
  memory.copy(em + psEnd + 19, digest, 32);
  let diff: u32 = 0;
  for (let i: usize = 0; i < k; i++) {
    const j = k - 1 - i;
    const b = (load<u32>(acc + ((j >> 2) << 2)) >>> (<u32>(j & 3) << 3)) & 0xff;
    diff |= b ^ <u32>load<u8>(em + i);
  }
  return diff == 0;
}
