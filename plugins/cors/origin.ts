// Origins as pure values: parsing a serialized origin (`scheme://host[:port]`) into slices of the header
// string without allocating, same-origin detection against :scheme/:authority with default ports folded,
// and the allow lists (exact origins and anchored host-wildcard patterns with port lists).
// Nothing here calls the host; nothing here can trap on client input (every index is bounds-checked).
import { MAX_ORIGIN_LENGTH, NULL_ORIGIN, WILDCARD } from "./constants";
import { codeAt, commaItems, toLowerAscii } from "tollgate/assembly";

/** Slices of an origin or authority inside a string; reused across requests, filled by the parsers below. */
export class OriginParts {
  /** Scheme is [schemeStart, schemeEnd) (empty for an authority). */
  schemeStart: i32 = 0;
  schemeEnd: i32 = 0;
  /** Host is [hostStart, hostEnd), IPv6 brackets included. */
  hostStart: i32 = 0;
  hostEnd: i32 = 0;
  /** Effective port: the explicit one, else the scheme's default (80/443), else 0 (scheme without one). */
  port: i32 = 0;
}

// @ts-ignore: decorator
@inline function lower(c: i32): i32 {
  return c >= 0x41 && c <= 0x5a ? c + 32 : c;
}

// @ts-ignore: decorator
@inline function isAlpha(c: i32): bool {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
}

// @ts-ignore: decorator
@inline function isDigit(c: i32): bool {
  return c >= 0x30 && c <= 0x39;
}

// @ts-ignore: decorator
@inline function isSpace(c: i32): bool {
  return c == 0x20 || c == 0x09;
}

/** Host characters of a registered name (RFC 3986 unreserved minus `~`), plus `*` when `wildcard`. */
function isHostChar(c: i32, wildcard: bool): bool {
  return isAlpha(c) || isDigit(c) || c == 0x2d /* - */ || c == 0x2e /* . */ || c == 0x5f /* _ */ || (wildcard && c == 0x2a);
}

/** True when s[start, end) equals `lowerText` ignoring ASCII case of s. */
export function regionEqualsLower(s: string, start: i32, end: i32, lowerText: string): bool {
  if (end - start != lowerText.length) return false;
  for (let i = 0; i < lowerText.length; i++) {
    if (lower(codeAt(s, start + i)) != codeAt(lowerText, i)) return false;
  }
  return true;
}

/** ASCII case-insensitive equality of a[as, ae) and b[bs, be). */
export function regionsEqualIgnoreCase(a: string, as: i32, ae: i32, b: string, bs: i32, be: i32): bool {
  if (ae - as != be - bs) return false;
  for (let i = 0; i < ae - as; i++) {
    if (lower(codeAt(a, as + i)) != lower(codeAt(b, bs + i))) return false;
  }
  return true;
}

/** Default port of a scheme given as s[start, end): http/ws 80, https/wss 443, else 0. */
export function defaultPort(s: string, start: i32, end: i32): i32 {
  if (regionEqualsLower(s, start, end, "http") || regionEqualsLower(s, start, end, "ws")) return 80;
  if (regionEqualsLower(s, start, end, "https") || regionEqualsLower(s, start, end, "wss")) return 443;
  return 0;
}

/** Index of the first non-blank character at or after `i`. */
function skipSpace(s: string, i: i32, end: i32): i32 {
  while (i < end && isSpace(codeAt(s, i))) i++;
  return i;
}

/** End of `s` without trailing blanks. */
function trimEnd(s: string, start: i32, end: i32): i32 {
  while (end > start && isSpace(codeAt(s, end - 1))) end--;
  return end;
}

/**
 * Parses `host[:port]` in s[from, end) into `p` (host slice and effective port, `dflt` when no port).
 * Accepts a registered name or a bracketed IPv6 literal; `wildcard` also lets `*` through (patterns).
 */
