// Canary config: parsed and validated once in on_configure; host-free. Every rejection names the field.
import { ConfigReader, decimal, encode, StringTable, toLowerAscii, writableHeaderProblem } from "tollgate/assembly";
import {
  BUCKETS, BUCKETS_PER_POINT, CondType, DEFAULT_PIN_MAX_AGE, DEFAULT_TAG_HEADER, F_ALL, F_ANY, F_CANARY_TAG, F_COOKIE,
  F_DEFAULT_TAG, F_HEADER, F_KEY, F_MATCH, F_OP, F_OVERRIDE_HEADER, F_PIN_COOKIE, F_PIN_COOKIE_MAX_AGE,
  F_PIN_COOKIE_SECURE, F_QUERY, F_RULES, F_STABLE_TAG, F_STICKY_BY, F_TAG, F_TAG_HEADER, F_TRUST_CLIENT_TAG,
  F_TYPE, F_VALUE, F_WEIGHT, F_WEIGHTS, MAX_PIN_MAX_AGE, MAX_TOKEN_LENGTH, MAX_WEIGHT_TOTAL, Op, OP_NAMES,
  TYPE_NAMES,
} from "./constants";

const EMPTY_BYTES = new ArrayBuffer(0);

/** A name or tag as the UTF-8 bytes host calls take: encoded once here, reused by every request. */
export function encodeName(name: string): ArrayBuffer {
  return encode(name);
}

/** The plugin's own fields (global config and each `_rules_` item). */
// @ts-ignore: decorator
@lazy export const CONFIG_KEYS: string[] = [
  F_TAG_HEADER, F_RULES, F_WEIGHTS, F_STICKY_BY, F_PIN_COOKIE, F_PIN_COOKIE_MAX_AGE, F_PIN_COOKIE_SECURE,
  F_DEFAULT_TAG, F_OVERRIDE_HEADER, F_CANARY_TAG, F_STABLE_TAG, F_TRUST_CLIENT_TAG,
];

/** One condition of a rule: where the value comes from, the operator, and its operand. */
export class Condition {
  type: i32 = CondType.HEADER;
  /** Header name (lower-cased), cookie name or query parameter; "" for path and method. */
  key: string = "";
  /** UTF-8 of `key`, encoded once for the host calls. */
  keyBytes: ArrayBuffer = EMPTY_BYTES;
  op: i32 = Op.EQUAL;
  value: string = "";
  values: string[] = [];
  /** percentage: values whose bucket is below percent * 100 match. */
  percent: u32 = 0;
}

/** A configured tag and its UTF-8 bytes (written into tag_header without re-encoding per request). */
export class Tag {
  readonly bytes: ArrayBuffer;
  /** Its decision counters, one id per Source (0 = not defined); defined at configure by stream.ts. */
  metricIds: StaticArray<u32> | null = null;
  constructor(public readonly name: string) {
    this.bytes = encodeName(name);
  }
}

/** The empty tag: write no tag header. */
export const NO_TAG = new Tag("");

/** `{ match: { all | any: [...] }, tag }`. */
export class TagRule {
  all: bool = true;
  conditions: Condition[] = [];
  tag: Tag = NO_TAG;
}

/** A tag and its bucket range [start, end) in 0..9999, assigned in list order. */
export class WeightedTag {
  constructor(public tag: Tag, public weight: u32, public start: u32, public end: u32) {}
}

/** Where the sticky value is read from. */
export namespace StickyFrom {
  // @ts-ignore: decorator
  @inline export const NONE: i32 = -1;
}

export class CanaryConfig {
  tagHeader: string = DEFAULT_TAG_HEADER;
  /** UTF-8 of tagHeader / overrideHeader / stickyKey, encoded once for the host calls. */
  tagHeaderBytes: ArrayBuffer = EMPTY_BYTES;
  overrideHeaderBytes: ArrayBuffer = EMPTY_BYTES;
  stickyKeyBytes: ArrayBuffer = EMPTY_BYTES;
  rules: TagRule[] = [];
  weights: WeightedTag[] = [];
  /** Sum of the weights in buckets; buckets at or above it get default_tag. */
  weightedBuckets: u32 = 0;
  /** CondType.HEADER / COOKIE / QUERY, or StickyFrom.NONE. */
  stickyType: i32 = StickyFrom.NONE;
  stickyKey: string = "";
  pinCookie: string = "";
  pinMaxAge: i64 = DEFAULT_PIN_MAX_AGE;
  pinSecure: bool = false;
  defaultTag: Tag = NO_TAG;
  overrideHeader: string = "";
  canaryTag: Tag = NO_TAG;
  stableTag: Tag = NO_TAG;
  trustClientTag: bool = false;
}

