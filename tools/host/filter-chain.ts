// One direction of Envoy's HTTP filter chain (abi.md §2.3, §2.5; E-FM): headers, data and trailers through
// the filters in order, with StopIteration / StopAll* buffering and Envoy's commonContinue re-delivery
// (headers from the next filter, data held by a StopAll filter re-delivered from that filter, buffered data
// from the next, then trailers), and the request buffer limit. HttpStream (filter-manager.ts) runs two.
import { DataStatus, HeadersStatus, TrailersStatus } from "./abi.ts";
import { BodyBuffer, type HttpFilter } from "./filter-api.ts";
import { HeaderMap, type ReadonlyHeaderList } from "./header-map.ts";

const CONTINUE = 0;
const STOP_SINGLE = 1;
const STOP_ALL = 2;

/** Trailers a filter's stop left waiting. */
const enum HeldTrailers {
  None,
  /** They arrived while the filter was StopAll: deliver them to it on continue. */
  Deliver,
  /** The filter saw them and stopped: pass them on to the next filter on continue. */
  PassOn,
}

interface FilterState {
  headersContinued: boolean;
  iter: number;
  /** Data that arrived while this filter was StopAll: re-delivered to this filter on continue. */
  pending: BodyBuffer | null;
  /** Data this filter buffered (StopIterationAndBuffer): passed on to the next filter on continue. */
  buffered: BodyBuffer | null;
  trailers: HeldTrailers;
}

const PAYLOAD_TOO_LARGE = new TextEncoder().encode("Payload Too Large");

/** The stream a direction belongs to, as the direction sees it (HttpStream). */
export interface ChainOwner {
  readonly finished: boolean;
  readonly bufferLimitBytes: number;
  sendLocalReply(status: number, body: Uint8Array, headers: ReadonlyHeaderList, grpcStatus: number | null, details: string): void;
}

/** Where a direction's message goes after its last filter: the router (requests) or the codec (responses). */
export interface ChainSink {
  headers(h: HeaderMap, end: boolean): void;
  data(b: BodyBuffer, end: boolean): void;
  trailers(t: HeaderMap): void;
}

/** One direction of the filter chain (decoder: filters in order; encoder: reversed). */
export class Direction {
  readonly st: FilterState[];
  headers: HeaderMap | null = null;
  trailers: HeaderMap | null = null;
  /** End of stream observed from the source (downstream for requests, upstream for responses). */
  complete = false;
  aborted = false;
  started = false;

  constructor(private readonly stream: ChainOwner, private readonly filters: HttpFilter[], readonly encode: boolean, private readonly sink: ChainSink) {
    this.st = filters.map(() => ({ headersContinued: false, iter: CONTINUE, pending: null, buffered: null, trailers: HeldTrailers.None }));
  }

  private stopped(): boolean {
    return this.aborted || this.stream.finished;
  }

  doHeaders(from: number, end: boolean): void {
    this.started = true;
    const h = this.headers!;
    for (let i = from; i < this.filters.length; i++) {
      if (this.stopped()) return;
      const f = this.filters[i];
      const s = this.encode ? f.encodeHeaders(h, end) : f.decodeHeaders(h, end);
      if (this.stopped()) return;
      const st = this.st[i];
      if (s === HeadersStatus.Continue) {
        st.headersContinued = true;
        continue;
      }
      if (s === HeadersStatus.ContinueAndEndStream) {
        // Envoy ContinueAndDontEndStream.
        st.headersContinued = true;
        end = false;
        continue;
      }
      st.iter = s === HeadersStatus.StopIteration ? STOP_SINGLE : STOP_ALL;
      return;
    }
    if (this.stopped()) return;
    this.sink.headers(h, end);
  }

  /** Set while filter `dataAt` runs its data callback with end_stream (addDecodedTrailers is legal). */
  dataAt = -1;
  private added = false;

  /** Envoy add{De,En}codedTrailers: trailers created by the filter in its last data callback. */
  addTrailers(kind: "request-trailers" | "response-trailers"): HeaderMap {
    if (this.dataAt < 0 || this.trailers) throw new Error("trailers can only be added from the last data callback of a stream without trailers");
    this.trailers = new HeaderMap(kind);
    this.added = true;
    return this.trailers;
  }

