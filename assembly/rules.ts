// Higress-style per-route / per-domain / per-service config (`_rules_`). The global config is every key
// except `_rules_`; each rule object carries exactly one matcher plus its own full plugin config.
// Per request: the first matching rule wins, else the global config, else null (the plugin does nothing).
import { decimal } from "./number";
import { ConfigReader } from "./config";
import { LogLevel, MapType } from "./abi";
import { ErrorSink } from "./errors";
import { encode, getHeaderCachedEnc } from "./header-map";
import { getProperty } from "./host";
import { hostWithoutPort, toLowerAscii } from "./http";
import { describeJson } from "./json";
import { log } from "./log";

// @ts-ignore: decorator
@lazy const K_AUTHORITY = encode(":authority");

export const MATCH_ROUTE = "_match_route_";
export const MATCH_ROUTE_PREFIX = "_match_route_prefix_";
export const MATCH_DOMAIN = "_match_domain_";
export const MATCH_SERVICE = "_match_service_";
export const RULES = "_rules_";

const MATCH_KEYS: string[] = [MATCH_ROUTE, MATCH_ROUTE_PREFIX, MATCH_DOMAIN, MATCH_SERVICE];

// @ts-ignore: decorator
@inline const BY_ROUTE: u8 = 0;
// @ts-ignore: decorator
@inline const BY_ROUTE_PREFIX: u8 = 1;
// @ts-ignore: decorator
@inline const BY_DOMAIN: u8 = 2;
// @ts-ignore: decorator
@inline const BY_SERVICE: u8 = 3;

/** One `_rules_` entry: a matcher and the config it selects. */
export class Rule<T> {
  constructor(public by: u8, public patterns: string[], public config: T) {}

  matches(route: string, host: string, cluster: string): bool {
    for (let i = 0; i < this.patterns.length; i++) {
      const p = this.patterns[i];
      if (this.by == BY_ROUTE && route == p) return true;
      if (this.by == BY_ROUTE_PREFIX && route.startsWith(p)) return true;
      if (this.by == BY_DOMAIN && domainMatches(p, host)) return true;
      if (this.by == BY_SERVICE && serviceMatches(p, cluster)) return true;
    }
    return false;
  }
}

export class RuleSet<T> {
  rules: Rule<T>[] = [];
  global: T | null = null;
  needsHost: bool = false;
  needsRoute: bool = false;
  needsCluster: bool = false;

  /** The config for this request: reads :authority / route_name / cluster_name only if some rule needs them. */
  select(): T | null {
    if (this.rules.length == 0) return this.global;
    let host = "";
    let route = "";
    let cluster = "";
    if (this.needsHost) {
      const a = getHeaderCachedEnc(MapType.REQUEST_HEADERS, K_AUTHORITY);
      if (a !== null) host = normalizeHost(a);
    }
    // Envoy 1.33+ serves xds.route_name / xds.cluster_name; older Envoy and Higress the bare names.
    if (this.needsRoute) {
      let r = getProperty("xds.route_name");
      if (r === null || r.length == 0) r = getProperty("route_name");
      if (r !== null) route = r;
    }
    if (this.needsCluster) {
      let c = getProperty("xds.cluster_name");
      if (c === null || c.length == 0) c = getProperty("cluster_name");
      if (c !== null) cluster = c;
    }
    return this.selectFor(route, host, cluster);
  }

  /** Pure selection, for tests: `host` as normalizeHost() returns it. */
  selectFor(route: string, host: string, cluster: string): T | null {
    for (let i = 0; i < this.rules.length; i++) {
      const r = this.rules[i];
      if (r.matches(route, host, cluster)) return r.config;
    }
    return this.global;
  }
}

/**
 * Parses a whole plugin configuration. `parseOne` reads one config object (global or a rule's) from a
 * reader whose `ignored` already lists the matcher keys; it returns null or records an error to reject.
 * Returns null when the config is invalid, after logging the one error line at critical (also recorded in
 * `errors` when given).
 */
