// RSASSA-PKCS1-v1_5 verification with SHA-256 (RFC 8017 §8.2.2). The encoded message is rebuilt
// in full — 00 01 FF..FF 00 || DigestInfo(sha256) || H — and compared byte for byte, so no DER
// parser exists to be fooled (BER lengths, missing NULL, trailing garbage all fail the compare).
// Arithmetic: Montgomery multiplication on 28-bit limbs held in u64 with lazy carries: a column
// can absorb every product that lands in it without overflowing, so the inner loops are pure
// multiply-adds and carries are propagated twice per Montgomery product (after the product, after
// the reduction). e = 65537 costs 16
// squarings + 1 multiplication (plus entering and leaving the Montgomery domain).
import { base64UrlDecode } from "./base64";
import { sha256Init, sha256Rest } from "./sha256";
import { bytesToLimbs, geq, subInPlace } from "./bignum";

const MIN_BITS = 2048;
const MAX_BITS = 4096;
/** u32 words of the largest modulus, plus two words of zero padding for the limb reader. */
const MAX_WORDS: usize = 130;
/** Limbs of the largest modulus (4096 bits at 28-bit limbs = 147), with margin. */
const MAX_LIMBS: usize = 160;

const S_WORDS: usize = memory.data(<i32>MAX_WORDS * 4);
const S_BASE: usize = memory.data(<i32>MAX_LIMBS * 8);
const S_X: usize = memory.data(<i32>MAX_LIMBS * 8);
const S_ACC: usize = memory.data(<i32>MAX_LIMBS * 8);
/** Double-width product accumulator. */
const S_T: usize = memory.data(<i32>((MAX_LIMBS * 2 + 4) * 8));
const S_EM: usize = memory.data(512);
const S_HASH: usize = memory.data(32);

/** DER of DigestInfo { AlgorithmIdentifier { sha256, NULL }, OCTET STRING (32) } (RFC 8017 §9.2 note 1). */
const DIGEST_INFO: usize = memory.data<u8>([
  0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
]);

/** u32 words (zero-padded by two words) → `L` limbs of `w` bits. */
function wordsToLimbs(dst: usize, words: usize, L: usize, w: u32): void {
  const mask: u64 = (<u64>1 << <u64>w) - 1;
  for (let i: usize = 0; i < L; i++) {
    const bit = i * <usize>w;
    const p = words + ((bit >> 5) << 2);
    const v = <u64>load<u32>(p) | (<u64>load<u32>(p, 4) << 32);
    store<u64>(dst + (i << 3), (v >> <u64>(bit & 31)) & mask);
  }
}

/** `L` normalized limbs of `w` bits → `nw` u32 words. */
function limbsToWords(dst: usize, limbs: usize, L: usize, w: u32, nw: usize): void {
  memory.fill(dst, 0, (nw + 2) << 2);
  for (let i: usize = 0; i < L; i++) {
    const bit = i * <usize>w;
    const p = dst + ((bit >> 5) << 2);
    const v = load<u64>(limbs + (i << 3)) << <u64>(bit & 31);
    store<u32>(p, load<u32>(p) | <u32>v);
    store<u32>(p, load<u32>(p, 4) | <u32>(v >> 32), 4);
  }
}

// The loops below process four rows per pass over the accumulator, so each load/store of a column
// serves four multiply-adds (the sums are the same as one row at a time), and are unrolled by four
// columns so the operands of a pass stay in registers.

/**
 * Propagates the lazy carries of the product in S_T (2L limbs) so every limb is < 2^w; the value
 * (< n² < 2^(2wL)) is unchanged. Product columns hold at most L products < 2^(2w) each.
 */
function normalizeT(L: usize, w: u64): void {
  const mask: u64 = (<u64>1 << w) - 1;
  let c: u64 = 0;
  const end = S_T + (L << 4);
  for (let p = S_T; p < end; p += 8) {
    const v = load<u64>(p) + c;
    store<u64>(p, v & mask);
    c = v >> w;
  }
}

