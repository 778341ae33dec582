// One Wasm VM (one worker's instance of a plugin module): instantiation and start (abi.md §1.5, §2.1),
// guest memory access and copy-out through the guest allocator (§1.5), the call wrapper that saves and
// restores the current/effective context and runs deferred actions after each callback (§2.6), restricted
// callbacks during start and malloc (§1.5), and VM failure on traps (§14).
import { R } from "./abi.ts";
import { buffersImports } from "./buffers.ts";
import { type HttpFilterContext, RootContext, type Context, VmContext } from "./context.ts";
import type { HostEnv } from "./env.ts";
import { lowerKey, type ReadonlyHeaderList } from "./header-map.ts";
import { headersImports } from "./headers.ts";
import { httpCallsImports } from "./http-calls.ts";
import type { AbiVersion } from "./link.ts";
import { logsImports } from "./logs.ts";
import { metricsImports } from "./metrics.ts";
import { parsePairs } from "./pairs.ts";
import { propertiesImports } from "./properties.ts";
import { sharedDataImports } from "./shared-data.ts";
import { MALLOC_ALLOWED, START_ALLOWED, WASI_MODULES } from "./signatures.ts";
import { streamImports } from "./stream-control.ts";
import { timersImports } from "./timers.ts";
import { failMessage, HostTrap, HostUsageError } from "./traps.ts";
import { wasiImports } from "./wasi.ts";

export type FailurePolicy = "FAIL_CLOSED" | "FAIL_OPEN" | "FAIL_RELOAD";

/** A configured plugin as the VM sees it (PluginConfig + VmConfig of the Wasm filter). */
export interface PluginConfig {
  name: string;
  rootId: string;
  vmId: string;
  vmConfig: Uint8Array;
  configuration: Uint8Array;
  /** The deprecated fail_open: true; Envoy 1.40 lets the trapping request itself continue (seen live). */
  failOpen: boolean;
  /** What a failed VM does to later streams (Envoy PluginConfig.failure_policy; fail_open: true = FAIL_OPEN). */
  failurePolicy: FailurePolicy;
  /** FAIL_RELOAD: how long after a failure a new stream may reload the VM (reload_config.backoff.base_interval). */
  reloadBackoffMs: number;
  allowOnHeadersStopIteration: boolean;
  /** Serve the top-level route_name / cluster_name / node … aliases removed in Envoy ≥ 1.33 (abi.md §6.1). */
  legacyXdsAliases: boolean;
}

const RESTRICT_NONE = 0;
const RESTRICT_START = 1;
const RESTRICT_MALLOC = 2;

type Fn = (...args: number[]) => number;

/** Node's Buffer has had these since its beginning; @types/node does not declare them. */
type FastBuffer = Buffer & {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
  latin1Write(s: string, offset: number, length: number): number;
};
if (typeof (Buffer.prototype as Partial<FastBuffer>).latin1Slice !== "function") {
  throw new Error("tools/host needs Buffer.prototype.latin1Slice (Node.js ≥ 18)");
}

/** Byte strings up to this length are written to guest memory from JS. */
const SHORT_WRITE = 28;

/** Slots of a decode cache (a power of two) and the longest byte string one holds. */
const CACHE_SLOTS = 256;
const CACHE_MAX_LEN = 64;
const NOT_CACHEABLE = -(CACHE_SLOTS + 1);

/** A copy of guest bytes, with the views equalBytes compares through. */
interface ByteCopy {
  readonly u8: Uint8Array;
  readonly u32: Uint32Array;
  readonly dv: DataView;
}

function byteCopy(capacity: number): ByteCopy {
  const u8 = new Uint8Array((capacity + 3) & ~3);
  return { u8, u32: new Uint32Array(u8.buffer), dv: new DataView(u8.buffer) };
}

/**
 * Guest bytes [ptr, ptr+n) equal c[off, off+n): four bytes at a time, through Uint32Arrays when both
 * sides are 4-aligned (names, scratch blocks and builders' buffers are), else through DataViews — either
 * way far cheaper than comparing decoded strings.
 */
