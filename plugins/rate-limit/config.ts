// Parses and validates one rate-limit config object (the global config or one `_rules_` entry).
// Every error names its field; nothing here runs on the request path.
import { ConfigReader, decimal, decodeBytes, describeJson, StringTable, toLowerAscii } from "tollgate/assembly";
import { FIXED_WINDOW, gcd, hashString, HASH_BASIS, Limit, MAX_WAYS, TOKEN_BUCKET } from "./bucket";
import { DEFAULT_BODY, KEY_PREFIX } from "./constants";
import { encodeGrpcService } from "./rls";

// @ts-ignore: decorator
@inline export const KEY_HEADER: u8 = 0;
// @ts-ignore: decorator
@inline export const KEY_QUERY: u8 = 1;
// @ts-ignore: decorator
@inline export const KEY_COOKIE: u8 = 2;
// @ts-ignore: decorator
@inline export const KEY_CLIENT_IP: u8 = 3;
// @ts-ignore: decorator
@inline export const KEY_PATH: u8 = 4;
// @ts-ignore: decorator
@inline export const KEY_GLOBAL: u8 = 5;

// @ts-ignore: decorator
@inline export const HEADERS_NONE: u8 = 0;
// @ts-ignore: decorator
@inline export const HEADERS_DRAFT03: u8 = 1;
// @ts-ignore: decorator
@inline export const HEADERS_IETF: u8 = 2;

const KEY_KINDS: string[] = ["header", "query", "cookie", "client_ip", "path", "global"];
/** Local periods first; week, month (30 days) and year (365 days) are the rate limit service's units, global rules only. */
const PERIODS: string[] = ["second", "minute", "hour", "day", "week", "month", "year"];
const PERIOD_MS: u64[] = [1000, 60000, 3600000, 86400000, 604800000, 2592000000, 31536000000];
// @ts-ignore: decorator
@inline const LOCAL_PERIODS: i32 = 4;
const SCOPES: string[] = ["local", "global"];
const ALGORITHMS: string[] = ["token_bucket", "fixed_window"];
const HEADER_MODES: string[] = ["none", "draft03", "ietf"];

const TOP_KEYS: string[] = ["rules", "status", "body", "headers", "shadow", "max_keys", "client_ip", "rls"];
const RULE_KEYS: string[] = ["name", "key", "values", "limit", "algorithm", "scope"];
const RLS_KEYS: string[] = ["cluster", "domain", "timeout_ms", "failure_mode_deny"];
const LIMIT_KEYS: string[] = ["requests", "per", "max_tokens", "tokens_per_fill", "fill_interval_ms"];

// @ts-ignore: decorator
@inline const MAX_RULES: i32 = 16;
// @ts-ignore: decorator
@inline const MAX_COUNT: i64 = 1000000000;
/** Scaled time is ms × scale in a u64; this keeps it from overflowing until the year 2100. */
// @ts-ignore: decorator
@inline const MAX_SCALE: u64 = 4000000;
// @ts-ignore: decorator
@inline export const MAX_KEYS_LIMIT: i64 = 100000;

/** Envoy's rate limit service, for the global rules (`rls`). */
export class RlsConfig {
  cluster: string = "";
  domain: string = "";
  timeoutMs: u32 = 100;
  failureModeDeny: bool = false;
  /** The call's upstream: a serialized GrpcService{envoy_grpc{cluster_name}} (a bare name could parse as one). */
  upstream: ArrayBuffer = new ArrayBuffer(0);
}

