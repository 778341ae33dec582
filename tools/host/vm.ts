// One Wasm VM (one worker's instance of a plugin module): instantiation and start (abi.md §1.5, §2.1),
// the call wrapper that saves and restores the current/effective context and runs deferred actions after
// each callback (§2.6), the restricted phases during start and malloc (§1.5, decided in restrictions.ts),
// and VM failure on traps (§14). Guest memory is `mem` (memory.ts); the host functions are linked by the
// `link` function the VM is created with (imports.ts). The VM's state is its own: other modules use its
// methods and read-only getters.
import { ContextKind, LogLevel } from "./abi.ts";
import { type Context, type ContextHost, type GuestFn, RootContext, VmContext } from "./context.ts";
import type { HostEnv, LogSource } from "./env.ts";
import type { AbiVersion } from "./link.ts";
import { GuestMemory } from "./memory.ts";
import type { PluginConfig } from "./plugin-config.ts";
import { mayCall, Phase, restrictedTrap } from "./restrictions.ts";
import type { HttpFilterContext } from "./stream-context.ts";
import { failMessage, HostTrap, HostUsageError } from "./traps.ts";

export class WasmVm implements ContextHost {
  readonly instance: WebAssembly.Instance;
  /** The host functions this VM was linked with (tests call them directly). */
  readonly imports: WebAssembly.Imports;
  readonly memory: WebAssembly.Memory;
  /** Reads and writes of this VM's linear memory. */
  readonly mem: GuestMemory;
  /** The guest's exported functions, looked up once. */
  readonly ex: Readonly<Record<string, GuestFn | undefined>>;

  private isFailed = false;
  private failedTime = 0;
  private failureMessage = "";
  private readonly contexts = new Map<number, Context>();
  private readonly vmContext: VmContext;
  private rootCtx: RootContext | null = null;
  private current: Context | null = null;
  private effective: Context | null = null;
  /** Set by send_local_response; read when the callback's result is converted (abi.md §2.4). */
  private stopNext = false;
  /** stopNext as it was when the last top-level callback returned. */
  private lastStop = false;
  /** Name of the callback running (for error messages). */
  private running = "";
  private depth = 0;
  private phase = Phase.Callback;
  private readonly deferred: Array<() => void> = [];
  private nextContextId = 1;
  private usageError: unknown = null;
  /** http_call tokens: 4, 8, … per VM (abi.md §9). */
  private lastHttpCallToken = 0;
  private readonly fMalloc: GuestFn;
  /**
   * The plugin of the context being served (set on every call into the guest). A VM shared by several
   * filters (same vm_id, VM configuration and code) serves each through its own root context.
   */
  private served: PluginConfig;

  constructor(
    readonly env: HostEnv,
    plugin: PluginConfig,
    module: WebAssembly.Module,
    readonly abi: AbiVersion,
    readonly worker: number,
    link: (vm: WasmVm) => WebAssembly.Imports,
  ) {
    this.served = plugin;
    this.vmContext = new VmContext(this);
    this.mem = new GuestMemory((n) => this.malloc(n), env.hostCaches);
    this.imports = link(this);
    this.instance = new WebAssembly.Instance(module, this.imports);
    const ex = this.instance.exports as Record<string, unknown>;
    const mem = ex.memory;
    if (!(mem instanceof WebAssembly.Memory)) throw new VmLoadError("Wasm module is missing memory (export 'memory').");
    this.memory = mem;
    const fns: Record<string, GuestFn | undefined> = {};
    for (const [k, v] of Object.entries(ex)) if (typeof v === "function") fns[k] = v as GuestFn;
    this.ex = fns;
    const malloc = fns.malloc ?? fns.proxy_on_memory_allocate;
    if (!malloc) throw new VmLoadError("Wasm module is missing malloc function.");
    this.fMalloc = malloc;
    this.mem.attach(mem);
    env.sharedData.retain(plugin.vmId);
  }

  // ---- read-only state ----