/** RFC 7230 tchar: safe unquoted in a header value and in a cookie value. */
function isTchar(c: i32): bool {
  if (c >= 0x30 && c <= 0x39) return true; // 0-9
  if (c >= 0x41 && c <= 0x5a) return true; // A-Z
  if (c >= 0x61 && c <= 0x7a) return true; // a-z
  // ! # $ % & ' * + - . ^ _ ` | ~
  return c == 0x21 || (c >= 0x23 && c <= 0x27) || c == 0x2a || c == 0x2b || c == 0x2d || c == 0x2e ||
    c == 0x5e || c == 0x5f || c == 0x60 || c == 0x7c || c == 0x7e;
}

/** True when `s` is a non-empty HTTP token of bounded length. */
export function isToken(s: string): bool {
  if (s.length == 0 || s.length > MAX_TOKEN_LENGTH) return false;
  for (let i = 0; i < s.length; i++) {
    if (!isTchar(s.charCodeAt(i))) return false;
  }
  return true;
}

/** sticky_by and pin_cookie act on the weighted split only. */
const E_NEEDS_WEIGHTS = "needs 'weights' (it applies to the weighted split only)";

function quote(s: string): string {
  return "\"" + s + "\"";
}

/** A tag: empty allowed only where `allowEmpty` (empty = send no tag header). */
function readTag(r: ConfigReader, key: string, def: string, allowEmpty: bool): string {
  const tag = r.str(key, def);
  if (!r.ok()) return def;
  if (tag.length == 0 && allowEmpty) return tag;
  if (!isToken(tag)) {
    r.fail(key, "must be a tag made of letters, digits and !#$%&'*+-.^_`|~ (at most 128), got " + quote(tag));
  }
  return tag;
}

/** A header name, lower-cased (Envoy header maps are lower-case). */
function readHeaderName(r: ConfigReader, key: string, def: string, required: bool): string {
  if (!r.has(key) && !required) return def;
  const name = r.str(key, def);
  if (!r.ok()) return def;
  if (!isToken(name)) {
    r.fail(key, "must be an HTTP header name (letters, digits, '-', ...), got " + quote(name));
    return def;
  }
  return toLowerAscii(name);
}

function readCookieName(r: ConfigReader, key: string): string {
  const name = r.str(key, "");
  if (r.ok() && !isToken(name)) r.fail(key, "must be a cookie name (an HTTP token), got " + quote(name));
  return name;
}

function readQueryName(r: ConfigReader, key: string): string {
  const name = r.str(key, "");
  if (r.ok() && name.length == 0) r.fail(key, "must be a non-empty query parameter name");
  return name;
}

function parseCondition(r: ConfigReader): Condition | null {
  const c = new Condition();
  if (!r.allowOnly([F_TYPE, F_KEY, F_OP, F_VALUE])) return null;
  if (!r.has(F_TYPE)) {
    r.fail(F_TYPE, "is required (one of " + TYPE_NAMES.join(", ") + ")");
    return null;
  }
  if (!r.has(F_OP)) {
    r.fail(F_OP, "is required (one of " + OP_NAMES.join(", ") + ")");
    return null;
  }
  const typeName = r.oneOf(F_TYPE, TYPE_NAMES, "");
  const opName = r.oneOf(F_OP, OP_NAMES, "");
  if (!r.ok()) return null;
  c.type = TYPE_NAMES.indexOf(typeName);
  c.op = OP_NAMES.indexOf(opName);

  const keyed = c.type == CondType.HEADER || c.type == CondType.COOKIE || c.type == CondType.QUERY;
  if (keyed) {
    if (!r.has(F_KEY)) {
      r.fail(F_KEY, "is required for type " + quote(typeName));
      return null;
    }
    if (c.type == CondType.HEADER) c.key = readHeaderName(r, F_KEY, "", true);
    else if (c.type == CondType.COOKIE) c.key = readCookieName(r, F_KEY);
    else c.key = readQueryName(r, F_KEY);
    if (!r.ok()) return null;
    c.keyBytes = encodeName(c.key);
  } else if (r.has(F_KEY)) {
    r.fail(F_KEY, "is not used with type " + quote(typeName) + "; remove it");
    return null;
  }

  if (c.op == Op.PRESENT || c.op == Op.ABSENT) {
    if (r.has(F_VALUE)) {
      r.fail(F_VALUE, "is not used with op " + quote(opName) + "; remove it");
      return null;
    }
    if (!keyed) {
      r.fail(F_OP, "must be a value operator for type " + quote(typeName) + ", got " + quote(opName));
      return null;
    }
    return c;
  }
  if (!r.has(F_VALUE)) {
    r.fail(F_VALUE, "is required for op " + quote(opName));
    return null;
  }
  if (c.op == Op.IN || c.op == Op.NOT_IN) {
    c.values = r.strList(F_VALUE, []);
    if (r.ok() && c.values.length == 0) r.fail(F_VALUE, "must list at least one value for op " + quote(opName));
  } else if (c.op == Op.PERCENTAGE) {
    c.percent = <u32>r.int(F_VALUE, 0, 0, 100) * BUCKETS_PER_POINT;
  } else {
    c.value = r.str(F_VALUE, "");
  }
  return r.ok() ? c : null;
}

