// The plugin's contexts: the root parses the config once and owns the store, the limiter and the metrics;
// each stream reads its key values (request.ts), asks the decision (decide.ts) and turns the outcome into
// host calls (replies.ts). A request that global rules apply to waits for one ShouldRateLimit call to the
// rate limit service (rls.ts encodes it) after the local rules allowed it without consuming.
import {
  Action, addHeader, awaitCallout, BufferType, ConfigReader, decimal, defineLabeledCounter, encode, framingHeaderProblem,
  getBuffer, getStatusMessage, grpcCallEnc, GrpcStatus, HttpContext, incrementMetric, log, LogLevel, MapType, metricLabel, nowMillis,
  PairsBuilder, parseRuleSet, removeHeader, replaceHeader, RootContext, RuleSet, continueRequest,
  toLowerAscii, writableHeaderProblem,
} from "tollgate/assembly";
import { HEADERS_NONE, LimitRule, parseConfig, RateLimitConfig, resetInheritedRls, RlsConfig } from "./config";
import {
  CAS_EXHAUSTED_LOG, L_OUTCOME, L_RULE, M_CAS_EXHAUSTED, M_EVICTIONS, M_REQUESTS, M_RLS_CALLS, M_RLS_DENIED, OUTCOME_ALLOWED,
  OUTCOME_FAILED, OUTCOME_OK, OUTCOME_OVER_LIMIT, OUTCOME_REJECTED, OUTCOME_SHADOW_REJECTED, PLUGIN, RLS_FAILED_CLOSED,
  RLS_FAILED_LOG, RLS_FAILED_OPEN, RLS_MALFORMED, RLS_METHOD, RLS_NO_MESSAGE, RLS_REFUSED, RLS_SERVICE, RLS_STATUS,
  RLS_TOO_LARGE, SHADOW_HEADER, STORE_ERROR_LOG,
} from "./constants";
import { applyGlobal, GlobalCall, globalDescriptors, keyValues, Limiter, LimiterEvents, Outcome } from "./decide";
import { addRateLimitHeaders, rateLimitServiceFailed, tooManyRequests } from "./replies";
import { HostRequest } from "./request";
import { decodeRateLimitResponse, Descriptor, encodeRateLimitRequest, MAX_STATUSES, RlsResponse } from "./rls";
import { SharedDataStore } from "./store";

/** A failing service is reported at most once per this many ms per VM (with the count since), not per request. */
// @ts-ignore: decorator
@inline const FAILURE_LOG_INTERVAL_MS: u64 = 60000;
/** Larger responses are refused unread (RLS_TOO_LARGE): the service sends a few dozen bytes per descriptor. */
// @ts-ignore: decorator
@inline const MAX_RESPONSE_BYTES: u32 = 65536;

const K_SERVICE = encode(RLS_SERVICE);
const K_METHOD = encode(RLS_METHOD);
const NO_METADATA = new PairsBuilder();

// @ts-ignore: decorator
@inline const MAX_RULES: i32 = 16;

/** The decision's events as metrics (ids defined at configure) and log lines. */
class MetricEvents extends LimiterEvents {
  allowed(rule: LimitRule, evicted: bool): void {
    incrementMetric(rule.mAllowed, 1);
    if (evicted) incrementMetric(rule.mEvictions, 1);
  }

  rejected(rule: LimitRule, shadow: bool): void {
    incrementMetric(shadow ? rule.mShadowRejected : rule.mRejected, 1);
  }

  storeError(rule: LimitRule): void {
    log(LogLevel.ERROR, STORE_ERROR_LOG + rule.name);
    incrementMetric(rule.mCasExhausted, 1);
  }

  casExhausted(rule: LimitRule, refund: bool): void {
    if (!refund) log(LogLevel.WARN, CAS_EXHAUSTED_LOG + rule.name);
    incrementMetric(rule.mCasExhausted, 1);
  }
}

export class RateLimitRoot extends RootContext {
  ruleSet: RuleSet<RateLimitConfig> | null = null;
  /** One descriptor (one entry) per possible global rule, refilled per call; the response is decoded in place. */
  descriptors: Descriptor[] = [];
  response: RlsResponse = new RlsResponse();
  /** The decoded answer's outcome, before it is merged into the stream's. */
  global: Outcome = new Outcome();
  // Plugin-wide service counters (defined when some config has global rules).
  mRlsOk: u32 = 0;
  mRlsOverLimit: u32 = 0;
  mRlsFailed: u32 = 0;
  mRlsDenied: u32 = 0;
  /** When this VM last logged a service failure (0 = never), and the failures it has not reported since. */
  lastFailureLog: u64 = 0;
  unreported: u32 = 0;
  store: SharedDataStore = new SharedDataStore();
  limiter: Limiter = new Limiter(this.store, new MetricEvents(), MAX_RULES);
  /** One array of key values per VM: a VM runs one callback at a time. */
  values: Array<string | null> = new Array<string | null>(MAX_RULES);

