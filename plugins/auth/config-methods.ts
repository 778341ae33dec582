// The method blocks of the auth configuration: key_auth, basic_auth, jwt_auth and ext_auth, with the
// field checks they share. config.ts reads the consumers and calls these for the blocks present.
import { ConfigReader, decimal, framingHeaderProblem, joinStrings, log, LogLevel, writableHeaderProblem } from "tollgate/assembly";
import { BasicAuth, ClaimHeader, ExtAuth, JwtAuth, KeyAuth, TokenSource } from "./model";

export function parseRealm(r: ConfigReader): string {
  const realm = r.str("realm", "tollgate");
  for (let i = 0; i < realm.length; i++) {
    const c = realm.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c == 0x22 || c == 0x5c) {
      r.fail("realm", "must be printable ASCII without '\"' or '\\' (it is quoted in WWW-Authenticate), got \"" + realm + "\"");
      return "tollgate";
    }
  }
  return realm;
}

export function parseKeyAuth(r: ConfigReader): KeyAuth {
  const k = new KeyAuth();
  if (!r.allowOnly(["keys", "in_header", "in_query", "hide_credentials", "realm"])) return k;
  const names = r.strList("keys", ["x-api-key"]);
  if (!r.ok()) return k;
  if (names.length == 0) {
    r.fail("keys", "must name at least one header or query parameter");
    return k;
  }
  k.inHeader = r.bool("in_header", true);
  k.inQuery = r.bool("in_query", false);
  if (!k.inHeader && !k.inQuery) {
    r.fail("in_header", "and 'in_query' cannot both be false (nowhere to look for the key)");
    return k;
  }
  for (let i = 0; i < names.length; i++) {
    if (names[i].length == 0 || (k.inHeader && !isHeaderName(names[i].toLowerCase()))) {
      r.fail("keys[" + decimal(<i64>i) + "]", "must be a header name (letters, digits, '-', '_'), got \"" + names[i] + "\"");
      return k;
    }
    // hide_credentials removes the key's header: never one that frames, routes or another plugin owns.
    const problem = writableHeaderProblem(names[i].toLowerCase(), "auth");
    if (problem.length > 0) {
      r.fail("keys[" + decimal(<i64>i) + "]", problem);
      return k;
    }
    k.headerNames.push(names[i].toLowerCase());
    k.queryNames.push(names[i]);
  }
  k.hideCredentials = r.bool("hide_credentials", false);
  k.realm = parseRealm(r);
  return k;
}

export function parseBasicAuth(r: ConfigReader): BasicAuth {
  const b = new BasicAuth();
  if (!r.allowOnly(["realm", "hide_credentials"])) return b;
  b.realm = parseRealm(r);
  b.hideCredentials = r.bool("hide_credentials", false);
  return b;
}

export function parseJwtAuth(r: ConfigReader, consumerHeader: string): JwtAuth {
  const j = new JwtAuth();
  if (!r.allowOnly(["from_headers", "from_params", "from_cookies", "clock_skew_seconds", "require_exp", "keep_token", "claims_to_headers", "realm", "cache_size"])) return j;
  const anySource = r.has("from_headers") || r.has("from_params") || r.has("from_cookies");
  const hs = r.children("from_headers");
  for (let i = 0; i < hs.length; i++) {
    const h = hs[i];
    if (!h.allowOnly(["name", "value_prefix"]) || !h.require("name")) return j;
    const name = h.str("name", "").toLowerCase();
    if (!isHeaderName(name)) {
      h.fail("name", "must be a header name, got \"" + name + "\"");
      return j;
    }
    // keep_token: false removes the token's header: never one that frames, routes or another plugin owns.
    const problem = writableHeaderProblem(name, "auth");
    if (problem.length > 0) {
      h.fail("name", problem);
      return j;
    }
    j.fromHeaders.push(new TokenSource(name, h.str("value_prefix", "")));
  }
  j.fromParams = r.strList("from_params", []);
  j.fromCookies = r.strList("from_cookies", []);
  if (!r.ok()) return j;
  // Envoy and Higress: the defaults apply only when no source is configured.
  if (!anySource) {
    j.fromHeaders.push(new TokenSource("authorization", "Bearer "));
    j.fromParams.push("access_token");
  }
  if (j.fromHeaders.length + j.fromParams.length + j.fromCookies.length == 0) {
    r.fail("from_headers", "(with from_params, from_cookies) must name at least one place to find the token");
    return j;
  }
  j.clockSkewSeconds = <f64>r.int("clock_skew_seconds", 60, 0, 86400);
  j.requireExp = r.bool("require_exp", false);
  j.keepToken = r.bool("keep_token", true);
  j.realm = parseRealm(r);
  j.cacheSize = <i32>r.int("cache_size", 1024, 0, 65536);
  const cs = r.children("claims_to_headers");
  for (let i = 0; i < cs.length; i++) {
    const c = cs[i];
    if (!c.allowOnly(["claim", "header", "override"]) || !c.require("claim") || !c.require("header")) return j;
    const claim = c.str("claim", "");
    const header = c.str("header", "").toLowerCase();
    if (!c.ok()) return j;
    if (claim.length == 0) {
      c.fail("claim", "must not be empty");
      return j;
    }
    if (!isHeaderName(header) || header == consumerHeader || header == "authorization") {
      c.fail("header", "must be a header name other than authorization and the consumer header, got \"" + header + "\"");
      return j;
    }
    const problem = writableHeaderProblem(header, "auth");
    if (problem.length > 0) {
      c.fail("header", problem);
      return j;
    }
    j.claimsToHeaders.push(new ClaimHeader(claim, header, c.bool("override", true)));
  }
  return j;
}

