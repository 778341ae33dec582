// GET /stats/prometheus as Envoy 1.40 prints it, for the stats the engine keeps. Envoy's rules, as seen on
// its admin: tag extraction turns the parts of a stat name its default extractors know (cluster name,
// connection-manager prefix, listener address, worker id, response code class) into labels and drops them
// from the name; the rest is sanitized ([^a-zA-Z0-9_] → '_') and prefixed `envoy_`, except a stat in a custom
// namespace (wasm's `wasmcustom.`), which loses the namespace and gets no prefix. One `# TYPE` line per
// name; counters, then gauges, each sorted by name; a series without labels is printed with `{}`.
//
// The bootstrap's stats_config changes both endpoints as in Envoy: `stats_tags` adds regex extractors (the
// first group is cut from the name, the second is the value; tollgate's plugins encode labels as
// `<label>=.=<value>;.;` for them, plugins/README.md "Metrics"), `use_all_default_tags: false` drops the
// default ones, and `stats_matcher` keeps a stat only when its full name (wasm stats with their
// `wasmcustom.` namespace, as measured on Envoy 1.40) passes the inclusion or exclusion list.
import type { StringMatch } from "./model.ts";

export type StatType = "counter" | "gauge";

export interface TypedStat {
  /** The stat's name as /stats prints it (`http.l.downstream_rq_2xx`, `wasmcustom.tollgate.rule=.=r;.;rate_limit_evictions_total`). */
  name: string;
  type: StatType;
  value: number;
}

/** Namespaces Envoy strips in /stats/prometheus instead of adding `envoy_` (the wasm extension registers this one). */
const CUSTOM_NAMESPACES = ["wasmcustom"];

interface Extractor {
  label: string;
  /** Group 1: the part removed from the name; group 2: the label's value (`d` flag: group offsets). */
  re: RegExp;
  /** The regex has one group: it is the value too. */
  oneGroup?: boolean;
}

// Envoy's default tag extractors (source/common/config/well_known_names.cc) for the stat families the engine
// has, in the order Envoy's output lists the labels (its prefix-less extractors run before the ones keyed by
// the first name segment).
const EXTRACTORS: Extractor[] = [
  { label: "envoy_response_code", re: /_rq(_(\d{3}))$/d },
  { label: "envoy_response_code_class", re: /_rq_((\d))xx$/d },
  { label: "envoy_http_conn_manager_prefix", re: /^(?:|listener(?=\.).*?\.)http\.((.*?)\.)/d },
  { label: "envoy_worker_id", re: /^listener\..*?\.worker_((\d+)\.)/d },
  { label: "envoy_cluster_name", re: /^cluster\.((.*?)\.)/d },
  { label: "envoy_listener_address", re: /^listener\.(((?:[_.\d]*|[_\[\]a-fA-F\d]*))\.)/d },
];

/** stats_config.stats_tags entry (regex form; `fixed_value` is refused at load). */
export interface StatsTag {
  name: string;
  regex: string;
}

/** What the bootstrap's stats_config sets. */
export interface StatsSettings {
  tags: StatsTag[];
  /** use_all_default_tags (default true). */
  useDefaultTags: boolean;
  /** stats_matcher: null keeps every stat; `rejectAll` none; else a stat is kept when it matches an inclusion pattern / no exclusion pattern. */
  matcher: { rejectAll: true } | { inclusion: boolean; patterns: StringMatch[] } | null;
}

export const DEFAULT_STATS_SETTINGS: StatsSettings = { tags: [], useDefaultTags: true, matcher: null };

// Prefix-less default extractors (the first three) run first, then the custom ones in bootstrap order (Envoy
// adds the defaults first and custom names after them), then the defaults keyed by a first name segment.
const extractorCache = new WeakMap<StatsSettings, Extractor[]>();
function extractorsOf(settings: StatsSettings): Extractor[] {
  let list = extractorCache.get(settings);
  if (list) return list;
  const custom = settings.tags.map((t) => {
    const re = new RegExp(t.regex, "d");
    // One capture group: it is both the part removed and the value.
    return { label: t.name, re, oneGroup: new RegExp(t.regex + "|").exec("")!.length === 2 };
  });
  const defaults = settings.useDefaultTags ? EXTRACTORS : [];
  list = [...defaults.slice(0, 3), ...custom, ...defaults.slice(3)];
  extractorCache.set(settings, list);
  return list;
}

function stringMatches(m: StringMatch, v: string): boolean {
  if (m.kind === "regex") return m.test(v);
  if (m.kind === "present") return m.present;
  const value = m.ignoreCase ? v.toLowerCase() : v;
  const want = m.ignoreCase ? m.value.toLowerCase() : m.value;
  if (m.kind === "exact") return value === want;
  if (m.kind === "prefix") return value.startsWith(want);
  if (m.kind === "suffix") return value.endsWith(want);
  return value.includes(want);
}

/** Whether stats_matcher keeps the stat named `stat` (its full name: `wasmcustom.tollgate.…`). */
export function statIncluded(stat: string, settings: StatsSettings = DEFAULT_STATS_SETTINGS): boolean {
  const m = settings.matcher;
  if (m === null) return true;
  if ("rejectAll" in m) return false;
  return m.patterns.some((p) => stringMatches(p, stat)) === m.inclusion;
}

/** Envoy's tag extraction: the name without the extracted parts, and the labels in Envoy's order. */
export function extractTags(stat: string, settings: StatsSettings = DEFAULT_STATS_SETTINGS): { name: string; labels: Array<[string, string]> } {
  // Envoy matches every extractor against the full stat name and removes the matched parts afterwards.
  const removals: Array<[number, number]> = [];
  const labels: Array<[string, string]> = [];
  for (const x of extractorsOf(settings)) {
    const m = x.re.exec(stat);
    if (!m || m[1] === undefined) continue;
    labels.push([x.label, x.oneGroup ? m[1] : m[2] ?? ""]);
    removals.push(m.indices![1]);
  }
  removals.sort((a, b) => b[0] - a[0]);
  let name = stat;
  for (const [s, e] of removals) name = name.slice(0, s) + name.slice(e);
  return { name, labels };
}

function sanitize(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, "_");
}

/** The Prometheus metric name Envoy gives a tag-extracted stat name. */
export function metricName(tagExtracted: string): string {
  for (const ns of CUSTOM_NAMESPACES) if (tagExtracted.startsWith(ns + ".")) return sanitize(tagExtracted.slice(ns.length + 1));
  return "envoy_" + sanitize(tagExtracted);
}

function labelValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** The exposition text for `stats` (already filtered by statIncluded). */
export function prometheusText(stats: TypedStat[], settings: StatsSettings = DEFAULT_STATS_SETTINGS): string {
  const byType: Record<StatType, Map<string, string[]>> = { counter: new Map(), gauge: new Map() };
  // Series within one name in stat-name order, as Envoy iterates its (sorted) store.
  for (const s of [...stats].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const { name, labels } = extractTags(s.name, settings);
    const metric = metricName(name);
    const series = `${metric}{${labels.map(([k, v]) => `${k}="${labelValue(v)}"`).join(",")}} ${s.value}\n`;
    const group = byType[s.type];
    const lines = group.get(metric);
    if (lines) lines.push(series);
    else group.set(metric, [series]);
  }
  let out = "";
  for (const type of ["counter", "gauge"] as const) {
    const names = [...byType[type].keys()].sort();
    for (const n of names) out += `# TYPE ${n} ${type}\n` + byType[type].get(n)!.join("");
  }
  return out;
}
