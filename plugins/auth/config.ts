// Auth configuration: consumers (API keys, Basic users, JWT issuers with their JWKS), the method blocks,
// consumer_header, global_auth, and `_rules_` whose only field is `allow`. Everything is validated here,
// once, so that the request path only compares.
import {
  ConfigReader, decimal, framingHeaderProblem, joinStrings, log, LogLevel, parseRuleSet, RuleSet,
  StringTable, writableHeaderProblem,
} from "tollgate/assembly";
import { base64Decode } from "tollgate/assembly/crypto";
import { JwtKey, parseJwks } from "./jwks";
import { parseHttpUrl, RemoteJwks } from "./remote";
import { isHeaderName, isVisibleAscii, parseBasicAuth, parseExtAuth, parseJwtAuth, parseKeyAuth } from "./config-methods";
export { bytesEqual, isHeaderName } from "./config-methods";

export { PasswordKind, BasicUser, JwtProvider, Consumer, KeyAuth, BasicAuth, TokenSource, ClaimHeader, JwtAuth, ExtAuth, AuthConfig, Scope, AuthPlugin } from "./model";
import { PasswordKind, BasicUser, JwtProvider, Consumer, KeyAuth, BasicAuth, TokenSource, ClaimHeader, JwtAuth, ExtAuth, AuthConfig, Scope, AuthPlugin } from "./model";

const GLOBAL_KEYS: string[] = ["consumers", "key_auth", "basic_auth", "jwt_auth", "ext_auth", "consumer_header", "global_auth"];
const RULE_KEYS: string[] = ["allow"];

// parseRuleSet takes a plain function (no closures in AssemblyScript): the global pass leaves its result here.
let building: AuthConfig | null = null;
/** Parses and validates the whole configuration; null (after a critical log line) when it is invalid. */
export function parseAuthConfig(text: string): AuthPlugin | null {
  building = null;
  const set = parseRuleSet<Scope>(text, parseScope);
  if (set === null) return null;
  const cfg = building;
  if (cfg === null) {
    log(LogLevel.CRITICAL, "the global config must hold 'consumers' and at least one of key_auth, basic_auth, jwt_auth, ext_auth");
    return null;
  }
  return new AuthPlugin(cfg, set);
}


function parseScope(r: ConfigReader): Scope | null {
  if (r.prefix.length == 0) {
    const cfg = parseGlobal(r);
    if (cfg === null) return null;
    building = cfg;
    return new Scope(null);
  }
  if (!r.allowOnly(RULE_KEYS)) return null;
  if (!r.has("allow")) {
    r.fail("allow", "is required in a rule (a list of consumer names); authentication settings belong in the global config");
    return null;
  }
  const allow = r.strList("allow", []);
  if (!r.ok()) return null;
  if (allow.length == 0) {
    r.fail("allow", "must name at least one consumer");
    return null;
  }
  const cfg = building;
  if (cfg === null) {
    r.fail("allow", "names consumers, but the global config defines none");
    return null;
  }
  for (let i = 0; i < allow.length; i++) {
    if (consumerIndex(cfg, allow[i]) < 0) {
      r.fail("allow[" + decimal(<i64>i) + "]", "names unknown consumer \"" + allow[i] + "\"; known: " + consumerNames(cfg));
      return null;
    }
  }
  return new Scope(allow);
}

export function consumerIndex(cfg: AuthConfig, name: string): i32 {
  return cfg.consumerIds.get(name);
}

/** The first consumer names for an error message (a config may have 100,000 of them). */
function consumerNames(cfg: AuthConfig): string {
  const n = cfg.consumers.length;
  if (n == 0) return "(none)";
  const names = new Array<string>();
  for (let i = 0; i < n && i < 10; i++) names.push(cfg.consumers[i].name);
  const list = joinStrings(names, ", ");
  return n > 10 ? list + ", … (" + decimal(<i64>n) + " in all)" : list;
}

