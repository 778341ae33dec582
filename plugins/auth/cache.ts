// A bounded cache of verified JWTs so that a repeated token costs a hash and a compare instead of a
// signature check. Keyed by a seeded 64-bit hash of the token (the seed is random per VM, so clients
// cannot aim collisions); a hit still compares the whole token in constant time, so a collision can
// neither authenticate nor leak a cached token through timing. Entries never outlive the token's exp.
import { ctEqualRaw } from "tollgate/assembly/crypto";
import { JwtVerdict } from "./jwt";

class Entry {
  constructor(public token: string, public verdict: JwtVerdict) {}
}

export class TokenCache {
  private map: Map<u64, Entry> = new Map<u64, Entry>();
  /** Insertion order, for first-in-first-out eviction; a ring of `capacity` slots. */
  private order: StaticArray<u64>;
  private next: i32 = 0;

  constructor(public capacity: i32, private seed: u64) {
    this.order = new StaticArray<u64>(capacity > 0 ? capacity : 1);
  }

  /** A live verdict for the token `src[start, end)`, or null (absent, expired, or a hash collision). */
  get(src: string, start: i32, end: i32, nowMs: f64): JwtVerdict | null {
    if (this.capacity <= 0 || start < 0 || end > src.length || start > end) return null;
    const p = changetype<usize>(src) + (<usize>start << 1);
    const n = end - start;
    const h = this.hashRange(p, <usize>n << 1);
    if (!this.map.has(h)) return null;
    const e = this.map.get(h);
    if (nowMs >= e.verdict.expiresAtMs) {
      this.map.delete(h);
      return null;
    }
    // Compares the UTF-16 code units in place: no copy of the token on the hot path.
    if (e.token.length != n || !ctEqualRaw(changetype<usize>(e.token), p, <usize>n << 1)) return null;
    return e.verdict;
  }

  put(token: string, verdict: JwtVerdict): void {
    if (this.capacity <= 0) return;
    const h = this.hashRange(changetype<usize>(token), <usize>token.length << 1);
    if (!this.map.has(h)) {
      if (this.map.size >= this.capacity) {
        // The slot about to be reused holds the oldest key still possibly present.
        const old = unchecked(this.order[this.next]);
        if (this.map.has(old)) this.map.delete(old);
        if (this.map.size >= this.capacity) this.map.clear();
      }
      unchecked(this.order[this.next] = h);
      this.next = (this.next + 1) % this.capacity;
    }
    this.map.set(h, new Entry(token, verdict));
  }

  /** Forgets every verdict: the keys changed, and no verdict may outlive the key that verified it. */
  clear(): void {
    this.map.clear();
  }

  get size(): i32 {
    return this.map.size;
  }

  /** FNV-1a style over 8-byte words of `n` bytes of UTF-16 text at `p`, from the per-VM seed, then a final avalanche. */
  private hashRange(p: usize, n: usize): u64 {
    let h: u64 = 0xcbf29ce484222325 ^ this.seed;
    let i: usize = 0;
    for (; i + 8 <= n; i += 8) {
      h ^= load<u64>(p + i);
      h *= 0x100000001b3;
      h ^= h >> 29;
    }
    for (; i < n; i += 2) {
      h ^= <u64>load<u16>(p + i);
      h *= 0x100000001b3;
    }
    h ^= <u64>n;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccd;
    h ^= h >> 33;
    return h;
  }
}