  onConfigure(config: string): bool {
    resetInheritedRls();
    const set = parseRuleSet<RateLimitConfig>(config, (r: ConfigReader): RateLimitConfig | null => parseConfig(r));
    if (set === null) return false;
    let global = false;
    if (set.global !== null) global = prepare(this.store, set.global!);
    for (let i = 0; i < set.rules.length; i++) global = prepare(this.store, set.rules[i].config) || global;
    if (global && this.mRlsFailed == 0) {
      this.mRlsOk = defineLabeledCounter(M_RLS_CALLS, metricLabel(L_OUTCOME, OUTCOME_OK));
      this.mRlsOverLimit = defineLabeledCounter(M_RLS_CALLS, metricLabel(L_OUTCOME, OUTCOME_OVER_LIMIT));
      this.mRlsFailed = defineLabeledCounter(M_RLS_CALLS, metricLabel(L_OUTCOME, OUTCOME_FAILED));
      this.mRlsDenied = defineLabeledCounter(M_RLS_DENIED, "");
      for (let i = this.descriptors.length; i < MAX_STATUSES; i++) {
        const d = new Descriptor();
        d.keys.push("");
        d.values.push("");
        this.descriptors.push(d);
      }
    }
    this.ruleSet = set;
    return true;
  }

  /** Counts a failed service call and logs it, at most once per FAILURE_LOG_INTERVAL_MS on this VM. */
  serviceFailed(rls: RlsConfig, reason: string): void {
    incrementMetric(this.mRlsFailed, 1);
    const now = nowMillis();
    if (this.lastFailureLog != 0 && now - this.lastFailureLog < FAILURE_LOG_INTERVAL_MS) {
      this.unreported++;
      return;
    }
    let line = RLS_FAILED_LOG + "cluster \"" + rls.cluster + "\": " + reason + (rls.failureModeDeny ? RLS_FAILED_CLOSED : RLS_FAILED_OPEN);
    if (this.unreported > 0) line += "; " + decimal(<i64>this.unreported) + " more failed calls since the last report";
    log(LogLevel.WARN, line);
    this.lastFailureLog = now == 0 ? 1 : now;
    this.unreported = 0;
  }

  createHttpContext(id: u32): HttpContext | null {
    if (this.ruleSet === null) return null;
    return new RateLimitStream(id, this);
  }
}

/** Defines a config's metrics and creates its local rules' shared-data slots; true when it has global rules. */
function prepare(store: SharedDataStore, cfg: RateLimitConfig): bool {
  for (let i = 0; i < cfg.rules.length; i++) {
    const rule = cfg.rules[i];
    // Rule names are [A-Za-z0-9_-]{1,64} (config.ts): safe label values as they are.
    const r = metricLabel(L_RULE, rule.name);
    rule.mAllowed = defineLabeledCounter(M_REQUESTS, metricLabel(L_OUTCOME, OUTCOME_ALLOWED) + r);
    rule.mRejected = defineLabeledCounter(M_REQUESTS, metricLabel(L_OUTCOME, OUTCOME_REJECTED) + r);
    rule.mShadowRejected = defineLabeledCounter(M_REQUESTS, metricLabel(L_OUTCOME, OUTCOME_SHADOW_REJECTED) + r);
    if (rule.global) continue;
    rule.mCasExhausted = defineLabeledCounter(M_CAS_EXHAUSTED, r);
    rule.mEvictions = defineLabeledCounter(M_EVICTIONS, r);
    store.prepare(rule);
  }
  return cfg.globalRules > 0;
}

class RateLimitStream extends HttpContext {
  /**
   * The request view is the stream's, not the root's: what it read (a 60 KiB Cookie header) is read once per
   * request and is garbage when the collection after this stream runs.
   */
  request: HostRequest = new HostRequest();
  cfg: RateLimitConfig | null = null;
  outcome: Outcome = new Outcome();
  /** The service call this request waits for (global rules), and which rule each descriptor stands for. */
  call: GlobalCall | null = null;
  waiting: bool = false;
  /** response_headers_to_add of an OK answer (name, value, …), added to the response. */
  serviceHeaders: string[] | null = null;

