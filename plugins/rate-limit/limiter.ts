// The per-request decision over all of a config's rules: every applicable rule must allow, and a
// rejected request consumes nothing. Takes the request's key values and `now` as plain inputs; state
// goes through a BucketStore.
import { incrementMetric, log, LogLevel } from "../../assembly";
import { advance, giveBack, hashString, Limit, placeIn, SlotSet, SlotState, take, Verdict } from "./bucket";
import { KEY_GLOBAL, LimitRule, RateLimitConfig } from "./config";
import { CAS_EXHAUSTED_LOG, STORE_ERROR_LOG } from "./errors";
import { BucketStore, STORE_CONFLICT, STORE_OK } from "./store";

/** Compare-and-swap attempts per rule before failing open (Higress uses 20 for the same loop). */
// @ts-ignore: decorator
@inline export const MAX_CAS_ATTEMPTS: i32 = 16;

/** What the request gets, and the numbers for the rate-limit response headers. */
export class Outcome {
  /** Index of the rule that rejected the request, or -1. */
  rejected: i32 = -1;
  /** Index of the rule the headers describe (the rejecting one, else the tightest), or -1 = no rule applied. */
  report: i32 = -1;
  limit: u32 = 0;
  remaining: u32 = 0;
  resetMs: u64 = 0;
  policySeconds: u64 = 0;

  reset(): void {
    this.rejected = -1;
    this.report = -1;
  }
}

/** Set and fingerprint of a value under a rule; set -1 = the rule does not limit this value. */
export class SlotRef {
  set: i32 = -1;
  fp: u32 = 0;
}

/**
 * Maps a key value to its set: its index in `values`, else a hash of the value modulo the sets. The
 * fingerprint (upper 32 bits of the hash, never 0) tells the values of one set apart.
 */
export function setOf(rule: LimitRule, value: string, out: SlotRef): void {
  if (rule.keyKind == KEY_GLOBAL) {
    out.set = 0;
    out.fp = 1;
    return;
  }
  const index = rule.valueIndex;
  if (index !== null) {
    const i = index.get(value);
    out.set = i;
    out.fp = <u32>(i + 1);
    return;
  }
  const h = hashString(rule.seed, value);
  out.set = <i32>(h % <u64>rule.sets);
  out.fp = <u32>(h >> 32) | 1;
}

export class Limiter {
  private work: SlotSet[] = [];
  private verdicts: Verdict[] = [];
  private refs: SlotRef[] = [];
  private scratch: SlotState = new SlotState();
  private cur: SlotState = new SlotState();

  constructor(private store: BucketStore, maxRules: i32) {
    for (let i = 0; i < maxRules; i++) {
      this.work.push(new SlotSet());
      this.verdicts.push(new Verdict());
      this.refs.push(new SlotRef());
    }
  }

  /**
   * Decides one request. `values[i]` is rule i's key value (null = absent: the rule does not apply).
   * Reads every applicable slot first and writes only when all allow; a write that loses a race is
   * re-decided on fresh state, and tokens already taken are given back if the re-decision rejects.
   */
  check(cfg: RateLimitConfig, values: Array<string | null>, nowMs: u64, out: Outcome): void {
    out.reset();
    const rules = cfg.rules;
    const n = min(rules.length, this.refs.length);
    for (let i = 0; i < n; i++) {
      const ref = unchecked(this.refs[i]);
      ref.set = -1;
      const v = unchecked(values[i]);
      if (v === null) continue;
      setOf(unchecked(rules[i]), v, ref);
    }
    for (let i = 0; i < n; i++) {
      const ref = unchecked(this.refs[i]);
      if (ref.set < 0) continue;
      const rule = unchecked(rules[i]);
      const w = unchecked(this.work[i]);
      this.store.load(rule, <u32>ref.set, w);
      this.decide(rule.limit, w, ref, nowMs, unchecked(this.verdicts[i]));
      if (!unchecked(this.verdicts[i]).allowed) {
        this.reject(cfg, i, out);
        return;
      }
    }
    for (let i = 0; i < n; i++) {
      const ref = unchecked(this.refs[i]);
      if (ref.set < 0) continue;
      if (!this.commit(unchecked(rules[i]), i, nowMs)) {
        for (let j = 0; j < i; j++) {
          if (unchecked(this.refs[j]).set >= 0) this.refund(unchecked(rules[j]), j, nowMs);
        }
        this.reject(cfg, i, out);
        return;
      }
    }
    // Allowed: report the rule with the least quota left (draft-03 §3: "the lowest remaining").
    for (let i = 0; i < n; i++) {
      const ref = unchecked(this.refs[i]);
      if (ref.set < 0) continue;
      const rule = unchecked(rules[i]);
      const v = unchecked(this.verdicts[i]);
      incrementMetric(rule.mAllowed, 1);
      if (v.evicted > 0) incrementMetric(rule.mEvictions, 1);
      if (out.report < 0 || v.remaining < out.remaining) this.fill(rule, v, i, out);
    }
  }