function equalBytes(vm: WasmVm, ptr: number, c: ByteCopy, off: number, n: number): boolean {
  let i = 0;
  if (((ptr | off) & 3) === 0) {
    const g = vm.u32;
    const k = c.u32;
    const p4 = ptr >>> 2;
    const o4 = off >>> 2;
    const n4 = n >>> 2;
    for (let j = 0; j < n4; j++) if (g[p4 + j] !== k[o4 + j]) return false;
    i = n4 << 2;
  } else {
    const dv = vm.dv;
    const cv = c.dv;
    for (; i + 4 <= n; i += 4) if (dv.getUint32(ptr + i, true) !== cv.getUint32(off + i, true)) return false;
  }
  const u8 = vm.u8;
  const k8 = c.u8;
  for (; i < n; i++) if (u8[ptr + i] !== k8[off + i]) return false;
  return true;
}

/**
 * A direct-mapped cache of strings decoded from guest memory, keyed by (address, size) and validated
 * against a copy of the bytes.
 */
class DecodeCache {
  readonly ptrs = new Int32Array(CACHE_SLOTS).fill(-1);
  readonly sizes = new Int32Array(CACHE_SLOTS);
  readonly strings: string[] = new Array<string>(CACHE_SLOTS).fill("");
  private readonly copy = byteCopy(CACHE_SLOTS * CACHE_MAX_LEN);

  /** The slot holding exactly these bytes (≥ 0); else -(slot + 1) to store into, or NOT_CACHEABLE. */
  find(vm: WasmVm, ptr: number, size: number): number {
    if (size > CACHE_MAX_LEN) return NOT_CACHEABLE;
    const slot = (ptr ^ (ptr >>> 7) ^ size) & (CACHE_SLOTS - 1);
    if (this.ptrs[slot] !== ptr || this.sizes[slot] !== size) return -slot - 1;
    return equalBytes(vm, ptr, this.copy, slot * CACHE_MAX_LEN, size) ? slot : -slot - 1;
  }

  store(u8: Uint8Array, slot: number, ptr: number, size: number, s: string): void {
    this.ptrs[slot] = ptr;
    this.sizes[slot] = size;
    this.strings[slot] = s;
    // A loop, not copy.set(u8.subarray(…)): the subarray view would cost more than these few bytes.
    const copy = this.copy.u8;
    const off = slot * CACHE_MAX_LEN;
    for (let i = 0; i < size; i++) copy[off + i] = u8[ptr + i];
  }
}

/**
 * Up to 8 guest bytes as a byte string. String.fromCharCode with fixed arguments is several times
 * cheaper than latin1Slice's call into C++ for the short values plugins write most (numbers, tokens).
 */
function shortLatin1(u8: Uint8Array, p: number, n: number): string {
  const c = String.fromCharCode;
  switch (n) {
    case 0: return "";
    case 1: return c(u8[p]);
    case 2: return c(u8[p], u8[p + 1]);
    case 3: return c(u8[p], u8[p + 1], u8[p + 2]);
    case 4: return c(u8[p], u8[p + 1], u8[p + 2], u8[p + 3]);
    case 5: return c(u8[p], u8[p + 1], u8[p + 2], u8[p + 3], u8[p + 4]);
    case 6: return c(u8[p], u8[p + 1], u8[p + 2], u8[p + 3], u8[p + 4], u8[p + 5]);
    case 7: return c(u8[p], u8[p + 1], u8[p + 2], u8[p + 3], u8[p + 4], u8[p + 5], u8[p + 6]);
    default: return c(u8[p], u8[p + 1], u8[p + 2], u8[p + 3], u8[p + 4], u8[p + 5], u8[p + 6], u8[p + 7]);
  }
}

/**
 * The internalized copy of `s` (V8 internalizes property names). Header maps compare names with ===,
 * which for two internalized strings is a pointer comparison instead of a character loop.
 */
function internalized(s: string): string {
  for (const k in { [s]: 0 }) return k;
  return s;
}

/** Slots of the serialized-pairs cache and the largest block it keeps. */
const PAIRS_SLOTS = 8;
const PAIRS_MAX_BYTES = 2048;

