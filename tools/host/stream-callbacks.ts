// The FilterCallbacks each filter of an HttpStream gets (Envoy's StreamDecoderFilterCallbacks /
// StreamEncoderFilterCallbacks): one object per filter that knows the filter's index.
import type { FilterCallbacks, RouteInfo, StreamState } from "./filter-api.ts";
import type { HeaderMap, ReadonlyHeaderList } from "./header-map.ts";

/** What the callbacks act on (HttpStream). */
export interface CallbackTarget {
  readonly info: StreamState;
  continueDecoding(i: number): void;
  continueEncoding(i: number): void;
  sendLocalReply(status: number, body: Uint8Array, headers: ReadonlyHeaderList, grpcStatus: number | null, details: string): void;
  resetStream(details: string): void;
  clearRouteCache(): void;
  route(): RouteInfo | null;
  recordedRoute(): RouteInfo | null;
  addDecodedTrailers(): HeaderMap;
  addEncodedTrailers(): HeaderMap;
}

/** The callbacks one filter gets (methods, not per-stream closures: this is the gateway's hot path). */
export class StreamCallbacks implements FilterCallbacks {
  constructor(private readonly s: CallbackTarget, private readonly i: number) {}
  continueDecoding(): void {
    this.s.continueDecoding(this.i);
  }
  continueEncoding(): void {
    this.s.continueEncoding(this.i);
  }
  sendLocalReply(status: number, body: Uint8Array, headers: ReadonlyHeaderList, grpcStatus: number | null, details: string): void {
    this.s.sendLocalReply(status, body, headers, grpcStatus, details);
  }
  resetStream(details: string): void {
    this.s.resetStream(details);
  }
  clearRouteCache(): void {
    this.s.clearRouteCache();
  }
  route(): RouteInfo | null {
    return this.s.route();
  }
  recordedRoute(): RouteInfo | null {
    return this.s.recordedRoute();
  }
  streamInfo(): StreamState {
    return this.s.info;
  }
  addDecodedTrailers(): HeaderMap {
    return this.s.addDecodedTrailers();
  }
  addEncodedTrailers(): HeaderMap {
    return this.s.addEncodedTrailers();
  }
}
