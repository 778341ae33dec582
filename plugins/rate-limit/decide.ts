// The rate-limit decision, pure over its inputs: the request's key values (read through a RequestView),
// `now`, the bucket state behind a BucketStore, and a LimiterEvents sink for what operators count. Every
// applicable rule must allow, and a rejected request consumes nothing. stream.ts backs the view, the store
// and the events with host calls; the table tests beside this file back them with plain values.
import { cookieValue, pathWithoutQuery, queryParam } from "tollgate/assembly";
import { advance, giveBack, hashString, Limit, placeIn, SlotSet, SlotState, take, Verdict } from "./bucket";
import {
  KEY_CLIENT_IP, KEY_COOKIE, KEY_GLOBAL, KEY_HEADER, KEY_PATH, KEY_QUERY, LimitRule, RateLimitConfig,
} from "./config";
import { CODE_OVER_LIMIT, Descriptor, RlsResponse, RlsStatus } from "./rls";
import { BucketStore, STORE_CONFLICT, STORE_OK } from "./store";

/** What the decision reads from a request; request.ts backs it with host calls, tests with plain values. */
export abstract class RequestView {
  /** First value of a header (its lower-case name as UTF-8 bytes, encoded at configure), or null. */
  abstract header(name: ArrayBuffer): string | null;
  /** `:path` with its query, or null. */
  abstract fullPath(): string | null;
  /** Every Cookie header joined with "; " (a client cannot hide a cookie in a second header), or null. */
  abstract cookies(): string | null;
  /** The socket peer (`source.address`), or null. */
  abstract sourceAddress(): string | null;
  /** X-Forwarded-For, or null. */
  abstract forwardedFor(): string | null;
}

/** Where the decision reports what operators count (stream.ts: metrics and logs). */
export abstract class LimiterEvents {
  /** The request passed `rule`; `evicted`: placing its value took over another value's slot. */
  abstract allowed(rule: LimitRule, evicted: bool): void;
  /** `rule` rejected the request (`shadow`: it only would have). */
  abstract rejected(rule: LimitRule, shadow: bool): void;
  /** The store failed for `rule`; the request passed (fail open). */
  abstract storeError(rule: LimitRule): void;
  /** Writes for `rule` kept conflicting; the request passed (fail open). `refund`: while giving a token back. */
  abstract casExhausted(rule: LimitRule, refund: bool): void;
}

/** An address without its port and IPv6 brackets: `10.0.0.1:5000` → `10.0.0.1`, `[::1]:80` → `::1`. */
export function stripPort(addr: string): string {
  const a = addr.trim();
  if (a.startsWith("[")) {
    const close = a.indexOf("]");
    return close > 0 ? a.substring(1, close) : a;
  }
  const colon = a.indexOf(":");
  // More than one colon: a bare IPv6 address, no port.
  if (colon < 0 || a.indexOf(":", colon + 1) >= 0) return a;
  return a.substring(0, colon);
}

/**
 * The client address: with `hops` = 0 the socket peer; otherwise the `hops`-th entry from the right of
 * X-Forwarded-For (the entry the last trusted proxy appended). With fewer entries than that, or an empty
 * entry, the header cannot be trusted and the socket peer is used. Returns null when neither exists.
 */
export function clientIp(sourceAddress: string | null, xff: string | null, hops: i32): string | null {
  if (hops > 0 && xff !== null) {
    let end = xff.length;
    let seen = 0;
    while (end >= 0) {
      const comma = end > 0 ? xff.lastIndexOf(",", end - 1) : -1;
      seen++;
      if (seen == hops) {
        const entry = stripPort(xff.substring(comma + 1, end));
        if (entry.length > 0) return entry;
        break;
      }
      if (comma < 0) break;
      end = comma;
    }
  }
  if (sourceAddress === null || sourceAddress.length == 0) return null;
  return stripPort(sourceAddress);
}

