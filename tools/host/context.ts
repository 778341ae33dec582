// Contexts and the lifecycle of callbacks (abi.md §2): the VM context (id 0), a plugin's root context
// (vm start, configure, ticks, queues, http call responses, shutdown) and the HTTP stream context, which
// is also the Envoy Wasm HTTP filter (E-CTX decodeHeaders … onDestroy) with Envoy's return-value
// conversion (§2.4) and failure handling (§14).
import { BufferType, DataStatus, GRPC_UNAVAILABLE, HeadersStatus, MapType, TrailersStatus } from "./abi.ts";
import type { AccessLogView, BodyBuffer, FilterCallbacks, HttpFilter, StreamInfo } from "./filter-api.ts";
import type { HeaderMap } from "./header-map.ts";
import type { HttpCallState } from "./http-calls.ts";
import type { PluginConfig, WasmVm } from "./vm.ts";

const EMPTY = new Uint8Array(0);

export abstract class Context {
  abstract readonly kind: 0 | 1 | 2;
  /**
   * The plugin this context belongs to. Filters with the same vm_id, VM configuration and code share one VM
   * per worker, as in Envoy, each with its own root context: the VM serves the calling context's plugin.
   */
  readonly pluginConfig: PluginConfig;
  constructor(readonly vm: WasmVm, readonly id: number, plugin?: PluginConfig) {
    this.pluginConfig = plugin ?? vm.plugin;
  }
  abstract rootContext(): RootContext | null;
  /** Header map for reads (getConstMap); undefined = unavailable. */
  constMap(type: number): HeaderMap | undefined {
    if (type === MapType.HttpCallResponseHeaders || type === MapType.HttpCallResponseTrailers) {
      const call = this.rootContext()?.inCallResponse;
      if (!call) return undefined;
      return type === MapType.HttpCallResponseHeaders ? call.headers : call.trailers;
    }
    return undefined;
  }
  /** Header map for mutation (getMap); undefined = unavailable → BadArgument. */
  mutableMap(_type: number): HeaderMap | undefined {
    return undefined;
  }
  /** Buffer for proxy_get/set_buffer_*: undefined = NotFound; `mutable` false = BadArgument on set. */
  buffer(type: number): { data: Uint8Array; body?: BodyBuffer } | undefined {
    const root = this.rootContext();
    switch (type) {
      case BufferType.VmConfiguration:
        return { data: this.vm.plugin.vmConfig };
      case BufferType.PluginConfiguration:
        return root?.configuring ? { data: this.vm.plugin.configuration } : undefined;
      case BufferType.HttpCallResponseBody:
        return root?.inCallResponse ? { data: root.inCallResponse.body } : undefined;
      case BufferType.HttpRequestBody:
      case BufferType.HttpResponseBody:
      case BufferType.NetworkDownstreamData:
      case BufferType.NetworkUpstreamData:
      case BufferType.GrpcReceiveBuffer:
      case BufferType.CallData:
        return { data: EMPTY };
    }
    return undefined;
  }
  onVmFailed(): void {}
  release(): void {
    this.vm.contexts.delete(this.id);
  }
}

/** Context 0: runs _initialize/_start and malloc. */
export class VmContext extends Context {
  readonly kind = 0;
  constructor(vm: WasmVm) {
    super(vm, 0);
  }
  rootContext(): RootContext | null {
    return null;
  }
}

/** A plugin's root context in one VM (abi.md §2.2, §2.8). */
export class RootContext extends Context {
  readonly kind = 1;
  created = false;
  /** PluginConfiguration is readable only during proxy_on_configure (abi.md §2.2). */
  configuring = false;
  statusCode = 0;
  statusMessage = "";
  tickPeriod = 0;
  tickTimer: unknown = null;
  readonly httpCalls = new Map<number, HttpCallState>();
  inCallResponse: { headers: HeaderMap; body: Uint8Array; trailers: HeaderMap } | null = null;
  /** on_done returned false: waiting for proxy_done (abi.md §2.8). */
  pendingDone = false;
  deleted = false;

  rootContext(): RootContext {
    return this;
  }

  private create(): void {
    if (this.created) return;
    this.created = true;
    const f = this.vm.ex.proxy_on_context_create;
    if (f) this.vm.invoke(this, "proxy_on_context_create", f, this.id, 0);
  }

  /** on_context_create(root, 0) → on_vm_start(root, vm_config size); false = start failed. */
  onStart(): boolean {
    this.create();
    if (this.vm.failed) return false;
    const f = this.vm.ex.proxy_on_vm_start;
    if (!f) return true;
    const r = this.vm.invoke(this, "proxy_on_vm_start", f, this.id, this.vm.plugin.vmConfig.length);
    return !this.vm.failed && r !== 0;
  }

