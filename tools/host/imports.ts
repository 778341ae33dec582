// The import object a VM is linked with (abi.md §1.2, §13): every ABI area's host functions under `env`,
// the WASI subset under both WASI module names, each checked against the restricted phases
// (restrictions.ts) — by a wrapper, or by the function itself when it is marked selfChecked.
import { buffersImports } from "./buffers.ts";
import { grpcCallsImports } from "./grpc-calls.ts";
import { headersImports } from "./headers.ts";
import { httpCallsImports } from "./http-calls.ts";
import { logsImports } from "./logs.ts";
import { metricsImports } from "./metrics.ts";
import { propertiesImports } from "./properties.ts";
import { alwaysAllowed, isSelfChecked } from "./restrictions.ts";
import { sharedDataImports } from "./shared-data.ts";
import { WASI_MODULES } from "./signatures.ts";
import { streamImports } from "./stream-control.ts";
import { timersImports } from "./timers.ts";
import type { WasmVm } from "./vm.ts";
import { wasiImports } from "./wasi.ts";

type HostFn = (...args: number[]) => number;

/** Links `vm`: the host functions bound to it, as WebAssembly.Instance takes them. */
export function linkImports(vm: WasmVm): WebAssembly.Imports {
  const env: Record<string, unknown> = {};
  const areas = [
    logsImports(vm), headersImports(vm), buffersImports(vm), propertiesImports(vm), sharedDataImports(vm),
    timersImports(vm), httpCallsImports(vm), grpcCallsImports(vm), metricsImports(vm), streamImports(vm),
  ];
  for (const a of areas) {
    for (const [k, f] of Object.entries(a)) env[k] = checked(vm, `env.${k}`, f as HostFn);
  }
  const out: WebAssembly.Imports = { env: env as WebAssembly.ModuleImports };
  for (const m of WASI_MODULES) {
    const w: Record<string, unknown> = {};
    for (const [k, f] of Object.entries(wasiImports(vm, m))) w[k] = checked(vm, `${m}.${k}`, f as HostFn);
    out[m] = w as WebAssembly.ModuleImports;
  }
  return out;
}

/** `f` as imported: as it is when every phase allows it or it checks itself, else behind vm.checkCall. */
function checked(vm: WasmVm, key: string, f0: HostFn): HostFn {
  const profile = vm.env.profile;
  const f = profile ? profile.wrap(key, f0, () => new DataView(vm.memory.buffer)) : f0;
  if (alwaysAllowed(key) || isSelfChecked(f0)) return f;
  // Fixed arity (the widest host function takes 12 arguments) instead of `arguments`/apply: V8 calls
  // this directly; extra undefined arguments are ignored by the narrower functions.
  return ((a: number, b: number, c: number, d: number, e: number, g: number, h: number, i: number, j: number, k: number, l: number, m: number) => {
    vm.checkCall(key);
    return f(a, b, c, d, e, g, h, i, j, k, l, m);
  }) as HostFn;
}
