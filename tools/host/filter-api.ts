// The stream-filter interface between the filter manager and filters (Envoy's StreamDecoderFilter /
// StreamEncoderFilter + access log), and the stream state filters can read (Envoy's StreamInfo).
import type { HeaderMap, ReadonlyHeaderList } from "./header-map.ts";

/** A body as it travels the filter chain (Envoy Buffer::Instance). */
export class BodyBuffer {
  private data: Uint8Array;

  constructor(init?: Uint8Array | string) {
    this.data = typeof init === "string" ? Buffer.from(init) : init ? init : new Uint8Array(0);
  }
  get length(): number {
    return this.data.length;
  }
  bytes(): Uint8Array {
    return this.data;
  }
  toString(): string {
    return Buffer.from(this.data.buffer, this.data.byteOffset, this.data.length).toString("utf8");
  }
  append(b: Uint8Array): void {
    if (b.length === 0) return;
    if (this.data.length === 0) {
      this.data = b.slice();
      return;
    }
    const n = new Uint8Array(this.data.length + b.length);
    n.set(this.data, 0);
    n.set(b, this.data.length);
    this.data = n;
  }
  prepend(b: Uint8Array): void {
    if (b.length === 0) return;
    const n = new Uint8Array(this.data.length + b.length);
    n.set(b, 0);
    n.set(this.data, b.length);
    this.data = n;
  }
  /** Removes `n` bytes from the front. */
  drain(n: number): void {
    this.data = this.data.slice(Math.min(n, this.data.length));
  }
  /** Moves everything out of `other` into this buffer (Envoy move). */
  move(other: BodyBuffer): void {
    this.append(other.data);
    other.data = new Uint8Array(0);
  }
  clear(): void {
    this.data = new Uint8Array(0);
  }
}

/** What the route table resolved for a request (xds.route_name etc., abi.md §6.3). */
export interface RouteInfo {
  name: string;
  cluster?: string;
  virtualHost?: string;
  [key: string]: unknown;
}

/** Per-stream attributes a filter is created with: dotted Envoy attribute paths → value (abi.md §6.3). */
export interface StreamInfo {
  properties?: Record<string, unknown>;
}

/** The stream as filters can observe it (Envoy StreamInfo + the access-log view). */
export interface StreamState {
  /** Wall clock at stream start (request.time) and monotonic start/end (request.duration). */
  startTimeNanos: bigint;
  startMonoNanos: bigint;
  endMonoNanos: bigint | null;
  requestHeaders: HeaderMap | null;
  requestTrailers: HeaderMap | null;
  responseHeaders: HeaderMap | null;
  responseTrailers: HeaderMap | null;
  responseCode: number | null;
  responseCodeDetails: string;
  /** Downstream filter state (proxy_set_property values live here as "wasm.<name>"). */
  filterState: Map<string, Uint8Array>;
  /** Connection/xds attributes supplied by the embedder: dotted path → value. */
  properties: Record<string, unknown>;
  requestBodyBytes: number;
  responseBodyBytes: number;
  route: RouteInfo | null;
  complete: boolean;
}

/** A fresh stream's state at its start (the filter manager and the test drivers both start streams). */
export function newStreamState(clock: { nowNanos(): bigint; monotonicNanos(): bigint }, properties: Record<string, unknown>): StreamState {
  return {
    startTimeNanos: clock.nowNanos(),
    startMonoNanos: clock.monotonicNanos(),
    endMonoNanos: null,
    requestHeaders: null,
    requestTrailers: null,
    responseHeaders: null,
    responseTrailers: null,
    responseCode: null,
    responseCodeDetails: "",
    filterState: new Map(),
    properties,
    requestBodyBytes: 0,
    responseBodyBytes: 0,
    route: null,
    complete: false,
  };
}

export interface AccessLogView {
  requestHeaders: HeaderMap | null;
  responseHeaders: HeaderMap | null;
  responseTrailers: HeaderMap | null;
}

export interface FilterCallbacks {
  continueDecoding(): void;
  continueEncoding(): void;
  /** Envoy's sendLocalReply; `headers` names are lower-case. */
  sendLocalReply(status: number, body: Uint8Array, headers: ReadonlyHeaderList, grpcStatus: number | null, details: string): void;
  resetStream(details: string): void;
  clearRouteCache(): void;
  route(): RouteInfo | null;
  /**
   * The route as Envoy's stream info recorded it (xds.route_name / xds.cluster_name): resolved before the
   * first filter and kept for the whole stream; a cleared route cache re-routes the request but does not
   * change these properties, in later filters or on the response path (seen on Envoy 1.40).
   */
  recordedRoute(): RouteInfo | null;
  streamInfo(): StreamState;
  /** Only during decodeData/encodeData with end_stream: creates trailers that follow the data (Envoy addDecodedTrailers). */
  addDecodedTrailers?(): HeaderMap;
  addEncodedTrailers?(): HeaderMap;
}

/** Statuses are Envoy's FilterHeadersStatus / FilterDataStatus / FilterTrailersStatus (abi.md §1.4). */
export interface HttpFilter {
  setCallbacks(cb: FilterCallbacks): void;
  decodeHeaders(h: HeaderMap, endStream: boolean): number;
  decodeData(b: BodyBuffer, endStream: boolean): number;
  decodeTrailers(t: HeaderMap): number;
  encodeHeaders(h: HeaderMap, endStream: boolean): number;
  encodeData(b: BodyBuffer, endStream: boolean): number;
  encodeTrailers(t: HeaderMap): number;
  /** Access log at request completion (abi.md §2.3 step 6). */
  onLog(view?: AccessLogView): void;
  onDestroy(): void;
}
