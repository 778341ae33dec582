// The per-callback stream driver of the plugin test API (testing.ts: PluginTester.stream()), and the small
// value helpers both share.
import { DataStatus, HeadersStatus } from "./abi.ts";
import type { Clock } from "./clock.ts";
import { BodyBuffer, type FilterCallbacks, newStreamState, type RouteInfo, type StreamState } from "./filter-api.ts";
import { HeaderMap, type HeaderList, type ReadonlyHeaderList } from "./header-map.ts";
import { isGrpcRequest, prepareLocalReply } from "./local-reply.ts";
import type { Plugin } from "./plugin.ts";
import { HttpFilterContext } from "./stream-context.ts";

/** Envoy filter statuses, as drivers return them. */
export const Status = {
  Continue: HeadersStatus.Continue,
  StopIteration: HeadersStatus.StopIteration,
  StopAllIterationAndBuffer: HeadersStatus.StopAllIterationAndBuffer,
  StopAllIterationAndWatermark: HeadersStatus.StopAllIterationAndWatermark,
  StopIterationAndBuffer: DataStatus.StopIterationAndBuffer,
  StopIterationAndWatermark: DataStatus.StopIterationAndWatermark,
  StopIterationNoBuffer: DataStatus.StopIterationNoBuffer,
} as const;

export type Headers = HeaderList | Record<string, string>;

export function headerList(h: Headers | undefined): HeaderList {
  if (!h) return [];
  return Array.isArray(h) ? h.map(([k, v]) => [k, v] as [string, string]) : Object.entries(h);
}

export function bytesOf(b: string | Uint8Array | undefined): Uint8Array {
  return b === undefined ? new Uint8Array(0) : typeof b === "string" ? Buffer.from(b) : b;
}

/** The first value of header `name` in a list (names lower-case). */
export function firstHeader(list: HeaderList, name: string): string | undefined {
  const k = name.toLowerCase();
  return list.find((e) => e[0] === k)?.[1];
}

export interface RecordedLocalReply {
  status: number;
  /** Reply headers after the response path (the plugin's own on_response_headers) ran. */
  headers: HeaderList;
  header(name: string): string | undefined;
  body: string;
  details: string;
  grpcStatus: number | null;
}

/**
 * Drives one stream context callback by callback (synchronously). The request/response header maps are
 * kept so tests can read what the plugin changed (`request`, `response`). A local reply is delivered to
 * the plugin's own response callbacks as Envoy does, then recorded in `localReply`.
 */
export class StreamDriver {
  readonly filter: HttpFilterContext;
  readonly state: StreamState;
  request: HeaderMap | null = null;
  response: HeaderMap | null = null;
  /** The body as the plugin last saw it (accumulated while it buffers). */
  requestBuffer = new BodyBuffer();
  responseBuffer = new BodyBuffer();
  private reqBuffering = false;
  private respBuffering = false;
  localReply: RecordedLocalReply | null = null;
  /** How often the plugin resumed each direction (proxy_continue_stream). */
  continued = { request: 0, response: 0 };
  resetDetails: string | null = null;
  routeCacheClears = 0;
  private routeCache: RouteInfo | null | undefined;
  /** The route stream info recorded (what xds.* properties read): the first resolution, for the stream's life. */
  private recorded: RouteInfo | null | undefined;

  constructor(readonly plugin: Plugin, readonly worker: number, properties: Record<string, unknown>, private readonly clock: Clock, private readonly resolveRoute: (h: HeaderMap) => RouteInfo | null) {
    const f = plugin.createFilter(worker);
    if (!(f instanceof HttpFilterContext)) throw new Error(`plugin '${plugin.name}' worker ${worker} failed (fail_open): no filter is created`);
    this.filter = f;
    this.state = newStreamState(clock, properties);
    const cb: FilterCallbacks = {
      continueDecoding: () => void this.continued.request++,
      continueEncoding: () => void this.continued.response++,
      sendLocalReply: (status, body, headers, grpcStatus, details) => this.onLocalReply(status, body, headers, grpcStatus, details),
      resetStream: (d) => void (this.resetDetails = d),
      clearRouteCache: () => {
        this.routeCache = undefined;
        this.routeCacheClears++;
      },
      route: () => this.route(),
      recordedRoute: () => (this.recorded !== undefined ? this.recorded : (this.recorded = this.route())),
      streamInfo: () => this.state,
    };
    f.setCallbacks(cb);
  }