/** Rule `rule`'s key value on this request, or null: the rule does not apply (no key, or an empty one). */
export function keyValue(cfg: RateLimitConfig, rule: LimitRule, req: RequestView): string | null {
  let v: string | null = null;
  switch (rule.keyKind) {
    case KEY_GLOBAL: return "";
    case KEY_HEADER: {
      v = req.header(rule.keyNameBytes);
      break;
    }
    case KEY_QUERY: {
      const path = req.fullPath();
      if (path !== null) v = queryParam(path, rule.keyName);
      break;
    }
    case KEY_COOKIE: {
      const cookies = req.cookies();
      if (cookies !== null) v = cookieValue(cookies, rule.keyName);
      break;
    }
    case KEY_CLIENT_IP: {
      v = clientIp(req.sourceAddress(), cfg.xffTrustedHops > 0 ? req.forwardedFor() : null, cfg.xffTrustedHops);
      break;
    }
    case KEY_PATH: {
      const path = req.fullPath();
      if (path !== null) v = pathWithoutQuery(path);
      break;
    }
  }
  // An empty value is as good as none: it identifies no client.
  return v !== null && v.length == 0 ? null : v;
}

/** Fills `out[i]` with rule i's key value (null = the rule does not apply to this request). */
export function keyValues(cfg: RateLimitConfig, req: RequestView, out: Array<string | null>): void {
  const rules = cfg.rules;
  for (let i = 0; i < rules.length && i < out.length; i++) unchecked(out[i] = keyValue(cfg, unchecked(rules[i]), req));
}

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

  constructor(private store: BucketStore, private events: LimiterEvents, maxRules: i32) {
    for (let i = 0; i < maxRules; i++) {
      this.work.push(new SlotSet());
      this.verdicts.push(new Verdict());
      this.refs.push(new SlotRef());
    }
  }

  /**
   * Decides one request on the local rules (global ones are the service's). `values[i]` is rule i's key
   * value (null = absent: the rule does not apply). Reads every applicable slot first and writes only when
   * all allow; a write that loses a race is re-decided on fresh state, and tokens already taken are given
   * back if the re-decision rejects. `commit` false: decide only, consume nothing and count nothing but a
   * rejection (the request still waits for the service; it is committed once the service allows it).
   */
  check(cfg: RateLimitConfig, values: Array<string | null>, nowMs: u64, out: Outcome, commit: bool = true): void {
    out.reset();
    const rules = cfg.rules;
    const n = min(rules.length, this.refs.length);
    for (let i = 0; i < n; i++) {
      const ref = unchecked(this.refs[i]);
      ref.set = -1;
      const v = unchecked(values[i]);
      if (v === null || unchecked(rules[i]).global) continue;
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
    if (!commit) {
      for (let i = 0; i < n; i++) {
        const v = unchecked(this.verdicts[i]);
        if (unchecked(this.refs[i]).set >= 0 && (out.report < 0 || v.remaining < out.remaining)) this.fill(unchecked(rules[i]), v, i, out);
      }
      return;
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
      this.events.allowed(rule, v.evicted > 0);
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
        this.events.storeError(rule);
        return true;
      }
      this.store.load(rule, <u32>ref.set, w);
      this.decide(rule.limit, w, ref, nowMs, unchecked(this.verdicts[i]));
      if (!unchecked(this.verdicts[i]).allowed) return false;
    }
    // Still conflicting: the store is too contended to decide; fail open, as documented.
    if (this.store.store(rule, <u32>ref.set, w) == STORE_OK) return true;
    this.events.casExhausted(rule, false);
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
    this.events.casExhausted(rule, true);
  }

  private reject(cfg: RateLimitConfig, i: i32, out: Outcome): void {
    const rule = unchecked(cfg.rules[i]);
    this.events.rejected(rule, cfg.shadow);
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

// ------------------------------------------------------------------------------ global rules (the service)

/** At most one descriptor per rule (a config has at most 16 rules). */
// @ts-ignore: decorator
@inline export const MAX_DESCRIPTORS: i32 = 16;

/** One ShouldRateLimit call's descriptors: the global rules that apply to the request, in order. */
export class GlobalCall {
  /** Descriptor k stands for cfg.rules[ruleOf[k]]; `count` descriptors are in use. */
  ruleOf: StaticArray<i32> = new StaticArray<i32>(MAX_DESCRIPTORS);
  count: i32 = 0;
}

/**
 * The global rules among `cfg.rules` that apply to this request (key value present), one descriptor each
 * into `out` (one entry: {key: rule name, value: the key value, or "_" for a `global` key}), and which
 * rule each descriptor stands for into `call`.
 */
export function globalDescriptors(cfg: RateLimitConfig, values: Array<string | null>, call: GlobalCall, out: Descriptor[]): void {
  call.count = 0;
  const rules = cfg.rules;
  for (let i = 0; i < rules.length && i < values.length; i++) {
    const rule = unchecked(rules[i]);
    const v = unchecked(values[i]);
    if (!rule.global || v === null || call.count >= min(out.length, MAX_DESCRIPTORS)) continue;
    const listed = rule.valueIndex;
    if (listed !== null && listed.get(v) < 0) continue;
    const k = call.count++;
    unchecked(call.ruleOf[k] = i);
    // The root's descriptors each hold one entry (stream.ts).
    const d = unchecked(out[k]);
    unchecked(d.keys[0] = rule.name);
    unchecked(d.values[0] = rule.keyKind == KEY_GLOBAL ? GLOBAL_VALUE : v);
  }
}

/** The descriptor value of a `global: {}` key (the service config `tollgate gen ratelimit-config` writes matches it). */
export const GLOBAL_VALUE = "_";

/** Seconds of RateLimitResponse.RateLimit.Unit (0 unknown: the rule's own period is used). */
export function unitSeconds(unit: u32): u64 {
  switch (unit) {
    case 1: return 1;
    case 2: return 60;
    case 3: return 3600;
    case 4: return 86400;
    case 5: return 2592000;
    case 6: return 31536000;
    case 7: return 604800;
  }
  return 0;
}

/**
 * Applies the service's answer to `out`, the local outcome of the same request (report = tightest local
 * rule, or -1). OVER_LIMIT: the rejecting rule is the first descriptor the service marks OVER_LIMIT (the
 * first one when none is marked); its numbers come from the status. Otherwise the request passes the global
 * rules, and the report moves to a global rule when one has less quota left than the local report.
 * Returns true when the service rejected the request. Anything but OVER_LIMIT counts as OK, as Envoy's
 * ratelimit filter reads overall_code.
 */
export function applyGlobal(cfg: RateLimitConfig, call: GlobalCall, resp: RlsResponse, out: Outcome): bool {
  const over = resp.overallCode == CODE_OVER_LIMIT;
  const n = min(call.count, resp.statusCount);
  if (over) {
    let k = 0;
    for (let j = 0; j < n; j++) {
      if (unchecked(resp.statuses[j]).code == CODE_OVER_LIMIT) {
        k = j;
        break;
      }
    }
    const i = unchecked(call.ruleOf[k]);
    out.rejected = i;
    out.report = -1;
    fillGlobal(unchecked(cfg.rules[i]), i, k < n ? unchecked(resp.statuses[k]) : null, out);
    return true;
  }
  for (let j = 0; j < n; j++) {
    const st = unchecked(resp.statuses[j]);
    if (!st.hasLimit) continue;
    if (out.report < 0 || st.limitRemaining < out.remaining) {
      const i = unchecked(call.ruleOf[j]);
      fillGlobal(unchecked(cfg.rules[i]), i, st, out);
    }
  }
  return false;
}

function fillGlobal(rule: LimitRule, i: i32, st: RlsStatus | null, out: Outcome): void {
  out.report = i;
  out.limit = rule.limit.capacity;
  out.remaining = 0;
  out.resetMs = 0;
  out.policySeconds = rule.limit.policySeconds;
  if (st === null) return;
  if (st.hasLimit) {
    out.limit = st.requestsPerUnit;
    const secs = unitSeconds(st.unit);
    if (secs > 0) out.policySeconds = secs;
  }
  out.remaining = st.limitRemaining;
  out.resetMs = st.resetMs;
}
