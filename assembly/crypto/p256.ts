// ECDSA P-256 / SHA-256 verification (FIPS 186-5 §6.4.2, SEC 1 §4.1.4), signatures as r||s
// (IEEE P1363, the JWS ES256 form). Verification handles public data only, so it is variable-time.
// Points are Jacobian (X, Y, Z; Z = 0 is infinity) over the generated field code in p256-field.ts;
// u1·G + u2·Q is one interleaved wNAF ladder (Shamir's trick) with affine tables: G's odd multiples
// are generated constants, Q's are computed once when the key is loaded.
import { base64UrlDecode } from "./base64";
import { geq, montMul, subInPlace } from "./bignum";
import { G_TABLE, G_WINDOW, N_N0INV, N_RR, fadd, fmul, fmulSmall, fsqr, fsub } from "./p256-field";
import { sha256Init, sha256Rest } from "./sha256";

const P: usize = memory.data<u32>([0xffffffff, 0xffffffff, 0xffffffff, 0, 0, 0, 1, 0xffffffff]);
const N: usize = memory.data<u32>([0xfc632551, 0xf3b9cac2, 0xa7179e84, 0xbce6faad, 0xffffffff, 0xffffffff, 0, 0xffffffff]);
const B: usize = memory.data<u32>([0x27d2604b, 0x3bce3c3e, 0xcc53b0f6, 0x651d06b0, 0x769886bc, 0xb3ebbd55, 0xaa3a93e7, 0x5ac635d8]);
/** p − n, to test whether r + n is still a field element. */
const P_MINUS_N: usize = memory.data<u32>([0x039cdaae, 0x0c46353d, 0x58e8617b, 0x43190553, 0, 0, 0, 0]);

/** wNAF window for the public key's table (entries Q, 3Q, …, 31Q). */
const Q_WINDOW: i32 = 6;
const Q_ENTRIES: i32 = 1 << (Q_WINDOW - 2);

// Scratch field elements (32 bytes each) and points (96 bytes: X, Y, Z).
const T0: usize = memory.data(32);
const T1: usize = memory.data(32);
const T2: usize = memory.data(32);
const T3: usize = memory.data(32);
const T4: usize = memory.data(32);
const T5: usize = memory.data(32);
const T6: usize = memory.data(32);
const NEG: usize = memory.data(64);
const ACC: usize = memory.data(96);
const PT: usize = memory.data(96);
const PT2: usize = memory.data(96);
const ONE: usize = memory.data<u32>([1, 0, 0, 0, 0, 0, 0, 0]);
// Scalars (9 words: wNAF recoding may carry into bit 256).
const SR: usize = memory.data(36);
const SS: usize = memory.data(36);
const SE: usize = memory.data(36);
const SW: usize = memory.data(36);
const U1: usize = memory.data(36);
const U2: usize = memory.data(36);
const IU: usize = memory.data(36);
const IV: usize = memory.data(36);
const IX1: usize = memory.data(36);
const IX2: usize = memory.data(36);
const NAF1: usize = memory.data(260);
const NAF2: usize = memory.data(260);
const HASH: usize = memory.data(32);

// ---- 256-bit helpers (8 words) --------------------------------------------------------------

function isZero8(a: usize): bool {
  return (load<u64>(a) | load<u64>(a, 8) | load<u64>(a, 16) | load<u64>(a, 24)) == 0;
}

function eq8(a: usize, b: usize): bool {
  return ((load<u64>(a) ^ load<u64>(b)) | (load<u64>(a, 8) ^ load<u64>(b, 8)) |
    (load<u64>(a, 16) ^ load<u64>(b, 16)) | (load<u64>(a, 24) ^ load<u64>(b, 24))) == 0;
}

/** 32 big-endian bytes at p → 8 little-endian words at dst. */
function beToWords(dst: usize, p: usize): void {
  for (let i: usize = 0; i < 8; i++) store<u32>(dst + (i << 2), bswap<u32>(load<u32>(p + ((7 - i) << 2))));
}

