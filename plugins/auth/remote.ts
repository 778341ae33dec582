// Remote JWKS (Envoy jwt_authn `remote_jwks`, Istio `jwksUri`): the issuer's keys fetched over
// proxy_http_call from the root context on a tick, refreshed every cache_duration_s, and shared by every
// worker VM of the process through shared data, so the IdP sees one fetch per refresh, not one per worker.
//
// Shared data, per source (cluster + URI, or cluster + issuer for discovery):
//   <key>|s  small state: next refresh time, failure count, earliest unknown-kid refetch, the lease (owner,
//            expiry) that decides which VM fetches, the document generation, the discovered jwks_uri;
//   <key>|d  the last good JWKS document, as fetched (each VM parses it once per generation).
// Every transition of the state is a CAS write, so one VM wins each lease. Shared data has no atomic
// create: a VM that finds no state writes a claim and confirms it on its next tick before fetching, so two
// VMs racing at start cannot both fetch.
import {
  awaitCallout, BufferType, ConfigReader, decimal, defineLabeledCounter, ErrorSink, incrementMetric, getBuffer, getHeader, getSharedData, httpCall, log, LogLevel, MapType,
  metricLabel, parseJson, setSharedData,
} from "tollgate/assembly";
import * as C from "./constants";
import { JwtKey, parseJwk } from "./jwks";

/** Largest JWKS (or discovery) document accepted; a bigger one is refused and the cached keys stay. */
// @ts-ignore: decorator
@inline export const MAX_DOCUMENT_BYTES: u32 = 256 * 1024;
/** How much of an error response's body goes into the failure log line. */
// @ts-ignore: decorator
@inline const ERROR_BODY_BYTES: u32 = 160;
/** Most keys in one JWKS. */
// @ts-ignore: decorator
@inline const MAX_KEYS: i32 = 64;
/** First retry after a failed fetch; doubles per failure up to cache_duration (and MAX_BACKOFF_MS). */
// @ts-ignore: decorator
@inline const FIRST_BACKOFF_MS: f64 = 1000;
// @ts-ignore: decorator
@inline const MAX_BACKOFF_MS: f64 = 300000;

/**
 * Counters (plugins/README.md "Metrics"): tollgate_auth_jwks_fetches_total{outcome="ok"|"failed"} and
 * tollgate_auth_jwks_kid_refetches_total (refetches asked by an unknown kid).
 */
let mFetchOk: u32 = 0;
let mFetchFailed: u32 = 0;
let mKidRefetch: u32 = 0;

/** Defines the counters once per VM (the host aggregates them across workers by name). */
export function defineJwksMetrics(): void {
  if (mFetchOk != 0) return;
  mFetchOk = defineLabeledCounter(C.M_JWKS_FETCHES, metricLabel(C.L_OUTCOME, C.OUTCOME_OK));
  mFetchFailed = defineLabeledCounter(C.M_JWKS_FETCHES, metricLabel(C.L_OUTCOME, C.OUTCOME_FAILED));
  mKidRefetch = defineLabeledCounter(C.M_JWKS_KID_REFETCHES, "");
}

/** Where a fetch is. */
namespace Phase {
  // @ts-ignore: decorator
  @inline export const IDLE: u8 = 0;
  // @ts-ignore: decorator
  @inline export const DISCOVERY: u8 = 1;
  // @ts-ignore: decorator
  @inline export const JWKS: u8 = 2;
}

/** An http(s) URL split into what a proxy_http_call needs. */
export class HttpUrl {
  constructor(public authority: string, public path: string) {}
}

/** `s` as an absolute http(s) URL without userinfo or fragment; null when it is not one. */
export function parseHttpUrl(s: string): HttpUrl | null {
  let rest: string;
  if (s.startsWith("https://")) rest = s.substring(8);
  else if (s.startsWith("http://")) rest = s.substring(7);
  else return null;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c == 0x23) return null;
  }
  let slash = rest.indexOf("/");
  const q = rest.indexOf("?");
  if (q >= 0 && (slash < 0 || q < slash)) slash = q;
  const authority = slash < 0 ? rest : rest.substring(0, slash);
  if (authority.length == 0 || authority.indexOf("@") >= 0) return null;
  let path = slash < 0 ? "/" : rest.substring(slash);
  if (path.startsWith("?")) path = "/" + path;
  return new HttpUrl(authority.toLowerCase(), path);
}

