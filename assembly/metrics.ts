// Metric names in tollgate's one scheme (plugins/README.md "Metrics"): `tollgate.` + labels + name, each
// label written `<label>=.=<value>;.;` — the encoding Envoy's regex tag extractors (and Istio's
// `extraStatTags`) turn into Prometheus labels: `tollgate_<name>{<label>="<value>"}`. The ABI has no tag API,
// so labels can only travel inside the name.
import { defineCounter } from "./host";

/** The first segment of every tollgate metric (Envoy stores it as `wasmcustom.tollgate.…`). */
export const METRIC_ROOT = "tollgate.";

/** Whether `c` may appear in a label value as is: [A-Za-z0-9_.:@-]; anything else would split the encoding. */
function plainLabelChar(c: i32): bool {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) ||
    c == 0x5f || c == 0x2e || c == 0x3a || c == 0x40 || c == 0x2d;
}

/** `<label>=.=<value>;.;`; characters outside [A-Za-z0-9_.:@-] in `value` become '_' (values come from config). */
export function metricLabel(label: string, value: string): string {
  let v = value;
  for (let i = 0; i < v.length; i++) {
    if (!plainLabelChar(v.charCodeAt(i))) {
      v = v.substring(0, i) + "_" + v.substring(i + 1);
    }
  }
  return label + "=.=" + v + ";.;";
}

/** Defines the counter `tollgate.<labels><name>` (labels: metricLabel(...) concatenated, or "") and returns its id. */
export function defineLabeledCounter(name: string, labels: string): u32 {
  return defineCounter(METRIC_ROOT + labels + name);
}
