// Metrics (abi.md §11): Envoy stats named `wasmcustom.<name>`, aggregated by name across workers and
// plugins (stats are process-wide); ids are per VM and encode the type in the low 2 bits.
import { R } from "./abi.ts";
import { selfChecked, type WasmVm } from "./vm.ts";

export type MetricKind = "counter" | "gauge" | "histogram";
const KINDS: MetricKind[] = ["counter", "gauge", "histogram"];

/** Prefix Envoy gives custom Wasm stats: /stats shows it (seen on Envoy 1.40); /stats/prometheus strips it. */
export const CUSTOM_STAT_PREFIX = "wasmcustom.";

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
    for (const k of KINDS) {
      const m = this.stats.get(`${k}\0${name}`);
      if (m) return m;
    }
    return undefined;
  }

  all(): Metric[] {
    return [...this.stats.values()];
  }
}

/** proxy_define_metric / increment / record / get (abi.md §11). */
export function metricsImports(vm: WasmVm) {
  const ids = new Map<number, Metric>();
  const next = [0, 1, 2]; // per-type sequences: counters 4, 8…; gauges 5, 9…; histograms 6, 10…
  const fns = {
    proxy_define_metric(type: number, namePtr: number, nameSize: number, retId: number): number {
      if (type >>> 0 > 2) return R.BadArgument;
      if (!vm.inBounds(namePtr, nameSize)) return R.InvalidMemoryAccess;
      const m = vm.env.metrics.obtain(KINDS[type], vm.utf8(namePtr, nameSize));
      next[type] += 4;
      const id = next[type];
      if (!vm.setU32(retId, id)) return R.InvalidMemoryAccess;
      ids.set(id, m);
      return R.Ok;
    },
    proxy_increment_metric(id: number, offset: bigint): number {
      vm.checkUnrestricted("env.proxy_increment_metric");
      const m = ids.get(id >>> 0);
      if (!m) return R.NotFound;
      const off = Number(BigInt.asIntN(64, offset));
      if (m.kind === "counter") {
        if (off <= 0) return R.BadArgument;
        m.value += off;
        return R.Ok;
      }
      if (m.kind === "gauge") {
        m.value += off;
        return R.Ok;
      }
      return R.BadArgument;
    },
    proxy_record_metric(id: number, value: bigint): number {
      const m = ids.get(id >>> 0);
      if (!m) return R.NotFound;
      const v = Number(BigInt.asUintN(64, value));
      if (m.kind === "counter") m.value += v;
      else if (m.kind === "gauge") m.value = v;
      else {
        if (m.samples.length < MAX_SAMPLES) m.samples.push(v);
        else m.samples[m.count % MAX_SAMPLES] = v;
        m.count++;
      }
      return R.Ok;
    },
    proxy_get_metric(id: number, retValue: number): number {
      const m = ids.get(id >>> 0);
      if (!m) return R.NotFound;
      if (m.kind === "histogram") return R.BadArgument;
      return vm.setU64(retValue, BigInt.asUintN(64, BigInt(Math.trunc(m.value)))) ? R.Ok : R.InvalidMemoryAccess;
    },
  };
  return selfChecked(fns, "proxy_increment_metric");
}
