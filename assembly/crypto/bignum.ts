// Multi-precision helpers on little-endian u32 words in linear memory (pointers, no allocation):
// byte conversion and comparison for RSA (up to 128 words), Montgomery products for the P-256
// scalar field (8 words).

/** Largest operand: 4096-bit RSA. */
export const MAX_LIMBS: usize = 128;
/** Montgomery accumulator (MAX_LIMBS + 2 words). */
const S_T: usize = memory.data(<i32>(MAX_LIMBS + 2) * 4);

/** Reads big-endian bytes [p, p+len) into `limbs` little-endian u32 words (zero-extended). */
export function bytesToLimbs(dst: usize, limbs: usize, p: usize, len: usize): void {
  memory.fill(dst, 0, limbs << 2);
  for (let i: usize = 0; i < len; i++) {
    const j = len - 1 - i; // little-endian byte index
    const w = dst + ((j >> 2) << 2);
    store<u32>(w, load<u32>(w) | (<u32>load<u8>(p + i) << (<u32>(j & 3) << 3)));
  }
}

/** a >= b over `n` words. */
export function geq(a: usize, b: usize, n: usize): bool {
  for (let i = <isize>n - 1; i >= 0; i--) {
    const x = load<u32>(a + (<usize>i << 2));
    const y = load<u32>(b + (<usize>i << 2));
    if (x != y) return x > y;
  }
  return true;
}

/** a -= b over `n` words; returns the borrow. */
export function subInPlace(a: usize, b: usize, n: usize): u32 {
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
export function montMul(r: usize, a: usize, b: usize, n: usize, n0inv: u32, L: usize): void {
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