  /** on_configure(root, plugin config size); the configuration buffer exists only during the call. */
  onConfigure(): boolean {
    this.create();
    if (this.vm.failed) return false;
    const f = this.vm.ex.proxy_on_configure;
    if (!f) return true;
    this.configuring = true;
    let r: number;
    try {
      r = this.vm.invoke(this, "proxy_on_configure", f, this.id, this.vm.plugin.configuration.length);
    } finally {
      this.configuring = false;
    }
    return !this.vm.failed && r !== 0;
  }

  onTick(): void {
    const f = this.vm.ex.proxy_on_tick;
    if (f && !this.vm.failed && !this.deleted) this.vm.invoke(this, "proxy_on_tick", f, this.id);
  }

  onQueueReady(token: number): void {
    const f = this.vm.ex.proxy_on_queue_ready;
    if (f && !this.vm.failed && !this.deleted) this.vm.invoke(this, "proxy_on_queue_ready", f, this.id, token);
  }

  /** Plugin shutdown: on_done(root); true → on_delete; false → wait for proxy_done (abi.md §2.8). */
  shutdown(): void {
    this.stopTimers();
    if (this.vm.failed || this.deleted || !this.created) return;
    const f = this.vm.ex.proxy_on_done;
    const done = f ? this.vm.invoke(this, "proxy_on_done", f, this.id) !== 0 : true;
    if (done) this.delete();
    else this.pendingDone = true;
  }

  delete(): void {
    if (this.deleted) return;
    this.deleted = true;
    this.pendingDone = false;
    const f = this.vm.ex.proxy_on_delete;
    if (f && !this.vm.failed) this.vm.invoke(this, "proxy_on_delete", f, this.id);
  }

  stopTimers(): void {
    if (this.tickTimer !== null) this.vm.env.clock.clearTimer(this.tickTimer);
    this.tickTimer = null;
    for (const c of this.httpCalls.values()) c.cancel();
    this.httpCalls.clear();
  }

  onVmFailed(): void {
    this.stopTimers();
  }

  release(): void {
    this.stopTimers();
    super.release();
  }
}

// Envoy's conversion of callback results (abi.md §2.4).
function headersStatus(r: number, stop: boolean, allowStop: boolean): number {
  const v = r >>> 0;
  if (stop || v > 4) return HeadersStatus.StopAllIterationAndWatermark;
  if (v === 1) return allowStop ? HeadersStatus.StopIteration : HeadersStatus.StopAllIterationAndWatermark;
  if (v === 2) return HeadersStatus.Continue;
  return v;
}
function dataStatus(r: number, stop: boolean): number {
  const v = r >>> 0;
  return stop || v > 3 ? DataStatus.StopIterationNoBuffer : v;
}
function trailersStatus(r: number, stop: boolean): number {
  const v = r >>> 0;
  return stop || v > 1 ? TrailersStatus.StopIteration : v;
}

/** One HTTP stream of one plugin on one worker: Envoy's Wasm HTTP filter (E-CTX, E-FILTERH). */
export class HttpFilterContext extends Context implements HttpFilter {
  readonly kind = 2;
  cb: FilterCallbacks | null = null;
  /** proxy_on_context_create delivered (in_vm_context_created_). */
  created = false;
  requestHeaders: HeaderMap | null = null;
  requestTrailers: HeaderMap | null = null;
  responseHeaders: HeaderMap | null = null;
  responseTrailers: HeaderMap | null = null;
  requestBody: BodyBuffer | null = null;
  responseBody: BodyBuffer | null = null;
  endOfStream = false;
  /** In on_log: the access-log copies (read-only). */
  accessLog: AccessLogView | null = null;
  /** The wasm_fail_stream reply was sent (failure_local_reply_sent_). */
  streamFailed = false;
  destroyed = false;
  /** Callback results as delivered to the filter manager (for tests). */
  lastStatus = -1;

  constructor(vm: WasmVm, readonly root: RootContext, readonly info: StreamInfo = {}) {
    super(vm, vm.allocContextId(), root.pluginConfig);
    vm.contexts.set(this.id, this);
  }

  rootContext(): RootContext {
    return this.root;
  }

  setCallbacks(cb: FilterCallbacks): void {
    this.cb = cb;
  }

  private get failOpen(): boolean {
    return this.vm.plugin.failOpen;
  }

  private get vmDead(): boolean {
    return this.vm.failed || this.root.deleted;
  }

  /** CHECK_FAIL_HTTP (abi.md §14): fail open → `open`; else the 503 once, then `closed`. */
  private failed(open: number, closed: number): number {
    if (this.failOpen) return open;
    if (!this.streamFailed) {
      this.streamFailed = true;
      this.cb?.sendLocalReply(503, EMPTY, [], GRPC_UNAVAILABLE, "wasm_fail_stream");
    }
    return closed;
  }