/**
 * Parsed header pairs by guest address, validated against a copy of the block: plugins build a local
 * reply's headers in a buffer they reuse, and an identical block (same 401 challenge, same preflight
 * answer) parses to the same list. Callers only read the lists (ReadonlyHeaderList).
 */
class PairsCache {
  private readonly ptrs = new Int32Array(PAIRS_SLOTS).fill(-1);
  private readonly sizes = new Int32Array(PAIRS_SLOTS);
  private readonly copies: ByteCopy[] = Array.from({ length: PAIRS_SLOTS }, () => byteCopy(256));
  private readonly lists: ReadonlyHeaderList[] = Array.from({ length: PAIRS_SLOTS }, () => []);

  get(vm: WasmVm, ptr: number, size: number): ReadonlyHeaderList {
    if (size > PAIRS_MAX_BYTES) return parsePairs(vm.buf, ptr, size, vm);
    const slot = (ptr ^ (ptr >>> 5) ^ size) & (PAIRS_SLOTS - 1);
    let copy = this.copies[slot];
    if (this.ptrs[slot] === ptr && this.sizes[slot] === size && equalBytes(vm, ptr, copy, 0, size)) return this.lists[slot];
    const list = parsePairs(vm.buf, ptr, size, vm);
    if (copy.u8.length < size) this.copies[slot] = copy = byteCopy(size);
    copy.u8.set(vm.u8.subarray(ptr, ptr + size));
    this.ptrs[slot] = ptr;
    this.sizes[slot] = size;
    this.lists[slot] = list;
    return list;
  }
}

/** Host functions that begin with checkUnrestricted() themselves (see selfChecked). */
const SELF_CHECKED = new WeakSet<object>();

/**
 * Marks hot host functions that start with `vm.checkUnrestricted(key)`, so they are imported as they are
 * instead of through the restriction wrapper: that wrapper is one closure shape calling every host
 * function, a megamorphic call that costs ~10 ns per host call. Only for functions that no restricted
 * phase allows (every proxy_* but proxy_log).
 */
export function selfChecked<T extends object>(fns: T, ...names: Array<keyof T & string>): T {
  for (const n of names) SELF_CHECKED.add(fns[n] as object);
  return fns;
}

export class WasmVm {
  readonly instance: WebAssembly.Instance;
  /** The host functions this VM was linked with (tests call them directly). */
  readonly imports: WebAssembly.Imports;
  readonly memory: WebAssembly.Memory;
  failed = false;
  /** Date.now() when the VM failed (FAIL_RELOAD's backoff counts from it). */
  failedAt = 0;
  failure = "";
  readonly contexts = new Map<number, Context>();
  readonly vmContext: VmContext;
  /** This plugin's root context in this VM (created by startPlugin). */
  root: RootContext | null = null;
  current: Context | null = null;
  effective: Context | null = null;
  /** Set by send_local_response; read when the callback's result is converted (abi.md §2.4). */
  stopNext = false;
  /** stopNext as it was when the last top-level callback returned. */
  lastStop = false;
  /** Name of the callback running (for error messages). */
  running = "";
  depth = 0;
  restricted = RESTRICT_NONE;
  private deferred: Array<() => void> = [];
  private nextContextId = 1;
  private usageError: unknown = null;
  /** http_call tokens: 4, 8, … per VM (abi.md §9). */
  nextHttpCallId = 0;

  // Guest memory views, re-created whenever memory.buffer changes (growth detaches it).
  private ab: ArrayBuffer | null = null;
  u8!: Uint8Array;
  u32!: Uint32Array;
  buf!: Buffer;
  dv!: DataView;

  // Exports, looked up once.
  readonly ex: Record<string, Fn | undefined>;
  private readonly fMalloc: Fn;

  /**
   * The plugin of the context being served (set on every call into the guest). A VM shared by several
   * filters (same vm_id, VM configuration and code) serves each through its own root context.
   */
  plugin: PluginConfig;

