// Key values of a request: pure parsing (clientIp) plus the host reads that feed it. A rule whose key
// has no value on this request (header absent, no cookie, ...) does not apply to it.
import {
  cookieValue, encode, getHeader, getHeaderEnc, getHeaderJoinedEnc, getProperty, MapType, pathWithoutQuery,
  queryParam,
} from "../../assembly";
import { KEY_CLIENT_IP, KEY_COOKIE, KEY_GLOBAL, KEY_HEADER, KEY_PATH, KEY_QUERY, RateLimitConfig } from "./config";

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

const COOKIE = encode("cookie");
const COOKIE_SEP = encode("; ");

/** Fills `out[i]` with rule i's key value for the current request (null = the rule does not apply). */
export function readKeyValues(cfg: RateLimitConfig, out: Array<string | null>): void {
  let path: string | null = null;
  let pathRead = false;
  let cookies: string | null = null;
  let cookiesRead = false;
  let ip: string | null = null;
  if (cfg.needsClientIp) {
    const xff = cfg.xffTrustedHops > 0 ? getHeader(MapType.REQUEST_HEADERS, "x-forwarded-for") : null;
    ip = clientIp(getProperty("source.address"), xff, cfg.xffTrustedHops);
  }
  const rules = cfg.rules;
  for (let i = 0; i < rules.length && i < out.length; i++) {
    const rule = unchecked(rules[i]);
    let v: string | null = null;
    switch (rule.keyKind) {
      case KEY_HEADER: {
        v = getHeaderEnc(MapType.REQUEST_HEADERS, rule.keyNameBytes);
        break;
      }
      case KEY_QUERY: {
        if (!pathRead) { path = getHeader(MapType.REQUEST_HEADERS, ":path"); pathRead = true; }
        if (path !== null) v = queryParam(path, rule.keyName);
        break;
      }
      case KEY_COOKIE: {
        // Every Cookie header: a client cannot hide its key cookie in a second one.
        if (!cookiesRead) { cookies = getHeaderJoinedEnc(MapType.REQUEST_HEADERS, COOKIE, COOKIE_SEP); cookiesRead = true; }
        if (cookies !== null) v = cookieValue(cookies, rule.keyName);
        break;
      }
      case KEY_CLIENT_IP: {
        v = ip;
        break;
      }
      case KEY_PATH: {
        if (!pathRead) { path = getHeader(MapType.REQUEST_HEADERS, ":path"); pathRead = true; }
        if (path !== null) v = pathWithoutQuery(path);
        break;
      }
      case KEY_GLOBAL: {
        v = "";
        break;
      }
    }
    // An empty value is as good as none: it identifies no client.
    if (v !== null && v.length == 0 && rule.keyKind != KEY_GLOBAL) v = null;
    unchecked(out[i] = v);
  }
}