  get id(): number {
    return this.filter.id;
  }

  private route(): RouteInfo | null {
    if (this.routeCache === undefined) this.routeCache = this.request ? this.resolveRoute(this.request) : null;
    this.state.route = this.routeCache;
    if (this.recorded === undefined) this.recorded = this.routeCache;
    return this.routeCache;
  }

  private onLocalReply(status: number, body: Uint8Array, headers: ReadonlyHeaderList, grpcStatus: number | null, details: string): void {
    if (this.localReply && this.state.responseHeaders) {
      this.resetDetails = details;
      return;
    }
    const reply = prepareLocalReply(status, body, headers, grpcStatus, isGrpcRequest(this.request));
    this.state.responseCodeDetails = details;
    const rec: RecordedLocalReply = {
      status,
      headers: [],
      header: (n) => firstHeader(rec.headers, n),
      body: Buffer.from(reply.body).toString("utf8"),
      details,
      grpcStatus,
    };
    this.localReply = rec;
    if (this.response) {
      // Response already being encoded: straight to the codec.
      rec.headers = reply.headers.toList();
      return;
    }
    this.response = reply.headers;
    this.state.responseHeaders = reply.headers;
    this.state.responseCode = status;
    this.filter.encodeHeaders(reply.headers, reply.body.length === 0);
    if (reply.body.length) {
      const b = new BodyBuffer(reply.body);
      this.filter.encodeData(b, true);
      rec.body = b.toString();
    }
    rec.headers = reply.headers.toList();
  }

  requestHeaders(headers: Headers, endStream = true): number {
    this.request = new HeaderMap("request", headerList(headers));
    this.state.requestHeaders = this.request;
    return this.filter.decodeHeaders(this.request, endStream);
  }

  /** Delivers a body chunk; after StopIterationAndBuffer the accumulated body is re-delivered (Envoy). */
  requestBody(chunk: string | Uint8Array, endStream = true): number {
    const b = bytesOf(chunk);
    this.state.requestBodyBytes += b.length;
    if (!this.reqBuffering) this.requestBuffer = new BodyBuffer();
    this.requestBuffer.append(b);
    const s = this.filter.decodeData(this.requestBuffer, endStream);
    this.reqBuffering = s === DataStatus.StopIterationAndBuffer || s === DataStatus.StopIterationAndWatermark;
    return s;
  }

  requestTrailers(trailers: Headers): number {
    const t = new HeaderMap("request-trailers", headerList(trailers));
    this.state.requestTrailers = t;
    return this.filter.decodeTrailers(t);
  }

  responseHeaders(headers: Headers, endStream = true): number {
    this.response = new HeaderMap("response", headerList(headers));
    this.state.responseHeaders = this.response;
    const s = Number(this.response.get(":status"));
    this.state.responseCode = Number.isFinite(s) ? s : null;
    this.state.responseCodeDetails ||= "via_upstream";
    return this.filter.encodeHeaders(this.response, endStream);
  }

  responseBody(chunk: string | Uint8Array, endStream = true): number {
    const b = bytesOf(chunk);
    this.state.responseBodyBytes += b.length;
    if (!this.respBuffering) this.responseBuffer = new BodyBuffer();
    this.responseBuffer.append(b);
    const s = this.filter.encodeData(this.responseBuffer, endStream);
    this.respBuffering = s === DataStatus.StopIterationAndBuffer || s === DataStatus.StopIterationAndWatermark;
    return s;
  }

  responseTrailers(trailers: Headers): number {
    const t = new HeaderMap("response-trailers", headerList(trailers));
    this.state.responseTrailers = t;
    return this.filter.encodeTrailers(t);
  }

  /** Ends the stream as Envoy does: on_log, then on_done and on_delete. */
  complete(): this {
    this.state.complete = true;
    this.state.endMonoNanos = this.clock.monotonicNanos();
    this.filter.onLog({ requestHeaders: this.request, responseHeaders: this.response, responseTrailers: this.state.responseTrailers });
    this.filter.onDestroy();
    return this;
  }
}
