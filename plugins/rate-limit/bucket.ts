// Bucket arithmetic: pure functions over a slot's state and `now` (ms since the epoch). No host calls,
// so every boundary can be tested with a plain clock value. All arithmetic is integer and exact.

// @ts-ignore: decorator
@inline export const TOKEN_BUCKET: u8 = 0;
// @ts-ignore: decorator
@inline export const FIXED_WINDOW: u8 = 1;

/** Bytes of an encoded slot: u32 fingerprint, u32 tokens (or count), u64 anchor. */
// @ts-ignore: decorator
@inline export const SLOT_BYTES: i32 = 16;

/**
 * Slots per set for rules that hash their key values (`values` rules and `global` have one). A value
 * lives in one of its set's ways; a new value takes the way whose eviction forgives the least.
 */
// @ts-ignore: decorator
@inline export const MAX_WAYS: i32 = 8;

/**
 * A rule's limit, normalised.
 * token_bucket: `capacity` tokens, `fillTokens` added every `fillInterval` units of scaled time, where
 *   scaled time = ms × `scale`. Both config forms are a steady rate, as Envoy 1.40's token buckets are
 *   (local_ratelimit's AtomicTokenBucketImpl refills continuously at tokens_per_fill / fill_interval):
 *   `{requests: N, per: P}` becomes capacity N, one token every P/N ms, expressed exactly as
 *   fillInterval = P/g, scale = N/g (g = gcd(N, P)); `{max_tokens: M, tokens_per_fill: T,
 *   fill_interval_ms: I}` becomes capacity M, one token every I/T ms (fillInterval = I/g, scale = T/g,
 *   g = gcd(T, I)). `fillTokens` is then 1.
 * fixed_window: `capacity` requests per calendar-aligned window of `windowMs`.
 */
export class Limit {
  algorithm: u8 = TOKEN_BUCKET;
  capacity: u32 = 1;
  fillTokens: u32 = 1;
  fillInterval: u64 = 1000;
  scale: u64 = 1;
  windowMs: u64 = 1000;
  /** Seconds for RateLimit-Policy `w`: the time a client needs to be granted `capacity` again. */
  policySeconds: u64 = 1;
}

/** One slot's state. `fp` 0 = never used (a fresh, full bucket). */
export class SlotState {
  fp: u32 = 0;
  /** token_bucket: tokens left; fixed_window: requests counted in the window starting at `anchor`. */
  tokens: u32 = 0;
  /** token_bucket: scaled time of the last fill boundary; fixed_window: window start (ms). */
  anchor: u64 = 0;

  clear(): void {
    this.fp = 0;
    this.tokens = 0;
    this.anchor = 0;
  }
}

/**
 * One set of `ways` slots, as stored: ONE shared-data value, so one compare-and-swap covers all of them.
 * Slot i is 16 little-endian bytes at i × 16: u32 fingerprint, u32 tokens, u64 anchor. Slots are read and
 * written in place; only the one a request touches is decoded.
 */
export class SlotSet {
  /** Exactly ways × 16 bytes: the value written back as is. */
  buf: ArrayBuffer = new ArrayBuffer(SLOT_BYTES);
  ways: i32 = 1;
  /** Version token of the stored value (store-specific; shared data's CAS). */
  cas: u32 = 0;

  /** The way holding fingerprint `fp`, or -1. */
  find(fp: u32): i32 {
    const p = changetype<usize>(this.buf);
    for (let i = 0; i < this.ways; i++) {
      if (load<u32>(p + <usize>(i * SLOT_BYTES)) == fp) return i;
    }
    return -1;
  }

  read(way: i32, s: SlotState): void {
    const q = changetype<usize>(this.buf) + <usize>(way * SLOT_BYTES);
    s.fp = load<u32>(q);
    s.tokens = load<u32>(q, 4);
    s.anchor = load<u64>(q, 8);
  }

  write(way: i32, s: SlotState): void {
    const q = changetype<usize>(this.buf) + <usize>(way * SLOT_BYTES);
    store<u32>(q, s.fp);
    store<u32>(q, s.tokens, 4);
    store<u64>(q, s.anchor, 8);
  }
}

/** The result of applying one request to one slot. */
export class Verdict {
  allowed: bool = false;
  /** Tokens (requests) left after this request. */
  remaining: u32 = 0;
  /** Milliseconds until more quota: the next fill (token_bucket) or the window end (fixed_window). */
  resetMs: u64 = 0;
  /** Requests forgiven by evicting another value's bucket to make room for this one (0 = none). */
  evicted: u32 = 0;
}