  constructor(
    readonly env: HostEnv,
    plugin: PluginConfig,
    readonly module: WebAssembly.Module,
    readonly abi: AbiVersion,
    readonly worker: number,
  ) {
    this.plugin = plugin;
    this.vmContext = new VmContext(this);
    const imports = this.buildImports();
    this.imports = imports;
    this.instance = new WebAssembly.Instance(module, imports);
    const ex = this.instance.exports as Record<string, unknown>;
    const mem = ex.memory;
    if (!(mem instanceof WebAssembly.Memory)) throw new VmLoadError("Wasm module is missing memory (export 'memory').");
    this.memory = mem;
    const fns: Record<string, Fn | undefined> = {};
    for (const [k, v] of Object.entries(ex)) if (typeof v === "function") fns[k] = v as Fn;
    this.ex = fns;
    const malloc = fns.malloc ?? fns.proxy_on_memory_allocate;
    if (!malloc) throw new VmLoadError("Wasm module is missing malloc function.");
    this.fMalloc = malloc;
    env.sharedData.retain(plugin.vmId);
  }

  // ---- start (abi.md §2.1 step 2) ----

  /** _initialize (+ main / __main_void) or _start, under the start allow-list. False = VM failed. */
  startVm(): boolean {
    const ex = this.ex;
    const run = (name: string, f: Fn, a = 0, b = 0): void => {
      this.restricted = RESTRICT_START;
      try {
        this.invoke(this.vmContext, name, f, a, b);
      } finally {
        this.restricted = RESTRICT_NONE;
      }
    };
    if (ex._initialize) {
      run("_initialize", ex._initialize);
      if (!this.failed && ex.main) run("main", ex.main, 0, 0);
      else if (!this.failed && ex.__main_void) run("__main_void", ex.__main_void);
    } else if (ex._start) {
      run("_start", ex._start);
    }
    return !this.failed;
  }

  // ---- contexts ----

  allocContextId(): number {
    // Monotonic, skipping ids still in use (cpp-host allocContextId).
    for (;;) {
      const id = this.nextContextId++;
      if (this.nextContextId > 0x7fffffff) this.nextContextId = 1;
      if (!this.contexts.has(id)) return id;
    }
  }

  /** The context host calls act on: the effective context if set, else the current one (abi.md §12). */
  ctx(): Context {
    return this.effective ?? this.current ?? this.vmContext;
  }

  /** Root context of the calling context (stream → its root; root → itself). */
  rootOfCurrent(): RootContext | null {
    const c = this.ctx();
    return c.rootContext();
  }

  /**
   * Creates, starts and configures a root context for `plugin` (default: the VM's first plugin) and makes
   * it `root`. Returns a failure message or null.
   */
  startPlugin(plugin: PluginConfig = this.plugin): { phase: "start" | "configure"; message: string } | null {
    this.plugin = plugin;
    const root = new RootContext(this, this.allocContextId(), plugin);
    this.contexts.set(root.id, root);
    this.root = root;
    if (!root.onStart()) {
      return { phase: "start", message: this.failed ? this.failure : `Plugin ${this.plugin.name} failed to start: proxy_on_vm_start returned false` };
    }
    if (!root.onConfigure()) {
      return { phase: "configure", message: this.failed ? this.failure : `Plugin ${this.plugin.name} failed to configure: proxy_on_configure returned false` };
    }
    return null;
  }

  // ---- calls into the guest (abi.md §2.6) ----

  /**
   * Calls guest function `fn` on context `ctx`. Traps and host exceptions mark the VM failed (the
   * result is then 0). Deferred actions run once the outermost call returns. Re-entering a VM that is
   * inside a host call (from a test hook) is a usage error.
   */
  invoke(ctx: Context, name: string, fn: Fn, a = 0, b = 0, c = 0, d = 0, e = 0): number {
    if (this.failed) return 0;
    if (this.depth > 0) {
      throw new HostUsageError(
        `re-entrant call into the VM of plugin '${this.plugin.name}' worker ${this.worker} (${name}) while it is inside ` +
          `${this.running}: a VM runs one callback at a time — drive a different worker from the hook`,
      );
    }
    const prevCur = this.current;
    const prevEff = this.effective;
    const prevRunning = this.running;
    this.plugin = ctx.pluginConfig;
    this.current = ctx;
    this.effective = null;
    this.running = name;
    this.depth++;
    let r = 0;
    try {
      r = fn(a, b, c, d, e);
    } catch (err) {
      this.fail(name, err);
    } finally {
      this.depth--;
      this.current = prevCur;
      this.effective = prevEff;
      this.running = prevRunning;
    }
    const stop = this.stopNext;
    this.stopNext = false;
    if (this.usageError) {
      const u = this.usageError;
      this.usageError = null;
      this.deferred.length = 0;
      throw u;
    }
    this.runDeferred();
    this.lastStop = stop;
    return r;
  }