  get failed(): boolean {
    return this.isFailed;
  }
  /** Date.now() when the VM failed, or when a reload after the failure last failed (FAIL_RELOAD's backoff). */
  get failedAt(): number {
    return this.failedTime;
  }
  get failure(): string {
    return this.failureMessage;
  }
  /** The plugin being served (the calling context's; the last started otherwise). */
  get plugin(): PluginConfig {
    return this.served;
  }
  /** The root context of the plugin started last (startPlugin). */
  get root(): RootContext | null {
    return this.rootCtx;
  }
  get lastCallStopped(): boolean {
    return this.lastStop;
  }
  /** A callback is running (host calls, test hooks and completions arriving now are inside it). */
  get inCall(): boolean {
    return this.depth > 0;
  }

  // ---- start (abi.md §2.1 step 2) ----

  /** _initialize (+ main / __main_void) or _start, in the start phase. False = VM failed. */
  startVm(): boolean {
    const ex = this.ex;
    const run = (name: string, f: GuestFn): void => {
      this.inPhase(Phase.Start, () => this.invoke(this.vmContext, name, f, 0, 0));
    };
    if (ex._initialize) {
      run("_initialize", ex._initialize);
      if (!this.failed && ex.main) run("main", ex.main);
      else if (!this.failed && ex.__main_void) run("__main_void", ex.__main_void);
    } else if (ex._start) {
      run("_start", ex._start);
    }
    return !this.failed;
  }

  /**
   * Creates, starts and configures a root context for `plugin` (default: the VM's first plugin) and makes
   * it `root`. Returns a failure message or null.
   */
  startPlugin(plugin: PluginConfig = this.served): { phase: "start" | "configure"; message: string } | null {
    this.served = plugin;
    const root = new RootContext(this, plugin);
    this.rootCtx = root;
    if (!root.onStart()) {
      return { phase: "start", message: this.failed ? this.failure : `Plugin ${plugin.name} failed to start: proxy_on_vm_start returned false` };
    }
    if (!root.onConfigure()) {
      return { phase: "configure", message: this.failed ? this.failure : `Plugin ${plugin.name} failed to configure: proxy_on_configure returned false` };
    }
    return null;
  }

  // ---- contexts ----

  newContextId(): number {
    // Monotonic, skipping ids still in use (cpp-host allocContextId).
    for (;;) {
      const id = this.nextContextId++;
      if (this.nextContextId > 0x7fffffff) this.nextContextId = 1;
      if (!this.contexts.has(id)) return id;
    }
  }

  addContext(c: Context): void {
    this.contexts.set(c.id, c);
  }

  removeContext(id: number): void {
    this.contexts.delete(id);
  }

  context(id: number): Context | undefined {
    return this.contexts.get(id);
  }

  /** The context host calls act on: the effective context if set, else the current one (abi.md §12). */
  ctx(): Context {
    return this.effective ?? this.current ?? this.vmContext;
  }

  /** Root context of the calling context (stream → its root; root → itself). */
  rootOfCurrent(): RootContext | null {
    return this.ctx().rootContext();
  }

  /** proxy_set_effective_context: false when no context has that id. */
  setEffective(id: number): boolean {
    const c = this.contexts.get(id);
    if (!c) return false;
    this.effective = c;
    return true;
  }

  /**
   * Runs `fn` (direct host-function calls, as tests make them) as if the guest were in a callback of
   * `ctx`, without calling into the guest.
   */
  actAs<T>(ctx: Context | null, fn: () => T): T {
    const prevCur = this.current;
    const prevEff = this.effective;
    this.current = ctx;
    this.effective = null;
    try {
      return fn();
    } finally {
      this.current = prevCur;
      this.effective = prevEff;
    }
  }

  /** Live stream contexts (for tests). */
  streams(): HttpFilterContext[] {
    return [...this.contexts.values()].filter((c) => c.kind === ContextKind.Stream) as HttpFilterContext[];
  }

  // ---- calls into the guest (abi.md §2.6) ----

