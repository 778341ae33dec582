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
 * A rule's limit, normalised.
 * token_bucket: `capacity` tokens, `fillTokens` added every `fillInterval` units of scaled time, where
 *   scaled time = ms × `scale`. `{requests: N, per: P}` becomes capacity N, one token every P/N ms,
 *   expressed exactly as fillInterval = P/g, scale = N/g (g = gcd(N, P)); `{max_tokens, tokens_per_fill,
 *   fill_interval_ms}` is taken as is with scale 1.
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
  /** Version token of the stored value (store-specific; shared data's CAS). */
  cas: u32 = 0;

  copyFrom(o: SlotState): void {
    this.fp = o.fp;
    this.tokens = o.tokens;
    this.anchor = o.anchor;
    this.cas = o.cas;
  }
}

/** The result of applying one request to one slot. */
export class Verdict {
  allowed: bool = false;
  /** Tokens (requests) left after this request. */
  remaining: u32 = 0;
  /** Milliseconds until more quota: the next fill (token_bucket) or the window end (fixed_window). */
  resetMs: u64 = 0;
  /** The slot held another value's live bucket, which this request shares. */
  shared: bool = false;
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
  // A clock that went back (another worker wrote a later anchor) adds nothing.
  if (now <= s.anchor) return;
  const fills = (now - s.anchor) / limit.fillInterval;
  if (fills == 0) return;
  s.anchor += fills * limit.fillInterval;
  const missing = <u64>(limit.capacity - min(s.tokens, limit.capacity));
  // fills * fillTokens can overflow for a long-idle slot; compare by division instead.
  if (fills >= (missing + <u64>limit.fillTokens - 1) / <u64>limit.fillTokens) s.tokens = limit.capacity;
  else s.tokens += <u32>(fills * <u64>limit.fillTokens);
}

/** True when the slot's state carries no information: replacing its owner loses nothing. */
export function isIdle(limit: Limit, s: SlotState): bool {
  if (s.fp == 0) return true;
  if (limit.algorithm == FIXED_WINDOW) return s.tokens == 0;
  return s.tokens >= limit.capacity;
}

/**
 * Applies one request by the value with fingerprint `fp` to `s` (already advanced to `nowMs`).
 * On allow, `s` holds the state to store. A slot owned by another value is taken over only when idle;
 * otherwise both values share its bucket (a collision can only make limits stricter, never looser).
 */
export function take(limit: Limit, s: SlotState, fp: u32, nowMs: u64, out: Verdict): void {
  out.shared = false;
  if (s.fp != fp) {
    if (isIdle(limit, s)) s.fp = fp;
    else out.shared = true;
  }
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

/** Writes `s` into a 16-byte little-endian buffer (the shared-data value). */
export function encodeSlot(s: SlotState, buf: ArrayBuffer): void {
  const p = changetype<usize>(buf);
  store<u32>(p, s.fp);
  store<u32>(p, s.tokens, 4);
  store<u64>(p, s.anchor, 8);
}

/** Reads a slot of `size` bytes from `buf`; a value of any other size (foreign or corrupt) reads as a fresh slot. */
export function decodeSlot(buf: ArrayBuffer, size: i32, s: SlotState): void {
  if (size != SLOT_BYTES || buf.byteLength < SLOT_BYTES) {
    s.fp = 0;
    s.tokens = 0;
    s.anchor = 0;
    return;
  }
  const p = changetype<usize>(buf);
  s.fp = load<u32>(p);
  s.tokens = load<u32>(p, 4);
  s.anchor = load<u64>(p, 8);
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
