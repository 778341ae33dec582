// The plugin's contexts. The root parses the config, owns the verified-token cache and keeps remote JWKS
// fresh (remote.ts) from its ticks, resuming requests that waited for a refetch. Each stream: which scope
// applies, whether auth is required, which credential decides (decide.ts, over request.ts), whether the
// consumer is allowed, then the upstream headers (consumer, claims) and the optional external
// authorization callout. The checks are pure (credentials.ts, jwt.ts); this file turns verdicts into host calls.
import {
  Action, addHeader, awaitCallout, continueRequest, defineLabeledCounter, getHeader, HttpContext, incrementMetric,
  MapType, metricLabel, nowMillis, randomU32, removeCookie, removeHeader, removeQueryParam, replaceHeader,
  RootContext, setEffectiveContext, setTickPeriod, StringTable,
} from "tollgate/assembly";
import { TokenCache } from "./cache";
import { AuthConfig, AuthPlugin, ExtAuth, JwtAuth, parseAuthConfig } from "./config";
import * as C from "./constants";
import { Auth, Denial, DENIAL_NAMES, denialOf, Found, Source } from "./constants";
import { checkBasic, matchKey } from "./credentials";
import { chooseCredential, Credential } from "./decide";
import { ExtAnswer, markFailureModeAllowed, readCheckResponse, sendCheckRequest } from "./ext-auth";
import { JwtVerdict, verifyJwt } from "./jwt";
import { defineJwksMetrics, RemoteJwks } from "./remote";
import * as R from "./replies";
import { HostRequest } from "./request";

/** The first tick after configure: the first fetch starts there (never from on_configure). */
// @ts-ignore: decorator
@inline const FIRST_TICK_MS: u32 = 10;
/** While a claim awaits confirmation or a request waits for a refetch. */
// @ts-ignore: decorator
@inline const FAST_TICK_MS: u32 = 50;
/** Otherwise (at most; a quarter of the shortest cache_duration_s when that is less). */
// @ts-ignore: decorator
@inline const STEADY_TICK_MS: u32 = 1000;

/** Requests one worker parks for a refetch at most; beyond, a flood of unknown kids gets its 401 at once. */
// @ts-ignore: decorator
@inline const MAX_WAITING: i32 = 256;



export class AuthRoot extends RootContext {
  plugin: AuthPlugin | null = null;
  cache: TokenCache = new TokenCache(0, 0);
  /** The issuers whose keys are fetched (remote_jwks), and this VM's id in their shared-data leases. */
  remotes: RemoteJwks[] = [];
  me: u32 = 0;
  /** Requests waiting for a refetch of their issuer's keys. */
  waiting: AuthStream[] = [];
  private tickMs: u32 = 0;
  private steadyTickMs: u32 = STEADY_TICK_MS;
  // Counter ids (0 = not defined: increments are no-ops). Allowed: one per consumer (config order), and one for
  // a request passed by the authorization service alone (no consumer).
  mAllowed: StaticArray<u32> = new StaticArray<u32>(0);
  mAllowedNoConsumer: u32 = 0;
  mDenied: StaticArray<u32> = new StaticArray<u32>(Denial.COUNT);
  mCacheHit: u32 = 0;
  mCacheMiss: u32 = 0;
  mExtFailureAllowed: u32 = 0;

  onConfigure(config: string): bool {
    const plugin = parseAuthConfig(config);
    // parseAuthConfig has logged the field and the rule at critical.
    if (plugin === null) return false;
    this.plugin = plugin;
    const jwt = plugin.config.jwt;
    const seed = (<u64>randomU32() << 32) | <u64>randomU32();
    this.cache = new TokenCache(jwt !== null ? jwt.cacheSize : 0, seed);
    this.defineMetrics(plugin.config);
    this.startRemote(plugin);
    return true;
  }

