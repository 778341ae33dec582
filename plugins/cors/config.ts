// cors configuration: parse, validate, fill defaults and precompute every header value once, so the
// request path only compares and copies. Field names and defaults follow Higress cors 2.0.1; invalid
// values are rejected with the field path and the rule (the reader records the first error).
import {
  ConfigReader, decimal, describeJson, encode as encoded, joinStrings, log, LogLevel, parseRuleSet, RuleSet, trimOws,
} from "tollgate/assembly";
import {
  DEFAULT_MAX_AGE, DEFAULT_PREFLIGHT_STATUS, E_ANY_SITE_HOST, E_ANY_SITE_LABEL, E_ANY_SITE_STAR, E_ANY_SITE_TLD,
  E_CREDENTIALS_ANY_SITE_PATTERN, E_CREDENTIALS_DEFAULT_WILDCARD, E_CREDENTIALS_NULL, E_CREDENTIALS_WILDCARD,
  E_EMPTY_METHODS, E_ORIGIN, E_ORIGIN_WILDCARD, E_PATTERN, E_PREFLIGHT_STATUS, E_TOKEN,
  F_ALLOW_CREDENTIALS, F_ALLOW_HEADERS, F_ALLOW_METHODS, F_ALLOW_ORIGIN_PATTERNS, F_ALLOW_ORIGINS,
  F_ALLOW_PRIVATE_NETWORK, F_EXPOSE_HEADERS, F_MAX_AGE, F_PREFLIGHT_STATUS, NULL_ORIGIN, VARY_PREFLIGHT,
  VARY_PREFLIGHT_PNA, W_EXPOSE_WILDCARD_CREDENTIALS, WILDCARD,
} from "./constants";
import { OriginRule, parseOriginRule } from "./origin";
import { CorsPolicy } from "./policy";

const FIELDS: string[] = [
  F_ALLOW_ORIGINS, F_ALLOW_ORIGIN_PATTERNS, F_ALLOW_METHODS, F_ALLOW_HEADERS, F_EXPOSE_HEADERS,
  F_ALLOW_CREDENTIALS, F_MAX_AGE, F_PREFLIGHT_STATUS, F_ALLOW_PRIVATE_NETWORK,
];

const DEFAULT_ORIGINS: string[] = [WILDCARD];
const DEFAULT_METHODS: string[] = ["GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"];
const DEFAULT_HEADERS: string[] = [
  "DNT", "X-CustomHeader", "Keep-Alive", "User-Agent", "X-Requested-With", "If-Modified-Since",
  "Cache-Control", "Content-Type", "Authorization",
];
const NO_STRINGS: string[] = [];

/** Parses the whole plugin configuration (global part and `_rules_`); null when rejected (already logged). */
export function parseConfig(text: string): RuleSet<CorsPolicy> | null {
  return parseRuleSet<CorsPolicy>(text, parsePolicy);
}

/** RFC 9110 tchar. */
function isTokenChar(c: i32): bool {
  if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) return true;
  return c == 0x21 || (c >= 0x23 && c <= 0x27) || c == 0x2a || c == 0x2b || c == 0x2d || c == 0x2e
    || c == 0x5e || c == 0x5f || c == 0x60 || c == 0x7c || c == 0x7e;
}

function isToken(s: string): bool {
  if (s.length == 0) return false;
  for (let i = 0; i < s.length; i++) {
    if (!isTokenChar(s.charCodeAt(i))) return false;
  }
  return true;
}

function quote(s: string): string {
  return "\"" + s + "\"";
}

/** A list of header names or methods: each trimmed and a token (or `*`); errors name `field[i]`. */
function tokenList(r: ConfigReader, field: string, def: string[]): string[] {
  const raw = r.strList(field, def);
  const out = new Array<string>(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const t = trimOws(raw[i]);
    if (!isToken(t)) {
      r.fail(field + "[" + decimal(<i64>i) + "]", E_TOKEN + quote(raw[i]));
      return NO_STRINGS;
    }
    out[i] = t;
  }
  return out;
}

/**
 * Why a pattern admits hosts anyone can register, or "": a `*` not followed by '.' (`https://*`,
 * `http://*:[*]`, `https://*example.com`, `https://example.*`), or a `*.` directly under a single label
 * (`https://*.com`). `*.example.com` and `*.*.example.com` are confined to example.com. (Public suffixes of
 * two labels such as `*.co.uk` cannot be told apart without the public suffix list.)
 */
export function anySiteReason(rule: OriginRule): string {
  if (!rule.hasWildcard) return "";
  // A trailing dot names the same site (`https://evil.com.` is an origin a browser sends): ignore it.
  let h = rule.host;
  let end = h.length;
  while (end > 0 && h.charCodeAt(end - 1) == 0x2e) end--;
  if (end < h.length) h = h.substring(0, end);
  let last = -1;
  for (let i = 0; i < h.length; i++) {
    if (h.charCodeAt(i) != 0x2a) continue;
    if (i + 1 >= h.length || h.charCodeAt(i + 1) != 0x2e) return i == 0 && h.length == 1 ? E_ANY_SITE_HOST : E_ANY_SITE_LABEL;
    last = i;
  }
  // After the last "*.": the domain the wildcard is confined to; one label is a top-level domain.
  return last >= 0 && h.indexOf(".", last + 2) < 0 ? E_ANY_SITE_TLD : "";
}