/** One limit rule: where its key comes from, which values it limits, and the limit. */
export class LimitRule {
  name: string = "";
  /** scope "global": counted by the rate limit service (one descriptor {name, key value}), not in shared data. */
  global: bool = false;
  keyKind: u8 = KEY_GLOBAL;
  /** Header name (lower-case), query parameter or cookie name. */
  keyName: string = "";
  /** Only these values are limited (slot = index); null = every value gets its own slot. */
  values: string[] | null = null;
  /** value → its index in `values` (hashing: configure and each request cost O(1) per value, not O(values)). */
  valueIndex: StringTable | null = null;
  limit: Limit = new Limit();
  /**
   * Sets in the store (one shared-data key each) and slots per set. `values`: one set per value, one way;
   * `global`: one set, one way; otherwise max_keys slots as ceil(max_keys / ways) sets of min(8, max_keys) ways.
   */
  sets: u32 = 1;
  ways: u32 = 1;
  /** Seeds slot hashing so that rules spread the same value differently. */
  seed: u64 = HASH_BASIS;
  /** Shared-data key prefix; includes a hash of everything that gives slots their meaning. */
  keyPrefix: string = "";
  /** UTF-8 of keyPrefix (shared-data keys are built from it per request). */
  keyPrefixBytes: ArrayBuffer = new ArrayBuffer(0);
  /** UTF-8 of keyName, for header keys (read with a pre-encoded name). */
  keyNameBytes: ArrayBuffer = new ArrayBuffer(0);
  // Metric ids, defined at configure (0 = host refused; increments are then no-ops).
  mAllowed: u32 = 0;
  mRejected: u32 = 0;
  mShadowRejected: u32 = 0;
  mCasExhausted: u32 = 0;
  mEvictions: u32 = 0;
}

/** A whole config object. */
export class RateLimitConfig {
  rules: LimitRule[] = [];
  status: u32 = 429;
  body: string = DEFAULT_BODY;
  headers: u8 = HEADERS_DRAFT03;
  shadow: bool = false;
  maxKeys: u32 = 10000;
  xffTrustedHops: i32 = 0;
  needsClientIp: bool = false;
  /** The service for the global rules (this object's `rls`, else the top level's); null without one. */
  rls: RlsConfig | null = null;
  /** Rules with scope "global" (at most MAX_RULES). */
  globalRules: i32 = 0;
}

/**
 * The top level's `rls`, which `_rules_` items without their own inherit (parseRuleSet parses the top level
 * first). Set by parseConfig; call resetInheritedRls() before parsing a new configuration.
 */
let inheritedRls: RlsConfig | null = null;

/** Forgets the previous configuration's top-level `rls`. */
export function resetInheritedRls(): void {
  inheritedRls = null;
}

/** Reads one config object; returns null (error recorded in `r`) when invalid. */
export function parseConfig(r: ConfigReader): RateLimitConfig | null {
  const c = new RateLimitConfig();
  if (!r.allowOnly(TOP_KEYS) || !noNulls(r, TOP_KEYS)) return null;
  c.status = <u32>r.int("status", 429, 400, 599);
  c.body = r.str("body", DEFAULT_BODY);
  const mode = r.oneOf("headers", HEADER_MODES, "draft03");
  c.headers = mode == "none" ? HEADERS_NONE : mode == "ietf" ? HEADERS_IETF : HEADERS_DRAFT03;
  c.shadow = r.bool("shadow", false);
  c.maxKeys = <u32>r.int("max_keys", 10000, 1, MAX_KEYS_LIMIT);
  const ip = r.child("client_ip");
  if (ip !== null) {
    if (!ip.allowOnly(["xff_trusted_hops"]) || !noNulls(ip, null)) return null;
    c.xffTrustedHops = <i32>ip.int("xff_trusted_hops", 0, 0, 16);
  }
  if (!r.ok()) return null;
  const top = r.prefix.length == 0;
  if (r.has("rls")) {
    const rls = parseRls(r);
    if (rls === null) return null;
    c.rls = rls;
  } else if (!top) {
    c.rls = inheritedRls;
  }
  if (top) inheritedRls = c.rls;
  // A top level of only `rls` next to `_rules_` holds the service the items share, and limits nothing itself.
  if (top && c.rls !== null && !r.has("rules") && r.has("_rules_")) return c;
  if (!r.require("rules")) return null;
  const rules = r.children("rules");
  if (!r.ok()) return null;
  if (rules.length == 0) {
    r.fail("rules", "must list at least one rule");
    return null;
  }
  if (rules.length > MAX_RULES) {
    r.fail("rules", "may list at most " + decimal(<i64>MAX_RULES) + " rules, got " + decimal(<i64>rules.length));
    return null;
  }
  for (let i = 0; i < rules.length; i++) {
    // A repeated name is allowed (JSON Schema cannot forbid it) but gets its own slots; metrics add up.
    let twin = 0;
    const name = rules[i].raw("name");
    for (let j = 0; j < c.rules.length; j++) {
      if (name !== null && name.isString() && c.rules[j].name == name.s) twin++;
    }
    const rule = parseRule(rules[i], c, r.prefix + "#" + decimal(<i64>twin));
    if (rule === null) return null;
    if (rule.keyKind == KEY_CLIENT_IP) c.needsClientIp = true;
    if (rule.global) {
      if (c.rls === null) {
        rules[i].fail("scope", "is \"global\" but no 'rls' is configured: add \"rls\": {\"cluster\": \"<envoy cluster>\", \"domain\": \"<rls domain>\"} at the top level" +
          (r.prefix.length > 0 ? " or in this item" : ""));
        return null;
      }
      c.globalRules++;
    }
    c.rules.push(rule);
  }
  return c;
}