  doData(from: number, data: BodyBuffer, end: boolean): void {
    let trailersFrom = -1;
    for (let i = from; i < this.filters.length; i++) {
      if (this.stopped()) return;
      const st = this.st[i];
      if (st.iter === STOP_ALL) {
        (st.pending ??= new BodyBuffer()).move(data);
        this.checkBufferLimit(st.pending);
        return;
      }
      if (st.buffered && st.buffered !== data) {
        // Envoy appends the new chunk to the buffered body and re-delivers all of it (abi.md §2.3 step 3).
        st.buffered.move(data);
        data = st.buffered;
        if (this.checkBufferLimit(data)) return;
      }
      const f = this.filters[i];
      this.dataAt = end ? i : -1;
      const s = this.encode ? f.encodeData(data, end) : f.decodeData(data, end);
      this.dataAt = -1;
      if (this.stopped()) return;
      if (this.added) {
        // The data no longer ends the stream; the new trailers follow it from the next filter.
        this.added = false;
        end = false;
        trailersFrom = i + 1;
        if (s !== DataStatus.Continue) st.trailers = HeldTrailers.PassOn;
      }
      if (s === DataStatus.Continue) {
        if (st.iter === STOP_SINGLE) {
          st.buffered = data;
          this.commonContinue(i);
          return;
        }
        st.buffered = null;
        continue;
      }
      st.iter = STOP_SINGLE;
      if (s === DataStatus.StopIterationAndBuffer || s === DataStatus.StopIterationAndWatermark) st.buffered = data;
      return;
    }
    if (this.stopped()) return;
    this.sink.data(data, end);
    if (trailersFrom >= 0 && !this.stopped()) this.doTrailers(trailersFrom);
  }

  doTrailers(from: number): void {
    const t = this.trailers!;
    for (let i = from; i < this.filters.length; i++) {
      if (this.stopped()) return;
      const st = this.st[i];
      if (st.iter === STOP_ALL) {
        st.trailers = HeldTrailers.Deliver;
        return;
      }
      const f = this.filters[i];
      const s = this.encode ? f.encodeTrailers(t) : f.decodeTrailers(t);
      if (this.stopped()) return;
      if (s === TrailersStatus.Continue) {
        if (st.iter === STOP_SINGLE) {
          st.trailers = HeldTrailers.PassOn;
          this.commonContinue(i);
          return;
        }
        continue;
      }
      st.iter = STOP_SINGLE;
      st.trailers = HeldTrailers.PassOn;
      return;
    }
    if (this.stopped()) return;
    this.sink.trailers(t);
  }

  /** Envoy ActiveStreamFilterBase::commonContinue for filter i. */
  commonContinue(i: number): void {
    if (this.stopped() || !this.started) return;
    const st = this.st[i];
    if (st.iter === CONTINUE) return;
    st.iter = CONTINUE;
    if (!st.headersContinued) {
      st.headersContinued = true;
      this.doHeaders(i + 1, this.complete && !st.pending && !st.buffered && !this.trailers);
    }
    if (this.stopped()) return;
    const hadTrailers = this.trailers !== null;
    if (st.pending) {
      const p = st.pending;
      st.pending = null;
      this.doData(i, p, this.complete && !hadTrailers);
    } else if (st.buffered) {
      const b = st.buffered;
      st.buffered = null;
      this.doData(i + 1, b, this.complete && !hadTrailers);
    }
    if (this.stopped()) return;
    if (st.trailers === HeldTrailers.Deliver && st.iter !== STOP_ALL) {
      st.trailers = HeldTrailers.None;
      this.doTrailers(i);
    } else if (st.trailers === HeldTrailers.PassOn && st.iter === CONTINUE) {
      st.trailers = HeldTrailers.None;
      this.doTrailers(i + 1);
    }
  }

  /**
   * A request body a filter holds past the buffer limit (the listener's per_connection_buffer_limit_bytes,
   * 1 MiB by default) ends the stream with Envoy's 413 "Payload Too Large" (seen on 1.40). True when it did.
   */
  private checkBufferLimit(b: BodyBuffer): boolean {
    if (this.encode || b.length <= this.stream.bufferLimitBytes) return false;
    this.stream.sendLocalReply(413, PAYLOAD_TOO_LARGE, [], null, "request_payload_too_large");
    return true;
  }

  /** Which filter holds this direction, for stall diagnostics. */
  describe(names: string[]): string | null {
    for (let i = 0; i < this.st.length; i++) {
      const st = this.st[i];
      if (st.iter !== CONTINUE) {
        const what = !st.headersContinued ? "headers" : st.trailers ? "trailers" : "body";
        return `${names[i]} stopped iteration at ${this.encode ? "response" : "request"} ${what}${st.iter === STOP_ALL ? " (StopAll)" : ""} and was never continued`;
      }
    }
    return null;
  }
}