/** Brings `s` up to `now`: lazy refill (token_bucket) or window roll-over (fixed_window). */
export function advance(limit: Limit, s: SlotState, nowMs: u64): void {
  if (limit.algorithm == FIXED_WINDOW) {
    const start = nowMs - nowMs % limit.windowMs;
    if (s.fp == 0 || s.anchor != start) {
      s.tokens = 0;
      s.anchor = start;
    }
    return;
  }
  const now = nowMs * limit.scale;
  if (s.fp == 0) {
    s.tokens = limit.capacity;
    s.anchor = now;
    return;
  }
  // A full bucket accrues nothing: the token it hands out next comes back one interval after that
  // request, not at the next multiple of the interval since the bucket's first use (Envoy's
  // AtomicTokenBucketImpl likewise restarts its time at now - max_tokens / fill_rate when capped).
  if (s.tokens >= limit.capacity) {
    if (now > s.anchor) s.anchor = now;
    return;
  }
  // A clock that went back (another worker wrote a later anchor) adds nothing.
  if (now <= s.anchor) return;
  const fills = (now - s.anchor) / limit.fillInterval;
  if (fills == 0) return;
  const missing = <u64>(limit.capacity - s.tokens);
  // fills * fillTokens can overflow for a long-idle slot; compare by division instead.
  if (fills >= (missing + <u64>limit.fillTokens - 1) / <u64>limit.fillTokens) {
    s.tokens = limit.capacity;
    s.anchor = now;
  } else {
    s.tokens += <u32>(fills * <u64>limit.fillTokens);
    s.anchor += fills * limit.fillInterval;
  }
}

/**
 * What evicting the slot would forgive: the requests its owner spent that have not been refilled yet
 * (token_bucket: capacity − tokens; fixed_window: the count in the current window). 0 = idle: a fresh
 * bucket is identical, nothing is lost. `s` must already be advanced to now.
 */
export function spent(limit: Limit, s: SlotState): u32 {
  if (s.fp == 0) return 0;
  if (limit.algorithm == FIXED_WINDOW) return s.tokens;
  return s.tokens >= limit.capacity ? 0 : limit.capacity - s.tokens;
}

/**
 * Where value `fp` lives in `set` at `nowMs`: its own way if it has one; else the way whose owner has
 * spent the least (an idle or empty way first, the lowest way on ties), emptied for `fp` to start over
 * with a fresh bucket. Returns the way; `out.evicted` is what the takeover forgave (0 = nothing).
 * A value never shares another value's bucket, so a flood of new values cannot exhaust a newcomer's quota;
 * and a bucket that spent more than every other in its set is the last to go.
 */
export function placeIn(limit: Limit, set: SlotSet, fp: u32, nowMs: u64, scratch: SlotState, out: Verdict): i32 {
  out.evicted = 0;
  const own = set.find(fp);
  if (own >= 0) return own;
  let best = 0;
  let bestSpent: u32 = u32.MAX_VALUE;
  for (let i = 0; i < set.ways; i++) {
    set.read(i, scratch);
    advance(limit, scratch, nowMs);
    const l = spent(limit, scratch);
    if (l < bestSpent) {
      best = i;
      bestSpent = l;
    }
  }
  // An empty slot: the caller's advance() makes it a fresh bucket as of now, then claims it for `fp`.
  scratch.clear();
  set.write(best, scratch);
  out.evicted = bestSpent;
  return best;
}

/**
 * Applies one request to `s` (owned by the requesting value, already advanced to `nowMs`).
 * On allow, `s` holds the state to store.
 */
export function take(limit: Limit, s: SlotState, nowMs: u64, out: Verdict): void {
  if (limit.algorithm == FIXED_WINDOW) {
    out.resetMs = s.anchor + limit.windowMs - nowMs;
    if (s.tokens < limit.capacity) {
      s.tokens += 1;
      out.allowed = true;
    } else {
      out.allowed = false;
    }
    out.remaining = limit.capacity - min(s.tokens, limit.capacity);
    return;
  }
  const next = s.anchor + limit.fillInterval - nowMs * limit.scale;
  out.resetMs = (next + limit.scale - 1) / limit.scale;
  if (s.tokens > 0) {
    s.tokens -= 1;
    out.allowed = true;
  } else {
    out.allowed = false;
  }
  out.remaining = s.tokens;
}

/** Undoes one take() (a later rule rejected the request): gives the token back, if still meaningful. */
export function giveBack(limit: Limit, s: SlotState, nowMs: u64): void {
  advance(limit, s, nowMs);
  if (limit.algorithm == FIXED_WINDOW) {
    if (s.tokens > 0) s.tokens -= 1;
  } else if (s.tokens < limit.capacity) {
    s.tokens += 1;
  }
}

/** 64-bit FNV-1a over the UTF-16 code units of `s`, continuing from `h`. */
export function hashString(h: u64, s: string): u64 {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    h ^= <u64>s.charCodeAt(i);
    h *= 0x100000001b3;
  }
  return h;
}

// @ts-ignore: decorator
@inline export const HASH_BASIS: u64 = 0xcbf29ce484222325;

export function gcd(a: u64, b: u64): u64 {
  while (b != 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}
