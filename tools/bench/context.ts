// The bench framework: one way to measure a request through the host, used for the noop floor and for
// every plugin section, so ratios compare like with like. A request runs the Envoy HTTP sequence on one
// worker VM, synchronously: on_context_create → on_request_headers (→ body) → on_response_headers (or the
// plugin's own local reply through its response callbacks) → on_log → on_done → on_delete.
import { existsSync, statSync } from "node:fs";
import { HostEnv, type HostEnvOptions } from "../host/env.ts";
import { BodyBuffer, type FilterCallbacks, type HttpFilter, type StreamState } from "../host/filter-api.ts";
import { HeaderMap, type HeaderList } from "../host/header-map.ts";
import { prepareLocalReply } from "../host/local-reply.ts";
import { Plugin, type PluginSpec } from "../host/plugin.ts";
import { pluginWasm } from "../paths.ts";

export interface BenchRequest {
  method?: string;
  path?: string;
  authority?: string;
  scheme?: string;
  /** Request headers besides the 4 pseudo-headers. */
  headers?: HeaderList;
  body?: string | Uint8Array;
  /** The upstream's answer (default: TYPICAL_RESPONSE). */
  response?: { status?: number; headers?: HeaderList; body?: string | Uint8Array };
  properties?: Record<string, unknown>;
}

/** The typical request of the floor: 10 request headers (4 pseudo + 6), no body. */
export const TYPICAL_REQUEST: BenchRequest = {
  method: "GET",
  path: "/api/v1/items?page=2",
  authority: "api.example.com",
  scheme: "https",
  headers: [
    ["user-agent", "Mozilla/5.0 (X11; Linux x86_64) tollgate-bench"],
    ["accept", "application/json"],
    ["accept-encoding", "gzip, deflate, br"],
    ["accept-language", "en-US,en;q=0.9"],
    ["x-request-id", "8f14e45f-ceea-467f-a0e6-3f1b1e5e2d1c"],
    ["x-forwarded-for", "203.0.113.7"],
  ],
};

/** 5 response headers (:status + 4), no body. */
export const TYPICAL_RESPONSE_HEADERS: HeaderList = [
  [":status", "200"],
  ["content-type", "application/json"],
  ["content-length", "0"],
  ["date", "Thu, 01 Jan 2026 00:00:00 GMT"],
  ["server", "envoy"],
];

export interface RequestOutcome {
  status: number;
  localReply: boolean;
}

/** Runs requests through a chain of plugins on worker 0 without an event loop turn. */
export class SyncDriver {
  readonly env: HostEnv;
  private readonly plugins: Plugin[];
  private readonly state: StreamState;
  private reply: { headers: HeaderMap; body: Uint8Array; status: number } | null = null;
  private readonly cb: FilterCallbacks;

  constructor(env: HostEnv, plugins: Plugin[]) {
    this.env = env;
    this.plugins = plugins;
    this.state = {
      startTimeNanos: 0n, startMonoNanos: 0n, endMonoNanos: null, requestHeaders: null, requestTrailers: null,
      responseHeaders: null, responseTrailers: null, responseCode: null, responseCodeDetails: "", filterState: new Map(),
      properties: { "source.address": "10.0.0.1:40000", "destination.address": "10.0.0.2:10000" },
      requestBodyBytes: 0, responseBodyBytes: 0, route: null, complete: false,
    };
    this.cb = {
      continueDecoding: () => {},
      continueEncoding: () => {},
      sendLocalReply: (status, body, headers, grpc) => {
        if (this.reply) return;
        const r = prepareLocalReply(status, body, headers, grpc, false);
        this.reply = { headers: r.headers, body: r.body, status };
      },
      resetStream: () => {},
      clearRouteCache: () => {},
      route: () => null,
      streamInfo: () => this.state,
    };
  }

