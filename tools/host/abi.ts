// Numeric values of the proxy-wasm ABI (abi.md §1.4) and the host/guest call tables (§1.2, §1.3).

/** WasmResult: what every host function returns (abi.md §1.4). */
export const enum R {
  Ok = 0,
  NotFound = 1,
  BadArgument = 2,
  SerializationFailure = 3,
  ParseFailure = 4,
  BadExpression = 5,
  InvalidMemoryAccess = 6,
  Empty = 7,
  CasMismatch = 8,
  ResultMismatch = 9,
  InternalFailure = 10,
  BrokenConnection = 11,
  Unimplemented = 12,
}

/** WasmHeaderMapType (abi.md §1.4). */
export const enum MapType {
  RequestHeaders = 0,
  RequestTrailers = 1,
  ResponseHeaders = 2,
  ResponseTrailers = 3,
  GrpcReceiveInitialMetadata = 4,
  GrpcReceiveTrailingMetadata = 5,
  HttpCallResponseHeaders = 6,
  HttpCallResponseTrailers = 7,
}

/** WasmBufferType (abi.md §1.4). */
export const enum BufferType {
  HttpRequestBody = 0,
  HttpResponseBody = 1,
  NetworkDownstreamData = 2,
  NetworkUpstreamData = 3,
  HttpCallResponseBody = 4,
  GrpcReceiveBuffer = 5,
  VmConfiguration = 6,
  PluginConfiguration = 7,
  CallData = 8,
}

/** Envoy FilterHeadersStatus (abi.md §1.4). */
export const enum HeadersStatus {
  Continue = 0,
  StopIteration = 1,
  ContinueAndEndStream = 2,
  StopAllIterationAndBuffer = 3,
  StopAllIterationAndWatermark = 4,
}

/** Envoy FilterDataStatus. */
export const enum DataStatus {
  Continue = 0,
  StopIterationAndBuffer = 1,
  StopIterationAndWatermark = 2,
  StopIterationNoBuffer = 3,
}

/** Envoy FilterTrailersStatus. */
export const enum TrailersStatus {
  Continue = 0,
  StopIteration = 1,
}

/** WasmStreamType: the stream proxy_continue_stream / proxy_close_stream act on (abi.md §1.4). */
export const enum StreamType {
  Request = 0,
  Response = 1,
  Downstream = 2,
  Upstream = 3,
}

/** WasmMetricType (abi.md §11). */
export const enum MetricType {
  Counter = 0,
  Gauge = 1,
  Histogram = 2,
}

/** WasmLogLevel (abi.md §12); Off is Envoy's logger level that drops every record. */
export const enum LogLevel {
  Trace = 0,
  Debug = 1,
  Info = 2,
  Warn = 3,
  Error = 4,
  Critical = 5,
  Off = 6,
}

/** The host's context kinds: the VM context (id 0), a plugin's root context, an HTTP stream context. */
export const enum ContextKind {
  Vm = 0,
  Root = 1,
  Stream = 2,
}

export const LOG_LEVEL_NAMES = ["trace", "debug", "info", "warn", "error", "critical"] as const;
export type LogLevelName = (typeof LOG_LEVEL_NAMES)[number];

export function logLevelNumber(level: number | LogLevelName | "off"): number {
  if (typeof level === "number") return level;
  if (level === "off") return LogLevel.Off;
  const i = LOG_LEVEL_NAMES.indexOf(level);
  if (i < 0) throw new Error(`unknown log level '${level}' (one of ${LOG_LEVEL_NAMES.join(", ")}, off)`);
  return i;
}

/** gRPC Unavailable, used by the wasm_fail_stream reply (abi.md §14). */
export const GRPC_UNAVAILABLE = 14;
/** The largest gRPC status code; send_local_response treats any other grpc_status as none (abi.md §5). */
export const GRPC_STATUS_MAX = 16;

/** Limits from cpp-host limits.h (abi.md §1.4). */
export const MAX_PAIRS_BYTES = 1 << 20;
export const MAX_PAIRS = 1024;
export const MAX_RANDOM_BYTES = 64 * 1024;
export const MAX_BACKTRACE_FRAMES = 20;