/**
 * The inner kernel of montReduce, montMulL and montSqrL: adds four rows m0·v, m1·v, m2·v, m3·v (each shifted one
 * limb further) into T at `ti`, for v's limbs [from, end) plus the three carry-out columns. p1..p3 are
 * v's limbs just below `from` (zero when from is 0). Unrolled by four columns so the v_j stay in registers.
 */
// @ts-ignore: decorator
@inline function addRows4(ti: usize, v: usize, from: usize, end: usize, m0: u64, m1: u64, m2: u64, m3: u64, p1: u64, p2: u64, p3: u64): void {
  let o = from;
  for (; o + 24 < end; o += 32) {
    const q0 = load<u64>(v + o), q1 = load<u64>(v + o, 8), q2 = load<u64>(v + o, 16), q3 = load<u64>(v + o, 24);
    const tp = ti + o;
    store<u64>(tp, load<u64>(tp) + m0 * q0 + m1 * p1 + m2 * p2 + m3 * p3);
    store<u64>(tp, load<u64>(tp, 8) + m0 * q1 + m1 * q0 + m2 * p1 + m3 * p2, 8);
    store<u64>(tp, load<u64>(tp, 16) + m0 * q2 + m1 * q1 + m2 * q0 + m3 * p1, 16);
    store<u64>(tp, load<u64>(tp, 24) + m0 * q3 + m1 * q2 + m2 * q1 + m3 * q0, 24);
    p1 = q3; p2 = q2; p3 = q1;
  }
  for (; o < end; o += 8) {
    const vj = load<u64>(v + o);
    store<u64>(ti + o, load<u64>(ti + o) + m0 * vj + m1 * p1 + m2 * p2 + m3 * p3);
    p3 = p2; p2 = p1; p1 = vj;
  }
  const te = ti + end;
  store<u64>(te, load<u64>(te) + m1 * p1 + m2 * p2 + m3 * p3);
  store<u64>(te, load<u64>(te, 8) + m2 * p1 + m3 * p2, 8);
  store<u64>(te, load<u64>(te, 16) + m3 * p1, 16);
}

/**
 * Montgomery reduction of the accumulator S_T (2L limbs, lazy carries) into r = T·R⁻¹ mod n
 * (R = 2^(w·L)), fully reduced. T arrives normalized (limbs < 2^w); the reduction adds at most L
 * products < 2^(2w) to a column, plus a carry < 2^(64−w): below 2^64 while (L + 2)·2^(2w) ≤ 2^64.
 */
