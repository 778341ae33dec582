// The canary decision, as pure functions over a request view and (when needed) a random draw.
// Order (first that applies wins):
//   1. trust_client_tag and the client sent tag_header → keep it (CLIENT)
//   2. override_header "always" / "never" → canary_tag / stable_tag (OVERRIDE); other values are ignored
//   3. rules, in order; a rule matches when all / any of its conditions hold (RULE)
//   4. weights: sticky value present → its bucket (STICKY); else a pin cookie naming a weighted tag (PIN);
//      else the caller draws a random u32 and calls tagForDraw (DRAW)
//   5. default_tag (DEFAULT)
import { decimal } from "tollgate/assembly";
import { CanaryConfig, Condition, NO_TAG, Tag, TagRule, weightedTag } from "./config";
import { CondType, Op, OVERRIDE_ALWAYS, OVERRIDE_NEVER, Source } from "./constants";
import { bucketOfDraw, bucketOfKey } from "./hash";

/** What the decision reads from a request; the entry backs it with host calls, tests with plain values. */
export abstract class RequestView {
  /** First value of a header (its lower-case name as UTF-8 bytes, encoded at configure), or null. */
  abstract header(name: ArrayBuffer): string | null;
  /** Value of a cookie from the Cookie header, or null. */
  abstract cookie(name: string): string | null;
  /** Percent-decoded value of a query parameter, or null. */
  abstract query(name: string): string | null;
  /** The path without query and fragment. */
  abstract path(): string;
  abstract method(): string;
}

/** The outcome: the tag to write (NO_TAG = none) and where it came from (Source.*). */
export class Decision {
  tag: Tag = NO_TAG;
  source: i32 = Source.NONE;

  set(tag: Tag, source: i32): Decision {
    this.tag = tag;
    this.source = source;
    return this;
  }
}

/** The value a condition or the sticky key reads, or null when the request lacks it. */
export function valueOf(req: RequestView, type: i32, key: string, keyBytes: ArrayBuffer): string | null {
  if (type == CondType.HEADER) return req.header(keyBytes);
  if (type == CondType.COOKIE) return req.cookie(key);
  if (type == CondType.QUERY) return req.query(key);
  if (type == CondType.PATH) return req.path();
  return req.method();
}

function listed(values: string[], v: string): bool {
  for (let i = 0; i < values.length; i++) {
    if (unchecked(values[i]) == v) return true;
  }
  return false;
}

/**
 * Whether condition `c` holds for value `v` (null = the request lacks the key). A missing key satisfies
 * only `absent` (as Higress traffic-tag: a missing key fails every value operator, negative ones included).
 */
export function conditionHolds(c: Condition, v: string | null): bool {
  if (v === null) return c.op == Op.ABSENT;
  const s = v;
  switch (c.op) {
    case Op.EQUAL: return s == c.value;
    case Op.NOT_EQUAL: return s != c.value;
    case Op.PREFIX: return s.startsWith(c.value);
    case Op.SUFFIX: return s.endsWith(c.value);
    case Op.CONTAINS: return s.includes(c.value);
    case Op.IN: return listed(c.values, s);
    case Op.NOT_IN: return !listed(c.values, s);
    case Op.PRESENT: return true;
    case Op.PERCENTAGE: return bucketOfKey(s) < c.percent;
    default: return false;
  }
}

/** all: every condition holds; any: at least one does. Conditions are read lazily, in order. */
export function ruleMatches(rule: TagRule, req: RequestView): bool {
  const conds = rule.conditions;
  for (let i = 0; i < conds.length; i++) {
    const c = unchecked(conds[i]);
    const holds = conditionHolds(c, valueOf(req, c.type, c.key, c.keyBytes));
    if (rule.all && !holds) return false;
    if (!rule.all && holds) return true;
  }
  return rule.all;
}

/** The weighted tag owning `bucket` (0..9999), or default_tag past the weighted range. */
export function tagForBucket(cfg: CanaryConfig, bucket: u32): Tag {
  const ws = cfg.weights;
  for (let i = 0; i < ws.length; i++) {
    const w = unchecked(ws[i]);
    if (bucket >= w.start && bucket < w.end) return w.tag;
  }
  return cfg.defaultTag;
}

/** The weighted tag for a uniform random u32 (the entry passes randomU32(); tests pass fixed values). */
export function tagForDraw(cfg: CanaryConfig, draw: u32): Tag {
  return tagForBucket(cfg, bucketOfDraw(draw));
}

/** The weighted tag of a sticky value: the same value always gets the same tag for the same weights. */
export function tagForSticky(cfg: CanaryConfig, value: string): Tag {
  return tagForBucket(cfg, bucketOfKey(value));
}

/**
 * Decides everything that needs no randomness. `clientTag` is the request's tag_header value (read only
 * when trust_client_tag; Source.CLIENT = keep it, write nothing). Source.DRAW means: draw, then tagForDraw.
 */
export function decide(cfg: CanaryConfig, req: RequestView, clientTag: string | null, out: Decision): Decision {
  if (cfg.trustClientTag && clientTag !== null) return out.set(NO_TAG, Source.CLIENT);

  if (cfg.overrideHeader.length > 0) {
    const o = req.header(cfg.overrideHeaderBytes);
    if (o !== null) {
      if (o == OVERRIDE_ALWAYS) return out.set(cfg.canaryTag, Source.OVERRIDE);
      if (o == OVERRIDE_NEVER) return out.set(cfg.stableTag, Source.OVERRIDE);
    }
  }

  const rules = cfg.rules;
  for (let i = 0; i < rules.length; i++) {
    const rule = unchecked(rules[i]);
    if (ruleMatches(rule, req)) return out.set(rule.tag, Source.RULE);
  }

  if (cfg.weights.length == 0) return out.set(cfg.defaultTag, Source.DEFAULT);
  if (cfg.stickyKey.length > 0) {
    const v = valueOf(req, cfg.stickyType, cfg.stickyKey, cfg.stickyKeyBytes);
    // An empty id is not an identity: hashing it would send every anonymous client to one tag.
    if (v !== null && v.length > 0) return out.set(tagForSticky(cfg, v), Source.STICKY);
  }
  if (cfg.pinCookie.length > 0) {
    const pinned = req.cookie(cfg.pinCookie);
    if (pinned !== null) {
      const tag = weightedTag(cfg, pinned);
      if (tag !== null) return out.set(tag, Source.PIN);
    }
  }
  return out.set(NO_TAG, Source.DRAW);
}

/** The Set-Cookie value that pins `tag` (a config-validated token, so nothing here comes from the client). */
export function pinCookieHeader(cfg: CanaryConfig, tag: Tag): string {
  let s = cfg.pinCookie + "=" + tag.name + "; Max-Age=" + decimal(<i64>cfg.pinMaxAge) + "; Path=/; HttpOnly; SameSite=Lax";
  if (cfg.pinSecure) s += "; Secure";
  return s;
}