function parseGlobal(r: ConfigReader): AuthConfig | null {
  const cfg = new AuthConfig();
  if (!r.allowOnly(GLOBAL_KEYS)) return null;

  if (r.has("global_auth")) cfg.globalAuth = r.bool("global_auth", true) ? 1 : 0;
  const ch = r.str("consumer_header", "x-mse-consumer").toLowerCase();
  if (!isHeaderName(ch)) {
    r.fail("consumer_header", "must be a header name (letters, digits, '-', '_', not a pseudo-header), got \"" + ch + "\"");
    return null;
  }
  const chProblem = writableHeaderProblem(ch, "auth");
  if (chProblem.length > 0) {
    r.fail("consumer_header", chProblem);
    return null;
  }
  cfg.consumerHeader = ch;

  const kr = r.child("key_auth");
  if (kr !== null) cfg.key = parseKeyAuth(kr);
  const br = r.child("basic_auth");
  if (br !== null) cfg.basic = parseBasicAuth(br);
  const jr = r.child("jwt_auth");
  if (jr !== null) cfg.jwt = parseJwtAuth(jr, ch);
  const er = r.child("ext_auth");
  if (er !== null) cfg.ext = parseExtAuth(er);
  if (!r.ok()) return null;
  if (credentialHeaders(cfg).includes(ch)) {
    r.fail("consumer_header", "cannot be a header that carries credentials (\"" + ch + "\")");
    return null;
  }
  if (cfg.key === null && cfg.basic === null && cfg.jwt === null && cfg.ext === null) {
    r.fail("", "needs at least one method: key_auth, basic_auth, jwt_auth or ext_auth");
    return null;
  }

  const consumers = r.children("consumers");
  if (!r.ok()) return null;
  const seen = new Seen();
  for (let i = 0; i < consumers.length; i++) {
    if (!parseConsumer(consumers[i], cfg, i, seen)) return null;
  }
  if (cfg.key !== null && cfg.keys.length == 0) {
    r.fail("key_auth", "is set, but no consumer has 'keys'");
    return null;
  }
  if (cfg.basic !== null && cfg.basicUsers.length == 0) {
    r.fail("basic_auth", "is set, but no consumer has 'basic' credentials");
    return null;
  }
  if (cfg.jwt !== null && cfg.providers.length == 0) {
    r.fail("jwt_auth", "is set, but no consumer has a 'jwt' issuer");
    return null;
  }
  return r.ok() ? cfg : null;
}

/**
 * Keys, Basic users and issuers seen so far, each mapped to its consumer (or key) index: duplicate
 * checks by hashing keep configure time linear in the number of consumers (100,000 in seconds).
 */
class Seen {
  keys: StringTable = new StringTable();
  users: StringTable = new StringTable();
  issuers: StringTable = new StringTable();
}