  /** The counters this config can move; labels are consumer names and fixed words from config, never request values. */
  private defineMetrics(cfg: AuthConfig): void {
    const ids = new StaticArray<u32>(cfg.consumers.length);
    for (let i = 0; i < cfg.consumers.length; i++) ids[i] = defineLabeledCounter(C.M_ALLOWED, metricLabel(C.L_CONSUMER, cfg.consumers[i].name));
    this.mAllowed = ids;
    for (let i = 0; i < Denial.COUNT; i++) {
      if (this.mDenied[i] == 0) this.mDenied[i] = defineLabeledCounter(C.M_DENIED, metricLabel(C.L_REASON, DENIAL_NAMES[i]));
    }
    const ext = cfg.ext;
    if (ext !== null && cfg.key === null && cfg.basic === null && cfg.jwt === null && this.mAllowedNoConsumer == 0) {
      this.mAllowedNoConsumer = defineLabeledCounter(C.M_ALLOWED, "");
    }
    if (ext !== null && ext.failureModeAllow && this.mExtFailureAllowed == 0) this.mExtFailureAllowed = defineLabeledCounter(C.M_EXT_FAILURE_ALLOWED, "");
    if (cfg.jwt !== null && this.mCacheHit == 0) {
      this.mCacheHit = defineLabeledCounter(C.M_CACHE, metricLabel(C.L_OUTCOME, C.OUTCOME_HIT));
      this.mCacheMiss = defineLabeledCounter(C.M_CACHE, metricLabel(C.L_OUTCOME, C.OUTCOME_MISS));
    }
  }

  /** Counts a request that passed: its consumer's counter, or the no-consumer one (consumer < 0). */
  countAllowed(consumer: i32): void {
    const ids = this.mAllowed;
    incrementMetric(consumer >= 0 && consumer < ids.length ? unchecked(ids[consumer]) : this.mAllowedNoConsumer, 1);
  }

  /** Counts a denial by the details of its reply. */
  countDenied(details: string): void {
    incrementMetric(unchecked(this.mDenied[denialOf(details)]), 1);
  }

  createHttpContext(id: u32): HttpContext | null {
    return new AuthStream(id, this);
  }

  /** After configure: the remote issuers start fetching from the first tick (never from on_configure). */
  private startRemote(plugin: AuthPlugin): void {
    const providers = plugin.config.providers;
    for (let i = 0; i < providers.length; i++) {
      const r = unchecked(providers[i]).remote;
      if (r === null) continue;
      r.rootId = this.id;
      this.remotes.push(r);
      // Refreshes are noticed within a quarter of the shortest cache_duration_s (ticks only read shared data).
      const quarter = <u32>(r.cacheMs / 4);
      if (quarter < this.steadyTickMs) this.steadyTickMs = quarter < FAST_TICK_MS ? FAST_TICK_MS : quarter;
    }
    if (this.remotes.length == 0) return;
    defineJwksMetrics();
    this.me = randomU32() | 1;
    this.setTick(FIRST_TICK_MS);
  }

  private setTick(ms: u32): void {
    if (ms == this.tickMs) return;
    this.tickMs = ms;
    setTickPeriod(ms);
  }

  /** Keys changed in this VM: drop every cached verdict (none may outlive the key that verified it). */
  keysChanged(): void {
    this.cache.clear();
  }

  onTick(): void {
    const now = <f64>nowMillis();
    let changed = false;
    let soon = false;
    for (let i = 0; i < this.remotes.length; i++) {
      const r = unchecked(this.remotes[i]);
      if (r.tick(now, this.me)) changed = true;
      if (r.claimed) soon = true;
    }
    if (changed) this.keysChanged();
    this.wake(now, null);
    this.setTick(soon || this.waiting.length > 0 ? FAST_TICK_MS : this.steadyTickMs);
  }