  /** Queues work for after the current VM call returns (Envoy's DeferAfterCallActions). */
  defer(fn: () => void): void {
    if (this.depth === 0) fn();
    else this.deferred.push(fn);
  }

  private runDeferred(): void {
    while (this.deferred.length) {
      const f = this.deferred.shift()!;
      f();
    }
  }

  /** Marks the VM failed (abi.md §14): logged once; every later callback on this VM is skipped. */
  fail(fn: string, err: unknown): void {
    if (err instanceof HostUsageError) {
      this.usageError ??= err.original ?? err;
    }
    if (this.failed) return;
    this.failed = true;
    this.failedAt = Date.now();
    this.failure = failMessage(fn, err instanceof HostUsageError ? new HostTrap(`interrupted by a test hook: ${err.message}`) : err);
    this.deferred.length = 0;
    // Envoy 1.40 logs exactly this at error (wasm_vm.cc): `Function: <callback> failed: <V8's message>`.
    this.env.log(4, this.failure, this.who(false), "host");
    for (const c of this.contexts.values()) c.onVmFailed();
  }

  private readonly whoCache = new Map<PluginConfig, Array<{ plugin: string; rootId: string; vmId: string; worker: number; stream: boolean }>>();

  /** Log attribution for this VM (stream contexts get the plugin name in Envoy's prefix); cached, no per-log allocation. */
  who(stream: boolean) {
    const p = this.plugin;
    let c = this.whoCache.get(p);
    if (!c) {
      c = [false, true].map((s) => ({ plugin: p.name, rootId: p.rootId, vmId: p.vmId, worker: this.worker, stream: s }));
      this.whoCache.set(p, c);
    }
    return c[stream ? 1 : 0];
  }

  /** Callback from a shared queue (posted on the event loop). */
  onQueueReady(rootId: number, token: number): void {
    const root = this.contexts.get(rootId);
    if (root instanceof RootContext) root.onQueueReady(token);
  }

  // ---- guest memory (abi.md §1.5) ----

  refresh(): void {
    // Growing memory detaches the old ArrayBuffer, which zeroes our views' length: checking that is far
    // cheaper than the memory.buffer getter on every host call.
    if (this.ab !== null && this.u8.length !== 0) return;
    const b = this.memory.buffer;
    if (b !== this.ab) {
      this.ab = b;
      this.u8 = new Uint8Array(b);
      this.u32 = new Uint32Array(b);
      this.buf = Buffer.from(b);
      this.dv = new DataView(b);
    }
  }

  inBounds(ptr: number, size: number): boolean {
    this.refresh();
    return (ptr >>> 0) + (size >>> 0) <= this.u8.length;
  }

  // Decoded short strings by guest address: plugins pass the same pre-encoded header names (and many
  // constant values) from the same addresses on every request. A hit is checked against a copy of the
  // bytes, so changed memory at a cached address never reads stale; that check costs a fraction of a
  // latin1Slice call into C++ plus a fresh string.
  private readonly values = new DecodeCache();
  /** Same, for header names, holding the lower-cased name (Envoy's LowerCaseString). */
  private readonly keys = new DecodeCache();

  /** Guest bytes [ptr, ptr+size) as a byte string (latin1: one char per byte); caller checked bounds. */
  latin1(ptr: number, size: number): string {
    return this.decodeCached(this.values, ptr >>> 0, size >>> 0, false);
  }

  /** A header name from guest memory, lower-cased (caller checked bounds). */
  headerKey(ptr: number, size: number): string {
    return this.decodeCached(this.keys, ptr >>> 0, size >>> 0, true);
  }