  onRequestHeaders(numHeaders: u32, endOfStream: bool): u32 {
    // The shadow header is ours on every request, shadow mode or not, configured route or not: an upstream
    // that reads it must never see a client-sent copy.
    removeHeader(MapType.REQUEST_HEADERS, SHADOW_HEADER);
    const root = changetype<RateLimitRoot>(this.root);
    const cfg = root.ruleSet!.select();
    if (cfg === null || cfg.rules.length == 0) return Action.CONTINUE;
    this.cfg = cfg;
    keyValues(cfg, this.request, root.values);
    if (cfg.globalRules == 0) return this.local(cfg, true) ? Action.CONTINUE : Action.PAUSE;
    let call = this.call;
    if (call === null) this.call = call = new GlobalCall();
    globalDescriptors(cfg, root.values, call, root.descriptors);
    if (call.count == 0) return this.local(cfg, true) ? Action.CONTINUE : Action.PAUSE;
    // Local rules first, consuming nothing: a request they reject never reaches the service.
    if (!this.local(cfg, false)) return Action.PAUSE;
    if (this.outcome.rejected >= 0) return Action.CONTINUE; // shadow mode: marked, passes, consumes nothing
    const rls = cfg.rls!;
    const message = encodeRateLimitRequest(rls.domain, root.descriptors, call.count, 1);
    const token = grpcCallEnc(rls.upstream, K_SERVICE, K_METHOD, NO_METADATA, message, rls.timeoutMs);
    if (token == 0) return this.failed(cfg, RLS_REFUSED, false) ? Action.CONTINUE : Action.PAUSE;
    awaitCallout(token, this.id);
    this.waiting = true;
    return Action.PAUSE;
  }

  // While the service decides, the body and trailers wait too (Continue here would release the headers).
  onRequestBody(bodySize: u32, endOfStream: bool): u32 {
    return this.waiting ? Action.PAUSE : Action.CONTINUE;
  }

  onRequestTrailers(numTrailers: u32): u32 {
    return this.waiting ? Action.PAUSE : Action.CONTINUE;
  }

  onGrpcReceive(token: u32, messageSize: u32): void {
    if (!this.waiting) return;
    this.waiting = false;
    const cfg = this.cfg!;
    const root = changetype<RateLimitRoot>(this.root);
    if (messageSize > MAX_RESPONSE_BYTES) {
      this.failed(cfg, RLS_TOO_LARGE, true);
      return;
    }
    const buf = getBuffer(BufferType.GRPC_RECEIVE_BUFFER, 0, messageSize);
    const resp = root.response;
    if (!decodeRateLimitResponse(changetype<usize>(buf), buf.byteLength, resp)) {
      this.failed(cfg, RLS_MALFORMED, true);
      return;
    }
    const call = this.call!;
    // The service's numbers for the tightest (or the rejecting) global rule; an allowed request's local
    // commit below may report a tighter local rule.
    const global = root.global;
    global.reset();
    if (applyGlobal(cfg, call, resp, global)) {
      copyOutcome(global, this.outcome);
      this.outcome.rejected = global.rejected;
      incrementMetric(root.mRlsOverLimit, 1);
      const rule = cfg.rules[this.outcome.rejected];
      incrementMetric(cfg.shadow ? rule.mShadowRejected : rule.mRejected, 1);
      if (cfg.shadow) {
        replaceHeader(MapType.REQUEST_HEADERS, SHADOW_HEADER, rule.name);
        continueRequest();
        return;
      }
      tooManyRequests(cfg, rule, this.outcome, checkedHeaders(resp.responseHeaders, false));
      return;
    }
    incrementMetric(root.mRlsOk, 1);
    for (let k = 0; k < call.count; k++) incrementMetric(cfg.rules[call.ruleOf[k]].mAllowed, 1);
    const more = checkedHeaders(resp.requestHeaders, true);
    if (more !== null) {
      for (let i = 0; i + 1 < more.length; i += 2) addHeader(MapType.REQUEST_HEADERS, unchecked(more[i]), unchecked(more[i + 1]));
    }
    this.serviceHeaders = checkedHeaders(resp.responseHeaders, false);
    keyValues(cfg, this.request, root.values);
    if (!this.local(cfg, true)) return;
    if (global.report >= 0 && (this.outcome.report < 0 || global.remaining < this.outcome.remaining)) copyOutcome(global, this.outcome);
    continueRequest();
  }