/** `rls`: {cluster, domain, timeout_ms (1-60000, default 100), failure_mode_deny (default false)}. */
function parseRls(parent: ConfigReader): RlsConfig | null {
  const r = parent.child("rls");
  if (r === null) return null;
  if (!r.allowOnly(RLS_KEYS) || !noNulls(r, null)) return null;
  const c = new RlsConfig();
  if (!r.require("cluster") || !r.require("domain")) return null;
  c.cluster = r.str("cluster", "");
  c.domain = r.str("domain", "");
  c.timeoutMs = <u32>r.int("timeout_ms", 100, 1, 60000);
  c.failureModeDeny = r.bool("failure_mode_deny", false);
  if (!r.ok()) return null;
  if (c.cluster.length == 0) {
    r.fail("cluster", "must be a non-empty Envoy cluster name (the rate limit service's gRPC cluster)");
    return null;
  }
  if (c.domain.length == 0) {
    r.fail("domain", "must be a non-empty rate limit domain (the `domain` of the service's config)");
    return null;
  }
  c.upstream = encodeGrpcService(c.cluster);
  return c;
}

function parseRule(r: ConfigReader, c: RateLimitConfig, scope: string): LimitRule | null {
  const rule = new LimitRule();
  if (!r.allowOnly(RULE_KEYS) || !noNulls(r, null)) return null;
  if (!r.require("name")) return null;
  rule.name = r.str("name", "");
  if (!r.ok()) return null;
  if (!validName(rule.name)) {
    r.fail("name", "must be 1-64 characters of A-Z a-z 0-9 _ - (it names metrics and response details), got " + describeJson(r.raw("name")));
    return null;
  }
  if (!parseKey(r, rule)) return null;
  rule.global = r.oneOf("scope", SCOPES, "local") == "global";
  if (!r.ok()) return null;

  const values = r.raw("values");
  if (values !== null) {
    const list = r.strList("values", []);
    if (!r.ok()) return null;
    if (list.length == 0) {
      r.fail("values", "must list at least one value (omit it to limit every value)");
      return null;
    }
    if (rule.keyKind == KEY_GLOBAL) {
      r.fail("values", "cannot be used with key 'global' (it has no value)");
      return null;
    }
    const index = new StringTable();
    for (let i = 0; i < list.length; i++) {
      const v = unchecked(list[i]);
      if (index.add(v, i) >= 0) {
        r.fail("values[" + decimal(<i64>i) + "]", "repeats \"" + v + "\"");
        return null;
      }
    }
    rule.values = list;
    rule.valueIndex = index;
    rule.sets = <u32>list.length;
  } else if (rule.keyKind != KEY_GLOBAL) {
    rule.ways = min(<u32>MAX_WAYS, c.maxKeys);
    rule.sets = (c.maxKeys + rule.ways - 1) / rule.ways;
  }

  // The service counts fixed windows: a global rule's algorithm is fixed_window, and token_bucket is refused.
  const algorithm = r.oneOf("algorithm", ALGORITHMS, rule.global ? "fixed_window" : "token_bucket");
  if (!r.ok()) return null;
  if (rule.global && algorithm == "token_bucket") {
    r.fail("algorithm", "cannot be \"token_bucket\" with scope \"global\": the rate limit service counts calendar-aligned fixed windows; remove it or set scope \"local\"");
    return null;
  }
  rule.limit.algorithm = algorithm == "fixed_window" ? FIXED_WINDOW : TOKEN_BUCKET;
  if (!r.require("limit")) return null;
  const lim = r.child("limit");
  if (lim === null) return null;
  if (rule.global && (lim.has("max_tokens") || lim.has("tokens_per_fill") || lim.has("fill_interval_ms"))) {
    lim.fail("", "must be {\"requests\": N, \"per\": \"<unit>\"} with scope \"global\": the rate limit service has no token bucket");
    return null;
  }
  if (!parseLimit(lim, rule.limit, rule.global)) return null;

  // Everything that decides what a slot means goes into its key, so a changed rule starts fresh
  // instead of reinterpreting old state. Old keys stay (0.2.1 cannot delete them); see README.
  let h = hashString(HASH_BASIS, scope);
  h = hashString(h, "|" + rule.name + "|" + KEY_KINDS[rule.keyKind] + "|" + rule.keyName + "|" + algorithm);
  h = hashString(h, "|" + decimal(<i64>rule.limit.capacity) + "|" + decimal(<i64>rule.limit.fillTokens) + "|" +
    decimal(<i64>rule.limit.fillInterval) + "|" + decimal(<i64>rule.limit.scale) + "|" + decimal(<i64>rule.limit.windowMs) +
    "|" + decimal(<i64>rule.sets) + "x" + decimal(<i64>rule.ways) + "|sets");
  if (rule.values !== null) {
    const vs = rule.values!;
    for (let i = 0; i < vs.length; i++) h = hashString(h, "|" + vs[i]);
  }
  rule.seed = hashString(HASH_BASIS, rule.name) ^ h;
  rule.keyPrefix = KEY_PREFIX + rule.name + ":" + hex32(<u32>(h ^ (h >> 32))) + ":";
  rule.keyPrefixBytes = String.UTF8.encode(rule.keyPrefix, false);
  return rule;
}

