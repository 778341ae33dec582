// The plugin's contexts: the root parses the config once and owns the per-VM request view and decision;
// each stream decides its tag on the request headers (decide.ts) and writes it (replies.ts), pinning a
// drawn tag with Set-Cookie on the response.
import {
  Action, callForeignFunctionEnc, encode, getHeaderEnc, HttpContext, MapType, parseRuleSet, randomU32, Result,
  RootContext, RuleSet,
} from "../../assembly";
import { CanaryConfig, NO_TAG, parseCanaryConfig, Tag } from "./config";
import { CLEAR_ROUTE_CACHE, DEFAULT_TAG_HEADER, Source } from "./constants";
import { decide, Decision, tagForDraw } from "./decide";
import { pinTag, removeTag, writeTag } from "./replies";
import { HostRequest } from "./request";

const CLEAR_ROUTE_CACHE_NAME = encode(CLEAR_ROUTE_CACHE);
const NO_ARGS = new ArrayBuffer(0);

export class CanaryRoot extends RootContext {
  // A VM runs one callback at a time and the decision finishes inside on_request_headers, so one request
  // view and one decision per VM serve every stream.
  request: HostRequest = new HostRequest();
  decision: Decision = new Decision();
  config: RuleSet<CanaryConfig> | null = null;
  /** False once the host said it has no clear_route_cache (ABI 0.2.1 Envoy clears by itself). */
  hasClearRouteCache: bool = true;

  /** Tag headers of every config (global and rules) that does not trust client tags. */
  ownedHeaders: ArrayBuffer[] = [];
  /** The same names as strings (to add each once). */
  ownedNames: string[] = [];

  onConfigure(text: string): bool {
    const set = parseRuleSet<CanaryConfig>(text, parseCanaryConfig);
    if (set === null) return false;
    this.config = set;
    this.ownedHeaders = [];
    this.ownedNames = [];
    const g = set.global;
    if (g !== null) this.own(g);
    for (let i = 0; i < set.rules.length; i++) this.own(set.rules[i].config);
    // Even a config that tags nothing (`{"_rules_": []}`) owns the default tag header.
    if (g === null && set.rules.length == 0) this.ownedHeaders.push(encode(DEFAULT_TAG_HEADER));
    return true;
  }

  private own(cfg: CanaryConfig): void {
    if (cfg.trustClientTag) return;
    if (this.ownedNames.includes(cfg.tagHeader)) return;
    this.ownedNames.push(cfg.tagHeader);
    this.ownedHeaders.push(cfg.tagHeaderBytes);
  }

  /**
   * On a route no config covers, the tag headers are still ours: the mesh routes on them everywhere,
   * so a client-sent copy is removed rather than passed on (anti-spoof, like a covered route).
   */
  stripOwnedHeaders(): void {
    for (let i = 0; i < this.ownedHeaders.length; i++) removeTag(this.ownedHeaders[i]);
  }

  createHttpContext(id: u32): HttpContext | null {
    return new CanaryStream(id, this);
  }

  /** Newer Envoy only re-selects the route when asked; a missing function is not an error. */
  clearRouteCache(): void {
    if (!this.hasClearRouteCache) return;
    if (callForeignFunctionEnc(CLEAR_ROUTE_CACHE_NAME, NO_ARGS) == Result.NOT_FOUND) this.hasClearRouteCache = false;
  }
}

class CanaryStream extends HttpContext {
  /** Set when this request drew a tag that the response must pin with Set-Cookie. */
  cfg: CanaryConfig | null = null;
  pinTag: Tag = NO_TAG;

  onRequestHeaders(numHeaders: u32, endOfStream: bool): u32 {
    const root = changetype<CanaryRoot>(this.root);
    const set = root.config;
    if (set === null) return Action.CONTINUE;
    const cfg = set.select();
    if (cfg === null) {
      root.stripOwnedHeaders();
      return Action.CONTINUE;
    }

    const clientTag = cfg.trustClientTag ? getHeaderEnc(MapType.REQUEST_HEADERS, cfg.tagHeaderBytes) : null;
    const d = decide(cfg, root.request.reset(), clientTag, root.decision);
    if (d.source == Source.CLIENT) return Action.CONTINUE;
    if (d.source == Source.DRAW) {
      d.tag = tagForDraw(cfg, randomU32());
      if (cfg.pinCookie.length > 0) {
        this.cfg = cfg;
        this.pinTag = d.tag;
      }
    }
    writeTag(cfg, d.tag);
    root.clearRouteCache();
    return Action.CONTINUE;
  }

  onResponseHeaders(numHeaders: u32, endOfStream: bool): u32 {
    const cfg = this.cfg;
    if (cfg !== null) pinTag(cfg, this.pinTag);
    return Action.CONTINUE;
  }
}