  onHttpCallResponse(token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void {
    const now = <f64>nowMillis();
    for (let i = 0; i < this.remotes.length; i++) {
      const r = unchecked(this.remotes[i]);
      if (r.token != token) continue;
      if (r.onResponse(token, numHeaders, bodySize, now, this.me)) this.keysChanged();
      if (!r.fetching) this.wake(now, r);
      return;
    }
  }

  /** Parks `s` until its issuer's refetch ends (here or in another VM) or its wait runs out. */
  wait(s: AuthStream, r: RemoteJwks, now: f64): void {
    s.waitingFor = r;
    s.waitGen = r.gen;
    s.waitUntil = now + r.waitMs;
    this.waiting.push(s);
    this.setTick(FAST_TICK_MS);
  }

  /** Forgets a waiting stream that ended (the client went away). */
  unwait(s: AuthStream): void {
    const i = this.waiting.indexOf(s);
    if (i >= 0) this.waiting.splice(i, 1);
    s.waitingFor = null;
  }

  /** Resumes the waiting requests whose refetch ended (`done`: this VM's just did), or whose wait ran out. */
  private wake(now: f64, done: RemoteJwks | null): void {
    if (this.waiting.length == 0) return;
    const keep = new Array<AuthStream>();
    const ready = new Array<AuthStream>();
    for (let i = 0; i < this.waiting.length; i++) {
      const s = unchecked(this.waiting[i]);
      const r = s.waitingFor;
      const over = r === null || r === done || r.gen != s.waitGen || now >= s.waitUntil || !r.fetchInFlight(now);
      if (over) ready.push(s);
      else keep.push(s);
    }
    this.waiting = keep;
    for (let i = 0; i < ready.length; i++) {
      const s = unchecked(ready[i]);
      s.waitingFor = null;
      // BAD_ARGUMENT: the stream is gone.
      if (setEffectiveContext(s.id) == 0) s.resumeJwt(now);
    }
  }
}

export class AuthStream extends HttpContext {
  /** The request view (host reads at most once each) and the credential that decides, for this request. */
  private req: HostRequest = new HostRequest();
  private cred: Credential = new Credential();
  /** While waiting for a JWKS refetch: the issuer, the key generation seen, the deadline, and the request's token and allow list. */
  waitingFor: RemoteJwks | null = null;
  waitGen: u32 = 0;
  waitUntil: f64 = 0;
  private pendingToken: string = "";
  private pendingAllow: StringTable | null = null;
  /** The admitted consumer (index), counted as allowed once the request passes. */
  private consumer: i32 = -1;
  /**
   * The request waits (a JWKS refetch, the authorization service) or was answered. With Envoy's default the
   * body is then held by Envoy itself; with allow_on_headers_stop_iteration Envoy goes on to the body, and a
   * body that continued would release the paused headers: onRequestBody/Trailers pause until proceed().
   */
  private held: bool = false;

  constructor(id: u32, public auth: AuthRoot) {
    super(id, auth);
  }

  onRequestHeaders(numHeaders: u32, endOfStream: bool): u32 {
    const plugin = this.auth.plugin;
    if (plugin === null) return Action.CONTINUE;
    const cfg = plugin.config;
    const scope = plugin.rules.select();
    const allow: StringTable | null = scope !== null ? scope.allowSet : null;
    if (allow === null && !plugin.authWithoutAllow()) {
      // No auth on this route, but the identity header is still ours: a client copy never passes.
      removeHeader(MapType.REQUEST_HEADERS, cfg.consumerHeader);
      return Action.CONTINUE;
    }
    if (cfg.key !== null || cfg.basic !== null || cfg.jwt !== null) {
      // Replied, or waiting for the issuer's keys: either way the request stops here for now.
      if (this.authenticate(cfg, allow) != Auth.PASSED) return this.hold();
    } else {
      removeHeader(MapType.REQUEST_HEADERS, cfg.consumerHeader);
    }
    const ext = cfg.ext;
    if (ext !== null) return this.startExtAuth(ext) == Action.PAUSE ? this.hold() : Action.CONTINUE;
    this.auth.countAllowed(this.consumer);
    return Action.CONTINUE;
  }