  run(req: BenchRequest): RequestOutcome {
    const s = this.state;
    s.filterState.clear();
    s.responseCode = null;
    s.responseCodeDetails = "";
    s.complete = false;
    if (req.properties) Object.assign(s.properties, req.properties);
    this.reply = null;
    const filters: HttpFilter[] = this.plugins.map((p) => p.createFilter(0));
    for (const f of filters) f.setCallbacks(this.cb);
    const h = new HeaderMap("request", [
      [":method", req.method ?? "GET"], [":path", req.path ?? "/"], [":authority", req.authority ?? "example.com"], [":scheme", req.scheme ?? "http"],
    ]);
    if (req.headers) for (const [k, v] of req.headers) h.add(k, v);
    s.requestHeaders = h;
    const body = req.body === undefined ? null : typeof req.body === "string" ? Buffer.from(req.body) : req.body;
    let passed = 0;
    for (const f of filters) {
      const st = f.decodeHeaders(h, !body);
      if (this.reply || st !== 0) break;
      if (body) {
        const ds = f.decodeData(new BodyBuffer(body), true);
        if (this.reply || ds !== 0) break;
      }
      passed++;
    }
    let resp: HeaderMap;
    let respBody: Uint8Array | null = null;
    // Set by sendLocalReply during the filter calls above (TypeScript cannot see that).
    const reply = this.reply as { headers: HeaderMap; body: Uint8Array; status: number } | null;
    if (reply) {
      resp = reply.headers;
      respBody = reply.body.length ? reply.body : null;
    } else if (passed < filters.length) {
      throw new Error("a plugin stopped the request without a local reply; nsPerRequest needs requests that complete synchronously");
    } else {
      const r = req.response;
      resp = new HeaderMap("response", r ? [[":status", String(r.status ?? 200)], ...(r.headers ?? [])] : TYPICAL_RESPONSE_HEADERS);
      respBody = r?.body === undefined ? null : typeof r.body === "string" ? Buffer.from(r.body) : r.body;
    }
    s.responseHeaders = resp;
    for (let i = filters.length - 1; i >= 0; i--) {
      filters[i].encodeHeaders(resp, !respBody);
      if (respBody) filters[i].encodeData(new BodyBuffer(respBody), true);
    }
    s.complete = true;
    const view = { requestHeaders: h, responseHeaders: resp, responseTrailers: null };
    for (const f of filters) f.onLog(view);
    for (const f of filters) f.onDestroy();
    return { status: Number(resp.get(":status")), localReply: reply !== null };
  }
}

export interface BenchContext {
  /** ns per request of the noop plugin for TYPICAL_REQUEST, measured in this run. */
  noopNs: number;
  /** --full: run the long checks (1M-request memory growth). */
  full: boolean;
  log(line: string): void;
  /** Median ns per request through the host for `spec` (one plugin or a chain), same method as the floor. */
  nsPerRequest(spec: PluginSpec | PluginSpec[], request: BenchRequest | ((i: number) => BenchRequest), opts?: MeasureOptions): Promise<number>;
  /** Ratio to the noop floor with the floor measured in rounds alternating with the plugin's (measurePaired). */
  paired(spec: PluginSpec | PluginSpec[], request: BenchRequest | ((i: number) => BenchRequest), opts?: MeasureOptions): Promise<PairedResult>;
  /** Linear-memory growth (64 KiB pages) over `n` requests after a warm-up of min(n, 10k). */
  memoryGrowthPages(spec: PluginSpec | PluginSpec[], makeRequest: (i: number) => BenchRequest, n: number): Promise<number>;
  /** Size of dist/plugins/<name>.wasm (release). */
  wasmBytes(name: string): number;
  /** ns / noopNs, rounded to 2 decimals. */
  ratio(ns: number): number;
  /** A HostEnv for sections that need their own (callouts, clock); nsPerRequest uses a fresh one per call. */
  envOptions?: HostEnvOptions;
}

export interface MeasureOptions {
  /** Total measuring time in ms (default 600; split in rounds). */
  ms?: number;
  rounds?: number;
  /** Warm-up time in ms before measuring (default 400). */
  warmupMs?: number;
  env?: HostEnvOptions;
}

async function load(spec: PluginSpec | PluginSpec[], env: HostEnv): Promise<Plugin[]> {
  const specs = Array.isArray(spec) ? spec : [spec];
  const out: Plugin[] = [];
  for (const s of specs) out.push(await Plugin.load(env, { workers: 1, canary: false, ...s }));
  return out;
}

/**
 * Runs `run` for `warmMs` (V8 tiers wasm up from Liftoff to TurboFan in the background, which takes a
 * while on a busy machine), then returns how many runs fill `perRoundMs` at the warm rate.
 */
function calibrate(run: () => void, warmMs: number, perRoundMs: number): number {
  let t0 = performance.now();
  while (performance.now() - t0 < warmMs) run();
  let n = 0;
  t0 = performance.now();
  while (performance.now() - t0 < Math.max(20, perRoundMs / 2)) {
    run();
    n++;
  }
  return Math.max(1, Math.round((n / (performance.now() - t0)) * perRoundMs));
}

