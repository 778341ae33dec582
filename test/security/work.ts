// Deterministic work counting for the linear-time tests: a plugin module instrumented with Binaryen so
// that every function entry, every loop iteration and every 8 bytes a bulk memory.copy / memory.fill
// moves add one to an exported i64 global `__tg_work`. The counts depend only on the code path and the
// input, never on the machine, so tests can assert ratios (a request 10× larger costs at most ~10×)
// without timing anything. Everything else about the module (imports, exports, memory) is unchanged, so
// it runs through the real host exactly as the built module does.
import binaryen from "binaryen";
import { readFileSync } from "node:fs";
import type { PluginTester } from "../../tools/host/testing.ts";

const COUNTER = "__tg_work";
const cache = new Map<string, Uint8Array>();

/** The module at `wasmPath` with the work counter added (cached per path for the test process). */
export function instrumented(wasmPath: string): Uint8Array {
  const hit = cache.get(wasmPath);
  if (hit) return hit;
  const m = binaryen.readBinary(readFileSync(wasmPath));
  let text: string;
  try {
    m.setFeatures(binaryen.Features.All);
    // Binaryen's own pass: a call to an imported `log_execution` at every function entry and loop header.
    m.runPasses(["log-execution"]);
    text = m.emitText();
  } finally {
    m.dispose();
  }
  // The import becomes a local function bumping the counter; bulk copies and fills go through helpers
  // that count their size, so copying a whole buffer per item shows up as the quadratic work it is.
  text = text.replace(/\n\s*\(import "env" "log_execution" \(func \$log_execution[^\n]*\)\)/, "");
  if (text.includes('"log_execution"')) throw new Error("instrumentation: log_execution import not found in the expected form");
  text = text.replace(/\(memory\.copy\b/g, "(call $__tg_copy").replace(/\(memory\.fill\b/g, "(call $__tg_fill");
  const bump = (n: string) => `(global.set $${COUNTER} (i64.add (global.get $${COUNTER}) ${n}))`;
  const end = text.lastIndexOf(")");
  text = text.slice(0, end) + `
 (global $${COUNTER} (mut i64) (i64.const 0))
 (export "${COUNTER}" (global $${COUNTER}))
 (func $log_execution (param $id i32) ${bump("(i64.const 1)")})
 (func $__tg_copy (param $d i32) (param $s i32) (param $n i32)
  ${bump("(i64.extend_i32_u (i32.shr_u (local.get $n) (i32.const 3)))")}
  (memory.copy (local.get $d) (local.get $s) (local.get $n)))
 (func $__tg_fill (param $d i32) (param $v i32) (param $n i32)
  ${bump("(i64.extend_i32_u (i32.shr_u (local.get $n) (i32.const 3)))")}
  (memory.fill (local.get $d) (local.get $v) (local.get $n)))
)`;
  const out = binaryen.parseText(text);
  try {
    out.setFeatures(binaryen.Features.All);
    if (!out.validate()) throw new Error(`instrumentation of ${wasmPath} produced an invalid module`);
    const bytes = out.emitBinary();
    cache.set(wasmPath, bytes);
    return bytes;
  } finally {
    out.dispose();
  }
}

/** The work counter of worker `worker`'s VM of the tester's last plugin (instrumented modules only). */
export function workOf(t: PluginTester, worker = 0): bigint {
  const vm = t.plugin.vms[worker];
  const g = (vm.instance.exports as Record<string, unknown>)[COUNTER];
  if (!(g instanceof WebAssembly.Global)) throw new Error("the module is not instrumented (no __tg_work export)");
  return g.value as bigint;
}

/** Linear-memory pages of worker `worker`'s VM of the tester's last plugin. */
export function pagesOf(t: PluginTester, worker = 0): number {
  return t.plugin.vms[worker].memory.buffer.byteLength / 65536;
}