function montReduce(r: usize, key: RsaPublicKey): void {
  const L = <usize>key.limbs;
  const w = <u64>key.w;
  const mask: u64 = (<u64>1 << w) - 1;
  const n0inv = key.n0inv;
  const n = changetype<usize>(key.nl);
  const n0 = load<u64>(n);
  const n1 = load<u64>(n, 8);
  const n2 = load<u64>(n, 16);
  const n3 = load<u64>(n, 24);
  const end = L << 3;
  let i: usize = 0;
  // Four rows per pass: m0..m3 follow one another through the first columns, then every column
  // j gets m0·n_j + m1·n_(j−1) + m2·n_(j−2) + m3·n_(j−3).
  for (; i + 3 < L; i += 4) {
    const ti = S_T + (i << 3);
    const t0 = load<u64>(ti);
    const m0 = ((t0 & mask) * n0inv) & mask;
    const t1 = load<u64>(ti, 8) + m0 * n1 + ((t0 + m0 * n0) >> w);
    const m1 = ((t1 & mask) * n0inv) & mask;
    const t2 = load<u64>(ti, 16) + m0 * n2 + m1 * n1 + ((t1 + m1 * n0) >> w);
    const m2 = ((t2 & mask) * n0inv) & mask;
    const t3 = load<u64>(ti, 24) + m0 * n3 + m1 * n2 + m2 * n1 + ((t2 + m2 * n0) >> w);
    const m3 = ((t3 & mask) * n0inv) & mask;
    store<u64>(ti, load<u64>(ti, 32) + ((t3 + m3 * n0) >> w), 32);
    addRows4(ti, n, 32, end, m0, m1, m2, m3, n3, n2, n1);
  }
  for (; i < L; i++) {
    const ti = S_T + (i << 3);
    const t0 = load<u64>(ti);
    const m = ((t0 & mask) * n0inv) & mask;
    store<u64>(ti, load<u64>(ti, 8) + m * n1 + ((t0 + m * n0) >> w), 8);
    for (let o: usize = 16; o < end; o += 8) {
      store<u64>(ti + o, load<u64>(ti + o) + m * load<u64>(n + o));
    }
  }
  // Normalize T[L..2L) into r; the value is < 2n, so at most one subtraction.
  const top = S_T + (L << 3);
  let c: u64 = 0;
  for (let j: usize = 0; j < L; j++) {
    const v = load<u64>(top + (j << 3)) + c;
    store<u64>(r + (j << 3), v & mask);
    c = v >> w;
  }
  let ge = c != 0;
  if (!ge) {
    ge = true;
    for (let j = <isize>L - 1; j >= 0; j--) {
      const x = load<u64>(r + (<usize>j << 3));
      const y = load<u64>(n + (<usize>j << 3));
      if (x != y) { ge = x > y; break; }
    }
  }
  if (ge) {
    let b: i64 = 0;
    for (let j: usize = 0; j < L; j++) {
      const d = <i64>load<u64>(r + (j << 3)) - <i64>load<u64>(n + (j << 3)) + b;
      store<u64>(r + (j << 3), <u64>d & mask);
      b = d >> <i64>w;
    }
  }
}

/** r = a·b·R⁻¹ mod n. r may alias a or b. */
function montMulL(r: usize, a: usize, b: usize, key: RsaPublicKey): void {
  const L = <usize>key.limbs;
  const end = L << 3;
  memory.fill(S_T, 0, (2 * L + 4) << 3);
  let i: usize = 0;
  for (; i + 3 < L; i += 4) {
    const ai = a + (i << 3);
    const a0 = load<u64>(ai), a1 = load<u64>(ai, 8), a2 = load<u64>(ai, 16), a3 = load<u64>(ai, 24);
    const ti = S_T + (i << 3);
    addRows4(ti, b, 0, end, a0, a1, a2, a3, 0, 0, 0);
  }
  for (; i < L; i++) {
    const a0 = load<u64>(a + (i << 3));
    const ti = S_T + (i << 3);
    for (let o: usize = 0; o < end; o += 8) store<u64>(ti + o, load<u64>(ti + o) + a0 * load<u64>(b + o));
  }
  normalizeT(L, <u64>key.w);
  montReduce(r, key);
}