/** The shared part of a source's fetch state. */
class SharedState {
  found: bool = false;
  cas: u32 = 0;
  nextFetchAt: f64 = 0;
  failures: i32 = 0;
  kidRefetchAt: f64 = 0;
  owner: u32 = 0;
  leaseUntil: f64 = 0;
  gen: u32 = 0;
  jwksUri: string = "";

  encode(): ArrayBuffer {
    const text = "1\n" + decimal(<i64>this.nextFetchAt) + "\n" + decimal(<i64>this.failures) + "\n" + decimal(<i64>this.kidRefetchAt) + "\n" +
      decimal(<i64>this.owner) + "\n" + decimal(<i64>this.leaseUntil) + "\n" + decimal(<i64>this.gen) + "\n" + this.jwksUri;
    return String.UTF8.encode(text, false);
  }
}

function readState(key: string): SharedState {
  const out = new SharedState();
  const v = getSharedData(key);
  if (!v.found) return out;
  out.cas = v.cas;
  const parts = String.UTF8.decode(v.value, false).split("\n");
  // Another version's layout (or garbage) reads as "present, nothing known": refreshed at once.
  out.found = true;
  if (parts.length != 8 || parts[0] != "1") return out;
  out.nextFetchAt = num(parts[1]);
  out.failures = <i32>num(parts[2]);
  out.kidRefetchAt = num(parts[3]);
  out.owner = <u32>num(parts[4]);
  out.leaseUntil = num(parts[5]);
  out.gen = <u32>num(parts[6]);
  out.jwksUri = parts[7];
  return out;
}

/** A non-negative decimal integer, 0 for anything else. */
function num(s: string): f64 {
  let n: f64 = 0;
  if (s.length == 0 || s.length > 16) return 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return 0;
    n = n * 10 + <f64>(c - 0x30);
  }
  return n;
}

/** Result of a JWKS document check: the keys, or why it was refused. */
export class JwksDocument {
  keys: JwtKey[] = [];
  error: string = "";
  skipped: i32 = 0;
}

/**
 * A fetched JWKS, leniently: keys tollgate cannot use (other algorithms, curves, encryption keys, weak RSA)
 * are skipped, as Envoy skips them; the document is refused when it is not a JWKS, is too large, has
 * private key material, or leaves no usable signing key.
 */
export function parseJwksDocument(text: string): JwksDocument {
  const out = new JwksDocument();
  const why = new ErrorSink();
  const doc = parseJson(text, why);
  if (doc === null) {
    out.error = "is not valid JSON: " + why.message;
    return out;
  }
  const keys = doc.get("keys");
  if (!doc.isObject() || keys === null || !keys.isArray()) {
    out.error = "is not a JWKS (an object with a 'keys' array)";
    return out;
  }
  if (keys.items.length > MAX_KEYS) {
    out.error = "has " + decimal(<i64>keys.items.length) + " keys (at most " + decimal(<i64>MAX_KEYS) + ")";
    return out;
  }
  for (let i = 0; i < keys.items.length; i++) {
    const item = unchecked(keys.items[i]);
    const r = new ConfigReader(item, "keys[" + decimal(<i64>i) + "]", new ErrorSink());
    const k = parseJwk(r, false);
    if (k !== null) out.keys.push(k);
    else {
      // Private key material is an IdP misconfiguration worth refusing the whole document for.
      if (r.error.indexOf("private key material") >= 0) {
        out.error = "publishes private key material (" + r.error + ")";
        out.keys = [];
        return out;
      }
      out.skipped++;
    }
  }
  if (out.keys.length == 0) out.error = "has no usable signing key (HS256, RS256 with 2048-4096 bits, ES256 on P-256)";
  return out;
}

/** One issuer's remote JWKS in this VM: the configuration, the keys last parsed, the fetch in flight. */
export class RemoteJwks {
  /** What to fetch: the JWKS URL, or the issuer's discovery document. */
  url: HttpUrl;
  /** Shared-data keys. */
  stateKey: string;
  docKey: string;
  /** Generation of the document parsed into `keys` (0 = none yet). */
  gen: u32 = 0;
  loaded: bool = false;
  keys: JwtKey[] = [];
  /** This VM's fetch. */
  phase: u8 = Phase.IDLE;
  token: u32 = 0;
  /** Set when this VM wrote a claim on absent state: confirmed on the next tick. */
  claimed: bool = false;
  /** Keys of the last document that tollgate does not verify (other algorithms, curves, sizes, use: enc). */
  skipped: i32 = 0;
  fetchUrl: string = "";
  /** The root context that receives this VM's fetch responses. */
  rootId: u32 = 0;

