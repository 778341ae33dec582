// CORS decisions as pure functions over plain values: a CorsPolicy (everything precomputed at configure,
// header values also UTF-8 encoded for the wire) plus the request's method / Access-Control-Request-*
// values in, verdicts and header values out. decide.ts and replies.ts use them. No host call, no trap.
import { OPTIONS, TRUE, WILDCARD } from "./constants";
import { OriginAllowList } from "./origin";
import { codeAt, trimOws } from "tollgate/assembly";

/** One effective configuration (global or one `_rules_` entry), ready for the hot path. */
export class CorsPolicy {
  origins: OriginAllowList = new OriginAllowList();
  /** `*` in allow_methods: any requested method is allowed and echoed. */
  anyMethod: bool = false;
  /** Allowed methods as configured (compared ASCII case-insensitively, as Higress does). */
  methods: string[] = [];
  /** Access-Control-Allow-Methods when not echoing: the configured list joined with ",". */
  methodsValue: string = "";
  methodsBytes: ArrayBuffer = new ArrayBuffer(0);
  /** `*` in allow_headers: any requested header is allowed and the requested list echoed. */
  anyHeader: bool = false;
  /** Allowed request header names as configured (compared ASCII case-insensitively). */
  headers: string[] = [];
  /** Access-Control-Allow-Headers when not echoing ("" = header omitted). */
  headersValue: string = "";
  headersBytes: ArrayBuffer = new ArrayBuffer(0);
  /** Access-Control-Expose-Headers on actual responses, UTF-8 (empty = omitted). */
  exposeBytes: ArrayBuffer = new ArrayBuffer(0);
  credentials: bool = false;
  /** Access-Control-Max-Age as decimal text, UTF-8. */
  maxAgeBytes: ArrayBuffer = new ArrayBuffer(0);
  preflightStatus: u32 = 204;
  privateNetwork: bool = false;
  /** Vary of preflight answers (includes the PNA request header when PNA is enabled), UTF-8. */
  preflightVaryBytes: ArrayBuffer = new ArrayBuffer(0);

  // Not configuration: the last origin this VM checked against `origins` and the verdict (decide.ts
  // memoizes by string identity).
  memoOrigin: string | null = null;
  memoAllowed: bool = false;
}

// @ts-ignore: decorator
@inline function lower(c: i32): i32 {
  return c >= 0x41 && c <= 0x5a ? c + 32 : c;
}

// @ts-ignore: decorator
@inline function isBlank(c: i32): bool {
  return c == 0x20 || c == 0x09;
}

/** ASCII case-insensitive comparison of s[start, end) with `text`. */
function tokenEquals(s: string, start: i32, end: i32, text: string): bool {
  if (end - start != text.length) return false;
  for (let i = 0; i < text.length; i++) {
    if (lower(codeAt(s, start + i)) != lower(codeAt(text, i))) return false;
  }
  return true;
}

/** The method is OPTIONS, ASCII case ignored (Higress compares it so). */
export function isOptions(method: string | null): bool {
  return method !== null && tokenEquals(method, 0, method.length, OPTIONS);
}

/** `OPTIONS` with a non-empty Access-Control-Request-Method is a preflight (Fetch, Envoy, Higress, Kong). */
export function isPreflight(method: string | null, acrm: string | null): bool {
  return isOptions(method) && acrm !== null && trimOws(acrm).length > 0;
}

/** True when the preflight's Access-Control-Request-Method is allowed by `p`. */
export function methodAllowed(p: CorsPolicy, acrm: string): bool {
  const m = trimOws(acrm);
  if (m.length == 0) return false;
  if (p.anyMethod) return true;
  for (let i = 0; i < p.methods.length; i++) {
    if (tokenEquals(m, 0, m.length, unchecked(p.methods[i]))) return true;
  }
  return false;
}

/** Access-Control-Allow-Methods for an allowed preflight: the requested method when `*`, else the list. */
export function allowMethodsValue(p: CorsPolicy, acrm: string): string {
  return p.anyMethod ? trimOws(acrm) : p.methodsValue;
}

/**
 * True when every name in Access-Control-Request-Headers (comma list; blanks and empty items ignored,
 * case ignored) is allowed by `p`. An absent or empty list is always allowed.
 */
export function headersAllowed(p: CorsPolicy, acrh: string | null): bool {
  if (acrh === null || p.anyHeader) return true;
  const n = acrh.length;
  let i = 0;
  while (i < n) {
    while (i < n && (isBlank(codeAt(acrh, i)) || codeAt(acrh, i) == 0x2c)) i++;
    if (i >= n) break;
    const start = i;
    while (i < n && codeAt(acrh, i) != 0x2c) i++;
    let end = i;
    while (end > start && isBlank(codeAt(acrh, end - 1))) end--;
    let found = false;
    for (let k = 0; k < p.headers.length; k++) {
      if (tokenEquals(acrh, start, end, unchecked(p.headers[k]))) {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

/**
 * The request header list normalised: items trimmed, empty items dropped, joined with ",".
 * Returns the input itself when it is already normal (what browsers send), so no allocation then.
 */
export function normalizeList(list: string): string {
  const n = list.length;
  let normal = n > 0;
  for (let i = 0; i < n; i++) {
    const c = codeAt(list, i);
    if (isBlank(c) || (c == 0x2c && (i == 0 || i == n - 1 || codeAt(list, i - 1) == 0x2c))) {
      normal = false;
      break;
    }
  }
  if (normal) return list;
  // One pass into one buffer: never longer than the input (blanks and empty items only go away).
  const out = __new(<usize>n << 1, idof<string>());
  let w: usize = 0;
  let i = 0;
  while (i < n) {
    while (i < n && (isBlank(codeAt(list, i)) || codeAt(list, i) == 0x2c)) i++;
    if (i >= n) break;
    const start = i;
    while (i < n && codeAt(list, i) != 0x2c) i++;
    let end = i;
    while (end > start && isBlank(codeAt(list, end - 1))) end--;
    if (w > 0) store<u16>(out + (w++ << 1), 0x2c);
    memory.copy(out + (w << 1), changetype<usize>(list) + (<usize>start << 1), <usize>(end - start) << 1);
    w += <usize>(end - start);
  }
  return changetype<string>(__renew(out, w << 1));
}

/** Access-Control-Allow-Headers for an allowed preflight ("" = omit): requested names when `*`, else the list. */
export function allowHeadersValue(p: CorsPolicy, acrh: string | null): string {
  if (!p.anyHeader) return p.headersValue;
  return acrh === null ? "" : normalizeList(acrh);
}

/** Private Network Access: answered only for the exact request value "true" (Envoy, WICG spec). */
export function privateNetworkGranted(p: CorsPolicy, acrpn: string | null): bool {
  return p.privateNetwork && acrpn !== null && acrpn == TRUE;
}

/** True when a Vary value already names `Origin` (or is `*`, which covers every header). */
export function varyCoversOrigin(vary: string): bool {
  const n = vary.length;
  let i = 0;
  while (i < n) {
    while (i < n && (isBlank(codeAt(vary, i)) || codeAt(vary, i) == 0x2c)) i++;
    const start = i;
    while (i < n && codeAt(vary, i) != 0x2c) i++;
    let end = i;
    while (end > start && isBlank(codeAt(vary, end - 1))) end--;
    if (tokenEquals(vary, start, end, "origin") || tokenEquals(vary, start, end, WILDCARD)) return true;
  }
  return false;
}
