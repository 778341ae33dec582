// Canary constants: config field names, wire values, defaults. One place, so a typo cannot ship.

/** root_id and the prefix of metrics. */
export const PLUGIN = "canary";

// ---- config fields ----
export const F_TAG_HEADER = "tag_header";
export const F_RULES = "rules";
export const F_MATCH = "match";
export const F_ALL = "all";
export const F_ANY = "any";
export const F_TAG = "tag";
export const F_TYPE = "type";
export const F_KEY = "key";
export const F_OP = "op";
export const F_VALUE = "value";
export const F_WEIGHTS = "weights";
export const F_WEIGHT = "weight";
export const F_STICKY_BY = "sticky_by";
export const F_HEADER = "header";
export const F_COOKIE = "cookie";
export const F_QUERY = "query";
export const F_PIN_COOKIE = "pin_cookie";
export const F_PIN_COOKIE_MAX_AGE = "pin_cookie_max_age";
export const F_PIN_COOKIE_SECURE = "pin_cookie_secure";
export const F_DEFAULT_TAG = "default_tag";
export const F_OVERRIDE_HEADER = "override_header";
export const F_CANARY_TAG = "canary_tag";
export const F_STABLE_TAG = "stable_tag";
export const F_TRUST_CLIENT_TAG = "trust_client_tag";

// ---- defaults ----
export const DEFAULT_TAG_HEADER = "x-canary-version";
/** One day: long enough to keep a session on one version, short enough that a rollback reaches everyone. */
export const DEFAULT_PIN_MAX_AGE: i64 = 86400;
/** Browsers cap Max-Age at 400 days (RFC 6265bis); a larger value would silently shrink. */
export const MAX_PIN_MAX_AGE: i64 = 34560000;
/** Tags and names are bounded so a config typo (a pasted document) fails loudly. */
export const MAX_TOKEN_LENGTH: i32 = 128;

// ---- hashing and weights ----
/** Weights are percentages; buckets give them 0.01-point resolution for the consistent split. */
export const BUCKETS: u32 = 10000;
export const BUCKETS_PER_POINT: u32 = 100;
export const MAX_WEIGHT_TOTAL: i64 = 100;

// ---- override header values (ingress-nginx / Kong canary-by-header) ----
export const OVERRIDE_ALWAYS = "always";
export const OVERRIDE_NEVER = "never";

// ---- request/response names ----
export const SET_COOKIE = "set-cookie";
export const COOKIE_HEADER = "cookie";
export const PATH_HEADER = ":path";
export const METHOD_HEADER = ":method";

// ---- condition types and operators as written in config (index = enum value below) ----
// @ts-ignore: decorator
@lazy export const TYPE_NAMES: string[] = ["header", "cookie", "query", "path", "method"];
// @ts-ignore: decorator
@lazy export const OP_NAMES: string[] = [
  "equal", "not_equal", "prefix", "suffix", "contains", "in", "not_in", "present", "absent", "percentage",
];

export namespace CondType {
  // @ts-ignore: decorator
  @inline export const HEADER: i32 = 0;
  // @ts-ignore: decorator
  @inline export const COOKIE: i32 = 1;
  // @ts-ignore: decorator
  @inline export const QUERY: i32 = 2;
  // @ts-ignore: decorator
  @inline export const PATH: i32 = 3;
  // @ts-ignore: decorator
  @inline export const METHOD: i32 = 4;
}

export namespace Op {
  // @ts-ignore: decorator
  @inline export const EQUAL: i32 = 0;
  // @ts-ignore: decorator
  @inline export const NOT_EQUAL: i32 = 1;
  // @ts-ignore: decorator
  @inline export const PREFIX: i32 = 2;
  // @ts-ignore: decorator
  @inline export const SUFFIX: i32 = 3;
  // @ts-ignore: decorator
  @inline export const CONTAINS: i32 = 4;
  // @ts-ignore: decorator
  @inline export const IN: i32 = 5;
  // @ts-ignore: decorator
  @inline export const NOT_IN: i32 = 6;
  // @ts-ignore: decorator
  @inline export const PRESENT: i32 = 7;
  // @ts-ignore: decorator
  @inline export const ABSENT: i32 = 8;
  // @ts-ignore: decorator
  @inline export const PERCENTAGE: i32 = 9;
}

/** Where a request's tag came from (what the decision applied; CLIENT = kept the client's own tag). */
export namespace Source {
  // @ts-ignore: decorator
  @inline export const NONE: i32 = 0;
  // @ts-ignore: decorator
  @inline export const CLIENT: i32 = 1;
  // @ts-ignore: decorator
  @inline export const OVERRIDE: i32 = 2;
  // @ts-ignore: decorator
  @inline export const RULE: i32 = 3;
  // @ts-ignore: decorator
  @inline export const STICKY: i32 = 4;
  // @ts-ignore: decorator
  @inline export const PIN: i32 = 5;
  /** Weights apply but no sticky value or pin: the caller draws a random number (tagForDraw). */
  // @ts-ignore: decorator
  @inline export const DRAW: i32 = 6;
  // @ts-ignore: decorator
  @inline export const DEFAULT: i32 = 7;
}

// ---- metrics (plugins/README.md "Metrics"): tollgate_canary_decisions_total{canary_tag, reason} ----
export const M_DECISIONS = "canary_decisions_total";
export const L_TAG = "canary_tag";
export const L_REASON = "reason";
/** The reason label of each Source (index = Source value; NONE is never counted). */
// @ts-ignore: decorator
@lazy export const SOURCE_NAMES: string[] = ["none", "client", "override", "rule", "sticky", "pin", "draw", "default"];
/** Slots per tag: one per Source value. */
export const SOURCE_COUNT: i32 = 8;
