// Metric host functions (abi.md §11) over the env's stats (stats.ts): ids are per VM and encode the type
// in the low 2 bits.
import { MetricType, R } from "./abi.ts";
import { selfChecked } from "./restrictions.ts";
import { type Metric, MAX_SAMPLES, METRIC_KINDS } from "./stats.ts";
import type { WasmVm } from "./vm.ts";

/** proxy_define_metric / increment / record / get (abi.md §11). */
export function metricsImports(vm: WasmVm) {
  const mem = vm.mem;
  const ids = new Map<number, Metric>();
  const next = [0, 1, 2]; // per-type sequences: counters 4, 8…; gauges 5, 9…; histograms 6, 10…
  const fns = {
    proxy_define_metric(type: number, namePtr: number, nameSize: number, retId: number): number {
      if (type >>> 0 > MetricType.Histogram) return R.BadArgument;
      if (!mem.inBounds(namePtr, nameSize)) return R.InvalidMemoryAccess;
      const m = vm.env.metrics.obtain(METRIC_KINDS[type], mem.utf8(namePtr, nameSize));
      next[type] += 4;
      const id = next[type];
      if (!mem.setU32(retId, id)) return R.InvalidMemoryAccess;
      ids.set(id, m);
      return R.Ok;
    },
    proxy_increment_metric(id: number, offset: bigint): number {
      vm.checkCall("env.proxy_increment_metric");
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
      return mem.setU64(retValue, BigInt.asUintN(64, BigInt(Math.trunc(m.value)))) ? R.Ok : R.InvalidMemoryAccess;
    },
  };
  return selfChecked(fns, "proxy_increment_metric");
}
