// The plugin's contexts: the root parses the config once and owns the per-VM memos; each stream asks the
// decision (decide.ts) on its request headers and acts on it (replies.ts) — a preflight at once, the
// CORS headers of an actual request on its response headers.
import { Action, HttpContext, RootContext, RuleSet } from "../../assembly";
import { parseConfig } from "./config";
import { Verdict } from "./constants";
import { classify, decideCross, Decision, OriginMemo } from "./decide";
import { CorsPolicy } from "./policy";
import { addCorsHeaders, PreflightReply, stripCorsHeaders } from "./replies";
import { HostRequest } from "./request";

export class CorsRoot extends RootContext {
  rules: RuleSet<CorsPolicy> | null = null;
  // Per VM, reused by every stream: a VM runs one callback at a time.
  request: HostRequest = new HostRequest();
  memo: OriginMemo = new OriginMemo();
  decision: Decision = new Decision();
  preflight: PreflightReply = new PreflightReply();

  onConfigure(config: string): bool {
    const rules = parseConfig(config);
    if (rules === null) return false;
    this.rules = rules;
    return true;
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
