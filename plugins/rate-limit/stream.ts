// The plugin's contexts: the root parses the config once and owns the store, the limiter and the metrics;
// each stream reads its key values (request.ts), asks the decision (decide.ts) and turns the outcome into
// host calls (replies.ts).
import {
  Action, ConfigReader, defineCounter, HttpContext, incrementMetric, log, LogLevel, MapType, nowMillis, parseRuleSet,
  removeHeader, replaceHeader, RootContext, RuleSet,
} from "../../assembly";
import { HEADERS_NONE, LimitRule, parseConfig, RateLimitConfig } from "./config";
import { CAS_EXHAUSTED_LOG, METRIC_PREFIX, SHADOW_HEADER, STORE_ERROR_LOG } from "./constants";
import { keyValues, Limiter, LimiterEvents, Outcome } from "./decide";
import { addRateLimitHeaders, tooManyRequests } from "./replies";
import { HostRequest } from "./request";
import { SharedDataStore } from "./store";

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
  store: SharedDataStore = new SharedDataStore();
  limiter: Limiter = new Limiter(this.store, new MetricEvents(), MAX_RULES);
  /** One request view and one array of key values per VM: a VM runs one callback at a time. */
  request: HostRequest = new HostRequest();
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
    const base = METRIC_PREFIX + rule.name + ".";
    rule.mAllowed = defineCounter(base + "allowed");
    rule.mRejected = defineCounter(base + "rejected");
    rule.mShadowRejected = defineCounter(base + "shadow_rejected");
    rule.mCasExhausted = defineCounter(base + "cas_exhausted");
    rule.mEvictions = defineCounter(base + "evictions");
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
    keyValues(cfg, root.request.reset(), root.values);
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
    if (cfg !== null && cfg.headers != HEADERS_NONE && this.outcome.report >= 0) addRateLimitHeaders(cfg, this.outcome);
    return Action.CONTINUE;
  }
}