  private decodeCached(c: DecodeCache, ptr: number, size: number, lower: boolean): string {
    const slot = c.find(this, ptr, size);
    if (slot >= 0) return c.strings[slot];
    const raw = size <= 8 ? shortLatin1(this.u8, ptr, size) : (this.buf as FastBuffer).latin1Slice(ptr, ptr + size);
    const s = lower ? internalized(lowerKey(raw)) : raw;
    if (slot !== NOT_CACHEABLE) c.store(this.u8, -slot - 1, ptr, size, s);
    return s;
  }

  private readonly pairsCache = new PairsCache();

  /** Serialized header pairs at [ptr, ptr+size) (abi.md §3.1), parsed, read-only (caller checked bounds). */
  pairs(ptr: number, size: number): ReadonlyHeaderList {
    return this.pairsCache.get(this, ptr >>> 0, size >>> 0);
  }

  utf8(ptr: number, size: number): string {
    return (this.buf as FastBuffer).utf8Slice(ptr >>> 0, (ptr >>> 0) + (size >>> 0));
  }

  /** A copy of guest bytes (caller checked bounds). */
  bytes(ptr: number, size: number): Uint8Array {
    return this.u8.slice(ptr >>> 0, (ptr >>> 0) + (size >>> 0));
  }

  setU32(ptr: number, v: number): boolean {
    if (!this.inBounds(ptr, 4)) return false;
    this.dv.setUint32(ptr >>> 0, v >>> 0, true);
    return true;
  }

  setU64(ptr: number, v: bigint): boolean {
    if (!this.inBounds(ptr, 8)) return false;
    this.dv.setBigUint64(ptr >>> 0, BigInt.asUintN(64, v), true);
    return true;
  }

  /** Calls the guest allocator (malloc preferred, abi.md §1.3) under the malloc allow-list. */
  malloc(size: number): number {
    const prevR = this.restricted;
    const prevCur = this.current;
    const prevEff = this.effective;
    this.restricted = RESTRICT_MALLOC;
    this.current = null;
    this.effective = null;
    try {
      return this.fMalloc(size) >>> 0;
    } finally {
      this.restricted = prevR;
      this.current = prevCur;
      this.effective = prevEff;
    }
  }

  /**
   * copyToPointerSize: empty → writes 0/0 without allocating; else malloc(size), copy, write ptr and size.
   * `data` is bytes or a byte string (latin1).
   */
  copyOut(data: Uint8Array | string, ptrPtr: number, sizePtr: number): number {
    return typeof data === "string" ? this.copyOutString(data, ptrPtr, sizePtr) : this.copyOutBytes(data, ptrPtr, sizePtr);
  }

  /** copyOut of a byte string (header values: the hot path, kept monomorphic). */
  copyOutString(data: string, ptrPtr: number, sizePtr: number): number {
    const len = data.length;
    const p = this.reserveOut(len, ptrPtr, sizePtr);
    if (p <= 0) return p === 0 ? R.Ok : -p;
    if (len > SHORT_WRITE) (this.buf as FastBuffer).latin1Write(data, p, len);
    else {
      // Short values (most header values) are cheaper to store from JS than through a C++ call.
      const u8 = this.u8;
      for (let i = 0; i < len; i++) u8[p + i] = data.charCodeAt(i);
    }
    return this.setOut(p, len, ptrPtr, sizePtr);
  }

  copyOutBytes(data: Uint8Array, ptrPtr: number, sizePtr: number): number {
    const len = data.length;
    const p = this.reserveOut(len, ptrPtr, sizePtr);
    if (p <= 0) return p === 0 ? R.Ok : -p;
    const u8 = this.u8;
    if (len > SHORT_WRITE) u8.set(data, p);
    else for (let i = 0; i < len; i++) u8[p + i] = data[i];
    return this.setOut(p, len, ptrPtr, sizePtr);
  }

  /**
   * The shared part of copyToPointerSize: checks the out-pointers and allocates `len` guest bytes.
   * Returns the guest address; 0 for an empty value (0/0 already written); -result on failure.
   */
  private reserveOut(len: number, ptrPtr: number, sizePtr: number): number {
    this.refresh();
    const end = this.u8.length;
    if ((ptrPtr >>> 0) + 4 > end || (sizePtr >>> 0) + 4 > end) return -R.InvalidMemoryAccess;
    if (len === 0) {
      this.setOut(0, 0, ptrPtr, sizePtr);
      return 0;
    }
    const p = this.malloc(len);
    if (p === 0 || !this.inBounds(p, len)) return -R.InvalidMemoryAccess;
    return p;
  }