function parseConsumer(c: ConfigReader, cfg: AuthConfig, index: i32, seen: Seen): bool {
  if (!c.allowOnly(["name", "keys", "basic", "jwt"])) return false;
  if (!c.require("name")) return false;
  const name = c.str("name", "");
  if (!c.ok()) return false;
  if (name.length == 0 || name.length > 256 || !isVisibleAscii(name)) {
    return c.fail("name", "must be 1 to 256 visible ASCII characters (it is sent upstream in a header), got \"" + name + "\"");
  }
  const dup = consumerIndex(cfg, name);
  if (dup >= 0) return c.fail("name", "duplicates consumers[" + decimal(<i64>dup) + "] (\"" + name + "\"); consumer names must be unique");
  cfg.consumerIds.add(name, cfg.consumers.length);
  cfg.consumers.push(new Consumer(name));

  let credentials = 0;
  if (c.has("keys")) {
    const keys = c.strList("keys", []);
    if (!c.ok()) return false;
    if (keys.length == 0) return c.fail("keys", "must list at least one key (omit 'keys' for none)");
    if (cfg.key === null) return c.fail("keys", "needs the 'key_auth' block to be set");
    for (let i = 0; i < keys.length; i++) {
      const field = "keys[" + decimal(<i64>i) + "]";
      if (keys[i].length == 0) return c.fail(field, "must not be empty");
      const other = seen.keys.add(keys[i], cfg.keys.length);
      if (other >= 0) {
        const owner = cfg.keyOwner[other];
        return c.fail(field, "is also a key of consumer \"" + cfg.consumers[owner].name + "\"; a key must identify one consumer");
      }
      cfg.keys.push(keys[i]);
      cfg.keyOwner.push(index);
      credentials++;
    }
  }
  if (c.has("basic")) {
    const creds = c.strList("basic", []);
    if (!c.ok()) return false;
    if (creds.length == 0) return c.fail("basic", "must list at least one \"user:password\" (omit 'basic' for none)");
    if (cfg.basic === null) return c.fail("basic", "needs the 'basic_auth' block to be set");
    for (let i = 0; i < creds.length; i++) {
      const u = parseBasicCredential(c, "basic[" + decimal(<i64>i) + "]", creds[i], index);
      if (u === null) return false;
      // Users are compared as bytes: key the map by one char per byte, so equal bytes ⇔ equal keys.
      const userKey = latin1(u.user);
      if (seen.users.add(userKey, cfg.basicUsers.length) >= 0) {
        return c.fail("basic[" + decimal(<i64>i) + "]", "names a user that another credential already has; user names must be unique");
      }
      cfg.basicUsers.push(u);
      credentials++;
    }
  }
  const jr = c.child("jwt");
  if (jr !== null) {
    if (cfg.jwt === null) return c.fail("jwt", "needs the 'jwt_auth' block to be set");
    const p = parseProvider(jr, index);
    if (p === null) return false;
    const prior = seen.issuers.add(p.issuer, cfg.providers.length);
    if (prior >= 0) {
      const other = cfg.providers[prior].consumer;
      return jr.fail("issuer", "is also the issuer of consumer \"" + cfg.consumers[other].name + "\"; an issuer must identify one consumer");
    }
    cfg.providers.push(p);
    credentials++;
  }
  if (!c.ok()) return false;
  if (credentials == 0) return c.fail("", "needs at least one credential: 'keys', 'basic' or 'jwt'");
  return true;
}

/** One char per byte (no decoding, no allocation beyond the string). */
function latin1(b: Uint8Array): string {
  const n = b.length;
  const out = __new(<usize>n << 1, idof<string>());
  for (let i = 0; i < n; i++) store<u16>(out + (<usize>i << 1), <u16>unchecked(b[i]));
  return changetype<string>(out);
}

/** `user:password`, `user:{SHA256}<base64 digest>` or `user:{SHA}<base64 digest>` (htpasswd); split on the first ':'. */
function parseBasicCredential(c: ConfigReader, field: string, cred: string, consumer: i32): BasicUser | null {
  const colon = cred.indexOf(":");
  if (colon <= 0) {
    c.fail(field, "must be \"user:password\" (or user:{SHA256}<base64> / user:{SHA}<base64>) with a non-empty user");
    return null;
  }
  const user = Uint8Array.wrap(String.UTF8.encode(cred.substring(0, colon), false));
  const pass = cred.substring(colon + 1);
  if (pass.startsWith("{SHA256}") || pass.startsWith("{SHA}")) {
    const sha256 = pass.startsWith("{SHA256}");
    const digest = base64Decode(pass.substring(sha256 ? 8 : 5));
    const want = sha256 ? 32 : 20;
    if (digest === null || digest.length != want) {
      c.fail(field, "must carry a base64 " + (sha256 ? "SHA-256" : "SHA-1") + " digest (" + decimal(<i64>want) + " bytes) after " + (sha256 ? "{SHA256}" : "{SHA}"));
      return null;
    }
    return new BasicUser(user, sha256 ? PasswordKind.SHA256 : PasswordKind.SHA1, digest, consumer);
  }
  return new BasicUser(user, PasswordKind.PLAIN, Uint8Array.wrap(String.UTF8.encode(pass, false)), consumer);
}

