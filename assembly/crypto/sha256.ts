// SHA-256 (FIPS 180-4). One-shot API over a compression loop on u32 words; all state lives in
// static memory so hashing never allocates except for the 32-byte result.

const K: usize = memory.data<u32>([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** Chaining state H0..H7. */
const H: usize = memory.data(32);
/** Message schedule W0..W63. */
const W: usize = memory.data(256);
/** Tail blocks (final partial block + padding, at most two blocks). */
const TAIL: usize = memory.data(128);

// @ts-ignore: decorator
@inline function rotr(x: u32, n: u32): u32 {
  return (x >>> n) | (x << (32 - n));
}

export function sha256Init(): void {
  store<u32>(H, 0x6a09e667, 0);
  store<u32>(H, 0xbb67ae85, 4);
  store<u32>(H, 0x3c6ef372, 8);
  store<u32>(H, 0xa54ff53a, 12);
  store<u32>(H, 0x510e527f, 16);
  store<u32>(H, 0x9b05688c, 20);
  store<u32>(H, 0x1f83d9ab, 24);
  store<u32>(H, 0x5be0cd19, 28);
}

/** Compresses `blocks` 64-byte blocks starting at `p` into the chaining state. */
export function sha256Blocks(p: usize, blocks: usize): void {
  let h0 = load<u32>(H, 0), h1 = load<u32>(H, 4), h2 = load<u32>(H, 8), h3 = load<u32>(H, 12);
  let h4 = load<u32>(H, 16), h5 = load<u32>(H, 20), h6 = load<u32>(H, 24), h7 = load<u32>(H, 28);
  for (let blk: usize = 0; blk < blocks; blk++) {
    const src = p + (blk << 6);
    for (let i: usize = 0; i < 16; i++) {
      store<u32>(W + (i << 2), bswap<u32>(load<u32>(src + (i << 2))));
    }
    for (let i: usize = 16; i < 64; i++) {
      const w15 = load<u32>(W + ((i - 15) << 2));
      const w2 = load<u32>(W + ((i - 2) << 2));
      const s0 = rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >>> 3);
      const s1 = rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >>> 10);
      store<u32>(W + (i << 2), load<u32>(W + ((i - 16) << 2)) + s0 + load<u32>(W + ((i - 7) << 2)) + s1);
    }
    let a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7;
    for (let i: usize = 0; i < 64; i++) {
      const S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
      const ch = (e & f) ^ (~e & g);
      const t1 = h + S1 + ch + load<u32>(K + (i << 2)) + load<u32>(W + (i << 2));
      const S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = S0 + maj;
      h = g; g = f; f = e; e = d + t1;
      d = c; c = b; b = a; a = t1 + t2;
    }
    h0 += a; h1 += b; h2 += c; h3 += d; h4 += e; h5 += f; h6 += g; h7 += h;
  }
  store<u32>(H, h0, 0); store<u32>(H, h1, 4); store<u32>(H, h2, 8); store<u32>(H, h3, 12);
  store<u32>(H, h4, 16); store<u32>(H, h5, 20); store<u32>(H, h6, 24); store<u32>(H, h7, 28);
}

/** Pads and hashes the last `len` (< 64) bytes at `p`; `total` is the whole message length in bytes. Writes 32 bytes to `out`. */
export function sha256Final(p: usize, len: usize, total: u64, out: usize): void {
  memory.copy(TAIL, p, len);
  store<u8>(TAIL + len, 0x80);
  const blocks: usize = len < 56 ? 1 : 2;
  const end = blocks << 6;
  memory.fill(TAIL + len + 1, 0, end - len - 1);
  store<u64>(TAIL + end - 8, bswap<u64>(total << 3));
  sha256Blocks(TAIL, blocks);
  for (let i: usize = 0; i < 8; i++) {
    store<u32>(out + (i << 2), bswap<u32>(load<u32>(H + (i << 2))));
  }
}

/** Absorbs the rest of the message (`len` bytes at `p`, after `prefix` bytes already absorbed as whole blocks) and writes the 32-byte digest to `out`. */
export function sha256Rest(p: usize, len: usize, prefix: u64, out: usize): void {
  const full = len >> 6;
  sha256Blocks(p, full);
  const done = full << 6;
  sha256Final(p + done, len - done, prefix + <u64>len, out);
}

/** SHA-256 of `data` (32 bytes). */
export function sha256(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  sha256Init();
  sha256Rest(data.dataStart, <usize>data.length, 0, out.dataStart);
  return out;
}

/** HMAC-SHA-256 (RFC 2104); keys longer than a block are hashed first. */
export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  hmacSha256Raw(key.dataStart, <usize>key.length, data.dataStart, <usize>data.length, out.dataStart);
  return out;
}

const KEYBLOCK: usize = memory.data(64);
const PAD: usize = memory.data(64);
const INNER: usize = memory.data(32);

export function hmacSha256Raw(key: usize, keyLen: usize, data: usize, dataLen: usize, out: usize): void {
  memory.fill(KEYBLOCK, 0, 64);
  if (keyLen > 64) {
    sha256Init();
    sha256Rest(key, keyLen, 0, KEYBLOCK);
  } else {
    memory.copy(KEYBLOCK, key, keyLen);
  }
  for (let i: usize = 0; i < 64; i += 8) store<u64>(PAD + i, load<u64>(KEYBLOCK + i) ^ 0x3636363636363636);
  sha256Init();
  sha256Blocks(PAD, 1);
  sha256Rest(data, dataLen, 64, INNER);
  for (let i: usize = 0; i < 64; i += 8) store<u64>(PAD + i, load<u64>(KEYBLOCK + i) ^ 0x5c5c5c5c5c5c5c5c);
  sha256Init();
  sha256Blocks(PAD, 1);
  sha256Rest(INNER, 32, 64, out);
}