/** a += b (8 words); returns the carry. */
function add8(a: usize, b: usize): u32 {
  let c: u64 = 0;
  for (let i: usize = 0; i < 32; i += 4) {
    c += <u64>load<u32>(a + i) + <u64>load<u32>(b + i);
    store<u32>(a + i, <u32>c);
    c >>= 32;
  }
  return <u32>c;
}

function isOne8(a: usize): bool {
  return load<u32>(a) == 1 && (load<u32>(a, 4) | load<u64>(a, 8) | load<u64>(a, 16) | load<u64>(a, 24)) == 0;
}

/** a >>= 1 with `top` shifted into bit 255. */
function shr1(a: usize, top: u32): void {
  for (let i: usize = 0; i < 7; i++) {
    store<u32>(a + (i << 2), (load<u32>(a + (i << 2)) >>> 1) | (load<u32>(a + ((i + 1) << 2)) << 31));
  }
  store<u32>(a + 28, (load<u32>(a + 28) >>> 1) | (top << 31));
}

/** x/2 mod n. */
function halveModN(x: usize): void {
  let top: u32 = 0;
  if ((load<u32>(x) & 1) != 0) top = add8(x, N);
  shr1(x, top);
}

/** x = x − y mod n (both < n). */
function subModN(x: usize, y: usize): void {
  if (subInPlace(x, y, 8) != 0) add8(x, N);
}

/** dst = a⁻¹ mod n for 0 < a < n (binary extended Euclid; n is prime so gcd = 1). */
function invModN(dst: usize, a: usize): void {
  memory.copy(IU, a, 32);
  memory.copy(IV, N, 32);
  memory.fill(IX1, 0, 32);
  store<u32>(IX1, 1);
  memory.fill(IX2, 0, 32);
  // Each round removes at least one bit from u or v: 2·256 rounds bound the loop even on bad input.
  for (let guard = 0; guard < 1024; guard++) {
    if (isOne8(IU) || isOne8(IV)) break;
    if (isZero8(IU) || isZero8(IV)) break;
    while ((load<u32>(IU) & 1) == 0) { shr1(IU, 0); halveModN(IX1); }
    while ((load<u32>(IV) & 1) == 0) { shr1(IV, 0); halveModN(IX2); }
    if (geq(IU, IV, 8)) { subInPlace(IU, IV, 8); subModN(IX1, IX2); }
    else { subInPlace(IV, IU, 8); subModN(IX2, IX1); }
  }
  memory.copy(dst, isOne8(IU) ? IX1 : IX2, 32);
}

/** r = a⁻¹ mod p by Fermat (a^(p−2)); only used when a key is loaded. */
function finv(r: usize, a: usize): void {
  // p − 2 = ffffffff 00000001 00000000 00000000 00000000 ffffffff ffffffff fffffffd
  memory.copy(T6, a, 32);
  memory.copy(T5, ONE, 32);
  for (let w = 7; w >= 0; w--) {
    const word = w == 0 ? <u32>0xfffffffd : load<u32>(P + (<usize>w << 2));
    for (let bit = 31; bit >= 0; bit--) {
      fsqr(T5, T5);
      if (((word >>> <u32>bit) & 1) != 0) fmul(T5, T5, T6);
    }
  }
  memory.copy(r, T5, 32);
}

// ---- points ------------------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function isInf(p: usize): bool {
  return isZero8(p + 64);
}

// @ts-ignore: decorator
@inline function setInf(p: usize): void {
  memory.fill(p, 0, 96);
}

