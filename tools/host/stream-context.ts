// The HTTP stream context, which is also Envoy's Wasm HTTP filter (E-CTX decodeHeaders … onDestroy):
// stream callbacks with Envoy's return-value conversion (abi.md §2.4), the header maps and bodies each
// phase may read or change (§3.2, §4), and failure handling (§14).
import { BufferType, ContextKind, DataStatus, GRPC_UNAVAILABLE, HeadersStatus, MapType, TrailersStatus } from "./abi.ts";
import { Context, type ContextHost, EMPTY, type GuestFn, type RootContext } from "./context.ts";
import type { AccessLogView, BodyBuffer, FilterCallbacks, HttpFilter, StreamInfo } from "./filter-api.ts";
import type { HeaderMap } from "./header-map.ts";

/** The part of the stream a callback delivers (its status type). */
const enum Phase {
  Headers,
  Data,
  Trailers,
}

// Envoy's conversion of callback results (abi.md §2.4).
function headersStatus(r: number, stop: boolean, allowStop: boolean): number {
  const v = r >>> 0;
  if (stop || v > HeadersStatus.StopAllIterationAndWatermark) return HeadersStatus.StopAllIterationAndWatermark;
  if (v === HeadersStatus.StopIteration) return allowStop ? HeadersStatus.StopIteration : HeadersStatus.StopAllIterationAndWatermark;
  // ContinueAndEndStream is not a result a plugin may give: Envoy continues.
  if (v === HeadersStatus.ContinueAndEndStream) return HeadersStatus.Continue;
  return v;
}
function dataStatus(r: number, stop: boolean): number {
  const v = r >>> 0;
  return stop || v > DataStatus.StopIterationNoBuffer ? DataStatus.StopIterationNoBuffer : v;
}
function trailersStatus(r: number, stop: boolean): number {
  const v = r >>> 0;
  return stop || v > TrailersStatus.StopIteration ? TrailersStatus.StopIteration : v;
}

/** One HTTP stream of one plugin on one worker: Envoy's Wasm HTTP filter (E-CTX, E-FILTERH). */
export class HttpFilterContext extends Context implements HttpFilter {
  readonly kind = ContextKind.Stream;
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

  constructor(vm: ContextHost, readonly root: RootContext, readonly info: StreamInfo = {}) {
    super(vm, vm.newContextId(), root.pluginConfig);
    vm.addContext(this);
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
    if (this.vmDead) return this.failedStatus(Phase.Headers);
    this.create();
    this.requestHeaders = h;
    this.endOfStream = endStream;
    const s = this.call(Phase.Headers, "proxy_on_request_headers", this.vm.ex.proxy_on_request_headers, h.size, endStream);
    if (s === HeadersStatus.Continue) this.requestHeaders = null;
    return s;
  }

  decodeData(b: BodyBuffer, endStream: boolean): number {
    if (!this.created) return DataStatus.Continue;
    if (this.vmDead) return this.failedStatus(Phase.Data);
    this.requestBody = b;
    this.endOfStream = endStream;
    const s = this.call(Phase.Data, "proxy_on_request_body", this.vm.ex.proxy_on_request_body, b.length, endStream);
    if (s === DataStatus.Continue) this.requestBody = null;
    return s;
  }

  decodeTrailers(t: HeaderMap): number {
    if (!this.created) return TrailersStatus.Continue;
    if (this.vmDead) return this.failedStatus(Phase.Trailers);
    this.requestTrailers = t;
    const s = this.call(Phase.Trailers, "proxy_on_request_trailers", this.vm.ex.proxy_on_request_trailers, t.size, false);
    if (s === TrailersStatus.Continue) this.requestTrailers = null;
    return s;
  }

  encodeHeaders(h: HeaderMap, endStream: boolean): number {
    if (!this.created || this.streamFailed) return HeadersStatus.Continue;
    if (this.vmDead) return this.failedStatus(Phase.Headers);
    this.responseHeaders = h;
    this.endOfStream = endStream;
    const s = this.call(Phase.Headers, "proxy_on_response_headers", this.vm.ex.proxy_on_response_headers, h.size, endStream);
    if (s === HeadersStatus.Continue) this.responseHeaders = null;
    return s;
  }

  encodeData(b: BodyBuffer, endStream: boolean): number {
    if (!this.created || this.streamFailed) return DataStatus.Continue;
    if (this.vmDead) return this.failedStatus(Phase.Data);
    this.responseBody = b;
    this.endOfStream = endStream;
    const s = this.call(Phase.Data, "proxy_on_response_body", this.vm.ex.proxy_on_response_body, b.length, endStream);
    if (s === DataStatus.Continue) this.responseBody = null;
    return s;
  }

  encodeTrailers(t: HeaderMap): number {
    if (!this.created || this.streamFailed) return TrailersStatus.Continue;
    if (this.vmDead) return this.failedStatus(Phase.Trailers);
    this.responseTrailers = t;
    const s = this.call(Phase.Trailers, "proxy_on_response_trailers", this.vm.ex.proxy_on_response_trailers, t.size, false);
    if (s === TrailersStatus.Continue) this.responseTrailers = null;
    return s;
  }

  /**
   * One stream callback (`size` = header count or body length; end_of_stream for headers and data), its
   * result converted as Envoy does; a VM that fails in it (or in on_context_create) gives the failure status.
   */
  private call(phase: Phase, name: string, f: GuestFn | undefined, size: number, endStream: boolean): number {
    let s: number = HeadersStatus.Continue; // = DataStatus.Continue = TrailersStatus.Continue
    if (f && !this.vm.failed) {
      const r = this.vm.invoke(this, name, f, this.id, size, endStream ? 1 : 0);
      const stop = this.vm.lastCallStopped;
      s = phase === Phase.Headers ? headersStatus(r, stop, this.vm.plugin.allowOnHeadersStopIteration) : phase === Phase.Data ? dataStatus(r, stop) : trailersStatus(r, stop);
    }
    return this.vm.failed ? this.failedStatus(phase) : s;
  }

  /** CHECK_FAIL_HTTP's result for a phase: Continue when failing open, else the phase's stop. */
  private failedStatus(phase: Phase): number {
    if (phase === Phase.Headers) return this.failed(HeadersStatus.Continue, HeadersStatus.StopAllIterationAndWatermark);
    if (phase === Phase.Data) return this.failed(DataStatus.Continue, DataStatus.StopIterationNoBuffer);
    return this.failed(TrailersStatus.Continue, TrailersStatus.StopIteration);
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
}
