// The contexts: the root parses the config once; each stream reads the request view, asks decide.ts and
// turns the answer into host calls (replies.ts).
import { Action, ConfigReader, getHeader, HttpContext, MapType, parseRuleSet, removeHeader, RootContext, RuleSet } from "tollgate/assembly";
import { __CLASS__Config, parseConfig } from "./config";
import { ALLOW, decide, MISSING, RequestView } from "./decide";
import { deniedBadKey, deniedNoKey } from "./replies";

export class __CLASS__Root extends RootContext {
  rules: RuleSet<__CLASS__Config> | null = null;
  /** One view per VM: a VM runs one callback at a time. */
  view: RequestView = new RequestView();

  onConfigure(config: string): bool {
    const set = parseRuleSet<__CLASS__Config>(config, (r: ConfigReader): __CLASS__Config | null => parseConfig(r));
    if (set === null) return false;
    this.rules = set;
    return true;
  }

  createHttpContext(id: u32): HttpContext | null {
    return this.rules === null ? null : new __CLASS__Stream(id, this);
  }
}

class __CLASS__Stream extends HttpContext {
  onRequestHeaders(numHeaders: u32, endOfStream: bool): u32 {
    const root = changetype<__CLASS__Root>(this.root);
    const cfg = root.rules!.select();
    if (cfg === null) return Action.CONTINUE;
    root.view.key = getHeader(MapType.REQUEST_HEADERS, cfg.header);
    const verdict = decide(cfg, root.view);
    if (verdict == ALLOW) {
      // The secret stops here: the upstream never sees the key.
      removeHeader(MapType.REQUEST_HEADERS, cfg.header);
      return Action.CONTINUE;
    }
    if (verdict == MISSING) deniedNoKey();
    else deniedBadKey();
    return Action.PAUSE;
  }
}