function parseKey(r: ConfigReader, rule: LimitRule): bool {
  if (!r.require("key")) return false;
  const key = r.child("key");
  if (key === null) return false;
  if (!key.allowOnly(KEY_KINDS) || !noNulls(key, null)) return false;
  let found = -1;
  for (let i = 0; i < KEY_KINDS.length; i++) {
    if (key.has(KEY_KINDS[i])) {
      if (found >= 0) return key.fail(KEY_KINDS[i], "cannot be combined with '" + KEY_KINDS[found] + "'; a rule has one key");
      found = i;
    }
  }
  if (found < 0) return key.fail("", "must have one of " + KEY_KINDS.join(", "));
  rule.keyKind = <u8>found;
  if (found <= <i32>KEY_COOKIE) {
    const name = key.str(KEY_KINDS[found], "");
    if (!key.ok()) return false;
    if (name.length == 0) return key.fail(KEY_KINDS[found], "must be a non-empty name");
    if (found == <i32>KEY_HEADER && !isToken(name)) {
      return key.fail(KEY_KINDS[found], "must be a header name (letters, digits and !#$%&'*+.^_|~-), got " + describeJson(key.raw("header")));
    }
    rule.keyName = found == <i32>KEY_HEADER ? toLowerAscii(name) : name;
    rule.keyNameBytes = String.UTF8.encode(rule.keyName, false);
    return true;
  }
  const opts = key.child(KEY_KINDS[found]);
  if (opts === null) return false;
  return opts.allowOnly([]);
}