  /** onCreate: proxy_on_context_create(ctx, root) the first time. */
  private create(): void {
    if (this.created || this.vmDead) return;
    this.created = true;
    const f = this.vm.ex.proxy_on_context_create;
    if (f) this.vm.invoke(this, "proxy_on_context_create", f, this.id, this.root.id);
  }

  decodeHeaders(h: HeaderMap, endStream: boolean): number {
    if (this.vmDead) return (this.lastStatus = this.failed(HeadersStatus.Continue, HeadersStatus.StopAllIterationAndWatermark));
    this.create();
    this.requestHeaders = h;
    this.endOfStream = endStream;
    const f = this.vm.ex.proxy_on_request_headers;
    let s: number = HeadersStatus.Continue;
    if (f && !this.vm.failed) {
      const r = this.vm.invoke(this, "proxy_on_request_headers", f, this.id, h.size, endStream ? 1 : 0);
      s = headersStatus(r, this.vm.lastStop, this.vm.plugin.allowOnHeadersStopIteration);
    }
    if (this.vm.failed) s = this.failed(HeadersStatus.Continue, HeadersStatus.StopAllIterationAndWatermark);
    if (s === HeadersStatus.Continue) this.requestHeaders = null;
    return (this.lastStatus = s);
  }

  decodeData(b: BodyBuffer, endStream: boolean): number {
    if (!this.created) return DataStatus.Continue;
    if (this.vmDead) return (this.lastStatus = this.failed(DataStatus.Continue, DataStatus.StopIterationNoBuffer));
    this.requestBody = b;
    this.endOfStream = endStream;
    const f = this.vm.ex.proxy_on_request_body;
    let s: number = DataStatus.Continue;
    if (f) s = dataStatus(this.vm.invoke(this, "proxy_on_request_body", f, this.id, b.length, endStream ? 1 : 0), this.vm.lastStop);
    if (this.vm.failed) s = this.failed(DataStatus.Continue, DataStatus.StopIterationNoBuffer);
    if (s === DataStatus.Continue) this.requestBody = null;
    return (this.lastStatus = s);
  }

  decodeTrailers(t: HeaderMap): number {
    if (!this.created) return TrailersStatus.Continue;
    if (this.vmDead) return (this.lastStatus = this.failed(TrailersStatus.Continue, TrailersStatus.StopIteration));
    this.requestTrailers = t;
    const f = this.vm.ex.proxy_on_request_trailers;
    let s: number = TrailersStatus.Continue;
    if (f) s = trailersStatus(this.vm.invoke(this, "proxy_on_request_trailers", f, this.id, t.size), this.vm.lastStop);
    if (this.vm.failed) s = this.failed(TrailersStatus.Continue, TrailersStatus.StopIteration);
    if (s === TrailersStatus.Continue) this.requestTrailers = null;
    return (this.lastStatus = s);
  }

  encodeHeaders(h: HeaderMap, endStream: boolean): number {
    if (!this.created || this.streamFailed) return HeadersStatus.Continue;
    if (this.vmDead) return (this.lastStatus = this.failed(HeadersStatus.Continue, HeadersStatus.StopAllIterationAndWatermark));
    this.responseHeaders = h;
    this.endOfStream = endStream;
    const f = this.vm.ex.proxy_on_response_headers;
    let s: number = HeadersStatus.Continue;
    if (f) {
      const r = this.vm.invoke(this, "proxy_on_response_headers", f, this.id, h.size, endStream ? 1 : 0);
      s = headersStatus(r, this.vm.lastStop, this.vm.plugin.allowOnHeadersStopIteration);
    }
    if (this.vm.failed) s = this.failed(HeadersStatus.Continue, HeadersStatus.StopAllIterationAndWatermark);
    if (s === HeadersStatus.Continue) this.responseHeaders = null;
    return (this.lastStatus = s);
  }

  encodeData(b: BodyBuffer, endStream: boolean): number {
    if (!this.created || this.streamFailed) return DataStatus.Continue;
    if (this.vmDead) return (this.lastStatus = this.failed(DataStatus.Continue, DataStatus.StopIterationNoBuffer));
    this.responseBody = b;
    this.endOfStream = endStream;
    const f = this.vm.ex.proxy_on_response_body;
    let s: number = DataStatus.Continue;
    if (f) s = dataStatus(this.vm.invoke(this, "proxy_on_response_body", f, this.id, b.length, endStream ? 1 : 0), this.vm.lastStop);
    if (this.vm.failed) s = this.failed(DataStatus.Continue, DataStatus.StopIterationNoBuffer);
    if (s === DataStatus.Continue) this.responseBody = null;
    return (this.lastStatus = s);
  }