export function parseRuleSet<T>(text: string, parseOne: (r: ConfigReader) => T | null, errors: ErrorSink | null = null): RuleSet<T> | null {
  const root = ConfigReader.parse(text);
  const set = new RuleSet<T>();
  if (!root.ok()) return fail<T>(root, errors);
  root.ignored = [RULES];

  const rulesValue = root.raw(RULES);
  const hasRules = rulesValue !== null;
  if (hasRules && !rulesValue!.isArray()) {
    root.fail(RULES, "must be an array of rule objects, got " + describeJson(rulesValue));
    return fail<T>(root, errors);
  }
  // A config holding only `_rules_` has no global part: unmatched requests pass untouched.
  const globalKeys = root.value.keys.length - (hasRules ? 1 : 0);
  if (!hasRules || globalKeys > 0) {
    set.global = parseOne(root);
    if (!root.ok() || set.global === null) return fail<T>(root, errors);
  }

  const rules = root.children(RULES);
  if (!root.ok()) return fail<T>(root, errors);
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i];
    let by: i32 = -1;
    for (let k = 0; k < MATCH_KEYS.length; k++) {
      if (r.has(MATCH_KEYS[k])) {
        if (by >= 0) {
          r.fail(MATCH_KEYS[k], "cannot be combined with '" + MATCH_KEYS[by] + "' in one rule; use two rules");
          return fail<T>(root, errors);
        }
        by = k;
      }
    }
    if (by < 0) {
      r.fail("", "must have one of " + MATCH_KEYS.join(", "));
      return fail<T>(root, errors);
    }
    const patterns = r.strList(MATCH_KEYS[by], []);
    if (!root.ok()) return fail<T>(root, errors);
    if (patterns.length == 0) {
      r.fail(MATCH_KEYS[by], "must list at least one name");
      return fail<T>(root, errors);
    }
    if (by == BY_DOMAIN) {
      for (let j = 0; j < patterns.length; j++) {
        const field = MATCH_KEYS[by] + "[" + decimal(<i64>j) + "]";
        const problem = domainPatternProblem(patterns[j]);
        if (problem.length > 0) {
          r.fail(field, problem + ", got \"" + patterns[j] + "\"");
          return fail<T>(root, errors);
        }
        const p = normalizeDomainPattern(patterns[j]);
        if (p != patterns[j]) {
          log(LogLevel.WARN, "'" + r.path(field) + "' is compared as \"" + p + "\" (hosts match case-insensitively, without a trailing dot), got \"" + patterns[j] + "\"");
          patterns[j] = p;
        }
      }
      set.needsHost = true;
    } else if (by == BY_SERVICE) {
      set.needsCluster = true;
    } else {
      set.needsRoute = true;
    }
    r.ignored = MATCH_KEYS;
    const cfg = parseOne(r);
    if (!root.ok() || cfg === null) return fail<T>(root, errors);
    set.rules.push(new Rule<T>(<u8>by, patterns, cfg));
  }
  return set;
}

function fail<T>(root: ConfigReader, errors: ErrorSink | null): RuleSet<T> | null {
  const message = root.error.length > 0 ? root.error : "configuration rejected";
  log(LogLevel.CRITICAL, message);
  if (errors !== null) errors.fail(message);
  return null;
}

/**
 * The host a `_match_domain_` pattern is compared with: `:authority` lower-cased, without the port and
 * without trailing dots. Envoy picks the virtual host on the raw value (its domains are case-insensitive;
 * a port or a trailing dot only match with `strip_*_host_port` / `strip_trailing_host_dot`, else the
 * request falls through to a wildcard virtual host), and upstreams such as nginx treat `example.com.`,
 * `EXAMPLE.com` and `example.com:80` as example.com. Folding all of them here means no spelling of a host
 * escapes the rule written for it.
 */