  /** Places the value in its set (its own way, or a takeover) and applies the request to that way of `w`. */
  private decide(limit: Limit, w: SlotSet, ref: SlotRef, nowMs: u64, v: Verdict): void {
    const way = placeIn(limit, w, ref.fp, nowMs, this.scratch, v);
    const s = this.cur;
    w.read(way, s);
    // An emptied way becomes a fresh bucket here, owned by this value from now on.
    advance(limit, s, nowMs);
    s.fp = ref.fp;
    take(limit, s, nowMs, v);
    w.write(way, s);
  }

  /** Writes rule i's new state; false when a race left the rule with no quota (the request is rejected). */
  private commit(rule: LimitRule, i: i32, nowMs: u64): bool {
    const ref = unchecked(this.refs[i]);
    const w = unchecked(this.work[i]);
    for (let attempt = 1; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const r = this.store.store(rule, <u32>ref.set, w);
      if (r == STORE_OK) return true;
      if (r != STORE_CONFLICT) {
        log(LogLevel.ERROR, STORE_ERROR_LOG + rule.name);
        incrementMetric(rule.mCasExhausted, 1);
        return true;
      }
      this.store.load(rule, <u32>ref.set, w);
      this.decide(rule.limit, w, ref, nowMs, unchecked(this.verdicts[i]));
      if (!unchecked(this.verdicts[i]).allowed) return false;
    }
    // Still conflicting: the store is too contended to decide; fail open, as documented.
    if (this.store.store(rule, <u32>ref.set, w) == STORE_OK) return true;
    log(LogLevel.WARN, CAS_EXHAUSTED_LOG + rule.name);
    incrementMetric(rule.mCasExhausted, 1);
    return true;
  }

  /**
   * Returns the token rule j took for this request (a later rule rejected it). If another request evicted
   * the value in between, its bucket is gone and there is nothing to give back.
   */
  private refund(rule: LimitRule, j: i32, nowMs: u64): void {
    const ref = unchecked(this.refs[j]);
    const w = unchecked(this.work[j]);
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      this.store.load(rule, <u32>ref.set, w);
      const way = w.find(ref.fp);
      if (way < 0) return;
      const s = this.cur;
      w.read(way, s);
      giveBack(rule.limit, s, nowMs);
      w.write(way, s);
      if (this.store.store(rule, <u32>ref.set, w) != STORE_CONFLICT) return;
    }
    incrementMetric(rule.mCasExhausted, 1);
  }

  private reject(cfg: RateLimitConfig, i: i32, out: Outcome): void {
    const rule = unchecked(cfg.rules[i]);
    incrementMetric(cfg.shadow ? rule.mShadowRejected : rule.mRejected, 1);
    out.rejected = i;
    this.fill(rule, unchecked(this.verdicts[i]), i, out);
  }

  private fill(rule: LimitRule, v: Verdict, i: i32, out: Outcome): void {
    out.report = i;
    out.limit = rule.limit.capacity;
    out.remaining = v.remaining;
    out.resetMs = v.resetMs;
    out.policySeconds = rule.limit.policySeconds;
  }
}
