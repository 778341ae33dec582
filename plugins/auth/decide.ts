// Which credential decides a request, pure over a request view: the first configured method (API key,
// Basic, JWT) whose credential is present decides, and the others are not consulted. The checks of the
// credential itself are pure too (credentials.ts: keys and Basic; jwt.ts: tokens). stream.ts backs the
// view with host reads (request.ts) and turns the outcome into host calls; the table tests beside this
// file use plain values.
import { cookieValue, queryParam, trimOws } from "tollgate/assembly";
import { AuthConfig, JwtAuth, KeyAuth } from "./config";
import { Found, Source } from "./constants";
import { isBasicScheme } from "./credentials";
import { isOws, tokenStartAfterPrefix } from "./jwt";

/** What the choice reads from a request; request.ts backs it with host calls, tests with plain values. */
export abstract class RequestView {
  /** First value of request header `name` (lower-case), or null. */
  abstract header(name: string): string | null;
  /** `:path` with its query ("/" when absent). */
  abstract fullPath(): string;
  /** Every Cookie header joined with "; ", or null. */
  abstract cookies(): string | null;
}

/** The credential that decides: which method found it, its value, and where it was (to hide it after). */
export class Credential {
  found: u8 = Found.NONE;
  /** KEY: the key (blanks trimmed). BASIC: the Authorization value. JWT: the string holding the token at [start, end). */
  value: string = "";
  start: i32 = 0;
  end: i32 = 0;
  /** Where the credential was: a header, a query parameter or a cookie, and its name. */
  source: u8 = Source.HEADER;
  sourceName: string = "";
  /** The Authorization value when Basic looked at it (the missing-credential reply tells "wrong scheme" from "absent"), else null. */
  authorization: string | null = null;

  /** The JWT itself (allocated only when the token is not the whole value). */
  token(): string {
    return this.start == 0 && this.end == this.value.length ? this.value : this.value.substring(this.start, this.end);
  }

  private set(found: u8, value: string, source: u8, sourceName: string, start: i32, end: i32): Credential {
    this.found = found;
    this.value = value;
    this.source = source;
    this.sourceName = sourceName;
    this.start = start;
    this.end = end;
    return this;
  }

  reset(): Credential {
    this.found = Found.NONE;
    this.authorization = null;
    return this;
  }

  key(value: string, source: u8, sourceName: string): Credential { return this.set(Found.KEY, value, source, sourceName, 0, value.length); }
  jwt(holder: string, source: u8, sourceName: string, start: i32, end: i32): Credential { return this.set(Found.JWT, holder, source, sourceName, start, end); }
}

/** The credential that decides the request under `cfg` (out.found = Found.NONE when no method found one). */
export function chooseCredential(cfg: AuthConfig, req: RequestView, out: Credential): Credential {
  out.reset();
  const key = cfg.key;
  if (key !== null) {
    findKey(key, req, out);
    if (out.found != Found.NONE) return out;
  }
  const basic = cfg.basic;
  if (basic !== null) {
    const a = req.header("authorization");
    out.authorization = a;
    if (a !== null && isBasicScheme(a)) {
      out.found = Found.BASIC;
      out.value = a;
      out.source = Source.HEADER;
      out.sourceName = "authorization";
      return out;
    }
  }
  const jwt = cfg.jwt;
  if (jwt !== null) findToken(jwt, req, out);
  return out;
}

/** The API key in the configured headers and query parameters: Found.KEY, KEY_MULTIPLE (more than one copy) or NONE. */
export function findKey(key: KeyAuth, req: RequestView, out: Credential): void {
  let found = 0;
  if (key.inHeader) {
    for (let i = 0; i < key.headerNames.length; i++) {
      const name = unchecked(key.headerNames[i]);
      const v = req.header(name);
      if (v === null) continue;
      found++;
      // RFC 9110 §5.5: surrounding spaces and tabs are not part of a field value.
      out.key(trimOws(v), Source.HEADER, name);
    }
  }
  if (key.inQuery) {
    const path = req.fullPath();
    if (path.indexOf("?") >= 0) {
      for (let i = 0; i < key.queryNames.length; i++) {
        const name = unchecked(key.queryNames[i]);
        const v = queryParam(path, name);
        if (v === null) continue;
        found++;
        out.key(v, Source.QUERY, name);
      }
    }
  }
  if (found > 1) out.found = Found.KEY_MULTIPLE;
}

/** The first token in the configured sources (headers, then params, then cookies): Found.JWT or NONE. */
export function findToken(jwt: JwtAuth, req: RequestView, out: Credential): void {
  for (let i = 0; i < jwt.fromHeaders.length; i++) {
    const src = unchecked(jwt.fromHeaders[i]);
    const v = req.header(src.header);
    if (v === null) continue;
    const start = tokenStartAfterPrefix(v, src.prefix);
    if (start < 0) continue;
    let end = v.length;
    while (end > start && isOws(v.charCodeAt(end - 1))) end--;
    out.jwt(v, Source.HEADER, src.header, start, end);
    return;
  }
  if (jwt.fromParams.length > 0) {
    const path = req.fullPath();
    if (path.indexOf("?") >= 0) {
      for (let i = 0; i < jwt.fromParams.length; i++) {
        const name = unchecked(jwt.fromParams[i]);
        const t = queryParam(path, name);
        if (t === null) continue;
        out.jwt(t, Source.QUERY, name, 0, t.length);
        return;
      }
    }
  }
  if (jwt.fromCookies.length > 0) {
    const cookies = req.cookies();
    if (cookies === null) return;
    for (let i = 0; i < jwt.fromCookies.length; i++) {
      const name = unchecked(jwt.fromCookies[i]);
      const t = cookieValue(cookies, name);
      if (t === null) continue;
      out.jwt(t, Source.COOKIE, name, 0, t.length);
      return;
    }
  }
}
