// The contexts: the root parses the config once; each stream reads the request view, asks decide.ts and
// turns the answer into host calls (replies.ts).
import { Action, ConfigReader, getHeader, HttpContext, MapType, parseRuleSet, RootContext, RuleSet } from "tollgate/assembly";
import { __CLASS__Config, parseConfig } from "./config";
import { METHOD_HEADER } from "./constants";
import { addsHeader, RequestView } from "./decide";
import { setResponseHeader } from "./replies";

export class __CLASS__Root extends RootContext {
  rules: RuleSet<__CLASS__Config> | null = null;

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
  cfg: __CLASS__Config | null = null;
  add: bool = false;

  onRequestHeaders(numHeaders: u32, endOfStream: bool): u32 {
    const cfg = changetype<__CLASS__Root>(this.root).rules!.select();
    if (cfg === null) return Action.CONTINUE;
    const view = new RequestView();
    const method = getHeader(MapType.REQUEST_HEADERS, METHOD_HEADER);
    view.method = method === null ? "" : method;
    this.cfg = cfg;
    this.add = addsHeader(cfg, view);
    return Action.CONTINUE;
  }

  onResponseHeaders(numHeaders: u32, endOfStream: bool): u32 {
    if (this.add && this.cfg !== null) setResponseHeader(this.cfg!);
    return Action.CONTINUE;
  }
}
