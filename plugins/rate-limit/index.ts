// rate-limit: per-client limits shared by all worker VMs of a proxy (state in shared data).
// Entry only: parse config once, wire the stream hooks to the limiter and the reply helpers.
import {
  Action, ConfigReader, decimal, defineMetric, encode, HttpContext, localReply, MapType, MetricType, nowMillis,
  parseRuleSet, registerRootContext, removeHeader, replaceHeader, replaceHeaderNumberEnc, RootContext, RuleSet,
} from "../../assembly";
export * from "../../assembly/exports";
import { HEADERS_DRAFT03, HEADERS_IETF, HEADERS_NONE, LimitRule, parseConfig, RateLimitConfig } from "./config";
import {
  DETAILS_PREFIX, DRAFT03_LIMIT, DRAFT03_REMAINING, DRAFT03_RESET, IETF_POLICY, IETF_STATE, RETRY_AFTER,
  SHADOW_HEADER,
} from "./errors";
import { ietfPolicy, ietfState, resetSeconds } from "./headers";
import { readKeyValues } from "./keys";
import { Limiter, Outcome } from "./limiter";
import { SharedDataStore } from "./store";

// @ts-ignore: decorator
@inline const MAX_RULES: i32 = 16;
// Response header names, encoded once.
const K_LIMIT = encode(DRAFT03_LIMIT);
const K_REMAINING = encode(DRAFT03_REMAINING);
const K_RESET = encode(DRAFT03_RESET);

class RateLimitRoot extends RootContext {
  ruleSet: RuleSet<RateLimitConfig> | null = null;
  store: SharedDataStore = new SharedDataStore();
  limiter: Limiter = new Limiter(this.store, MAX_RULES);
  /** Scratch for one request's key values; a VM runs one callback at a time. */
  values: Array<string | null> = new Array<string | null>(MAX_RULES);

  onConfigure(config: string): bool {
    const set = parseRuleSet<RateLimitConfig>(config, (r: ConfigReader): RateLimitConfig | null => parseConfig(r));
    if (set === null) return false;
    if (set.global !== null) prepare(this.store, set.global!);
    for (let i = 0; i < set.rules.length; i++) prepare(this.store, set.rules[i].config);
    this.ruleSet = set;
    return true;
  }

  createHttpContext(id: u32): HttpContext | null {
    if (this.ruleSet === null) return null;
    return new RateLimitStream(id, this);
  }
}

/** Defines a config's metrics and creates its shared-data slots. */
function prepare(store: SharedDataStore, cfg: RateLimitConfig): void {
  for (let i = 0; i < cfg.rules.length; i++) {
    const rule = cfg.rules[i];
    const base = "rate_limit." + rule.name + ".";
    rule.mAllowed = defineMetric(MetricType.COUNTER, base + "allowed");
    rule.mRejected = defineMetric(MetricType.COUNTER, base + "rejected");
    rule.mShadowRejected = defineMetric(MetricType.COUNTER, base + "shadow_rejected");
    rule.mCasExhausted = defineMetric(MetricType.COUNTER, base + "cas_exhausted");
    rule.mEvictions = defineMetric(MetricType.COUNTER, base + "evictions");
    store.prepare(rule);
  }
}

class RateLimitStream extends HttpContext {
  cfg: RateLimitConfig | null = null;
  outcome: Outcome = new Outcome();

  onRequestHeaders(numHeaders: u32, endOfStream: bool): u32 {
    // The shadow header is ours on every request, shadow mode or not, configured route or not: an upstream
    // that reads it must never see a client-sent copy.
    removeHeader(MapType.REQUEST_HEADERS, SHADOW_HEADER);
    const root = changetype<RateLimitRoot>(this.root);
    const cfg = root.ruleSet!.select();
    if (cfg === null) return Action.CONTINUE;
    this.cfg = cfg;
    readKeyValues(cfg, root.values);
    root.limiter.check(cfg, root.values, nowMillis(), this.outcome);
    const rejected = this.outcome.rejected;
    if (rejected < 0) return Action.CONTINUE;
    const rule = cfg.rules[rejected];
    if (cfg.shadow) {
      replaceHeader(MapType.REQUEST_HEADERS, SHADOW_HEADER, rule.name);
      return Action.CONTINUE;
    }
    tooManyRequests(cfg, rule, this.outcome);
    return Action.PAUSE;
  }

  onResponseHeaders(numHeaders: u32, endOfStream: bool): u32 {
    const cfg = this.cfg;
    if (cfg === null || cfg.headers == HEADERS_NONE) return Action.CONTINUE;
    const o = this.outcome;
    if (o.report < 0) return Action.CONTINUE;
    if (cfg.headers == HEADERS_DRAFT03) {
      replaceHeaderNumberEnc(MapType.RESPONSE_HEADERS, K_LIMIT, o.limit);
      replaceHeaderNumberEnc(MapType.RESPONSE_HEADERS, K_REMAINING, o.remaining);
      replaceHeaderNumberEnc(MapType.RESPONSE_HEADERS, K_RESET, resetSeconds(o.resetMs));
    } else if (cfg.headers == HEADERS_IETF) {
      const name = cfg.rules[o.report].name;
      replaceHeader(MapType.RESPONSE_HEADERS, IETF_POLICY, ietfPolicy(name, o.limit, o.policySeconds));
      replaceHeader(MapType.RESPONSE_HEADERS, IETF_STATE, ietfState(name, o.remaining, o.resetMs));
    }
    return Action.CONTINUE;
  }
}

/** 429 (or the configured status) for `rule`; the rate-limit headers are added on the response path. */
function tooManyRequests(cfg: RateLimitConfig, rule: LimitRule, o: Outcome): void {
  const extra = new Array<string[]>();
  extra.push([RETRY_AFTER, decimal(<i64>resetSeconds(o.resetMs))]);
  localReply(cfg.status, DETAILS_PREFIX + rule.name, cfg.body, cfg.body.length > 0 ? "text/plain" : "", extra);
}

registerRootContext("rate-limit", (id: u32): RootContext => new RateLimitRoot(id));