function parseHostPort(s: string, from: i32, end: i32, dflt: i32, wildcard: bool, p: OriginParts): bool {
  let i = from;
  if (i >= end) return false;
  if (codeAt(s, i) == 0x5b /* [ */) {
    i++;
    while (i < end) {
      const c = codeAt(s, i);
      if (c == 0x5d /* ] */) break;
      if (!(isDigit(c) || (lower(c) >= 0x61 && lower(c) <= 0x66) || c == 0x3a || c == 0x2e)) return false;
      i++;
    }
    if (i >= end || i == from + 1) return false;
    i++; // past ']'
  } else {
    while (i < end && codeAt(s, i) != 0x3a /* : */) {
      if (!isHostChar(codeAt(s, i), wildcard)) return false;
      i++;
    }
    if (i == from) return false;
  }
  p.hostStart = from;
  p.hostEnd = i;
  if (i == end) {
    p.port = dflt;
    return true;
  }
  if (codeAt(s, i) != 0x3a) return false;
  const port = parsePort(s, i + 1, end);
  if (port < 0) return false;
  p.port = port;
  return true;
}

/** Decimal port 1..65535 in s[start, end), else -1. */
function parsePort(s: string, start: i32, end: i32): i32 {
  if (end <= start || end - start > 5) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = codeAt(s, i);
    if (!isDigit(c)) return -1;
    n = n * 10 + (c - 0x30);
  }
  return n >= 1 && n <= 65535 ? n : -1;
}

/** Parses s[start, end) as `scheme://host[:port]`; `wildcard` admits `*` in the host (for patterns). */
function parseOriginRange(s: string, start: i32, end: i32, wildcard: bool, p: OriginParts): bool {
  if (end - start > MAX_ORIGIN_LENGTH) return false;
  let i = start;
  if (i >= end || !isAlpha(codeAt(s, i))) return false;
  while (i < end) {
    const c = codeAt(s, i);
    if (!(isAlpha(c) || isDigit(c) || c == 0x2b || c == 0x2d || c == 0x2e)) break;
    i++;
  }
  // "://" must follow the scheme.
  if (i + 3 > end || codeAt(s, i) != 0x3a || codeAt(s, i + 1) != 0x2f || codeAt(s, i + 2) != 0x2f) return false;
  p.schemeStart = start;
  p.schemeEnd = i;
  return parseHostPort(s, i + 3, end, defaultPort(s, start, i), wildcard, p);
}

/** Parses an Origin header value (surrounding blanks ignored) into `p`; false when it is not an origin. */
export function parseOrigin(s: string, p: OriginParts): bool {
  const start = skipSpace(s, 0, s.length);
  return parseOriginRange(s, start, trimEnd(s, start, s.length), false, p);
}

/**
 * True when the origin in `origin` (already parsed into `o`) is the request's own origin: same scheme,
 * host and port as `:scheme` / `:authority`, ASCII case ignored, default ports folded. `a` is scratch.
 */
export function isSameOrigin(origin: string, o: OriginParts, scheme: string, authority: string, a: OriginParts): bool {
  if (!parseHostPort(authority, 0, authority.length, defaultPort(scheme, 0, scheme.length), false, a)) return false;
  return o.port == a.port
    && regionsEqualIgnoreCase(origin, o.hostStart, o.hostEnd, authority, a.hostStart, a.hostEnd)
    && regionsEqualIgnoreCase(origin, o.schemeStart, o.schemeEnd, scheme, 0, scheme.length);
}

/** True when the host of `origin` differs from the host of `authority` (cheap pre-check, no :scheme needed). */
export function hostDiffers(origin: string, o: OriginParts, authority: string, a: OriginParts): bool {
  if (!parseHostPort(authority, 0, authority.length, 0, false, a)) return true;
  return !regionsEqualIgnoreCase(origin, o.hostStart, o.hostEnd, authority, a.hostStart, a.hostEnd);
}

/**
 * `*` in `glob` (lower-case) matches any run of host characters, including dots; everything else
 * matches itself, ASCII case ignored. Anchored at both ends, so `*.example.com` never matches
 * `api.example.com.evil.com`. Linear backtracking on the last star: O(len(glob) * len(host)).
 */
export function globMatch(glob: string, s: string, start: i32, end: i32): bool {
  let g = 0;
  let i = start;
  let starG = -1;
  let starI = 0;
  const gl = glob.length;
  while (i < end) {
    if (g < gl) {
      const gc = codeAt(glob, g);
      if (gc == 0x2a) {
        starG = g++;
        starI = i;
        continue;
      }
      if (gc == lower(codeAt(s, i))) {
        g++;
        i++;
        continue;
      }
    }
    if (starG < 0) return false;
    g = starG + 1;
    i = ++starI;
  }
  while (g < gl && codeAt(glob, g) == 0x2a) g++;
  return g == gl;
}