/**
 * CPU ns (user + system) per run over `n` runs. CPU time rather than wall time: on a shared machine the
 * process is descheduled at random, which wall time would count; medians of rounds drop the rest.
 */
function cpuNsPerRun(run: () => void, n: number): number {
  const start = process.cpuUsage();
  for (let k = 0; k < n; k++) run();
  const used = process.cpuUsage(start);
  return ((used.user + used.system) * 1000) / n;
}

/** Middle value (upper middle for even lengths); sorts `xs` in place. */
export function median(xs: number[]): number {
  return xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
}

/** Median-of-rounds CPU ns per request (the method used for the floor and for every plugin). */
export async function measureNs(spec: PluginSpec | PluginSpec[], request: BenchRequest | ((i: number) => BenchRequest), opts: MeasureOptions = {}): Promise<number> {
  const env = new HostEnv({ logLevel: "critical", ...(opts.env ?? {}) });
  env.maxLogs = 1000;
  const plugins = await load(spec, env);
  try {
    const d = new SyncDriver(env, plugins);
    const make = typeof request === "function" ? request : () => request;
    const rounds = opts.rounds ?? 7;
    let i = 0;
    const run = () => d.run(make(i++));
    const n = calibrate(run, opts.warmupMs ?? 400, (opts.ms ?? 600) / rounds);
    const samples: number[] = [];
    for (let r = 0; r < rounds; r++) samples.push(cpuNsPerRun(run, n));
    return median(samples);
  } finally {
    for (const p of plugins) p.close();
  }
}

/** A plugin's cost against the noop floor measured alongside it (see measurePaired). */
export interface PairedResult {
  /** Median over rounds of plugin ns ÷ noop ns of the same round pair. */
  ratio: number;
  /** Median plugin ns per request. */
  ns: number;
  /** Median noop ns per request over the same rounds. */
  floorNs: number;
}

/**
 * The plugin and the noop floor in one process, warmed up together, measured in alternating rounds
 * (noop, plugin, plugin, noop, …); the ratio is the median of the per-pair ratios. On a shared machine
 * the load changes between one floor measurement at the start of a run and a section minutes later;
 * pairing rounds keeps each ratio about the plugin rather than about the machine.
 */
export async function measurePaired(spec: PluginSpec | PluginSpec[], request: BenchRequest | ((i: number) => BenchRequest), opts: MeasureOptions = {}): Promise<PairedResult> {
  const noopEnv = new HostEnv({ logLevel: "critical" });
  const env = new HostEnv({ logLevel: "critical", ...(opts.env ?? {}) });
  noopEnv.maxLogs = env.maxLogs = 1000;
  const floorPlugins = await load({ wasm: pluginWasm("noop"), name: "noop", rootId: "noop" }, noopEnv);
  const plugins = await load(spec, env);
  try {
    const floor = new SyncDriver(noopEnv, floorPlugins);
    const d = new SyncDriver(env, plugins);
    const make = typeof request === "function" ? request : () => request;
    const rounds = opts.rounds ?? 11;
    const perRound = (opts.ms ?? 1600) / (2 * rounds);
    let i = 0;
    const runFloor = () => floor.run(TYPICAL_REQUEST);
    const runPlugin = () => d.run(make(i++));
    // Warm-up and calibration for each, then rounds of equal length.
    const warm = (opts.warmupMs ?? 400) / 2;
    const nFloor = calibrate(runFloor, warm, perRound);
    const nPlugin = calibrate(runPlugin, warm, perRound);
    const ratios: number[] = [];
    const nss: number[] = [];
    const floors: number[] = [];
    for (let r = 0; r < rounds; r++) {
      let f: number;
      let p: number;
      if (r % 2 === 0) {
        f = cpuNsPerRun(runFloor, nFloor);
        p = cpuNsPerRun(runPlugin, nPlugin);
      } else {
        p = cpuNsPerRun(runPlugin, nPlugin);
        f = cpuNsPerRun(runFloor, nFloor);
      }
      ratios.push(p / f);
      nss.push(p);
      floors.push(f);
    }
    return { ratio: round(median(ratios)), ns: median(nss), floorNs: median(floors) };
  } finally {
    for (const p of [...floorPlugins, ...plugins]) p.close();
  }
}