/** r = 2p (Jacobian, a = −3: dbl-2001-b). r may alias p. */
function pdbl(r: usize, p: usize): void {
  if (isInf(p)) { setInf(r); return; }
  const X = p, Y = p + 32, Z = p + 64;
  fsqr(T0, Z); // delta
  fsqr(T1, Y); // gamma
  fmul(T2, X, T1); // beta
  fsub(T3, X, T0);
  fadd(T4, X, T0);
  fmul(T3, T3, T4);
  fmulSmall(T3, T3, 3); // alpha
  fadd(T4, Y, Z);
  fsqr(T4, T4);
  fsub(T4, T4, T1);
  fsub(r + 64, T4, T0); // Z3 = (Y+Z)² − gamma − delta
  fsqr(r, T3);
  fmulSmall(T4, T2, 8);
  fsub(r, r, T4); // X3 = alpha² − 8·beta
  fmulSmall(T4, T2, 4);
  fsub(T4, T4, r);
  fmul(T4, T3, T4);
  fsqr(T1, T1);
  fmulSmall(T1, T1, 8);
  fsub(r + 32, T4, T1); // Y3 = alpha·(4·beta − X3) − 8·gamma²
}

/** r = p + (x, y) with (x, y) affine at q (madd-2007-bl). r may alias p. */
function padda(r: usize, p: usize, q: usize): void {
  if (isInf(p)) {
    memory.copy(r, q, 64);
    memory.copy(r + 64, ONE, 32);
    return;
  }
  const X1 = p, Y1 = p + 32, Z1 = p + 64;
  fsqr(T0, Z1); // Z1Z1
  fmul(T1, q, T0); // U2
  fmul(T2, q + 32, Z1);
  fmul(T2, T2, T0); // S2
  fsub(T1, T1, X1); // H
  fsub(T2, T2, Y1); // S2 − Y1
  if (isZero8(T1)) {
    if (isZero8(T2)) pdbl(r, p);
    else setInf(r);
    return;
  }
  fadd(T2, T2, T2); // rr
  fsqr(T3, T1); // HH
  fadd(T4, T3, T3);
  fadd(T4, T4, T4); // I = 4·HH
  fmul(T5, T1, T4); // J
  fmul(T4, X1, T4); // V
  fmul(T6, Y1, T5); // Y1·J
  // Z3 = (Z1 + H)² − Z1Z1 − HH
  fadd(T1, Z1, T1);
  fsqr(T1, T1);
  fsub(T1, T1, T0);
  fsub(r + 64, T1, T3);
  // X3 = rr² − J − 2V
  fsqr(T0, T2);
  fsub(T0, T0, T5);
  fsub(T0, T0, T4);
  fsub(r, T0, T4);
  // Y3 = rr·(V − X3) − 2·Y1·J
  fsub(T4, T4, r);
  fmul(T4, T2, T4);
  fadd(T6, T6, T6);
  fsub(r + 32, T4, T6);
}

/** r = p + q (Jacobian, add-2007-bl). r may alias p. Only used to build key tables. */
function padd(r: usize, p: usize, q: usize): void {
  if (isInf(p)) { memory.copy(r, q, 96); return; }
  if (isInf(q)) { memory.copy(r, p, 96); return; }
  const X1 = p, Y1 = p + 32, Z1 = p + 64, X2 = q, Y2 = q + 32, Z2 = q + 64;
  fsqr(T0, Z1); // Z1Z1
  fsqr(T1, Z2); // Z2Z2
  fmul(T2, X1, T1); // U1
  fmul(T3, X2, T0); // U2
  fmul(T4, Y1, Z2);
  fmul(T4, T4, T1); // S1
  fmul(T5, Y2, Z1);
  fmul(T5, T5, T0); // S2
  fsub(T3, T3, T2); // H
  fsub(T5, T5, T4); // S2 − S1
  if (isZero8(T3)) {
    if (isZero8(T5)) pdbl(r, p);
    else setInf(r);
    return;
  }
  fadd(T5, T5, T5); // rr
  // Z3 = ((Z1 + Z2)² − Z1Z1 − Z2Z2)·H
  fadd(T6, Z1, Z2);
  fsqr(T6, T6);
  fsub(T6, T6, T0);
  fsub(T6, T6, T1);
  fmul(r + 64, T6, T3);
  fadd(T0, T3, T3);
  fsqr(T0, T0); // I
  fmul(T1, T3, T0); // J
  fmul(T2, T2, T0); // V
  fmul(T4, T4, T1); // S1·J
  fsqr(T0, T5);
  fsub(T0, T0, T1);
  fsub(T0, T0, T2);
  fsub(r, T0, T2); // X3
  fsub(T2, T2, r);
  fmul(T2, T5, T2);
  fadd(T4, T4, T4);
  fsub(r + 32, T2, T4); // Y3
}

