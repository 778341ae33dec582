// Auth configuration: consumers (API keys, Basic users, JWT issuers with their JWKS), the method blocks,
// consumer_header, global_auth, and `_rules_` whose only field is `allow`. Everything is validated here,
// once, so that the request path only compares.
import {
  ConfigReader, decimal, framingHeaderProblem, joinStrings, log, LogLevel, parseRuleSet, RuleSet,
  StringTable, writableHeaderProblem,
} from "../../assembly";
import { base64Decode } from "../../assembly/crypto";
import { JwtKey, parseJwks } from "./jwks";
import { parseHttpUrl, RemoteJwks } from "./remote";

/** How a Basic password is stored. */
export namespace PasswordKind {
  // @ts-ignore: decorator
  @inline export const PLAIN: u8 = 0;
  // @ts-ignore: decorator
  @inline export const SHA256: u8 = 1;
  // @ts-ignore: decorator
  @inline export const SHA1: u8 = 2;
}

/** One `user:password` credential; `secret` is the password bytes or its digest. */
export class BasicUser {
  constructor(public user: Uint8Array, public kind: u8, public secret: Uint8Array, public consumer: i32) {}
}

/** The JWT issuer a consumer owns, with its keys and accepted audiences (normalised as Envoy does). */
/**
 * The JWT issuer a consumer owns, with its keys and accepted audiences (normalised as Envoy does). With
 * `remote`, the keys are the issuer's JWKS as last fetched (empty before the first successful fetch).
 */
export class JwtProvider {
  remote: RemoteJwks | null = null;
  constructor(public consumer: i32, public issuer: string, public audiences: string[], public keys: JwtKey[]) {}
}

export class Consumer {
  constructor(public name: string) {}
}

export class KeyAuth {
  /** Lower-cased for headers; as written for the query. */
  headerNames: string[] = [];
  queryNames: string[] = [];
  inHeader: bool = true;
  inQuery: bool = false;
  hideCredentials: bool = false;
  realm: string = "tollgate";
}

export class BasicAuth {
  realm: string = "tollgate";
  hideCredentials: bool = false;
}

export class TokenSource {
  constructor(public header: string, public prefix: string) {}
}

export class ClaimHeader {
  constructor(public claim: string, public header: string, public overrides: bool) {}
}

export class JwtAuth {
  fromHeaders: TokenSource[] = [];
  fromParams: string[] = [];
  fromCookies: string[] = [];
  clockSkewSeconds: f64 = 60;
  requireExp: bool = false;
  keepToken: bool = true;
  claimsToHeaders: ClaimHeader[] = [];
  realm: string = "tollgate";
  cacheSize: i32 = 1024;
}

export class ExtAuth {
  cluster: string = "";
  /** `cluster` encoded, for the callout. */
  clusterBytes: ArrayBuffer = new ArrayBuffer(0);
  authority: string = "";
  pathPrefix: string = "";
  timeoutMs: u32 = 200;
  allowedHeaders: string[] = [];
  allowedUpstreamHeaders: string[] = [];
  allowedClientHeaders: string[] = [];
  failureModeAllow: bool = false;
}

/** The global part of the config. */
export class AuthConfig {
  consumers: Consumer[] = [];
  /** consumer name → index in `consumers`. */
  consumerIds: StringTable = new StringTable();
  /** Flat key table: keys[i] belongs to consumers[keyOwner[i]]. */
  keys: string[] = [];
  keyOwner: i32[] = [];
  basicUsers: BasicUser[] = [];
  providers: JwtProvider[] = [];
  key: KeyAuth | null = null;
  basic: BasicAuth | null = null;
  jwt: JwtAuth | null = null;
  ext: ExtAuth | null = null;
  consumerHeader: string = "x-mse-consumer";
  /** -1 unset, 0 false, 1 true (Higress's table depends on "unset"). */
  globalAuth: i32 = -1;
}

/** What a request's matching rule (or the global config) says: `allow` = null means "no allow list". */
export class Scope {
  /** The allow list hashed (name → index in `allow`). */
  allowSet: StringTable | null = null;
  constructor(public allow: string[] | null) {
    if (allow !== null) {
      const set = new StringTable();
      for (let i = 0; i < allow.length; i++) set.add(unchecked(allow[i]), i);
      this.allowSet = set;
    }
  }
}

/** The parsed plugin: global config plus the rule set that picks a Scope per request. */
export class AuthPlugin {
  constructor(public config: AuthConfig, public rules: RuleSet<Scope>) {}

  /** Whether a request whose scope has no `allow` list must still authenticate (Higress §5.1 table). */
  authWithoutAllow(): bool {
    if (this.config.globalAuth >= 0) return this.config.globalAuth == 1;
    return this.rules.rules.length == 0;
  }
}

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

function parseRealm(r: ConfigReader): string {
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

function parseKeyAuth(r: ConfigReader): KeyAuth {
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

function parseBasicAuth(r: ConfigReader): BasicAuth {
  const b = new BasicAuth();
  if (!r.allowOnly(["realm", "hide_credentials"])) return b;
  b.realm = parseRealm(r);
  b.hideCredentials = r.bool("hide_credentials", false);
  return b;
}

function parseJwtAuth(r: ConfigReader, consumerHeader: string): JwtAuth {
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
function plainField(r: ConfigReader, field: string, v: string): bool {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c <= 0x20 || c == 0x7f) {
      r.fail(field, "must not contain " + (c == 0x0d ? "CR" : c == 0x0a ? "LF" : c == 0 ? "NUL" : c == 0x20 ? "a space" : "a control character") + " (it is sent as the check request's " + (field == "path_prefix" ? ":path" : field == "authority" ? ":authority" : "cluster name") + "), got \"" + v.replaceAll("\r", "\\r").replaceAll("\n", "\\n") + "\"");
      return false;
    }
  }
  return true;
}

function parseExtAuth(r: ConfigReader): ExtAuth {
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

function lowerNames(r: ConfigReader, key: string, def: string[]): string[] {
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

function isVisibleAscii(s: string): bool {
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