  onGrpcClose(token: u32, status: u32): void {
    if (!this.waiting) return;
    this.waiting = false;
    const reason = status == GrpcStatus.OK ? RLS_NO_MESSAGE : RLS_STATUS + decimal(<i64>status) + " " + getStatusMessage();
    this.failed(this.cfg!, reason, true);
  }

  /**
   * The local rules; `commit` false decides without consuming. False when the request was answered (a
   * rejection outside shadow mode); in shadow mode a rejection marks the request and it passes.
   */
  private local(cfg: RateLimitConfig, commit: bool): bool {
    const root = changetype<RateLimitRoot>(this.root);
    root.limiter.check(cfg, root.values, nowMillis(), this.outcome, commit);
    const rejected = this.outcome.rejected;
    if (rejected < 0) return true;
    const rule = cfg.rules[rejected];
    if (cfg.shadow) {
      replaceHeader(MapType.REQUEST_HEADERS, SHADOW_HEADER, rule.name);
      return true;
    }
    tooManyRequests(cfg, rule, this.outcome);
    return false;
  }

  /**
   * The service did not answer: counted, logged once per interval; the request is refused with
   * failure_mode_deny (not in shadow mode), else it passes on the local rules. `resume`: called back
   * (continue the request) rather than deciding in onRequestHeaders. Returns true when the request passes.
   */
  private failed(cfg: RateLimitConfig, reason: string, resume: bool): bool {
    const root = changetype<RateLimitRoot>(this.root);
    const rls = cfg.rls!;
    root.serviceFailed(rls, reason);
    if (rls.failureModeDeny && !cfg.shadow) {
      incrementMetric(root.mRlsDenied, 1);
      this.outcome.reset();
      rateLimitServiceFailed();
      return false;
    }
    if (resume) keyValues(cfg, this.request, root.values);
    const pass = this.local(cfg, true);
    if (pass && resume) continueRequest();
    return pass;
  }

  onResponseHeaders(numHeaders: u32, endOfStream: bool): u32 {
    const more = this.serviceHeaders;
    if (more !== null) {
      for (let i = 0; i + 1 < more.length; i += 2) addHeader(MapType.RESPONSE_HEADERS, unchecked(more[i]), unchecked(more[i + 1]));
    }
    const cfg = this.cfg;
    if (cfg !== null && cfg.headers != HEADERS_NONE && this.outcome.report >= 0) addRateLimitHeaders(cfg, this.outcome);
    return Action.CONTINUE;
  }
}

function copyOutcome(from: Outcome, to: Outcome): void {
  to.report = from.report;
  to.limit = from.limit;
  to.remaining = from.remaining;
  to.resetMs = from.resetMs;
  to.policySeconds = from.policySeconds;
}

/**
 * The service's headers that a plugin may write: lower-cased names that are HTTP tokens, not pseudo or
 * framing headers (and, on the request, none that steers routing or that a plugin owns); values without
 * control characters. Null when none is left.
 */
function checkedHeaders(pairs: string[], request: bool): string[] | null {
  let out: string[] | null = null;
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    const name = toLowerAscii(unchecked(pairs[i]));
    const value = unchecked(pairs[i + 1]);
    if (!isToken(name) || hasControl(value) || framingHeaderProblem(name).length > 0) continue;
    if (request && (name == SHADOW_HEADER || writableHeaderProblem(name, PLUGIN).length > 0)) continue;
    if (out === null) out = [];
    out.push(name);
    out.push(value);
  }
  return out;
}

/** RFC 9110 tchar, lower-case letters only (names are lower-cased first): bit c of the 128-bit set. */
// @ts-ignore: decorator
@inline const TCHAR_LO: u64 = 0x03ff6cfa00000000;
// @ts-ignore: decorator
@inline const TCHAR_HI: u64 = 0x57ffffffc0000000;

function isToken(s: string): bool {
  if (s.length == 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = <u64>s.charCodeAt(i);
    if (c >= 128 || ((c < 64 ? TCHAR_LO >> c : TCHAR_HI >> (c - 64)) & 1) == 0) return false;
  }
  return true;
}

/** A control character other than TAB (CR, LF and NUL would split or end the header). */
function hasControl(s: string): bool {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c != 0x09) || c == 0x7f) return true;
  }
  return false;
}