/** r = a²·R⁻¹ mod n: each cross product once, doubled, then the squares. r may alias a. */
function montSqrL(r: usize, a: usize, key: RsaPublicKey): void {
  const L = <usize>key.limbs;
  const end = L << 3;
  memory.fill(S_T, 0, (2 * L + 4) << 3);
  // Upper triangle, four rows per pass: column i+j gets 2·a_(i+r)·a_(j−r) for rows r = 0..3 where
  // j − r > i + r. The first six columns of a pass are partial; the last rows go one at a time.
  let i: usize = 0;
  for (; i + 8 <= L; i += 4) {
    const ai = a + (i << 3);
    const d0 = load<u64>(ai) << 1, d1 = load<u64>(ai, 8) << 1, d2 = load<u64>(ai, 16) << 1, d3 = load<u64>(ai, 24) << 1;
    const x1 = load<u64>(ai, 8), x2 = load<u64>(ai, 16), x3 = load<u64>(ai, 24);
    const x4 = load<u64>(ai, 32), x5 = load<u64>(ai, 40), x6 = load<u64>(ai, 48);
    const tp = S_T + (i << 4); // column 2i; columns i+j for j = i+1.. follow
    store<u64>(tp, load<u64>(tp, 8) + d0 * x1, 8);
    store<u64>(tp, load<u64>(tp, 16) + d0 * x2, 16);
    store<u64>(tp, load<u64>(tp, 24) + d0 * x3 + d1 * x2, 24);
    store<u64>(tp, load<u64>(tp, 32) + d0 * x4 + d1 * x3, 32);
    store<u64>(tp, load<u64>(tp, 40) + d0 * x5 + d1 * x4 + d2 * x3, 40);
    store<u64>(tp, load<u64>(tp, 48) + d0 * x6 + d1 * x5 + d2 * x4, 48);
    // The full columns from i+7 on: the shared four-row kernel, with a's limbs 6, 5, 4 above row i as carry-in.
    addRows4(S_T + (i << 3), a, (i + 7) << 3, end, d0, d1, d2, d3, x6, x5, x4);
  }
  for (; i < L; i++) {
    const d = load<u64>(a + (i << 3)) << 1;
    const ti = S_T + (i << 3);
    for (let o: usize = (i + 1) << 3; o < end; o += 8) store<u64>(ti + o, load<u64>(ti + o) + d * load<u64>(a + o));
  }
  for (let i: usize = 0; i < L; i++) {
    const ai = load<u64>(a + (i << 3));
    const t = S_T + (i << 4);
    store<u64>(t, load<u64>(t) + ai * ai);
  }
  normalizeT(L, <u64>key.w);
  montReduce(r, key);
}

export class RsaPublicKey {
  /** Modulus as little-endian u32 words (range check of signatures). */
  n: StaticArray<u32>;
  /** Modulus as `limbs` limbs of `w` bits. */
  nl: StaticArray<u64>;
  /** R² mod n in limbs, for entering the Montgomery domain. */
  rr: StaticArray<u64>;
  /** −n⁻¹ mod 2^w. */
  n0inv: u64;
  e: u32;
  w: u32;
  words: i32;
  limbs: i32;
  byteLen: i32;
  bitLen: i32;

  private constructor(words: i32, w: u32, limbs: i32) {
    this.n = new StaticArray<u32>(words);
    this.nl = new StaticArray<u64>(limbs);
    this.rr = new StaticArray<u64>(limbs);
    this.words = words;
    this.w = w;
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
    return RsaPublicKey.fromBytesMinExponent(nBytes, eBytes, 65537);
  }