  encodeTrailers(t: HeaderMap): number {
    if (!this.created || this.streamFailed) return TrailersStatus.Continue;
    if (this.vmDead) return (this.lastStatus = this.failed(TrailersStatus.Continue, TrailersStatus.StopIteration));
    this.responseTrailers = t;
    const f = this.vm.ex.proxy_on_response_trailers;
    let s: number = TrailersStatus.Continue;
    if (f) s = trailersStatus(this.vm.invoke(this, "proxy_on_response_trailers", f, this.id, t.size), this.vm.lastStop);
    if (this.vm.failed) s = this.failed(TrailersStatus.Continue, TrailersStatus.StopIteration);
    if (s === TrailersStatus.Continue) this.responseTrailers = null;
    return (this.lastStatus = s);
  }

  /** Context::log: creates the VM context if needed so on_log can run; maps are the access-log copies. */
  onLog(view?: AccessLogView): void {
    if (this.vmDead) return;
    this.create();
    const f = this.vm.ex.proxy_on_log;
    if (!f || this.vm.failed) return;
    this.accessLog = view ?? {
      requestHeaders: this.cb?.streamInfo().requestHeaders ?? null,
      responseHeaders: this.cb?.streamInfo().responseHeaders ?? null,
      responseTrailers: this.cb?.streamInfo().responseTrailers ?? null,
    };
    this.requestHeaders = this.requestTrailers = this.responseHeaders = this.responseTrailers = null;
    this.requestBody = this.responseBody = null;
    try {
      this.vm.invoke(this, "proxy_on_log", f, this.id);
    } finally {
      this.accessLog = null;
    }
  }

  /** onDestroy: on_done (result ignored for streams) then on_delete; nothing if never created. */
  onDestroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.created && !this.vmDead) {
      const done = this.vm.ex.proxy_on_done;
      if (done) this.vm.invoke(this, "proxy_on_done", done, this.id);
      const del = this.vm.ex.proxy_on_delete;
      if (del && !this.vm.failed) this.vm.invoke(this, "proxy_on_delete", del, this.id);
    }
    this.cb = null;
    this.release();
  }

  // ---- maps and buffers (abi.md §3.2, §4) ----

  constMap(type: number): HeaderMap | undefined {
    if (this.accessLog) {
      switch (type) {
        case MapType.RequestHeaders: return this.accessLog.requestHeaders ?? undefined;
        case MapType.ResponseHeaders: return this.accessLog.responseHeaders ?? undefined;
        case MapType.ResponseTrailers: return this.accessLog.responseTrailers ?? undefined;
        case MapType.RequestTrailers: return undefined;
      }
    }
    switch (type) {
      case MapType.RequestHeaders: return this.requestHeaders ?? undefined;
      case MapType.RequestTrailers: return this.requestTrailers ?? undefined;
      case MapType.ResponseHeaders: return this.responseHeaders ?? undefined;
      case MapType.ResponseTrailers: return this.responseTrailers ?? undefined;
    }
    return super.constMap(type);
  }

  mutableMap(type: number): HeaderMap | undefined {
    if (this.accessLog) return undefined;
    switch (type) {
      case MapType.RequestHeaders: return this.requestHeaders ?? undefined;
      case MapType.ResponseHeaders: return this.responseHeaders ?? undefined;
      case MapType.RequestTrailers:
        // In the last request body callback, a mutation creates the trailers (Envoy addDecodedTrailers).
        if (!this.requestTrailers && this.requestBody && this.endOfStream && this.cb?.addDecodedTrailers) {
          try {
            this.requestTrailers = this.cb.addDecodedTrailers();
          } catch {
            return undefined;
          }
        }
        return this.requestTrailers ?? undefined;
      case MapType.ResponseTrailers:
        if (!this.responseTrailers && this.responseBody && this.endOfStream && this.cb?.addEncodedTrailers) {
          try {
            this.responseTrailers = this.cb.addEncodedTrailers();
          } catch {
            return undefined;
          }
        }
        return this.responseTrailers ?? undefined;
    }
    return undefined;
  }

  buffer(type: number): { data: Uint8Array; body?: BodyBuffer } | undefined {
    if (type === BufferType.HttpRequestBody) {
      return this.requestBody ? { data: this.requestBody.bytes(), body: this.requestBody } : { data: EMPTY };
    }
    if (type === BufferType.HttpResponseBody) {
      return this.responseBody ? { data: this.responseBody.bytes(), body: this.responseBody } : { data: EMPTY };
    }
    return super.buffer(type);
  }

  /** Is this context inside an HTTP stream that can still be acted on? */
  get inStream(): boolean {
    return this.cb !== null;
  }
}