  constructor(
    public issuer: string,
    public uri: string,
    public cluster: string,
    public discovery: bool,
    public timeoutMs: u32,
    public cacheMs: f64,
    public kidRefetchMs: f64,
  ) {
    const u = parseHttpUrl(discovery ? discoveryUrl(issuer) : uri);
    this.url = u !== null ? u : new HttpUrl("", "/");
    // The issuer is part of the key: two issuers never share a lease (one VM's id owns both otherwise).
    const base = "tollgate.auth.jwks|" + cluster + "|" + issuer + "|" + (discovery ? "discovery" : uri);
    this.stateKey = base + "|s";
    this.docKey = base + "|d";
  }

  /** How long a lease lasts: both requests of a discovery fetch, plus a second. */
  private leaseMs(): f64 {
    return <f64>this.timeoutMs * (this.discovery ? 2 : 1) + 1000;
  }

  /**
   * Brings the keys up to the shared generation; true when they changed (the caller drops cached verdicts:
   * none may outlive the key that verified it).
   */
  sync(): bool {
    const s = readState(this.stateKey);
    if (!s.found || s.gen == 0 || s.gen == this.gen) return false;
    return this.load(s.gen);
  }

  private load(gen: u32): bool {
    const v = getSharedData(this.docKey);
    if (!v.found) return false;
    const doc = parseJwksDocument(String.UTF8.decode(v.value, false));
    // Written only after the same check passed; a failure here means the bytes changed under us.
    if (doc.error.length > 0) return false;
    this.keys = doc.keys;
    this.skipped = doc.skipped;
    this.gen = gen;
    this.loaded = true;
    return true;
  }

  /** This VM is fetching. */
  get fetching(): bool {
    return this.phase != Phase.IDLE;
  }

  /** How long a request may wait for a refetch before it is answered with the keys at hand. */
  get waitMs(): f64 {
    return this.leaseMs() + 1000;
  }

  /** A fetch by any VM is in flight (its lease is live). */
  fetchInFlight(now: f64): bool {
    if (this.phase != Phase.IDLE) return true;
    const s = readState(this.stateKey);
    return s.found && s.owner != 0 && now < s.leaseUntil;
  }

  /**
   * The refresh schedule, on every tick: starts a fetch when one is due and this VM wins the lease.
   * Returns true when this VM's keys changed.
   */
  tick(now: f64, me: u32): bool {
    const changed = this.sync();
    if (this.phase != Phase.IDLE) return changed;
    const s = readState(this.stateKey);
    if (!s.found) {
      // No atomic create: write a claim, fetch only if it is still ours on the next tick.
      s.owner = me;
      s.leaseUntil = now + this.leaseMs();
      setSharedData(this.stateKey, s.encode(), 0);
      this.claimed = true;
      return changed;
    }
    if (this.claimed) {
      this.claimed = false;
      if (s.owner == me) this.begin(s, now, me, false);
      return changed;
    }
    if (now >= s.nextFetchAt && (s.owner == 0 || now >= s.leaseUntil)) this.begin(s, now, me, false);
    return changed;
  }

  /**
   * A token's kid is not among the keys: refetch now unless one was done within kid_refetch_interval_s.
   * True when a fetch is (now) in flight, so the request may wait for it.
   */
  requestKidRefetch(now: f64, me: u32): bool {
    if (this.phase != Phase.IDLE) return true;
    const s = readState(this.stateKey);
    if (!s.found) return false;
    if (s.owner != 0 && now < s.leaseUntil) return true;
    if (now < s.kidRefetchAt) return false;
    // Lost the lease to another VM a moment ago: its fetch will do.
    return this.begin(s, now, me, true) || this.fetchInFlight(now);
  }