  /** The request waits for its decision (or was answered): see `held`. */
  private hold(): u32 {
    this.held = true;
    return Action.PAUSE;
  }

  /** The decision allowed the request: release it (and whatever body waited behind it). */
  private proceed(): void {
    this.held = false;
    continueRequest();
  }

  onRequestBody(bodySize: u32, endOfStream: bool): u32 {
    return this.held ? Action.PAUSE : Action.CONTINUE;
  }

  onRequestTrailers(numTrailers: u32): u32 {
    return this.held ? Action.PAUSE : Action.CONTINUE;
  }

  /** Runs the consumer methods: Auth.PASSED, REPLIED (a local reply was sent) or WAITING (a JWKS refetch). */
  private authenticate(cfg: AuthConfig, allow: StringTable | null): u8 {
    const cred = chooseCredential(cfg, this.req, this.cred);
    let consumer: i32 = -1;
    let claimValues: Array<string | null> | null = null;
    switch (cred.found) {
      case Found.NONE: {
        this.replyMissing(cfg, cred.authorization);
        return Auth.REPLIED;
      }
      case Found.KEY_MULTIPLE: {
        this.auth.countDenied(C.D_KEY_MULTIPLE);
        R.unauthorized(C.D_KEY_MULTIPLE, C.B_KEY_MULTIPLE, [R.keyChallenge(cfg.key!.realm)]);
        return Auth.REPLIED;
      }
      case Found.KEY: {
        consumer = matchKey(cfg, cred.value);
        if (consumer < 0) {
          this.auth.countDenied(C.D_KEY_INVALID);
          R.unauthorized(C.D_KEY_INVALID, C.B_KEY_INVALID, [R.keyChallenge(cfg.key!.realm)]);
          return Auth.REPLIED;
        }
        break;
      }
      case Found.BASIC: {
        const v = checkBasic(cfg, cred.value);
        if (v.consumer < 0) {
          this.auth.countDenied(v.details);
          R.unauthorized(v.details, v.body, [R.basicChallenge(cfg.basic!.realm)]);
          return Auth.REPLIED;
        }
        consumer = v.consumer;
        break;
      }
      default: {
        const jwt = cfg.jwt!;
        const now = <f64>nowMillis();
        let verdict = this.auth.cache.get(cred.value, cred.start, cred.end, now);
        incrementMetric(verdict !== null ? this.auth.mCacheHit : this.auth.mCacheMiss, 1);
        if (verdict === null) {
          // Only a cache miss materialises the token (the header value minus its prefix and spaces).
          const token = cred.token();
          verdict = this.verify(token, cfg, jwt, now);
          const remote = refetchable(verdict);
          // An unknown kid of a fetched JWKS: the issuer may have rotated; wait for one refetch (rate-limited).
          if (remote !== null && this.auth.waiting.length < MAX_WAITING && remote.requestKidRefetch(now, this.auth.me)) {
            this.pendingToken = token;
            this.pendingAllow = allow;
            this.auth.wait(this, remote, now);
            return Auth.WAITING;
          }
          if (verdict.status == 0) this.auth.cache.put(token, verdict);
        }
        if (!replyUnlessValid(verdict, jwt, this.auth)) return Auth.REPLIED;
        consumer = verdict.consumer;
        claimValues = verdict.claimValues;
      }
    }
    return this.admit(cfg, allow, consumer, cred.found, claimValues) ? Auth.PASSED : Auth.REPLIED;
  }

