// gen dashboard: a Grafana dashboard (JSON, for Grafana's import) with one row per plugin and one panel per
// metric, whose PromQL uses exactly the names and labels of tools/plugins/metrics.ts — what Envoy's /stats/prometheus
// exports for the plugins once the bootstrap (or Istio's extraStatTags) has tollgate's tag extractors.
import { UsageError } from "../errors.ts";
import type { GenKind } from "./kind.ts";
import { PLUGIN_METRICS, type PluginMetric } from "../../plugins/metrics.ts";

export interface Panel {
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  id: number;
  collapsed?: boolean;
  panels?: Panel[];
  description?: string;
  datasource?: { type: string; uid: string };
  targets?: Array<{ expr: string; legendFormat: string; refId: string }>;
  fieldConfig?: unknown;
  options?: unknown;
}

export interface Dashboard {
  title: string;
  uid: string;
  panels: Panel[];
  [k: string]: unknown;
}

const DATASOURCE = { type: "prometheus", uid: "${datasource}" };
const WIDTH = 24;
const HEIGHT = 8;

/** Per-second rate of `m`, one series per label combination. */
function rateQuery(m: PluginMetric): { expr: string; legendFormat: string } {
  const rate = `rate(${m.name}{job=~"$job"}[$__rate_interval])`;
  if (m.labels.length === 0) return { expr: `sum(${rate})`, legendFormat: m.name.replace(/^tollgate_/, "") };
  return { expr: `sum by (${m.labels.join(", ")}) (${rate})`, legendFormat: m.labels.map((l) => `{{${l}}}`).join(" ") };
}

/** The dashboard for `plugins` (every plugin with metrics when empty). */
export function dashboard(plugins: string[]): Dashboard {
  const names = plugins.length ? plugins : Object.keys(PLUGIN_METRICS);
  for (const p of names) {
    if (!Object.hasOwn(PLUGIN_METRICS, p)) throw new UsageError(`gen dashboard: no metrics for plugin '${p}'`, `plugins with metrics: ${Object.keys(PLUGIN_METRICS).join(", ")}`);
  }
  const panels: Panel[] = [];
  let id = 1;
  let y = 0;
  for (const p of names) {
    panels.push({ type: "row", title: p, collapsed: false, gridPos: { h: 1, w: WIDTH, x: 0, y }, id: id++, panels: [] });
    y += 1;
    const metrics = PLUGIN_METRICS[p];
    const w = metrics.length === 1 ? WIDTH : WIDTH / 2;
    metrics.forEach((m, i) => {
      const q = rateQuery(m);
      panels.push({
        type: "timeseries",
        title: `${m.name.replace(/^tollgate_/, "").replace(/_total$/, "")} /s`,
        description: m.help,
        datasource: DATASOURCE,
        gridPos: { h: HEIGHT, w, x: (i % 2) * w, y: y + Math.floor(i / 2) * HEIGHT },
        id: id++,
        targets: [{ ...q, refId: "A" }],
        fieldConfig: { defaults: { unit: "reqps" }, overrides: [] },
        options: { legend: { displayMode: "table", placement: "right", calcs: ["lastNotNull", "max"] }, tooltip: { mode: "multi" } },
      });
    });
    y += Math.ceil(metrics.length / (WIDTH / w)) * HEIGHT;
  }
  return {
    title: "tollgate plugins",
    uid: "tollgate-plugins",
    description: "Decisions of tollgate's Envoy wasm plugins (plugins/README.md, Metrics). Needs tollgate's stats tag extractors: tollgate gen envoy adds them; on Istio, gen wasmplugin --stats-inclusion.",
    tags: ["tollgate", "envoy", "wasm"],
    timezone: "browser",
    schemaVersion: 39,
    version: 1,
    editable: true,
    refresh: "30s",
    time: { from: "now-1h", to: "now" },
    templating: {
      list: [
        { name: "datasource", label: "Prometheus", type: "datasource", query: "prometheus", current: {}, hide: 0 },
        {
          name: "job",
          label: "Job",
          type: "query",
          datasource: DATASOURCE,
          query: { query: "label_values(job)", refId: "job" },
          definition: "label_values(job)",
          includeAll: true,
          multi: true,
          allValue: ".*",
          current: { text: "All", value: "$__all" },
          refresh: 2,
          hide: 0,
        },
      ],
    },
    annotations: { list: [] },
    panels,
  };
}

const gen: GenKind = async (operands) => {
  const board = dashboard(operands);
  return { docs: [board], errors: [], text: JSON.stringify(board, null, 2) + "\n" };
};
export default gen;