  /**
   * Calls guest function `fn` on context `ctx`. Traps and host exceptions mark the VM failed (the
   * result is then 0). Deferred actions run once the outermost call returns. Re-entering a VM that is
   * inside a host call (from a test hook) is a usage error.
   */
  invoke(ctx: Context, name: string, fn: GuestFn, a = 0, b = 0, c = 0, d = 0, e = 0): number {
    if (this.isFailed) return 0;
    this.env.profile?.callback(name);
    if (this.depth > 0) {
      throw new HostUsageError(
        `re-entrant call into the VM of plugin '${this.served.name}' worker ${this.worker} (${name}) while it is inside ` +
          `${this.running}: a VM runs one callback at a time — drive a different worker from the hook`,
      );
    }
    const prevCur = this.current;
    const prevEff = this.effective;
    const prevRunning = this.running;
    this.served = ctx.pluginConfig;
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

  /** send_local_response was called: the running callback's result converts to Stop (abi.md §2.4). */
  stopAfterCall(): void {
    this.stopNext = true;
  }

  /** The next http_call token (abi.md §9). */
  nextHttpCallToken(): number {
    this.lastHttpCallToken += 4;
    return this.lastHttpCallToken;
  }

  /** Marks the VM failed (abi.md §14): logged once; every later callback on this VM is skipped. */
  fail(fn: string, err: unknown): void {
    if (err instanceof HostUsageError) {
      this.usageError ??= err.original ?? err;
    }
    if (this.isFailed) return;
    this.isFailed = true;
    this.failedTime = Date.now();
    this.failureMessage = failMessage(fn, err instanceof HostUsageError ? new HostTrap(`interrupted by a test hook: ${err.message}`) : err);
    this.deferred.length = 0;
    // Envoy 1.40 logs exactly this at error (wasm_vm.cc): `Function: <callback> failed: <V8's message>`.
    this.env.log(LogLevel.Error, this.failureMessage, this.who(false), "host");
    for (const c of this.contexts.values()) c.onVmFailed();
  }

  /** A reload after the failure failed too: FAIL_RELOAD's backoff starts again from now. */
  reloadFailed(): void {
    this.failedTime = Date.now();
  }

  private readonly whoCache = new Map<PluginConfig, LogSource[]>();

  /** Log attribution for this VM (stream contexts get the plugin name in Envoy's prefix); cached, no per-log allocation. */
  who(stream: boolean): LogSource {
    const p = this.served;
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

  // ---- restricted phases (abi.md §1.5) ----

  /** Runs `fn` with the guest in `phase` (start, allocator); host calls are checked against it. */
  inPhase<T>(phase: Phase, fn: () => T): T {
    const prev = this.phase;
    this.phase = phase;
    try {
      return fn();
    } finally {
      this.phase = prev;
    }
  }

  /** Traps unless host function `key` may run now: the first thing a selfChecked host function does. */
  checkCall(key: string): void {
    if (this.phase !== Phase.Callback && !mayCall(this.phase, key)) throw restrictedTrap(this.phase, key);
  }

  /** Calls the guest allocator (malloc preferred, abi.md §1.3) in the allocator phase. */
  malloc(size: number): number {
    if (this.env.profile) this.env.profile.mallocs++;
    const prevCur = this.current;
    const prevEff = this.effective;
    const prevPhase = this.phase;
    this.phase = Phase.Malloc;
    this.current = null;
    this.effective = null;
    try {
      return this.fMalloc(size) >>> 0;
    } finally {
      this.phase = prevPhase;
      this.current = prevCur;
      this.effective = prevEff;
    }
  }

  /** Tears the VM down: root contexts get on_done/on_delete (abi.md §2.8), timers and calls stop. */
  shutdown(): void {
    for (const c of [...this.contexts.values()]) {
      if (c instanceof RootContext) c.shutdown();
    }
    for (const c of [...this.contexts.values()]) c.release();
    this.env.sharedData.release(this.served.vmId, this.env.queues);
  }
}

/** A module that cannot become a running VM (missing memory/malloc, link error). */
export class VmLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "VmLoadError";
  }
}