/** Affine (x, y) at dst from Jacobian p (not infinity). */
function toAffine(dst: usize, p: usize): void {
  finv(T0, p + 64);
  fsqr(T1, T0);
  fmul(dst, p, T1);
  fmul(T1, T1, T0);
  fmul(dst + 32, p + 32, T1);
}

/**
 * Width-w NAF of the 256-bit scalar at k (9 words, destroyed) into i8 digits at out; returns the
 * digit count. Digits are odd in (−2^(w−1), 2^(w−1)) or zero.
 */
function wnaf(out: usize, k: usize, w: i32): i32 {
  const mask: u32 = (<u32>1 << <u32>w) - 1;
  const half: i32 = 1 << (w - 1);
  store<u32>(k + 32, 0);
  let len = 0;
  memory.fill(out, 0, 260);
  while (len < 258) {
    if (isZero8(k) && load<u32>(k + 32) == 0) break;
    let d = 0;
    const lo = load<u32>(k);
    if ((lo & 1) != 0) {
      d = <i32>(lo & mask);
      if (d >= half) d -= 1 << w;
      // k −= d (d odd, |d| < 2^(w−1)): adjust the low word with carry/borrow through 9 words.
      let c: i64 = -<i64>d;
      for (let i: usize = 0; i < 36 && c != 0; i += 4) {
        c += <i64>load<u32>(k + i);
        store<u32>(k + i, <u32>c);
        c >>= 32;
      }
    }
    store<i8>(out + <usize>len, <i8>d);
    // k >>= 1 over 9 words
    for (let i: usize = 0; i < 32; i += 4) {
      store<u32>(k + i, (load<u32>(k + i) >>> 1) | (load<u32>(k + i + 4) << 31));
    }
    store<u32>(k + 32, load<u32>(k + 32) >>> 1);
    len++;
  }
  return len;
}

export class P256PublicKey {
  /** Affine Q, 3Q, …, (2·Q_ENTRIES − 1)Q; 16 words (x, y) per entry. */
  table: StaticArray<u32>;

  private constructor() {
    this.table = new StaticArray<u32>(Q_ENTRIES * 16);
  }

  /** From a JWK's base64url `x` and `y` (32 bytes each); null unless the point is on the curve. */
  static fromJwk(xB64url: string, yB64url: string): P256PublicKey | null {
    const x = base64UrlDecode(xB64url);
    const y = base64UrlDecode(yB64url);
    if (x === null || y === null || x.length != 32 || y.length != 32) return null;
    return P256PublicKey.fromCoordinates(x.dataStart, y.dataStart);
  }

  /** From the SEC 1 uncompressed encoding 04 || x || y (65 bytes). */
  static fromUncompressed(bytes: Uint8Array): P256PublicKey | null {
    if (bytes.length != 65 || bytes[0] != 4) return null;
    return P256PublicKey.fromCoordinates(bytes.dataStart + 1, bytes.dataStart + 33);
  }