/** Refuses control characters (CR, LF, NUL, …), spaces and DEL in a value that becomes a pseudo-header. */
export function plainField(r: ConfigReader, field: string, v: string): bool {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c <= 0x20 || c == 0x7f) {
      r.fail(field, "must not contain " + (c == 0x0d ? "CR" : c == 0x0a ? "LF" : c == 0 ? "NUL" : c == 0x20 ? "a space" : "a control character") + " (it is sent as the check request's " + (field == "path_prefix" ? ":path" : field == "authority" ? ":authority" : "cluster name") + "), got \"" + v.replaceAll("\r", "\\r").replaceAll("\n", "\\n") + "\"");
      return false;
    }
  }
  return true;
}

export function parseExtAuth(r: ConfigReader): ExtAuth {
  const e = new ExtAuth();
  if (!r.allowOnly(["cluster", "authority", "path_prefix", "timeout_ms", "allowed_headers", "allowed_upstream_headers", "allowed_client_headers", "failure_mode_allow"])) return e;
  if (!r.require("cluster")) return e;
  e.cluster = r.str("cluster", "");
  e.clusterBytes = String.UTF8.encode(e.cluster, false);
  if (r.ok() && e.cluster.length == 0) {
    r.fail("cluster", "must name the Envoy cluster of the authorization service");
    return e;
  }
  e.authority = r.str("authority", "");
  e.pathPrefix = r.str("path_prefix", "");
  // These go into the check request's :authority / :path and the callout's cluster name on every request:
  // CR, LF or any control character there would fail each check (open with failure_mode_allow).
  if (r.ok() && !plainField(r, "cluster", e.cluster)) return e;
  if (r.ok() && !plainField(r, "authority", e.authority)) return e;
  if (r.ok() && !plainField(r, "path_prefix", e.pathPrefix)) return e;
  if (r.ok() && e.pathPrefix.length > 0 && (!e.pathPrefix.startsWith("/") || e.pathPrefix.indexOf("?") >= 0)) {
    r.fail("path_prefix", "must start with '/' and have no query, got \"" + e.pathPrefix + "\"");
    return e;
  }
  if (e.pathPrefix.endsWith("/")) e.pathPrefix = e.pathPrefix.substring(0, e.pathPrefix.length - 1);
  e.timeoutMs = <u32>r.int("timeout_ms", 200, 1, 60000);
  e.allowedHeaders = lowerNames(r, "allowed_headers", []);
  // Copied into the check request, whose framing is the callout's own.
  for (let i = 0; i < e.allowedHeaders.length; i++) {
    const problem = framingHeaderProblem(e.allowedHeaders[i]);
    if (problem.length > 0) {
      r.fail("allowed_headers[" + decimal(<i64>i) + "]", problem);
      return e;
    }
  }
  if (!e.allowedHeaders.includes("authorization")) e.allowedHeaders.unshift("authorization");
  e.allowedUpstreamHeaders = lowerNames(r, "allowed_upstream_headers", []);
  for (let i = 0; i < e.allowedUpstreamHeaders.length; i++) {
    const problem = writableHeaderProblem(e.allowedUpstreamHeaders[i], "auth");
    if (problem.length > 0) {
      r.fail("allowed_upstream_headers[" + decimal(<i64>i) + "]", problem);
      return e;
    }
  }
  e.allowedClientHeaders = lowerNames(r, "allowed_client_headers", ["www-authenticate", "content-type", "location"]);
  for (let i = 0; i < e.allowedClientHeaders.length; i++) {
    const problem = framingHeaderProblem(e.allowedClientHeaders[i]);
    if (problem.length > 0) {
      r.fail("allowed_client_headers[" + decimal(<i64>i) + "]", problem);
      return e;
    }
  }
  e.failureModeAllow = r.bool("failure_mode_allow", false);
  return e;
}

export function lowerNames(r: ConfigReader, key: string, def: string[]): string[] {
  const names = r.strList(key, def);
  for (let i = 0; i < names.length; i++) {
    names[i] = names[i].toLowerCase();
    if (!isHeaderName(names[i])) {
      r.fail(key + "[" + decimal(<i64>i) + "]", "must be a header name, got \"" + names[i] + "\"");
      return def;
    }
  }
  return names;
}

/** RFC 9110 token characters, no pseudo-headers (lower-case input). */
export function isHeaderName(s: string): bool {
  if (s.length == 0 || s.length > 128) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ok = (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c == 0x2d || c == 0x5f || c == 0x2e;
    if (!ok) return false;
  }
  return true;
}

export function isVisibleAscii(s: string): bool {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): bool {
  if (a.length != b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (unchecked(a[i]) != unchecked(b[i])) return false;
  }
  return true;
}

/** Logs a non-fatal configuration note. */
export function configNote(message: string): void {
  log(LogLevel.WARN, message);
}
