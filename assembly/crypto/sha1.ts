// SHA-1 (FIPS 180-4), only for htpasswd {SHA} entries; never used for signatures.

const W: usize = memory.data(320);
const TAIL: usize = memory.data(128);
const S: usize = memory.data(20);

// @ts-ignore: decorator
@inline function rotl(x: u32, n: u32): u32 {
  return (x << n) | (x >>> (32 - n));
}

function blocks(p: usize, n: usize): void {
  let h0 = load<u32>(S, 0), h1 = load<u32>(S, 4), h2 = load<u32>(S, 8), h3 = load<u32>(S, 12), h4 = load<u32>(S, 16);
  for (let blk: usize = 0; blk < n; blk++) {
    const src = p + (blk << 6);
    for (let i: usize = 0; i < 16; i++) store<u32>(W + (i << 2), bswap<u32>(load<u32>(src + (i << 2))));
    for (let i: usize = 16; i < 80; i++) {
      const x = load<u32>(W + ((i - 3) << 2)) ^ load<u32>(W + ((i - 8) << 2)) ^ load<u32>(W + ((i - 14) << 2)) ^ load<u32>(W + ((i - 16) << 2));
      store<u32>(W + (i << 2), rotl(x, 1));
    }
    let a = h0, b = h1, c = h2, d = h3, e = h4;
    for (let i: usize = 0; i < 80; i++) {
      let f: u32, k: u32;
      if (i < 20) { f = (b & c) | (~b & d); k = 0x5a827999; }
      else if (i < 40) { f = b ^ c ^ d; k = 0x6ed9eba1; }
      else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8f1bbcdc; }
      else { f = b ^ c ^ d; k = 0xca62c1d6; }
      const t = rotl(a, 5) + f + e + k + load<u32>(W + (i << 2));
      e = d; d = c; c = rotl(b, 30); b = a; a = t;
    }
    h0 += a; h1 += b; h2 += c; h3 += d; h4 += e;
  }
  store<u32>(S, h0, 0); store<u32>(S, h1, 4); store<u32>(S, h2, 8); store<u32>(S, h3, 12); store<u32>(S, h4, 16);
}

/** SHA-1 of `data` (20 bytes). */
export function sha1(data: Uint8Array): Uint8Array {
  store<u32>(S, 0x67452301, 0);
  store<u32>(S, 0xefcdab89, 4);
  store<u32>(S, 0x98badcfe, 8);
  store<u32>(S, 0x10325476, 12);
  store<u32>(S, 0xc3d2e1f0, 16);
  const len = <usize>data.length;
  const full = len >> 6;
  blocks(data.dataStart, full);
  const rest = len - (full << 6);
  memory.copy(TAIL, data.dataStart + (full << 6), rest);
  store<u8>(TAIL + rest, 0x80);
  const nb: usize = rest < 56 ? 1 : 2;
  memory.fill(TAIL + rest + 1, 0, (nb << 6) - rest - 1);
  store<u64>(TAIL + (nb << 6) - 8, bswap<u64>(<u64>len << 3));
  blocks(TAIL, nb);
  const out = new Uint8Array(20);
  for (let i: usize = 0; i < 5; i++) store<u32>(out.dataStart + (i << 2), bswap<u32>(load<u32>(S + (i << 2))));
  return out;
}
