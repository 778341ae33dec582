// The plugin's contexts: the root parses the config once and owns the per-VM memos; each stream asks the
// decision (decide.ts) on its request headers and acts on it (replies.ts) — a preflight at once, the
// CORS headers of an actual request on its response headers.
import { Action, defineLabeledCounter, HttpContext, incrementMetric, metricLabel, RootContext, RuleSet } from "tollgate/assembly";
import { parseConfig } from "./config";
import {
  L_OUTCOME, L_REASON, M_PREFLIGHTS, M_REQUESTS, OUTCOME_ALLOWED, OUTCOME_ANSWERED, OUTCOME_REFUSED, REASON_HEADERS,
  REASON_METHOD, REASON_ORIGIN, Verdict,
} from "./constants";
import { classify, decideCross, Decision, OriginMemo } from "./decide";
import { CorsPolicy, headersAllowed, methodAllowed } from "./policy";
import { addCorsHeaders, PreflightReply, stripCorsHeaders } from "./replies";
import { HostRequest } from "./request";

export class CorsRoot extends RootContext {
  rules: RuleSet<CorsPolicy> | null = null;
  // Per VM, reused by every stream: a VM runs one callback at a time.
  request: HostRequest = new HostRequest();
  memo: OriginMemo = new OriginMemo();
  decision: Decision = new Decision();
  preflight: PreflightReply = new PreflightReply();
  // Counter ids (0 until defined; increments of 0 are no-ops).
  mPreflightAnswered: u32 = 0;
  mPreflightRefusedOrigin: u32 = 0;
  mPreflightRefusedMethod: u32 = 0;
  mPreflightRefusedHeaders: u32 = 0;
  mRequestAllowed: u32 = 0;
  mRequestRefused: u32 = 0;

  onConfigure(config: string): bool {
    const rules = parseConfig(config);
    if (rules === null) return false;
    this.rules = rules;
    if (this.mPreflightAnswered == 0) this.defineMetrics();
    return true;
  }

  private defineMetrics(): void {
    const refused = metricLabel(L_OUTCOME, OUTCOME_REFUSED);
    this.mPreflightAnswered = defineLabeledCounter(M_PREFLIGHTS, metricLabel(L_OUTCOME, OUTCOME_ANSWERED));
    this.mPreflightRefusedOrigin = defineLabeledCounter(M_PREFLIGHTS, refused + metricLabel(L_REASON, REASON_ORIGIN));
    this.mPreflightRefusedMethod = defineLabeledCounter(M_PREFLIGHTS, refused + metricLabel(L_REASON, REASON_METHOD));
    this.mPreflightRefusedHeaders = defineLabeledCounter(M_PREFLIGHTS, refused + metricLabel(L_REASON, REASON_HEADERS));
    this.mRequestAllowed = defineLabeledCounter(M_REQUESTS, metricLabel(L_OUTCOME, OUTCOME_ALLOWED));
    this.mRequestRefused = defineLabeledCounter(M_REQUESTS, refused + metricLabel(L_REASON, REASON_ORIGIN));
  }

  /** Counts a decided cross-origin request; a refused preflight's reason is re-derived here (rare path). */
  count(d: Decision, policy: CorsPolicy): void {
    if (d.verdict == Verdict.ALLOWED) incrementMetric(this.mRequestAllowed, 1);
    else if (d.verdict == Verdict.REFUSED) incrementMetric(this.mRequestRefused, 1);
    else if (d.preflightAllowed) incrementMetric(this.mPreflightAnswered, 1);
    else if (!policy.memoAllowed) incrementMetric(this.mPreflightRefusedOrigin, 1);
    else if (!methodAllowed(policy, d.acrm)) incrementMetric(this.mPreflightRefusedMethod, 1);
    else if (!headersAllowed(policy, d.acrh)) incrementMetric(this.mPreflightRefusedHeaders, 1);
  }

  createHttpContext(id: u32): HttpContext | null {
    return this.rules === null ? null : new CorsStream(id, this);
  }
}

class CorsStream extends HttpContext {
  /** What the request side decided, for the response side (the request headers are gone by then). */
  verdict: u8 = Verdict.NONE;
  origin: string = "";
  policy: CorsPolicy | null = null;

  onRequestHeaders(numHeaders: u32, endOfStream: bool): u32 {
    const root = changetype<CorsRoot>(this.root);
    const d = root.decision.reset();
    if (!classify(root.request, root.memo, d)) return Action.CONTINUE;
    const policy = root.rules!.select();
    if (policy === null) return Action.CONTINUE;
    decideCross(policy, root.request, root.memo, d);
    root.count(d, policy);
    this.verdict = d.verdict;
    if (d.verdict == Verdict.ANSWERED) {
      root.preflight.send(d);
      return Action.PAUSE;
    }
    this.origin = d.origin;
    this.policy = policy;
    return Action.CONTINUE;
  }

  onResponseHeaders(numHeaders: u32, endOfStream: bool): u32 {
    if (this.verdict == Verdict.ALLOWED) {
      const root = changetype<CorsRoot>(this.root);
      addCorsHeaders(this.policy!, root.preflight.echo(this.origin));
    } else if (this.verdict == Verdict.REFUSED) {
      stripCorsHeaders();
    }
    return Action.CONTINUE;
  }
}
