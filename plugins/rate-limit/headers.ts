// Rate-limit response header values (vectors/ratelimit-cases.md §3). Pure formatting.
import { decimal } from "../../assembly";

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
