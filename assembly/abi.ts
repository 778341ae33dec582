// The ABI's numbers, named (abi.md §1.4), in one module: no literal map, buffer or result value elsewhere.

/** What a header, body or trailer callback returns (spec `proxy_action_t`). */
export namespace Action {
  // @ts-ignore: decorator
  @inline export const CONTINUE: u32 = 0;
  /** Headers: StopIteration (Envoy turns it into StopAllIterationAndWatermark). Bodies: buffer. */
  // @ts-ignore: decorator
  @inline export const PAUSE: u32 = 1;
}

/** Log levels of proxy_log. */
export namespace LogLevel {
  // @ts-ignore: decorator
  @inline export const TRACE: u32 = 0;
  // @ts-ignore: decorator
  @inline export const DEBUG: u32 = 1;
  // @ts-ignore: decorator
  @inline export const INFO: u32 = 2;
  // @ts-ignore: decorator
  @inline export const WARN: u32 = 3;
  // @ts-ignore: decorator
  @inline export const ERROR: u32 = 4;
  // @ts-ignore: decorator
  @inline export const CRITICAL: u32 = 5;
}

/** Header map types (WasmHeaderMapType). */
export namespace MapType {
  // @ts-ignore: decorator
  @inline export const REQUEST_HEADERS: u32 = 0;
  // @ts-ignore: decorator
  @inline export const REQUEST_TRAILERS: u32 = 1;
  // @ts-ignore: decorator
  @inline export const RESPONSE_HEADERS: u32 = 2;
  // @ts-ignore: decorator
  @inline export const RESPONSE_TRAILERS: u32 = 3;
  // @ts-ignore: decorator
  @inline export const GRPC_RECEIVE_INITIAL_METADATA: u32 = 4;
  // @ts-ignore: decorator
  @inline export const GRPC_RECEIVE_TRAILING_METADATA: u32 = 5;
  // @ts-ignore: decorator
  @inline export const HTTP_CALL_RESPONSE_HEADERS: u32 = 6;
  // @ts-ignore: decorator
  @inline export const HTTP_CALL_RESPONSE_TRAILERS: u32 = 7;
}

/** Buffer types (WasmBufferType). */
export namespace BufferType {
  // @ts-ignore: decorator
  @inline export const REQUEST_BODY: u32 = 0;
  // @ts-ignore: decorator
  @inline export const RESPONSE_BODY: u32 = 1;
  // @ts-ignore: decorator
  @inline export const HTTP_CALL_RESPONSE_BODY: u32 = 4;
  // @ts-ignore: decorator
  @inline export const GRPC_RECEIVE_BUFFER: u32 = 5;
  // @ts-ignore: decorator
  @inline export const VM_CONFIGURATION: u32 = 6;
  // @ts-ignore: decorator
  @inline export const PLUGIN_CONFIGURATION: u32 = 7;
}

/** Stream types of proxy_continue_stream / proxy_close_stream (WasmStreamType). */
export namespace StreamType {
  // @ts-ignore: decorator
  @inline export const REQUEST: u32 = 0;
  // @ts-ignore: decorator
  @inline export const RESPONSE: u32 = 1;
}

/** Host results plugins test for (WasmResult). */
export namespace Result {
  // @ts-ignore: decorator
  @inline export const OK: u32 = 0;
  // @ts-ignore: decorator
  @inline export const NOT_FOUND: u32 = 1;
  // @ts-ignore: decorator
  @inline export const BAD_ARGUMENT: u32 = 2;
  // @ts-ignore: decorator
  @inline export const PARSE_FAILURE: u32 = 4;
  // @ts-ignore: decorator
  @inline export const CAS_MISMATCH: u32 = 8;
  // @ts-ignore: decorator
  @inline export const INTERNAL_FAILURE: u32 = 10;
}

/** Metric types of proxy_define_metric. */
export namespace MetricType {
  // @ts-ignore: decorator
  @inline export const COUNTER: u32 = 0;
  // @ts-ignore: decorator
  @inline export const GAUGE: u32 = 1;
  // @ts-ignore: decorator
  @inline export const HISTOGRAM: u32 = 2;
}

/** gRPC status codes proxy_on_grpc_close reports (the ones plugins tell apart). */
export namespace GrpcStatus {
  // @ts-ignore: decorator
  @inline export const OK: u32 = 0;
  // @ts-ignore: decorator
  @inline export const CANCELLED: u32 = 1;
  // @ts-ignore: decorator
  @inline export const DEADLINE_EXCEEDED: u32 = 4;
  // @ts-ignore: decorator
  @inline export const INTERNAL: u32 = 13;
  // @ts-ignore: decorator
  @inline export const UNAVAILABLE: u32 = 14;
}