export function normalizeHost(authority: string): string {
  let h = hostWithoutPort(authority);
  let end = h.length;
  while (end > 0 && h.charCodeAt(end - 1) == 0x2e) end--;
  if (end < h.length) h = h.substring(0, end);
  return toLowerAscii(h);
}

/**
 * Why a `_match_domain_` pattern can never match a normalised host, or "". Allowed: `*`, `*suffix`,
 * `prefix*` (one '*', first or last, as Envoy's virtual host domains and Higress), a host name, or an
 * IPv6 literal in brackets; letters in any case and trailing dots are normalised, not refused.
 */
export function domainPatternProblem(p: string): string {
  const n = p.length;
  if (n == 0) return "must be a host name, not empty";
  if (p.charCodeAt(0) == 0x5b) {
    if (n < 3 || p.charCodeAt(n - 1) != 0x5d) return "must be an IPv6 literal without a port (\"[::1]\"): hosts are compared without the port";
    for (let i = 1; i < n - 1; i++) {
      const c = p.charCodeAt(i);
      if (!(isHexDigit(c) || c == 0x3a || c == 0x2e)) return "must be an IPv6 literal (hex digits, ':' and '.') in brackets";
    }
    return "";
  }
  const star = p.indexOf("*");
  if (star >= 0 && ((star != 0 && star != n - 1) || p.indexOf("*", star + 1) >= 0)) {
    return "may only have one '*', as its first or last character (\"*.example.com\", \"example.*\")";
  }
  for (let i = 0; i < n; i++) {
    const c = p.charCodeAt(i);
    if (c == 0x3a) return "cannot have a port: hosts are compared without the port, so it would never match; write the host alone";
    const ok = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c == 0x2d || c == 0x2e || c == 0x5f || c == 0x2a;
    if (!ok) return "must be a host name (letters, digits, '-', '.', '_') or a wildcard, so it can match a Host header";
  }
  if (normalizeDomainPattern(p).length == 0) return "must be a host name, not only dots";
  return "";
}

/** A valid pattern as it is compared: lower case, trailing dots removed (`*.Example.COM.` → `*.example.com`). */
export function normalizeDomainPattern(p: string): string {
  let end = p.length;
  while (end > 0 && p.charCodeAt(end - 1) == 0x2e) end--;
  return toLowerAscii(end < p.length ? p.substring(0, end) : p);
}

function isHexDigit(c: i32): bool {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

/**
 * Exact host, `*` (any), `*suffix` or `prefix*` wildcard (the wildcard matches at least one character, as
 * in Envoy); both sides already normalised.
 */
export function domainMatches(pattern: string, host: string): bool {
  if (pattern == "*") return true;
  if (pattern.startsWith("*")) {
    const suffix = pattern.substring(1);
    return host.length > suffix.length && host.endsWith(suffix);
  }
  if (pattern.endsWith("*")) {
    const prefix = pattern.substring(0, pattern.length - 1);
    return host.length > prefix.length && host.startsWith(prefix);
  }
  return pattern == host;
}

/**
 * `name` matches cluster_name exactly, or Istio's `outbound|<port>|<subset>|<host>` by host, or by
 * `host:port`.
 */
export function serviceMatches(pattern: string, cluster: string): bool {
  if (pattern == cluster) return true;
  if (!cluster.startsWith("outbound|") && !cluster.startsWith("inbound|")) return false;
  // direction|port|subset|host, without String#split (it would be linked into every plugin).
  const p1 = cluster.indexOf("|");
  const p2 = cluster.indexOf("|", p1 + 1);
  const p3 = p2 < 0 ? -1 : cluster.indexOf("|", p2 + 1);
  if (p3 < 0 || cluster.indexOf("|", p3 + 1) >= 0) return false;
  const host = cluster.substring(p3 + 1);
  if (pattern == host) return true;
  return pattern == host + ":" + cluster.substring(p1 + 1, p2);
}