  /** The end of copyToPointerSize: the value's address and size into the guest's out-pointers. */
  private setOut(p: number, len: number, ptrPtr: number, sizePtr: number): number {
    this.dv.setUint32(ptrPtr >>> 0, p, true);
    this.dv.setUint32(sizePtr >>> 0, len, true);
    return R.Ok;
  }

  /** Like copyOut for a value serialized straight into guest memory by `write(offset)`. */
  copyOutWith(len: number, ptrPtr: number, sizePtr: number, write: (p: number) => void): number {
    const p = this.reserveOut(len, ptrPtr, sizePtr);
    if (p <= 0) return p === 0 ? R.Ok : -p;
    write(p);
    return this.setOut(p, len, ptrPtr, sizePtr);
  }


  // ---- imports ----

  /** The check of a selfChecked host function: traps when called during _initialize/_start or malloc. */
  checkUnrestricted(key: string): void {
    if (this.restricted !== RESTRICT_NONE) this.restrictedCall(key);
  }

  /** Called by a guarded host function while a restricted phase forbids it: traps (abi.md §1.5). */
  restrictedCall(name: string): never {
    throw new HostTrap(`restricted_callback: ${name} may not be called ${this.restricted === RESTRICT_MALLOC ? "from the allocator (malloc)" : "during _initialize/_start"}`);
  }

  private buildImports(): WebAssembly.Imports {
    const env: Record<string, unknown> = {};
    const areas = [
      logsImports(this), headersImports(this), buffersImports(this), propertiesImports(this),
      sharedDataImports(this), timersImports(this), httpCallsImports(this), metricsImports(this), streamImports(this),
    ];
    for (const a of areas) {
      for (const [k, f] of Object.entries(a)) env[k] = this.guard(`env.${k}`, f as Fn);
    }
    const out: WebAssembly.Imports = { env: env as WebAssembly.ModuleImports };
    for (const m of WASI_MODULES) {
      const w: Record<string, unknown> = {};
      for (const [k, f] of Object.entries(wasiImports(this, m))) w[k] = this.guard(`${m}.${k}`, f as Fn);
      out[m] = w as WebAssembly.ModuleImports;
    }
    return out;
  }

  private guard(key: string, f: Fn): Fn {
    const okStart = START_ALLOWED.has(key);
    const okMalloc = MALLOC_ALLOWED.has(key);
    if (okStart && okMalloc) return f;
    if (SELF_CHECKED.has(f)) {
      if (okStart || okMalloc) throw new Error(`${key} is allowed while restricted: it cannot check restrictions itself`);
      return f;
    }
    const vm = this;
    // Fixed arity (the widest host function takes 12 arguments) instead of `arguments`/apply: V8 calls
    // this directly; extra undefined arguments are ignored by the narrower functions.
    return ((a: number, b: number, c: number, d: number, e: number, g: number, h: number, i: number, j: number, k: number, l: number, m: number) => {
      const r = vm.restricted;
      if (r !== RESTRICT_NONE && (r === RESTRICT_MALLOC ? !okMalloc : !okStart)) vm.restrictedCall(key);
      return f(a, b, c, d, e, g, h, i, j, k, l, m);
    }) as Fn;
  }

  /** Tears the VM down: root contexts get on_done/on_delete (abi.md §2.8), timers and calls stop. */
  shutdown(): void {
    for (const c of [...this.contexts.values()]) {
      if (c instanceof RootContext) c.shutdown();
    }
    for (const c of [...this.contexts.values()]) c.release();
    this.env.sharedData.release(this.plugin.vmId, this.env.queues);
  }

  /** Live stream contexts (for tests). */
  streams(): HttpFilterContext[] {
    return [...this.contexts.values()].filter((c) => c.kind === 2) as HttpFilterContext[];
  }
}

/** A module that cannot become a running VM (missing memory/malloc, link error). */
export class VmLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "VmLoadError";
  }
}