function parseRule(r: ConfigReader): TagRule | null {
  const rule = new TagRule();
  if (!r.allowOnly([F_MATCH, F_TAG])) return null;
  if (!r.has(F_MATCH)) {
    r.fail(F_MATCH, "is required: { \"all\": [conditions] } or { \"any\": [conditions] }");
    return null;
  }
  const m = r.child(F_MATCH);
  if (m === null || !m.allowOnly([F_ALL, F_ANY])) return null;
  const hasAll = m.has(F_ALL);
  if (hasAll == m.has(F_ANY)) {
    r.fail(F_MATCH, "must have exactly one of \"all\" or \"any\"");
    return null;
  }
  rule.all = hasAll;
  const group = hasAll ? F_ALL : F_ANY;
  const items = m.children(group);
  if (!m.ok()) return null;
  if (items.length == 0) {
    m.fail(group, "must list at least one condition");
    return null;
  }
  for (let i = 0; i < items.length; i++) {
    const c = parseCondition(items[i]);
    if (c === null) return null;
    rule.conditions.push(c);
  }
  if (!r.has(F_TAG)) {
    r.fail(F_TAG, "is required: the tag this rule sets (\"\" = no tag)");
    return null;
  }
  rule.tag = new Tag(readTag(r, F_TAG, "", true));
  return r.ok() ? rule : null;
}

function parseWeights(r: ConfigReader, cfg: CanaryConfig): void {
  const items = r.children(F_WEIGHTS);
  if (r.ok() && r.has(F_WEIGHTS) && items.length == 0) {
    r.fail(F_WEIGHTS, "must list at least one { \"tag\", \"weight\" }");
    return;
  }
  let start: u32 = 0;
  let total: i64 = 0;
  // Tags seen so far: a hashed duplicate check keeps configure linear in the number of weights.
  const seen = new StringTable();
  for (let i = 0; i < items.length && r.ok(); i++) {
    const w = items[i];
    if (!w.allowOnly([F_TAG, F_WEIGHT])) return;
    if (!w.has(F_TAG)) {
      w.fail(F_TAG, "is required");
      return;
    }
    if (!w.has(F_WEIGHT)) {
      w.fail(F_WEIGHT, "is required (an integer between 0 and 100)");
      return;
    }
    const tag = readTag(w, F_TAG, "", false);
    const weight = w.int(F_WEIGHT, 0, 0, MAX_WEIGHT_TOTAL);
    if (!w.ok()) return;
    if (seen.add(tag, i) >= 0) {
      w.fail(F_TAG, "repeats tag " + quote(tag) + "; list each tag once");
      return;
    }
    total += weight;
    const end = start + <u32>weight * BUCKETS_PER_POINT;
    cfg.weights.push(new WeightedTag(new Tag(tag), <u32>weight, start, end));
    start = end;
  }
  if (!r.ok()) return;
  if (total > MAX_WEIGHT_TOTAL) {
    r.fail(F_WEIGHTS, "must sum to at most 100, got " + decimal(<i64>total));
    return;
  }
  cfg.weightedBuckets = start;
}

function parseSticky(r: ConfigReader, cfg: CanaryConfig): void {
  if (!r.has(F_STICKY_BY)) return;
  const s = r.child(F_STICKY_BY);
  if (s === null || !s.allowOnly([F_HEADER, F_COOKIE, F_QUERY])) return;
  const count = (s.has(F_HEADER) ? 1 : 0) + (s.has(F_COOKIE) ? 1 : 0) + (s.has(F_QUERY) ? 1 : 0);
  if (count != 1) {
    r.fail(F_STICKY_BY, "must have exactly one of \"header\", \"cookie\" or \"query\"");
    return;
  }
  if (s.has(F_HEADER)) {
    cfg.stickyType = CondType.HEADER;
    cfg.stickyKey = readHeaderName(s, F_HEADER, "", true);
  } else if (s.has(F_COOKIE)) {
    cfg.stickyType = CondType.COOKIE;
    cfg.stickyKey = readCookieName(s, F_COOKIE);
  } else {
    cfg.stickyType = CondType.QUERY;
    cfg.stickyKey = readQueryName(s, F_QUERY);
  }
}

