// The stable hash behind `percentage` conditions and sticky weights, and the bucket mapping.
//
// hash(value) = fmix64(FNV-1a-64(UTF-8 bytes of value))
//   FNV-1a 64: offset basis 0xcbf29ce484222325, prime 0x100000001b3, per byte: h ^= b; h *= prime.
//   fmix64 (MurmurHash3's 64-bit finalizer) mixes the high bits into the low ones; FNV-1a alone leaves the
//   low bits depending only on the low bits of each byte, so ids like "user-1".."user-9" would cluster.
// bucket(value) = hash(value) mod 10000. The bias of 2^64 mod 10000 is below 1e-15 per bucket.
// The definition is part of the plugin's contract (README): other tools can reproduce a user's bucket.
import { BUCKETS } from "./constants";

// @ts-ignore: decorator
@inline const FNV_OFFSET: u64 = 0xcbf29ce484222325;
// @ts-ignore: decorator
@inline const FNV_PRIME: u64 = 0x100000001b3;

// @ts-ignore: decorator
@inline function fnvByte(h: u64, b: u32): u64 {
  return (h ^ <u64>(b & 0xff)) * FNV_PRIME;
}

/** MurmurHash3 fmix64. */
export function fmix64(k: u64): u64 {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccd;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53;
  k ^= k >> 33;
  return k;
}

/** FNV-1a 64 over the UTF-8 encoding of `s`, encoded on the fly (no allocation on the request path). */
export function fnv1a64(s: string): u64 {
  let h = FNV_OFFSET;
  const n = s.length;
  const base = changetype<usize>(s);
  for (let i = 0; i < n; i++) {
    // i < length: a direct UTF-16 load, without charCodeAt's call and range check per character.
    let c = <u32>load<u16>(base + (<usize>i << 1));
    // The character's UTF-8 bytes, first byte lowest, and how many there are.
    let bytes = c;
    let count = 1;
    if (c >= 0x80) {
      if (c < 0x800) {
        bytes = (0xc0 | (c >> 6)) | ((0x80 | (c & 0x3f)) << 8);
        count = 2;
      } else {
        let pair = false;
        if (c >= 0xd800 && c < 0xdc00 && i + 1 < n) {
          const lo = <u32>load<u16>(base + (<usize>(i + 1) << 1));
          if (lo >= 0xdc00 && lo < 0xe000) {
            const cp = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
            bytes = (0xf0 | (cp >> 18)) | ((0x80 | ((cp >> 12) & 0x3f)) << 8) | ((0x80 | ((cp >> 6) & 0x3f)) << 16) | ((0x80 | (cp & 0x3f)) << 24);
            count = 4;
            pair = true;
            i++;
          }
        }
        if (!pair) {
          // A lone surrogate cannot come from UTF-8 input; hash it as U+FFFD like a lossy decoder would.
          if (c >= 0xd800 && c < 0xe000) c = 0xfffd;
          bytes = (0xe0 | (c >> 12)) | ((0x80 | ((c >> 6) & 0x3f)) << 8) | ((0x80 | (c & 0x3f)) << 16);
          count = 3;
        }
      }
    }
    for (let k = 0; k < count; k++) {
      h = fnvByte(h, bytes);
      bytes >>= 8;
    }
  }
  return h;
}

/** The documented stable hash of a key's value. */
export function stableHash(s: string): u64 {
  return fmix64(fnv1a64(s));
}

/** Bucket 0..9999 of a key's value: the same value always lands in the same bucket. */
export function bucketOfKey(s: string): u32 {
  return <u32>(stableHash(s) % <u64>BUCKETS);
}

/** Bucket 0..9999 of a uniform random u32 (multiply-shift: uniform to within 1 part in 2^32/10^4). */
export function bucketOfDraw(draw: u32): u32 {
  return <u32>((<u64>draw * <u64>BUCKETS) >> 32);
}
