// The stats store (abi.md §11): Envoy stats named `wasmcustom.<name>`, aggregated by name across workers
// and plugins (stats are process-wide). The host functions that define and change them are in metrics.ts.

export type MetricKind = "counter" | "gauge" | "histogram";
/** MetricKind by WasmMetricType. */
export const METRIC_KINDS: readonly MetricKind[] = ["counter", "gauge", "histogram"];

/** Prefix Envoy gives custom Wasm stats: /stats shows it (seen on Envoy 1.40); /stats/prometheus strips it. */
const CUSTOM_STAT_PREFIX = "wasmcustom.";

export interface Metric {
  kind: MetricKind;
  /** The name the plugin defined. */
  name: string;
  /** Envoy's internal stat name. */
  statName: string;
  value: number;
  /** Histogram: the most recent MAX_SAMPLES values (a ring, so a long-running gateway stays bounded). */
  samples: number[];
  /** Histogram: how many values were recorded in all. */
  count: number;
}

/** Histogram samples kept per metric. */
export const MAX_SAMPLES = 4096;

export class Metrics {
  private readonly stats = new Map<string, Metric>();

  obtain(kind: MetricKind, name: string): Metric {
    const key = `${kind}\0${name}`;
    let m = this.stats.get(key);
    if (!m) {
      m = { kind, name, statName: CUSTOM_STAT_PREFIX + name, value: 0, samples: [], count: 0 };
      this.stats.set(key, m);
    }
    return m;
  }

  /** Value of a counter or gauge by the name the plugin defined (undefined when never defined). */
  get(name: string): number | undefined {
    return (this.stats.get(`counter\0${name}`) ?? this.stats.get(`gauge\0${name}`))?.value;
  }

  /** The metric with this name (any kind). */
  find(name: string): Metric | undefined {
    for (const k of METRIC_KINDS) {
      const m = this.stats.get(`${k}\0${name}`);
      if (m) return m;
    }
    return undefined;
  }

  all(): Metric[] {
    return [...this.stats.values()];
  }
}