function parseProvider(j: ConfigReader, consumer: i32): JwtProvider | null {
  if (!j.allowOnly(["issuer", "audiences", "jwks", "remote_jwks"])) return null;
  if (!j.require("issuer")) return null;
  const issuer = j.str("issuer", "");
  if (!j.ok()) return null;
  if (issuer.length == 0) {
    j.fail("issuer", "must not be empty");
    return null;
  }
  const auds = j.strList("audiences", []);
  if (!j.ok()) return null;
  for (let i = 0; i < auds.length; i++) auds[i] = normalizeAudience(auds[i]);
  const inline = j.has("jwks");
  const remote = j.has("remote_jwks");
  if (inline == remote) {
    j.fail("", "needs exactly one of 'jwks' or 'remote_jwks'" + (inline ? ", not both" : " (the issuer's keys, inline or fetched from its JWKS URL)"));
    return null;
  }
  if (remote) {
    const rr = j.child("remote_jwks");
    if (rr === null) {
      j.fail("remote_jwks", "must be an object {\"uri\": \"https://…\", \"cluster\": \"<cluster>\"}");
      return null;
    }
    const r = parseRemoteJwks(rr, j, issuer);
    if (r === null) return null;
    const p = new JwtProvider(consumer, issuer, auds, []);
    p.remote = r;
    return p;
  }
  const raw = j.raw("jwks");
  if (raw !== null && raw.isString() && parseHttpUrl(raw.s.trim()) !== null) {
    j.fail("jwks", "is a URL; 'jwks' holds the keys themselves - to fetch them, use 'remote_jwks': {\"uri\": \"" + raw.s.trim() + "\", \"cluster\": \"<Envoy cluster that reaches the IdP>\"}");
    return null;
  }
  const keys = parseJwks(j, "jwks");
  if (keys === null) return null;
  return new JwtProvider(consumer, issuer, auds, keys);
}

/** remote_jwks (Envoy's remote_jwks.http_uri + cache_duration), or discovery from the issuer URL. */
function parseRemoteJwks(r: ConfigReader, j: ConfigReader, issuer: string): RemoteJwks | null {
  if (!r.allowOnly(["uri", "discovery", "cluster", "timeout_ms", "cache_duration_s", "kid_refetch_interval_s"])) return null;
  const discovery = r.bool("discovery", false);
  const uri = r.str("uri", "");
  if (!r.ok()) return null;
  if (discovery == r.has("uri")) {
    r.fail("", "needs exactly one of 'uri' or 'discovery': true (the JWKS URL, or the issuer's /.well-known/openid-configuration)");
    return null;
  }
  if (!discovery && parseHttpUrl(uri) === null) {
    r.fail("uri", "must be an absolute http(s) URL without spaces, user info or fragment, got \"" + uri + "\"");
    return null;
  }
  if (discovery && parseHttpUrl(issuer) === null) {
    j.fail("issuer", "must be an http(s) URL for discovery (<issuer>/.well-known/openid-configuration), got \"" + issuer + "\"");
    return null;
  }
  if (!r.require("cluster")) return null;
  const cluster = r.str("cluster", "");
  if (!r.ok()) return null;
  if (cluster.length == 0 || !isVisibleAscii(cluster)) {
    r.fail("cluster", "must name the Envoy cluster that reaches the identity provider (visible ASCII), got \"" + cluster + "\"");
    return null;
  }
  const timeoutMs = <u32>r.int("timeout_ms", 5000, 1, 60000);
  const cacheS = r.int("cache_duration_s", 600, 1, 604800);
  const kidS = r.int("kid_refetch_interval_s", 60, 1, 86400);
  if (!r.ok()) return null;
  return new RemoteJwks(issuer, uri, cluster, discovery, timeoutMs, <f64>cacheS * 1000, <f64>kidS * 1000);
}

/** Envoy (jwt_verify_lib) compares audiences without an http:// or https:// prefix and one trailing '/'. */
export function normalizeAudience(a: string): string {
  let s = a;
  if (s.startsWith("https://")) s = s.substring(8);
  else if (s.startsWith("http://")) s = s.substring(7);
  if (s.endsWith("/")) s = s.substring(0, s.length - 1);
  return s;
}

/** Headers that carry credentials in this config (the consumer header must be none of them). */
function credentialHeaders(cfg: AuthConfig): string[] {
  const out: string[] = ["authorization"];
  const key = cfg.key;
  if (key !== null && key.inHeader) for (let i = 0; i < key.headerNames.length; i++) out.push(key.headerNames[i]);
  const jwt = cfg.jwt;
  if (jwt !== null) for (let i = 0; i < jwt.fromHeaders.length; i++) out.push(jwt.fromHeaders[i].header);
  return out;
}
