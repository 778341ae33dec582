// Time for the host: wall clock (proxy_get_current_time_nanoseconds, WASI clock_time_get, request.time),
// monotonic clock and timers (tick period, http call timeouts). Tests inject a ManualClock (abi.md §8, §12).

export interface Clock {
  /** Wall-clock nanoseconds since the Unix epoch. */
  nowNanos(): bigint;
  /** nowNanos() as a little-endian u64 at `ptr` (the host calls' path: no BigInt arithmetic). */
  writeNowNanos(dv: DataView, ptr: number): void;
  monotonicNanos(): bigint;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(h: unknown): void;
}

export class RealClock implements Clock {
  private baseMs = -1;
  private baseNanos = 0n;
  nowNanos(): bigint {
    // One source for the whole value (the epoch origin plus the monotonic clock), so successive readings
    // never go backwards, as Envoy's do not. The ms part is converted once per millisecond: BigInt
    // arithmetic is the cost of this call.
    const t = wallMs();
    const ms = Math.floor(t);
    if (ms !== this.baseMs) {
      this.baseMs = ms;
      this.baseNanos = BigInt(ms) * 1_000_000n;
    }
    return this.baseNanos + BigInt(Math.floor((t - ms) * 1e6));
  }
  writeNowNanos(dv: DataView, ptr: number): void {
    const t = wallMs();
    const ms = Math.floor(t);
    writeNanos(dv, ptr, ms, Math.floor((t - ms) * 1e6));
  }
  monotonicNanos(): bigint {
    return process.hrtime.bigint();
  }
  setTimer(fn: () => void, ms: number): unknown {
    const t = setTimeout(() => {
      try {
        fn();
      } catch (e) {
        console.error("tollgate host: timer callback failed:", e);
      }
    }, ms);
    // Plugin ticks must not keep a CLI process alive on their own.
    t.unref?.();
    return t;
  }
  clearTimer(h: unknown): void {
    clearTimeout(h as NodeJS.Timeout);
  }
}

interface ManualTimer {
  due: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** A clock that only moves when the test calls advance(); timers fire in due order during advance. */
export class ManualClock implements Clock {
  private nowMs: number;
  private monoMs = 0;
  private timers: ManualTimer[] = [];
  private seq = 0;

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.nowMs = startMs;
  }

  nowNanos(): bigint {
    return msToNanos(this.nowMs);
  }
  writeNowNanos(dv: DataView, ptr: number): void {
    const whole = Math.floor(this.nowMs);
    writeNanos(dv, ptr, whole, Math.round((this.nowMs - whole) * 1e6));
  }
  monotonicNanos(): bigint {
    return msToNanos(this.monoMs);
  }
  /** Current wall-clock time in ms. */
  nowMillis(): number {
    return this.nowMs;
  }
  setTimer(fn: () => void, ms: number): unknown {
    const t: ManualTimer = { due: this.monoMs + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.timers.push(t);
    return t;
  }
  clearTimer(h: unknown): void {
    const t = h as ManualTimer;
    if (t) t.cancelled = true;
    this.timers = this.timers.filter((x) => x !== t);
  }
  /** Number of armed timers. */
  pendingTimers(): number {
    return this.timers.length;
  }
  /** Moves time forward by `ms`, firing every timer that becomes due (including ones armed while firing). */
  advance(ms: number): void {
    const end = this.monoMs + ms;
    for (;;) {
      let next: ManualTimer | undefined;
      for (const t of this.timers) {
        if (t.due <= end && (!next || t.due < next.due || (t.due === next.due && t.seq < next.seq))) next = t;
      }
      if (!next) break;
      this.timers = this.timers.filter((x) => x !== next);
      this.nowMs += next.due - this.monoMs;
      this.monoMs = next.due;
      if (!next.cancelled) next.fn();
    }
    this.nowMs += end - this.monoMs;
    this.monoMs = end;
  }
  /** Sets the wall clock (monotonic time and timers are unaffected). */
  setWallClock(ms: number): void {
    this.nowMs = ms;
  }
}

/** Exact for integer milliseconds near today's epoch values (ms * 1e6 in a double loses up to ~0.1 ms). */
function msToNanos(ms: number): bigint {
  const whole = Math.floor(ms);
  return BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6));
}

/** Wall-clock milliseconds with a sub-millisecond fraction, monotonic within the process. */
function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

const TWO_32 = 4294967296;

/**
 * `ms * 1e6 + sub` (integer ms whose nanoseconds fit a u64, i.e. before the year 2554; 0 ≤ sub ≤ 1e6) as
 * a little-endian u64, exactly: the product is split at 2^32 so every intermediate stays below 2^53.
 */
function writeNanos(dv: DataView, ptr: number, ms: number, sub: number): void {
  const hi = Math.floor(ms / TWO_32);
  const low = (ms - hi * TWO_32) * 1e6 + sub;
  const carry = Math.floor(low / TWO_32);
  dv.setUint32(ptr, low - carry * TWO_32, true);
  dv.setUint32(ptr + 4, hi * 1e6 + carry, true);
}