  /**
   * As fromBytes with a different exponent floor (≥ 3). Only for test vectors with e = 3; keys from
   * configuration always go through fromJwk/fromBytes.
   */
  static fromBytesMinExponent(nBytes: Uint8Array, eBytes: Uint8Array, minE: u32): RsaPublicKey | null {
    if (minE < 3) minE = 3;
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
    if ((e & 1) == 0 || e < minE) return null;
    if (nl == 0) return null;
    const bitLen = <i32>(nl << 3) - <i32>clz<u32>(<u32>load<u8>(np)) + 24;
    if (bitLen < MIN_BITS || bitLen > MAX_BITS) return null;
    if ((load<u8>(np + nl - 1) & 1) == 0) return null;
    const words = <i32>((nl + 3) >> 2);
    // 28-bit limbs: a product column (≤ L products) and, after normalizeT, a reduction column stay
    // below (L + 2)·2^56 ≤ 2^64 for L ≤ 254; 4096 bits need 147 limbs.
    const w: u32 = 28;
    const limbs = (bitLen + <i32>w - 1) / <i32>w;
    if (<usize>limbs > MAX_LIMBS) return null;
    const key = new RsaPublicKey(words, w, limbs);
    const L = <usize>limbs;
    const W = <usize>words;
    const nw = changetype<usize>(key.n);
    bytesToLimbs(nw, W, np, nl);
    key.e = e;
    key.byteLen = <i32>nl;
    key.bitLen = bitLen;
    memory.fill(S_WORDS, 0, MAX_WORDS << 2);
    memory.copy(S_WORDS, nw, W << 2);
    wordsToLimbs(changetype<usize>(key.nl), S_WORDS, L, w);
    // −n⁻¹ mod 2^w by Newton iteration (each step doubles the correct low bits).
    const n0 = <u64>load<u32>(nw);
    let inv: u64 = n0;
    for (let i = 0; i < 6; i++) inv *= 2 - n0 * inv;
    key.n0inv = (0 - inv) & ((<u64>1 << <u64>w) - 1);
    // R² mod n (R = 2^(w·L)): start from 2^(bitLen−1) < n and double (mod n) up to 2^(2·w·L).
    const x = S_WORDS;
    memory.fill(x, 0, MAX_WORDS << 2);
    const top = <usize>(bitLen - 1);
    store<u32>(x + ((top >> 5) << 2), <u32>1 << <u32>(top & 31));
    const steps: usize = ((<usize>w * L) << 1) - top;
    for (let s: usize = 0; s < steps; s++) {
      let carry: u32 = 0;
      for (let i: usize = 0; i < W; i++) {
        const v = load<u32>(x + (i << 2));
        store<u32>(x + (i << 2), (v << 1) | carry);
        carry = v >>> 31;
      }
      if (carry != 0 || geq(x, nw, W)) subInPlace(x, nw, W);
    }
    wordsToLimbs(changetype<usize>(key.rr), x, L, w);
    return key;
  }

  bits(): i32 {
    return this.bitLen;
  }
}

/** RS256 verify: `signature` must be exactly the modulus length and < n. Never traps. */
export function rsaPkcs1Sha256Verify(key: RsaPublicKey, message: Uint8Array, signature: Uint8Array): bool {
  sha256Init();
  sha256Rest(message.dataStart, <usize>message.length, 0, S_HASH);
  return rsaPkcs1Sha256VerifyDigest(key, S_HASH, signature);
}

/** Same, given the 32-byte SHA-256 digest at `digest`. */
export function rsaPkcs1Sha256VerifyDigest(key: RsaPublicKey, digest: usize, signature: Uint8Array): bool {
  const k = <usize>key.byteLen;
  if (<usize>signature.length != k) return false;
  const W = <usize>key.words;
  const L = <usize>key.limbs;
  const w = key.w;
  memory.fill(S_WORDS, 0, MAX_WORDS << 2);
  bytesToLimbs(S_WORDS, W, signature.dataStart, k);
  if (geq(S_WORDS, changetype<usize>(key.n), W)) return false;
  wordsToLimbs(S_BASE, S_WORDS, L, w);
  // x = s·R mod n; acc = x^e (Montgomery domain), left to right over the bits of e.
  const x = S_X;
  const acc = S_ACC;
  montMulL(x, S_BASE, changetype<usize>(key.rr), key);
  memory.copy(acc, x, L << 3);
  const e = key.e;
  for (let bit = 30 - <i32>clz<u32>(e); bit >= 0; bit--) {
    montSqrL(acc, acc, key);
    if (((e >>> <u32>bit) & 1) != 0) montMulL(acc, acc, x, key);
  }
  // Leave the Montgomery domain: reduce acc itself (acc·1·R⁻¹), no product needed.
  memory.fill(S_T, 0, (2 * L + 4) << 3);
  memory.copy(S_T, acc, L << 3);
  montReduce(acc, key);
  limbsToWords(S_WORDS, acc, L, w, W);
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
    const b = (load<u32>(S_WORDS + ((j >> 2) << 2)) >>> (<u32>(j & 3) << 3)) & 0xff;
    diff |= b ^ <u32>load<u8>(em + i);
  }
  return diff == 0;
}