  /** The consumer is authenticated: the allow list, then the upstream headers. False after a local reply. */
  private admit(cfg: AuthConfig, allow: StringTable | null, consumer: i32, method: u8, claimValues: Array<string | null> | null): bool {
    const key = cfg.key;
    const basic = cfg.basic;
    const jwt = cfg.jwt;
    const name = cfg.consumers[consumer].name;
    if (allow !== null && !allow.has(name)) {
      this.auth.countDenied(C.D_NOT_ALLOWED);
      R.forbidden(C.D_NOT_ALLOWED, method == Found.KEY ? C.B_KEY_NOT_ALLOWED : method == Found.BASIC ? C.B_BASIC_NOT_ALLOWED : C.B_JWT_NOT_ALLOWED, "");
      return false;
    }
    this.consumer = consumer;
    // replace = remove every client-sent copy, then set ours.
    replaceHeader(MapType.REQUEST_HEADERS, cfg.consumerHeader, name);
    if (method == Found.KEY && key !== null && key.hideCredentials) this.removeCredential();
    if (method == Found.BASIC && basic !== null && basic.hideCredentials) removeHeader(MapType.REQUEST_HEADERS, "authorization");
    if (method == Found.JWT && jwt !== null) {
      if (claimValues !== null) applyClaims(jwt, claimValues);
      if (!jwt.keepToken) this.removeCredential();
    }
    return true;
  }

  /** A JWT verdict; when the issuer's keys are fetched and did not fit, first the keys another worker may have fetched since this one's last tick. */
  private verify(token: string, cfg: AuthConfig, jwt: JwtAuth, now: f64): JwtVerdict {
    const v = verifyJwt(token, cfg, jwt, now);
    const p = v.provider;
    if (v.status == 0 || p === null) return v;
    const remote = p.remote;
    if (remote === null || !(v.details == C.D_JWKS_UNAVAILABLE || v.details == C.D_JWT_NO_KEY)) return v;
    if (!remote.sync()) return v;
    this.auth.keysChanged();
    return verifyJwt(token, cfg, jwt, now);
  }

  /** The root's call (this stream is the effective context) when the refetch this request waited for ended. */
  resumeJwt(now: f64): void {
    const plugin = this.auth.plugin;
    const token = this.pendingToken;
    this.pendingToken = "";
    if (plugin === null) return;
    const cfg = plugin.config;
    const jwt = cfg.jwt;
    if (jwt === null) return;
    // The root synced the keys; no second refetch for this request.
    const verdict = verifyJwt(token, cfg, jwt, now);
    if (verdict.status == 0) this.auth.cache.put(token, verdict);
    if (!replyUnlessValid(verdict, jwt, this.auth)) return;
    if (!this.admit(cfg, this.pendingAllow, verdict.consumer, Found.JWT, verdict.claimValues)) return;
    const ext = cfg.ext;
    if (ext !== null) {
      if (this.startExtAuth(ext) != Action.CONTINUE) return;
    } else {
      this.auth.countAllowed(this.consumer);
    }
    this.proceed();
  }

  onDone(): void {
    if (this.waitingFor !== null) this.auth.unwait(this);
  }

  /** Removes the credential that decided the request from where it was found. */
  private removeCredential(): void {
    const cred = this.cred;
    if (cred.source == Source.HEADER) {
      removeHeader(MapType.REQUEST_HEADERS, cred.sourceName);
    } else if (cred.source == Source.QUERY) {
      replaceHeader(MapType.REQUEST_HEADERS, ":path", removeQueryParam(this.req.fullPath(), cred.sourceName));
    } else {
      // Every Cookie header, merged: the token goes from all of them (replace leaves one header).
      const cookie = this.req.cookies();
      if (cookie === null) return;
      const rest = removeCookie(cookie, cred.sourceName);
      if (rest.length > 0) replaceHeader(MapType.REQUEST_HEADERS, "cookie", rest);
      else removeHeader(MapType.REQUEST_HEADERS, "cookie");
    }
  }


