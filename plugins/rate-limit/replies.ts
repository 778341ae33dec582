// What the client gets: the 429 reply and the rate-limit headers on allowed responses, with the pure
// formatting of their values (vectors/ratelimit-cases.md §3).
import {
  decimal, encode, localReply, MapType, replaceHeader, replaceHeaderNumberEnc,
} from "tollgate/assembly";
import { HEADERS_DRAFT03, HEADERS_IETF, LimitRule, RateLimitConfig } from "./config";
import {
  DETAILS_PREFIX, DRAFT03_LIMIT, DRAFT03_REMAINING, DRAFT03_RESET, IETF_POLICY, IETF_STATE, RETRY_AFTER,
  RLS_FAILED_BODY, RLS_FAILED_DETAILS,
} from "./constants";
import { Outcome } from "./decide";

const K_LIMIT = encode(DRAFT03_LIMIT);
const K_REMAINING = encode(DRAFT03_REMAINING);
const K_RESET = encode(DRAFT03_RESET);

/** `X-RateLimit-Reset` / RateLimit `t` / Retry-After: whole seconds until more quota, rounded up. */
export function resetSeconds(resetMs: u64): u64 {
  return (resetMs + 999) / 1000;
}

/** RateLimit-Policy item (draft-ietf-httpapi-ratelimit-headers, RFC 9651 list): `"name";q=100;w=60`. */
export function ietfPolicy(name: string, quota: u32, windowSeconds: u64): string {
  return "\"" + name + "\";q=" + decimal(<i64>quota) + ";w=" + decimal(<i64>windowSeconds);
}

/** RateLimit item: `"name";r=9;t=50`. */
export function ietfState(name: string, remaining: u32, resetMs: u64): string {
  return "\"" + name + "\";r=" + decimal(<i64>remaining) + ";t=" + decimal(<i64>resetSeconds(resetMs));
}

/**
 * 429 (or the configured status) for `rule`, details `rate-limit.<rule>`; the rate-limit headers follow on
 * the response path. `more`: headers the rate limit service asked for (name, value, …; already checked).
 */
export function tooManyRequests(cfg: RateLimitConfig, rule: LimitRule, o: Outcome, more: string[] | null = null): void {
  const extra = new Array<string[]>();
  extra.push([RETRY_AFTER, decimal(<i64>resetSeconds(o.resetMs))]);
  if (more !== null) {
    for (let i = 0; i + 1 < more.length; i += 2) extra.push([unchecked(more[i]), unchecked(more[i + 1])]);
  }
  localReply(cfg.status, DETAILS_PREFIX + rule.name, cfg.body, cfg.body.length > 0 ? "text/plain" : "", extra);
}

/** 500 when the rate limit service failed and `rls.failure_mode_deny` is set (as Envoy's ratelimit filter answers). */
export function rateLimitServiceFailed(): void {
  localReply(500, RLS_FAILED_DETAILS, RLS_FAILED_BODY, "text/plain", []);
}

/** The configured rate-limit headers (draft-03 or IETF) for the rule `o` reports, on the response. */
export function addRateLimitHeaders(cfg: RateLimitConfig, o: Outcome): void {
  if (cfg.headers == HEADERS_DRAFT03) {
    replaceHeaderNumberEnc(MapType.RESPONSE_HEADERS, K_LIMIT, o.limit);
    replaceHeaderNumberEnc(MapType.RESPONSE_HEADERS, K_REMAINING, o.remaining);
    replaceHeaderNumberEnc(MapType.RESPONSE_HEADERS, K_RESET, resetSeconds(o.resetMs));
  } else if (cfg.headers == HEADERS_IETF) {
    const name = cfg.rules[o.report].name;
    replaceHeader(MapType.RESPONSE_HEADERS, IETF_POLICY, ietfPolicy(name, o.limit, o.policySeconds));
    replaceHeader(MapType.RESPONSE_HEADERS, IETF_STATE, ietfState(name, o.remaining, o.resetMs));
  }
}