/** The configured tag named `name` if the weights can produce it, else null (a pin naming anything else is ignored). */
export function weightedTag(cfg: CanaryConfig, name: string): Tag | null {
  if (name.length == 0) return null;
  if (cfg.weightedBuckets < BUCKETS && name == cfg.defaultTag.name) return cfg.defaultTag;
  for (let i = 0; i < cfg.weights.length; i++) {
    const w = unchecked(cfg.weights[i]);
    if (w.weight > 0 && w.tag.name == name) return w.tag;
  }
  return null;
}

/** Parses one config object (the global config or one `_rules_` item). Null = rejected; `r.error` says why. */
export function parseCanaryConfig(r: ConfigReader): CanaryConfig | null {
  const cfg = new CanaryConfig();
  if (!r.allowOnly(CONFIG_KEYS)) return null;
  cfg.tagHeader = readHeaderName(r, F_TAG_HEADER, DEFAULT_TAG_HEADER, true);
  if (r.ok()) {
    // The tag header is written on every request: never a framing, hop-by-hop, routing or other plugin's header.
    const problem = writableHeaderProblem(cfg.tagHeader, "canary");
    if (problem.length > 0) r.fail(F_TAG_HEADER, problem);
  }
  cfg.defaultTag = new Tag(readTag(r, F_DEFAULT_TAG, "", true));
  cfg.trustClientTag = r.bool(F_TRUST_CLIENT_TAG, false);
  if (!r.ok()) return null;

  const rules = r.children(F_RULES);
  for (let i = 0; i < rules.length && r.ok(); i++) {
    const rule = parseRule(rules[i]);
    if (rule !== null) cfg.rules.push(rule);
  }
  if (!r.ok()) return null;
  parseWeights(r, cfg);
  if (!r.ok()) return null;
  parseSticky(r, cfg);
  if (!r.ok()) return null;
  if (cfg.stickyType != StickyFrom.NONE && cfg.weights.length == 0) {
    r.fail(F_STICKY_BY, E_NEEDS_WEIGHTS);
    return null;
  }

  cfg.overrideHeader = readHeaderName(r, F_OVERRIDE_HEADER, "", false);
  cfg.canaryTag = new Tag(readTag(r, F_CANARY_TAG, "", true));
  cfg.stableTag = r.has(F_STABLE_TAG) ? new Tag(readTag(r, F_STABLE_TAG, "", true)) : cfg.defaultTag;
  if (!r.ok()) return null;
  if (cfg.overrideHeader.length > 0 && cfg.canaryTag.name.length == 0) {
    r.fail(F_CANARY_TAG, "is required when 'override_header' is set");
    return null;
  }
  if (cfg.overrideHeader.length > 0 && cfg.overrideHeader == cfg.tagHeader) {
    r.fail(F_OVERRIDE_HEADER, "must differ from 'tag_header', got " + quote(cfg.overrideHeader));
    return null;
  }

  if (r.has(F_PIN_COOKIE)) {
    cfg.pinCookie = readCookieName(r, F_PIN_COOKIE);
    cfg.pinMaxAge = r.int(F_PIN_COOKIE_MAX_AGE, DEFAULT_PIN_MAX_AGE, 1, MAX_PIN_MAX_AGE);
    cfg.pinSecure = r.bool(F_PIN_COOKIE_SECURE, false);
    if (!r.ok()) return null;
    if (cfg.weights.length == 0) {
      r.fail(F_PIN_COOKIE, E_NEEDS_WEIGHTS);
      return null;
    }
    if (cfg.weightedBuckets < BUCKETS && cfg.defaultTag.name.length == 0) {
      r.fail(F_PIN_COOKIE, "needs a non-empty 'default_tag' when 'weights' sum to less than 100");
      return null;
    }
  } else if (r.has(F_PIN_COOKIE_MAX_AGE) || r.has(F_PIN_COOKIE_SECURE)) {
    r.fail(r.has(F_PIN_COOKIE_MAX_AGE) ? F_PIN_COOKIE_MAX_AGE : F_PIN_COOKIE_SECURE, "has no effect without 'pin_cookie'");
    return null;
  }
  if (!r.ok()) return null;
  cfg.tagHeaderBytes = encodeName(cfg.tagHeader);
  cfg.overrideHeaderBytes = encodeName(cfg.overrideHeader);
  cfg.stickyKeyBytes = encodeName(cfg.stickyKey);
  return cfg;
}