  /** 401 when no configured method found a credential: one method → its own reply; several → all challenges. */
  private replyMissing(cfg: AuthConfig, authorization: string | null): void {
    const key = cfg.key;
    const basic = cfg.basic;
    const jwt = cfg.jwt;
    const challenges = new Array<string>();
    // No credential, except an Authorization of another scheme where only Basic is configured (bad_credential).
    this.auth.countDenied(key === null && basic !== null && jwt === null && authorization !== null ? C.D_BASIC_SCHEME : C.D_MISSING);
    if (key !== null) challenges.push(R.keyChallenge(key.realm));
    if (basic !== null) challenges.push(R.basicChallenge(basic.realm));
    if (jwt !== null) challenges.push(R.bearerChallenge(jwt.realm, false));
    if (challenges.length > 1) {
      R.unauthorized(C.D_MISSING, C.B_MISSING, challenges);
    } else if (key !== null) {
      R.unauthorized(C.D_KEY_MISSING, C.B_KEY_MISSING, challenges);
    } else if (basic !== null) {
      if (authorization !== null) R.unauthorized(C.D_BASIC_SCHEME, C.B_BASIC_SCHEME, challenges);
      else R.unauthorized(C.D_BASIC_MISSING, C.B_BASIC_MISSING, challenges);
    } else {
      R.unauthorized(C.D_JWT_MISSING, C.B_JWT_MISSING, challenges);
    }
  }

  // ---- external authorization (ext-auth.ts) ----

  private startExtAuth(ext: ExtAuth): u32 {
    const token = sendCheckRequest(ext);
    if (token == 0) return this.extFailed(ext, false) ? Action.CONTINUE : Action.PAUSE;
    awaitCallout(token, this.id);
    return Action.PAUSE;
  }

  /** Fail open (true: caller continues) or send the error reply (false). */
  private extFailed(ext: ExtAuth, resume: bool): bool {
    if (ext.failureModeAllow) {
      incrementMetric(this.auth.mExtFailureAllowed, 1);
      markFailureModeAllowed();
      if (resume) this.proceed();
      return true;
    }
    this.auth.countDenied(C.D_EXT_ERROR);
    R.externalError();
    return false;
  }

  onHttpCallResponse(token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void {
    const plugin = this.auth.plugin;
    if (plugin === null) return;
    const ext = plugin.config.ext;
    if (ext === null) return;
    const answer = readCheckResponse(ext, numHeaders, bodySize);
    if (answer == ExtAnswer.ALLOWED) {
      this.auth.countAllowed(this.consumer);
      this.proceed();
    } else if (answer == ExtAnswer.FAILED) {
      this.extFailed(ext, true);
    } else {
      this.auth.countDenied(C.D_EXT_DENIED);
    }
  }
}

/** The remote issuer whose keys may be refetched for this verdict (no key for the token's kid / alg), or null. */
function refetchable(v: JwtVerdict): RemoteJwks | null {
  const p = v.provider;
  if (p === null || v.details != C.D_JWT_NO_KEY) return null;
  return p.remote;
}

/** The 401 / 403 reply of a failed verdict (false, counted), or true for a valid one. */
function replyUnlessValid(v: JwtVerdict, jwt: JwtAuth, root: AuthRoot): bool {
  if (v.status != 0) root.countDenied(v.details);
  if (v.status == 401) {
    R.unauthorized(v.details, v.body, [R.bearerChallenge(jwt.realm, true)]);
    return false;
  }
  if (v.status != 0) {
    R.forbidden(v.details, v.body, R.bearerChallenge(jwt.realm, true));
    return false;
  }
  return true;
}

/** claims_to_headers: override replaces (and, with the claim absent, removes a client copy); otherwise an existing header wins. */
function applyClaims(jwt: JwtAuth, values: Array<string | null>): void {
  const n = min(jwt.claimsToHeaders.length, values.length);
  for (let i = 0; i < n; i++) {
    const c = unchecked(jwt.claimsToHeaders[i]);
    const v = unchecked(values[i]);
    if (c.overrides) {
      if (v !== null) replaceHeader(MapType.REQUEST_HEADERS, c.header, v);
      else removeHeader(MapType.REQUEST_HEADERS, c.header);
    } else if (v !== null && getHeader(MapType.REQUEST_HEADERS, c.header) === null) {
      addHeader(MapType.REQUEST_HEADERS, c.header, v);
    }
  }
}