function parseLimit(r: ConfigReader, limit: Limit, global: bool): bool {
  if (!r.allowOnly(LIMIT_KEYS) || !noNulls(r, null)) return false;
  const rate = r.has("requests") || r.has("per");
  const bucket = r.has("max_tokens") || r.has("tokens_per_fill") || r.has("fill_interval_ms");
  if (rate && bucket) {
    return r.fail("", "must use either 'requests' + 'per' or 'max_tokens' + 'tokens_per_fill' + 'fill_interval_ms', not both");
  }
  if (!rate && !bucket) return r.fail("", "must have 'requests' + 'per' or 'max_tokens' + 'fill_interval_ms'");
  if (rate) {
    if (!r.require("requests") || !r.require("per")) return false;
    const n = <u64>r.int("requests", 1, 1, MAX_COUNT);
    const per = r.oneOf("per", PERIODS, "second");
    if (!r.ok()) return false;
    const unit = PERIODS.indexOf(per);
    if (unit >= LOCAL_PERIODS && !global) {
      return r.fail("per", "\"" + per + "\" is a unit of the rate limit service: only rules with scope \"global\" take it; local rules count per second, minute, hour or day");
    }
    const p = PERIOD_MS[unit];
    limit.capacity = <u32>n;
    limit.windowMs = p;
    limit.policySeconds = p / 1000;
    setRate(limit, n, p);
    return true;
  }
  if (limit.algorithm == FIXED_WINDOW) {
    return r.fail("", "must use 'requests' + 'per' with algorithm fixed_window (windows are calendar periods)");
  }
  if (!r.require("max_tokens") || !r.require("fill_interval_ms")) return false;
  const max = <u64>r.int("max_tokens", 1, 1, MAX_COUNT);
  const fill = <u64>r.int("tokens_per_fill", 1, 1, MAX_COUNT);
  const interval = <u64>r.int("fill_interval_ms", 1000, 1, 31 * 86400000);
  if (!r.ok()) return false;
  limit.capacity = <u32>max;
  // Envoy 1.40's local_ratelimit bucket: a steady refill of tokens_per_fill per fill_interval, not a
  // lump every interval (AtomicTokenBucketImpl, fill_rate = tokens_per_fill / fill_interval).
  setRate(limit, fill, interval);
  // Time to grant `max_tokens` from empty, in whole seconds (RateLimit-Policy `w` must be ≥ 1).
  // max × interval ≤ 1e9 × 2.7e9 fits a u64.
  const secs = ((max * interval + fill - 1) / fill + 999) / 1000;
  limit.policySeconds = secs == 0 ? 1 : secs;
  return true;
}

/** A steady refill of `n` tokens per `ms` milliseconds: one token every ms/n, exact in scaled time. */
function setRate(limit: Limit, n: u64, ms: u64): void {
  const g = gcd(n, ms);
  limit.fillTokens = 1;
  limit.fillInterval = ms / g;
  limit.scale = n / g;
  if (limit.scale > MAX_SCALE) {
    // Only huge counts with few factors in common with the period get here: round the interval to
    // 1/MAX_SCALE ms rather than overflow the scaled clock (at least one unit: a rate above 4 million
    // tokens per ms refills any bucket within a millisecond anyway).
    limit.scale = MAX_SCALE;
    const interval = (ms * MAX_SCALE + n / 2) / n;
    limit.fillInterval = interval == 0 ? 1 : interval;
  }
}

/** An explicit null is not "absent": the schema rejects it, so does the plugin. `keys` null = every key. */
function noNulls(r: ConfigReader, keys: string[] | null): bool {
  const v = r.value;
  for (let i = 0; i < v.keys.length; i++) {
    if (v.values[i].isNull() && (keys === null || keys.includes(v.keys[i]))) return r.fail(v.keys[i], "must not be null (omit it for the default)");
  }
  return true;
}

function validName(s: string): bool {
  if (s.length == 0 || s.length > 64) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x5f || c == 0x2d;
    if (!ok) return false;
  }
  return true;
}

/** An HTTP header name (RFC 9110 token; the backtick is left out to keep docs readable). */
function isToken(s: string): bool {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const alnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    if (!alnum && "!#$%&'*+.^_|~-".indexOf(String.fromCharCode(c)) < 0) return false;
  }
  return true;
}

/** `v` as 8 lower-case hex digits (without toString(16), which links a radix printer and its tables). */
function hex32(v: u32): string {
  const digits = memory.data(8);
  for (let i = 0; i < 8; i++) {
    const d = (v >> (28 - (i << 2))) & 0xf;
    store<u8>(digits + <usize>i, <u8>(d < 10 ? 0x30 + d : 0x57 + d));
  }
  return decodeBytes(digits, 8);
}
