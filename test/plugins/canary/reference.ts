// An independent reading of the canary README's hashing contract, used to check the plugin against it:
// hash(v) = fmix64(FNV-1a-64(UTF-8 of v)), bucket = hash mod 10000, draw bucket = (u32 * 10000) >> 32.
const MASK = (1n << 64n) - 1n;

export function fnv1a64(value: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(value, "utf8")) h = ((h ^ BigInt(b)) * 0x100000001b3n) & MASK;
  return h;
}

export function fmix64(k: bigint): bigint {
  k ^= k >> 33n;
  k = (k * 0xff51afd7ed558ccdn) & MASK;
  k ^= k >> 33n;
  k = (k * 0xc4ceb9fe1a85ec53n) & MASK;
  k ^= k >> 33n;
  return k;
}

export function bucketOf(value: string): number {
  return Number(fmix64(fnv1a64(value)) % 10000n);
}

export function drawBucket(u32: number): number {
  return Number((BigInt(u32 >>> 0) * 10000n) >> 32n);
}

/** The tag the README's range rule gives bucket `b` for `weights` in list order. */
export function tagForBucket(weights: Array<{ tag: string; weight: number }>, defaultTag: string, b: number): string {
  let start = 0;
  for (const w of weights) {
    const end = start + w.weight * 100;
    if (b >= start && b < end) return w.tag;
    start = end;
  }
  return defaultTag;
}

/** A small deterministic PRNG (xorshift32) so distribution tests cannot flake. */
export function xorshift32(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** A HostEnv `random` source that serves the next queued u32s (little-endian, as random_get fills bytes). */
export function scriptedRandom(next: () => number): (buf: Uint8Array) => void {
  return (buf) => {
    for (let i = 0; i < buf.length; i += 4) {
      const v = next() >>> 0;
      for (let j = 0; j < 4 && i + j < buf.length; j++) buf[i + j] = (v >>> (8 * j)) & 0xff;
    }
  };
}