  /** Takes the lease with a CAS write and sends the first request; false when another VM won. */
  private begin(s: SharedState, now: f64, me: u32, kid: bool): bool {
    s.owner = me;
    s.leaseUntil = now + this.leaseMs();
    if (kid) s.kidRefetchAt = now + this.kidRefetchMs;
    if (setSharedData(this.stateKey, s.encode(), s.cas) != 0) return false;
    if (kid) incrementMetric(mKidRefetch, 1);
    if (this.discovery && s.jwksUri.length == 0) {
      this.send(Phase.DISCOVERY, this.url, discoveryUrl(this.issuer), now, me);
    } else {
      const target = this.discovery ? s.jwksUri : this.uri;
      const u = parseHttpUrl(target);
      if (u === null) {
        this.finish(now, me, "", "", "the discovered jwks_uri is not an http(s) URL: \"" + target + "\"");
        return false;
      }
      this.send(Phase.JWKS, u, target, now, me);
    }
    return this.phase != Phase.IDLE;
  }

  private send(phase: u8, u: HttpUrl, display: string, now: f64, me: u32): void {
    this.fetchUrl = display;
    const headers: Array<string[]> = [[":method", "GET"], [":path", u.path], [":authority", u.authority], ["accept", "application/json"]];
    const token = httpCall(this.cluster, headers, "", this.timeoutMs);
    if (token == 0) {
      this.finish(now, me, "", "", "the host refused the call to cluster \"" + this.cluster + "\" (unknown cluster or no healthy host)");
      return;
    }
    awaitCallout(token, this.rootId);
    this.phase = phase;
    this.token = token;
  }

  /** The response to this VM's call `token` (on the root context). True when this VM's keys changed. */
  onResponse(token: u32, numHeaders: u32, bodySize: u32, now: f64, me: u32): bool {
    if (token != this.token || this.phase == Phase.IDLE) return false;
    const phase = this.phase;
    this.phase = Phase.IDLE;
    this.token = 0;
    if (numHeaders == 0) return this.finish(now, me, "", "", "the request failed (connection reset or refused)");
    const status = getHeader(MapType.HTTP_CALL_RESPONSE_HEADERS, ":status");
    if (status === null || status != "200") {
      // The start of the body says why (Envoy's "upstream connect error …", the IdP's error page).
      const n = bodySize < ERROR_BODY_BYTES ? bodySize : ERROR_BODY_BYTES;
      const body = n > 0 ? printable(String.UTF8.decode(getBuffer(BufferType.HTTP_CALL_RESPONSE_BODY, 0, n), false)) : "";
      return this.finish(now, me, "", "", "HTTP status " + (status !== null ? status : "(none)") + " from " + this.fetchUrl + (body.length > 0 ? " (\"" + body + "\")" : ""));
    }
    if (bodySize > MAX_DOCUMENT_BYTES) {
      return this.finish(now, me, "", "", "the document from " + this.fetchUrl + " is " + decimal(<i64>bodySize) + " bytes (at most " + decimal(<i64>MAX_DOCUMENT_BYTES) + ")");
    }
    const text = String.UTF8.decode(getBuffer(BufferType.HTTP_CALL_RESPONSE_BODY, 0, bodySize), false);
    if (phase == Phase.DISCOVERY) {
      const d = checkDiscovery(text, this.issuer);
      if (d.error.length > 0) return this.finish(now, me, "", "", "the discovery document from " + this.fetchUrl + " " + d.error);
      const jwksUri = d.jwksUri;
      const u = parseHttpUrl(jwksUri);
      if (u === null) return this.finish(now, me, "", "", "the discovery document's jwks_uri is not an http(s) URL: \"" + jwksUri + "\"");
      this.send(Phase.JWKS, u, jwksUri, now, me);
      if (this.phase == Phase.IDLE) return false;
      // Remember the jwks_uri now so a failing JWKS fetch does not rediscover on every retry.
      this.rememberJwksUri(jwksUri);
      return false;
    }
    const doc = parseJwksDocument(text);
    if (doc.error.length > 0) return this.finish(now, me, "", "", "the JWKS from " + this.fetchUrl + " " + doc.error);
    return this.finish(now, me, text, this.fetchUrl, "");
  }

  private rememberJwksUri(uri: string): void {
    for (let i = 0; i < 4; i++) {
      const s = readState(this.stateKey);
      s.jwksUri = uri;
      if (setSharedData(this.stateKey, s.encode(), s.cas) == 0) return;
    }
  }

