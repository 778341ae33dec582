// The plugin's contexts: the root parses the config once and owns the per-VM request view and decision;
// each stream decides its tag on the request headers (decide.ts) and writes it (replies.ts), pinning a
// drawn tag with Set-Cookie on the response.
import {
  Action, defineLabeledCounter, encode, getHeaderEnc, HttpContext, incrementMetric, MapType,
  metricLabel, parseRuleSet, randomU32, RootContext, RuleSet,
} from "tollgate/assembly";
import { CanaryConfig, NO_TAG, parseCanaryConfig, Tag } from "./config";
import {
  DEFAULT_TAG_HEADER, L_REASON, L_TAG, M_DECISIONS, Source, SOURCE_COUNT, SOURCE_NAMES,
} from "./constants";
import { decide, Decision, tagForDraw } from "./decide";
import { pinTag, removeTag, writeTag } from "./replies";
import { HostRequest } from "./request";


export class CanaryRoot extends RootContext {
  // A VM runs one callback at a time and the decision finishes inside on_request_headers, so one request
  // view and one decision per VM serve every stream.
  request: HostRequest = new HostRequest();
  decision: Decision = new Decision();
  config: RuleSet<CanaryConfig> | null = null;

  /** Tag headers of every config (global and rules) that does not trust client tags. */
  ownedHeaders: ArrayBuffer[] = [];
  /** The same names as strings (to add each once). */
  ownedNames: string[] = [];

  // Decision counters: each config Tag holds its ids (Tag.metricIds; tags of the same name share a stat), and
  // one counts the client's own tags.
  mClient: u32 = 0;

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
    this.mClient = 0;
    if (g !== null) this.defineMetrics(g);
    for (let i = 0; i < set.rules.length; i++) this.defineMetrics(set.rules[i].config);
    return true;
  }

  /** Defines the (tag, reason) counters `cfg` can produce: tags come from config only, never from a request. */
  private defineMetrics(cfg: CanaryConfig): void {
    if (cfg.trustClientTag && this.mClient == 0) {
      this.mClient = defineLabeledCounter(M_DECISIONS, metricLabel(L_REASON, SOURCE_NAMES[Source.CLIENT]));
    }
    if (cfg.overrideHeader.length > 0) {
      this.defineTag(cfg.canaryTag, Source.OVERRIDE);
      this.defineTag(cfg.stableTag, Source.OVERRIDE);
    }
    for (let i = 0; i < cfg.rules.length; i++) this.defineTag(cfg.rules[i].tag, Source.RULE);
    if (cfg.weights.length == 0) {
      this.defineTag(cfg.defaultTag, Source.DEFAULT);
      return;
    }
    const sticky = cfg.stickyKey.length > 0;
    for (let i = 0; i < cfg.weights.length; i++) {
      const w = cfg.weights[i];
      // A tag of weight 0 owns no bucket: no draw, hash or pin can pick it.
      if (w.weight == 0) continue;
      const t = w.tag;
      this.defineTag(t, Source.DRAW);
      if (sticky) this.defineTag(t, Source.STICKY);
      if (cfg.pinCookie.length > 0) this.defineTag(t, Source.PIN);
    }
    // A bucket past the weighted range gets default_tag (drawn, hashed, then pinned too).
    this.defineTag(cfg.defaultTag, Source.DRAW);
    if (sticky) this.defineTag(cfg.defaultTag, Source.STICKY);
    if (cfg.pinCookie.length > 0) this.defineTag(cfg.defaultTag, Source.PIN);
  }

  private defineTag(tag: Tag, source: i32): void {
    let ids = tag.metricIds;
    if (ids === null) {
      ids = new StaticArray<u32>(SOURCE_COUNT);
      tag.metricIds = ids;
    }
    if (ids[source] != 0) return;
    // No tag written (no default_tag): the series has no canary_tag label.
    const labels = tag.name.length > 0 ? metricLabel(L_TAG, tag.name) : "";
    ids[source] = defineLabeledCounter(M_DECISIONS, labels + metricLabel(L_REASON, SOURCE_NAMES[source]));
  }

  /** Counts a decided tag (a tag the config did not lead to here is not counted: no series from requests). */
  count(tag: Tag, source: i32): void {
    if (source == Source.CLIENT) {
      incrementMetric(this.mClient, 1);
      return;
    }
    const ids = tag.metricIds;
    if (ids !== null && source > 0 && source < SOURCE_COUNT) incrementMetric(unchecked(ids[source]), 1);
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
    if (d.source == Source.CLIENT) {
      root.count(d.tag, d.source);
      return Action.CONTINUE;
    }
    if (d.source == Source.DRAW) {
      d.tag = tagForDraw(cfg, randomU32());
      if (cfg.pinCookie.length > 0) {
        this.cfg = cfg;
        this.pinTag = d.tag;
      }
    }
    root.count(d.tag, d.source);
    // The write clears Envoy's route cache by itself (every Envoy does for an ABI 0.2.1 module, abi.md
    // features §1.2), so the router re-selects the route on the tag: no clear_route_cache call is needed.
    writeTag(cfg, d.tag);
    return Action.CONTINUE;
  }

  onResponseHeaders(numHeaders: u32, endOfStream: bool): u32 {
    const cfg = this.cfg;
    if (cfg !== null) pinTag(cfg, this.pinTag);
    return Action.CONTINUE;
  }
}
