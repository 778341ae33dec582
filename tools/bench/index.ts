// `tollgate bench`: the noop floor (ns per typical request through the host, V8 call overhead,
// noop.wasm size), then every registered section. Plugin engineers add tools/bench/<name>.ts exporting
// `bench(ctx: BenchContext)` and register it below with one line.
import { pluginWasm } from "../paths.ts";
import { assertBuilt } from "../plugins/discover.ts";
import { type BenchContext, callOverhead, makeContext, measureNs, round, TYPICAL_REQUEST, wasmBytes } from "./context.ts";

export type { BenchContext, BenchRequest } from "./context.ts";

export interface Section {
  /** Key in the output: plugins.<name>, or top-level for kind "top" (e.g. gateway). */
  name: string;
  kind: "plugin" | "top";
  load: () => Promise<{ bench: (ctx: BenchContext) => Promise<Record<string, unknown>> }>;
}

/**
 * Registered sections, one line each. A plugin section:
 *   { name: "cors", kind: "plugin", load: () => import("./cors.ts") },
 * where tools/bench/cors.ts exports `async function bench(ctx: BenchContext)` returning its figures, e.g.
 * `{ nsPerRequest, ratio: ctx.ratio(nsPerRequest), wasmBytes: ctx.wasmBytes("cors") }`.
 */
export const sections: Section[] = [
  { name: "cors", kind: "plugin", load: () => import("./cors.ts") as never },
  { name: "canary", kind: "plugin", load: () => import("./canary.ts") as never },
  { name: "auth", kind: "plugin", load: () => import("./auth.ts") as never },
  { name: "rate-limit", kind: "plugin", load: () => import("./rate-limit.ts") as never },
  { name: "gateway", kind: "top", load: () => import("./gateway.ts") as never },
  { name: "memory", kind: "top", load: () => import("./memory.ts") as never },
];

export interface BenchOptions {
  only?: string[];
  full?: boolean;
  log?: (line: string) => void;
}

export interface BenchReport {
  noop: { nsPerRequest: number; wasmBytes: number; hostToWasmCallNs: number; wasmToHostCallNs: number; request: string; method: string };
  plugins: Record<string, Record<string, unknown>>;
  [section: string]: unknown;
}

export async function runBench(opts: BenchOptions = {}): Promise<BenchReport> {
  const log = opts.log ?? (() => {});
  assertBuilt(pluginWasm("noop"), "noop", "the floor every ratio is measured against");
  log("measuring the noop floor …");
  const overhead = callOverhead();
  const noopNs = await measureNs({ wasm: pluginWasm("noop") }, TYPICAL_REQUEST, { ms: 1200, rounds: 9 });
  const report: BenchReport = {
    noop: {
      nsPerRequest: round(noopNs, 0),
      wasmBytes: wasmBytes("noop"),
      hostToWasmCallNs: overhead.hostToWasmNs,
      wasmToHostCallNs: overhead.wasmToHostNs,
      request: "10 request headers, 5 response headers, no body: context_create → request/response headers → log → done → delete",
      method: "CPU ns (user+system) per request, median of 9 rounds after warm-up, one worker VM, synchronous",
    },
    plugins: {},
  };
  const ctx = makeContext(noopNs, opts.full ?? false, log);
  for (const s of sections) {
    if (opts.only?.length && !opts.only.includes(s.name)) continue;
    log(`bench ${s.name} …`);
    try {
      const mod = await s.load();
      const result = await mod.bench(ctx);
      if (s.kind === "plugin") report.plugins[s.name] = result;
      else report[s.name] = result;
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      log(`bench ${s.name} failed: ${error}`);
      if (s.kind === "plugin") report.plugins[s.name] = { error };
      else report[s.name] = { error };
    }
  }
  return report;
}