  /**
   * Ends this VM's fetch: on success (`doc` non-empty) publishes the document and the next refresh time;
   * on failure schedules a retry with backoff and logs the first failure of a burst. Releases the lease.
   * True when this VM's keys changed.
   */
  private finish(now: f64, me: u32, doc: string, from: string, error: string): bool {
    const ok = error.length == 0;
    // The document first: a VM that reads the new generation from the state finds its bytes.
    if (ok) setSharedData(this.docKey, String.UTF8.encode(doc, false), 0);
    let published: u32 = 0;
    let failures = 0;
    let recovered = 0;
    let written = false;
    for (let attempt = 0; attempt < 8 && !written; attempt++) {
      const s = readState(this.stateKey);
      // The lease expired and another VM took over: its result wins, this one is dropped.
      if (s.found && s.owner != me && s.owner != 0) return false;
      s.owner = 0;
      s.leaseUntil = 0;
      if (ok) {
        recovered = s.failures;
        s.failures = 0;
        s.gen = s.gen + 1 == 0 ? 1 : s.gen + 1;
        s.nextFetchAt = now + this.cacheMs;
        published = s.gen;
      } else {
        s.failures++;
        failures = s.failures;
        s.nextFetchAt = now + backoff(s.failures, this.cacheMs);
        // A discovered jwks_uri that fails is discovered again next time.
        if (this.discovery) s.jwksUri = "";
      }
      written = setSharedData(this.stateKey, s.encode(), s.cas) == 0;
    }
    if (!written) return false;
    incrementMetric(ok ? mFetchOk : mFetchFailed, 1);
    if (!ok) {
      if (failures == 1) {
        const kept = this.loaded ? "keeping the " + decimal(<i64>this.keys.length) + " cached keys" : "no keys yet: its tokens get 401 auth.jwks_unavailable";
        log(LogLevel.WARN, "JWKS fetch for issuer \"" + this.issuer + "\" failed: " + error + "; " + kept + "; retrying with backoff (logged once per failure burst)");
      }
      return false;
    }
    if (recovered > 0) {
      log(LogLevel.INFO, "JWKS fetch for issuer \"" + this.issuer + "\" recovered after " + decimal(<i64>recovered) + " failed attempts");
    }
    const changed = this.load(published);
    if (changed) {
      const skipped = this.skipped > 0 ? " (" + decimal(<i64>this.skipped) + " skipped: algorithms, curves or sizes tollgate does not verify, or use: enc)" : "";
      log(LogLevel.INFO, "JWKS for issuer \"" + this.issuer + "\" from " + from + ": " + decimal(<i64>this.keys.length) + " keys" + skipped);
    }
    return changed;
  }
}

/** `s` with control characters (CR, LF, …) and quotes replaced by spaces: one log line, quoted. */
function printable(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c < 0x20 || c == 0x7f || c == 0x22 ? " " : String.fromCharCode(c);
  }
  return out.trim();
}

/** The retry delay after `failures` consecutive failures: 1 s, 2 s, 4 s, … up to the refresh period. */
function backoff(failures: i32, cacheMs: f64): f64 {
  let d = FIRST_BACKOFF_MS;
  for (let i = 1; i < failures && d < MAX_BACKOFF_MS; i++) d *= 2;
  return Math.min(d, Math.min(cacheMs, MAX_BACKOFF_MS));
}

/** <issuer>/.well-known/openid-configuration (OpenID Connect Discovery 1.0 §4). */
export function discoveryUrl(issuer: string): string {
  return (issuer.endsWith("/") ? issuer.substring(0, issuer.length - 1) : issuer) + "/.well-known/openid-configuration";
}

/** A discovery document's jwks_uri, or why the document is refused. */
class Discovered {
  jwksUri: string = "";
  error: string = "";
}

function checkDiscovery(text: string, issuer: string): Discovered {
  const out = new Discovered();
  const doc = parseJson(text, new ErrorSink());
  if (doc === null || !doc.isObject()) {
    out.error = "is not a JSON object";
    return out;
  }
  const iss = doc.get("issuer");
  // OpenID Connect Discovery §4.3: the document's issuer must be exactly the one configured.
  if (iss === null || !iss.isString() || iss.s != issuer) {
    out.error = "names another issuer (" + (iss !== null && iss.isString() ? "\"" + iss.s + "\"" : "none") + ", expected \"" + issuer + "\")";
    return out;
  }
  const uri = doc.get("jwks_uri");
  if (uri === null || !uri.isString()) out.error = "has no jwks_uri";
  else out.jwksUri = uri.s;
  return out;
}
