// The plugin-facing library, its one front door: plugins import from here (and crypto from
// "assembly/crypto"), never from a module behind it, so the modules underneath can change.
//
// Naming rule for host calls: the plain name takes and returns strings (`getHeader`, `addHeader`); the
// `Enc` suffix takes names and values already UTF-8 encoded with `encode()` at configure, the hot-path form
// (`getHeaderEnc`, `replaceHeaderEnc`); `Raw` marks a result in bytes, `Cached` a result memoized across
// requests (`getHeaderCachedEnc`). Results are returned, never left in module variables.
export { Action, BufferType, GrpcStatus, LogLevel, MapType, MetricType, Result, StreamType } from "./abi";
export { RootContext, HttpContext, registerRootContext, awaitCallout } from "./context";
export { log } from "./log";
export {
  encode, getHeader, getHeaderEnc, getHeaderCachedEnc, getHeaderRawEnc, getHeaderJoinedEnc,
  addHeader, addHeaderEnc, replaceHeader, replaceHeaderEnc, replaceHeaderNumberEnc, removeHeader, removeHeaderEnc,
} from "./header-map";
export { PairsBuilder, serializePairs } from "./pairs";
export {
  getBuffer, getProperty, sendLocalResponse, sendLocalResponseEnc, localReply, continueRequest, setEffectiveContext, getStatusMessage,
  defineMetric, defineCounter, incrementMetric, nowNanos, nowMillis, randomU32, setTickPeriod,
} from "./host";
export { METRIC_ROOT, metricLabel, defineLabeledCounter } from "./metrics";
export { SharedValue, SharedRead, getSharedData, setSharedData, getSharedDataIntoEnc, setSharedDataEnc } from "./shared-data";
export { httpCall, httpCallEnc, grpcCallEnc, grpcCancel, callForeignFunction, callForeignFunctionEnc } from "./callouts";
export { decodeBytes } from "./values";
export { decimal, writeDecimal } from "./number";
export { ErrorSink } from "./errors";
export { JsonKind, JsonValue, parseJson, describeJson, formatNumber } from "./json";
export { ConfigReader } from "./config";
export { Rule, RuleSet, parseRuleSet, domainMatches, serviceMatches } from "./rules";
export { StringTable } from "./table";
export { framingHeaderProblem, writableHeaderProblem } from "./writable-headers";
export {
  codeAt, cookieValue, removeCookie, queryParam, removeQueryParam, percentDecode, pathWithoutQuery, hostWithoutPort,
  sanitizeHeaderValue, equalsIgnoreCase, toLowerAscii, trimOws, commaItems, joinStrings, constantTimeEquals,
} from "./http";
