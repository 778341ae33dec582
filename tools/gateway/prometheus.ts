// GET /stats/prometheus as Envoy 1.40 prints it, for the stats the engine keeps. Envoy's rules, as seen on
// its admin: tag extraction turns the parts of a stat name its default extractors know (cluster name,
// connection-manager prefix, listener address, worker id, response code class) into labels and drops them
// from the name; the rest is sanitized ([^a-zA-Z0-9_] → '_') and prefixed `envoy_`, except a stat in a custom
// namespace (wasm's `wasmcustom.`), which loses the namespace and gets no prefix. One `# TYPE` line per
// name; counters, then gauges, each sorted by name; a series without labels is printed with `{}`.

export type StatType = "counter" | "gauge";

export interface TypedStat {
  /** The stat's name as /stats prints it (`http.l.downstream_rq_2xx`, `wasmcustom.rate_limit.r.allowed`). */
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

/** Envoy's tag extraction: the name without the extracted parts, and the labels in Envoy's order. */
export function extractTags(stat: string): { name: string; labels: Array<[string, string]> } {
  // Envoy matches every extractor against the full stat name and removes the matched parts afterwards.
  const removals: Array<[number, number]> = [];
  const labels: Array<[string, string]> = [];
  for (const x of EXTRACTORS) {
    const m = x.re.exec(stat);
    if (!m) continue;
    labels.push([x.label, m[2]]);
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

/** The exposition text for `stats`. */
export function prometheusText(stats: TypedStat[]): string {
  const byType: Record<StatType, Map<string, string[]>> = { counter: new Map(), gauge: new Map() };
  // Series within one name in stat-name order, as Envoy iterates its (sorted) store.
  for (const s of [...stats].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const { name, labels } = extractTags(s.name);
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