export async function memoryGrowthPages(spec: PluginSpec | PluginSpec[], makeRequest: (i: number) => BenchRequest, n: number): Promise<number> {
  const env = new HostEnv({ logLevel: "critical" });
  env.maxLogs = 1000;
  const plugins = await load(spec, env);
  try {
    const d = new SyncDriver(env, plugins);
    const pages = () => plugins.reduce((s, p) => s + p.vms[0].memory.buffer.byteLength / 65536, 0);
    // Warm-up long enough for request generators that cycle through thousands of distinct inputs (auth's
    // 4,096 tokens through a 1,024-entry cache take ~20k requests to reach steady state): growth after it
    // is what leaks look like; the climb to a bounded cache's full size is not.
    const warm = Math.min(n, 50_000);
    for (let i = 0; i < warm; i++) d.run(makeRequest(i));
    const before = pages();
    for (let i = 0; i < n; i++) d.run(makeRequest(warm + i));
    return pages() - before;
  } finally {
    for (const p of plugins) p.close();
  }
}

export function wasmBytes(name: string): number {
  const p = pluginWasm(name);
  if (!existsSync(p)) throw new Error(`${p} does not exist: run 'tollgate build ${name}'`);
  return statSync(p).size;
}

// ---- V8 call overhead (JS → wasm and wasm → JS), from hand-assembled modules ----

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}
function section(id: number, body: number[]): number[] {
  return [id, ...leb(body.length), ...body];
}
function str(s: string): number[] {
  return [...leb(s.length), ...Buffer.from(s)];
}

/** (module exporting f(i32,i32,i32)->i32 that returns 0, module exporting loop(n) calling import h(i32)->i32 n times). */
function overheadModules(): { empty: Uint8Array; caller: Uint8Array } {
  const header = [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0];
  const empty = [
    ...header,
    ...section(1, [1, 0x60, 3, 0x7f, 0x7f, 0x7f, 1, 0x7f]),
    ...section(3, [1, 0]),
    ...section(7, [1, ...str("f"), 0, 0]),
    ...section(10, [1, ...leb(4), 0, 0x41, 0, 0x0b]),
  ];
  // (func $loop (param $n i32) (local $i i32) block loop local.get 1 local.get 0 i32.ge_u br_if 1
  //   local.get 1 call $h drop local.get 1 i32.const 1 i32.add local.set 1 br 0 end end)
  const code = [1, 1, 0x7f, 0x02, 0x40, 0x03, 0x40, 0x20, 1, 0x20, 0, 0x4f, 0x0d, 1, 0x20, 1, 0x10, 0, 0x1a, 0x20, 1, 0x41, 1, 0x6a, 0x21, 1, 0x0c, 0, 0x0b, 0x0b, 0x0b];
  const caller = [
    ...header,
    ...section(1, [2, 0x60, 1, 0x7f, 1, 0x7f, 0x60, 1, 0x7f, 0]),
    ...section(2, [1, ...str("env"), ...str("h"), 0, 0]),
    ...section(3, [1, 1]),
    ...section(7, [1, ...str("loop"), 0, 1]),
    ...section(10, [1, ...leb(code.length), ...code]),
  ];
  return { empty: Uint8Array.from(empty), caller: Uint8Array.from(caller) };
}

/** ns per empty JS→wasm call and per wasm→JS host call, as V8 runs them here. */
export function callOverhead(): { hostToWasmNs: number; wasmToHostNs: number } {
  const { empty, caller } = overheadModules();
  const f = new WebAssembly.Instance(new WebAssembly.Module(empty as BufferSource)).exports.f as (a: number, b: number, c: number) => number;
  let sink = 0;
  const h = (x: number) => (sink += x) & 0;
  const loop = new WebAssembly.Instance(new WebAssembly.Module(caller as BufferSource), { env: { h } }).exports.loop as (n: number) => void;
  const N = 2_000_000;
  // Median of 5 timings of `fn` (N calls each), per call.
  const med = (fn: () => void): number => median(Array.from({ length: 5 }, () => cpuNsPerRun(fn, 1) / N));
  const hostToWasm = med(() => {
    for (let i = 0; i < N; i++) sink += f(i, 1, 0);
  });
  const wasmToHost = med(() => loop(N));
  void sink;
  return { hostToWasmNs: round(hostToWasm), wasmToHostNs: round(wasmToHost) };
}

export function round(n: number, digits = 2): number {
  const m = 10 ** digits;
  return Math.round(n * m) / m;
}

export function makeContext(noopNs: number, full: boolean, log: (line: string) => void): BenchContext {
  return {
    noopNs,
    full,
    log,
    nsPerRequest: (spec, request, opts) => measureNs(spec, request, opts),
    paired: (spec, request, opts) => measurePaired(spec, request, opts),
    memoryGrowthPages,
    wasmBytes,
    ratio: (ns) => round(ns / noopNs),
  };
}