/** Reads one policy (the global part or one rule) from `r`; null (with an error recorded) when invalid. */
export function parsePolicy(r: ConfigReader): CorsPolicy | null {
  if (!r.allowOnly(FIELDS)) return null;
  const p = new CorsPolicy();

  // Origins: `*` only when neither list is given (Higress FillDefaultValues).
  const originsSet = r.has(F_ALLOW_ORIGINS);
  let originsStar = false;
  const origins = r.strList(F_ALLOW_ORIGINS, originsSet || r.has(F_ALLOW_ORIGIN_PATTERNS) ? NO_STRINGS : DEFAULT_ORIGINS);
  for (let i = 0; i < origins.length; i++) {
    const o = trimOws(origins[i]);
    const field = F_ALLOW_ORIGINS + "[" + decimal(<i64>i) + "]";
    if (o == WILDCARD) {
      p.origins.anyOrigin = true;
      originsStar = true;
    } else if (o == NULL_ORIGIN) {
      p.origins.allowNull = true;
    } else if (o.includes(WILDCARD)) {
      r.fail(field, E_ORIGIN_WILDCARD + quote(origins[i]));
    } else {
      const parsed = parseOriginRule(o, false);
      if (parsed.rule === null) r.fail(field, E_ORIGIN + quote(origins[i]));
      else p.origins.rules.push(parsed.rule!);
    }
  }
  const patterns = r.strList(F_ALLOW_ORIGIN_PATTERNS, NO_STRINGS);
  // The first pattern that admits every site, and why (checked against allow_credentials below).
  let anySite = -1;
  let anySiteWhy = "";
  for (let i = 0; i < patterns.length; i++) {
    const t = trimOws(patterns[i]);
    if (t == WILDCARD) {
      p.origins.anyOrigin = true;
      if (anySite < 0) {
        anySite = i;
        anySiteWhy = E_ANY_SITE_STAR;
      }
      continue;
    }
    const parsed = parseOriginRule(t, true);
    if (parsed.rule === null) {
      r.fail(F_ALLOW_ORIGIN_PATTERNS + "[" + decimal(<i64>i) + "]", E_PATTERN + quote(patterns[i]));
    } else {
      p.origins.rules.push(parsed.rule!);
      const why = anySiteReason(parsed.rule!);
      if (anySite < 0 && why.length > 0) {
        anySite = i;
        anySiteWhy = why;
      }
    }
  }

  const methods = tokenList(r, F_ALLOW_METHODS, DEFAULT_METHODS);
  if (r.ok() && methods.length == 0) r.fail(F_ALLOW_METHODS, E_EMPTY_METHODS);
  for (let i = 0; i < methods.length; i++) {
    if (methods[i] == WILDCARD) p.anyMethod = true;
    else p.methods.push(methods[i]);
  }
  p.methodsValue = joinStrings(methods, ",");
  p.methodsBytes = encoded(p.methodsValue);

  const headers = tokenList(r, F_ALLOW_HEADERS, DEFAULT_HEADERS);
  for (let i = 0; i < headers.length; i++) {
    if (headers[i] == WILDCARD) p.anyHeader = true;
    else p.headers.push(headers[i]);
  }
  p.headersValue = joinStrings(headers, ",");
  p.headersBytes = encoded(p.headersValue);

  const expose = tokenList(r, F_EXPOSE_HEADERS, NO_STRINGS);
  p.exposeBytes = encoded(joinStrings(expose, ","));

  p.credentials = r.bool(F_ALLOW_CREDENTIALS, false);
  // Browsers refuse `ACAO: *` with credentials, and echoing every origin with credentials hands any
  // site the user's session: refuse the combination instead of silently picking one (Higress warns).
  // The same holds for every other way of admitting any site: a pattern whose host is not confined to a
  // domain the operator controls, and the opaque origin "null" (any page can produce it).
  if (p.credentials && originsStar) {
    r.fail(F_ALLOW_CREDENTIALS, originsSet ? E_CREDENTIALS_WILDCARD : E_CREDENTIALS_DEFAULT_WILDCARD);
  } else if (p.credentials && p.origins.allowNull) {
    r.fail(F_ALLOW_CREDENTIALS, E_CREDENTIALS_NULL);
  } else if (p.credentials && anySite >= 0) {
    r.fail(F_ALLOW_CREDENTIALS, E_CREDENTIALS_ANY_SITE_PATTERN + quote(patterns[anySite]) + anySiteWhy);
  }
  p.maxAgeBytes = encoded(decimal(<i64>r.int(F_MAX_AGE, DEFAULT_MAX_AGE, 0, <i64>i32.MAX_VALUE)));
  p.preflightStatus = <u32>DEFAULT_PREFLIGHT_STATUS;
  const status = r.raw(F_PREFLIGHT_STATUS);
  if (status !== null) {
    if (status.isInteger() && (status.n == 200 || status.n == 204)) p.preflightStatus = <u32>status.n;
    else r.fail(F_PREFLIGHT_STATUS, E_PREFLIGHT_STATUS + describeJson(status));
  }
  p.privateNetwork = r.bool(F_ALLOW_PRIVATE_NETWORK, false);
  p.preflightVaryBytes = encoded(p.privateNetwork ? VARY_PREFLIGHT_PNA : VARY_PREFLIGHT);

  if (!r.ok()) return null;
  if (p.credentials && expose.includes(WILDCARD)) log(LogLevel.WARN, W_EXPOSE_WILDCARD_CREDENTIALS);
  return p;
}