/** One allowed origin: scheme, host (a glob for patterns) and the ports it admits. Built at configure. */
export class OriginRule {
  /** Lower-case scheme. */
  scheme: string = "";
  /** Lower-case host; may contain `*` (patterns only). */
  host: string = "";
  hasWildcard: bool = false;
  anyPort: bool = false;
  /** Effective ports admitted (default port folded); used when !anyPort. */
  ports: i32[] = [];

  /** True when the parsed origin `o` (slices of `origin`) is admitted by this rule. */
  matches(origin: string, o: OriginParts): bool {
    if (!regionEqualsLower(origin, o.schemeStart, o.schemeEnd, this.scheme)) return false;
    if (!this.anyPort && !this.ports.includes(o.port)) return false;
    if (this.hasWildcard) return globMatch(this.host, origin, o.hostStart, o.hostEnd);
    return regionEqualsLower(origin, o.hostStart, o.hostEnd, this.host);
  }
}

/** What parseOriginRule saw, so config.ts can name the exact problem. */
export class ParsedRule {
  constructor(public rule: OriginRule | null, public hasPortList: bool) {}
}

/**
 * Parses a configured origin or pattern: `scheme://host[:port]`, `scheme://host:[p1,p2]`,
 * `scheme://host:[*]`, a trailing `/` tolerated (Higress trims it). `wildcard` admits `*` in the host
 * and port lists (allow_origin_patterns); returns a null rule when malformed.
 */
export function parseOriginRule(text: string, wildcard: bool): ParsedRule {
  let end = text.length;
  if (end > 0 && text.charCodeAt(end - 1) == 0x2f) end--;
  const p = new OriginParts();
  // A port list is cut off first so the host/port parser sees `scheme://host`.
  let listStart = -1;
  const sep = text.indexOf("://");
  if (sep > 0 && end > 0 && text.charCodeAt(end - 1) == 0x5d /* ] */) {
    // Past an IPv6 literal's own brackets, `:[` can only open a port list.
    let from = sep + 3;
    if (text.charCodeAt(from) == 0x5b) from = text.indexOf("]", from);
    const open = from >= 0 ? text.indexOf(":[", from) : -1;
    if (open > 0 && open < end) listStart = open;
  }
  const hostEnd = listStart >= 0 ? listStart : end;
  if (!parseOriginRange(text, 0, hostEnd, wildcard, p)) return new ParsedRule(null, listStart >= 0);
  const rule = new OriginRule();
  rule.scheme = toLowerAscii(text.substring(p.schemeStart, p.schemeEnd));
  rule.host = toLowerAscii(text.substring(p.hostStart, p.hostEnd));
  rule.hasWildcard = rule.host.includes(WILDCARD);
  if (listStart < 0) {
    rule.ports = [p.port];
    return new ParsedRule(rule, false);
  }
  if (!wildcard) return new ParsedRule(null, true);
  const items = commaItems(text.substring(listStart + 2, end - 1));
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (item == WILDCARD) {
      rule.anyPort = true;
      continue;
    }
    const port = parsePort(item, 0, item.length);
    if (port < 0) return new ParsedRule(null, true);
    rule.ports.push(port);
  }
  return new ParsedRule(rule, true);
}

/**
 * Serialized origins are visible ASCII. Anything else never came from a browser, and would not survive the
 * UTF-8 round trip of an echo byte-exact, so `*` does not admit it.
 */
function isVisibleAscii(s: string): bool {
  for (let i = 0; i < s.length; i++) {
    const c = codeAt(s, i);
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

/** The origin allow list of one policy: `*`, the literal `null`, exact origins, then patterns. */
export class OriginAllowList {
  anyOrigin: bool = false;
  allowNull: bool = false;
  rules: OriginRule[] = [];

  /** `parsed` says whether `o` holds the slices of `origin` (false for malformed origins). */
  allows(origin: string, parsed: bool, o: OriginParts): bool {
    // An opaque origin ("null": sandboxed frames, file:, data:) is admitted only when listed literally.
    if (origin == NULL_ORIGIN) return this.allowNull;
    // "*" echoes the origin back, so it must be a well-formed serialized origin, not arbitrary client text.
    if (this.anyOrigin) return parsed && isVisibleAscii(origin);
    if (!parsed) return false;
    for (let i = 0; i < this.rules.length; i++) {
      if (unchecked(this.rules[i]).matches(origin, o)) return true;
    }
    return false;
  }
}