  private static fromCoordinates(xp: usize, yp: usize): P256PublicKey | null {
    const X = PT, Y = PT + 32;
    beToWords(X, xp);
    beToWords(Y, yp);
    if (geq(X, P, 8) || geq(Y, P, 8)) return null;
    // y² = x³ − 3x + b; the curve has cofactor 1, so on-curve means in the prime-order group.
    fsqr(T0, Y);
    fsqr(T1, X);
    fmul(T1, T1, X);
    fmulSmall(T2, X, 3);
    fsub(T1, T1, T2);
    fadd(T1, T1, B);
    if (!eq8(T0, T1)) return null;
    const key = new P256PublicKey();
    const tbl = changetype<usize>(key.table);
    memory.copy(tbl, X, 64);
    memory.copy(PT + 64, ONE, 32);
    pdbl(PT2, PT); // 2Q
    for (let i = 1; i < Q_ENTRIES; i++) {
      padd(PT, PT, PT2);
      // Q has prime order n, so no odd multiple below n is infinity.
      toAffine(tbl + (<usize>i << 6), PT);
    }
    return key;
  }
}

/** ES256 verify: `sig` is r||s (64 bytes); r, s must be in [1, n−1]. Never traps. */
export function ecdsaP256Sha256Verify(key: P256PublicKey, message: Uint8Array, sig: Uint8Array): bool {
  sha256Init();
  sha256Rest(message.dataStart, <usize>message.length, 0, HASH);
  return ecdsaP256VerifyDigest(key, HASH, sig);
}

/** Same, given the 32-byte SHA-256 digest at `digest`. */
export function ecdsaP256VerifyDigest(key: P256PublicKey, digest: usize, sig: Uint8Array): bool {
  if (sig.length != 64) return false;
  beToWords(SR, sig.dataStart);
  beToWords(SS, sig.dataStart + 32);
  if (isZero8(SR) || isZero8(SS) || geq(SR, N, 8) || geq(SS, N, 8)) return false;
  // e = H mod n (a 256-bit hash is < 2n: one subtraction).
  beToWords(SE, digest);
  if (geq(SE, N, 8)) subInPlace(SE, N, 8);
  invModN(SW, SS);
  // u1 = e·w, u2 = r·w (mod n): Montgomery product, then ×R² mod n to cancel R⁻¹.
  montMul(U1, SE, SW, N, N_N0INV, 8);
  montMul(U1, U1, N_RR, N, N_N0INV, 8);
  montMul(U2, SR, SW, N, N_N0INV, 8);
  montMul(U2, U2, N_RR, N, N_N0INV, 8);
  const len1 = wnaf(NAF1, U1, G_WINDOW);
  const len2 = wnaf(NAF2, U2, Q_WINDOW);
  const tbl = changetype<usize>(key.table);
  setInf(ACC);
  for (let i = (len1 > len2 ? len1 : len2) - 1; i >= 0; i--) {
    pdbl(ACC, ACC);
    const d1 = <i32>load<i8>(NAF1 + <usize>i);
    if (d1 != 0) addDigit(G_TABLE, d1);
    const d2 = <i32>load<i8>(NAF2 + <usize>i);
    if (d2 != 0) addDigit(tbl, d2);
  }
  if (isInf(ACC)) return false;
  // x(R) mod n == r  ⇔  X == r·Z² or (r + n < p and X == (r + n)·Z²)  (mod p): no inversion.
  fsqr(T5, ACC + 64);
  fmul(T6, SR, T5);
  if (eq8(T6, ACC)) return true;
  if (geq(SR, P_MINUS_N, 8)) return false;
  add8(SR, N);
  fmul(T6, SR, T5);
  return eq8(T6, ACC);
}

/** ACC += digit·(table entry |digit|>>1), negating y for negative digits. */
function addDigit(table: usize, d: i32): void {
  if (d > 0) {
    padda(ACC, ACC, table + (<usize>(d >> 1) << 6));
  } else {
    const e = table + (<usize>((-d) >> 1) << 6);
    memory.copy(NEG, e, 32);
    memory.fill(T6, 0, 32);
    fsub(NEG + 32, T6, e + 32);
    padda(ACC, ACC, NEG);
  }
}
