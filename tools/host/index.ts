// tools/host: a proxy-wasm ABI 0.2.1 host that behaves like Envoy (spec: shared/reference/abi.md).
// Module map (one per ABI area): lifecycle = vm.ts + context.ts + plugin.ts (§1–2, §14), link.ts +
// signatures.ts (§1.1, §1.6), headers.ts + header-map.ts + pairs.ts (§3), buffers.ts (§4),
// stream-control.ts + local-reply.ts (§2.5, §5), properties.ts (§6), shared-data.ts (§7), timers.ts (§8),
// http-calls.ts (§9, §10), metrics.ts (§11), logs.ts (§12), wasi.ts (§13), traps.ts (§14),
// filter-manager.ts (Envoy's filter chain), testing.ts (the plugin test API).
export { type Clock, ManualClock, RealClock } from "./clock.ts";
export { type CalloutRequest, type CalloutResponse, HostEnv, type HostEnvOptions, type LogRecord } from "./env.ts";
export { type AccessLogView, BodyBuffer, type FilterCallbacks, type HttpFilter, type RouteInfo, type StreamInfo, type StreamState } from "./filter-api.ts";
export { HttpStream, type HttpStreamOptions, type StreamResult, type Upstream, type UpstreamResponse } from "./filter-manager.ts";
export { HeaderMap, type HeaderList } from "./header-map.ts";
export { type Metric, Metrics } from "./metrics.ts";
export { linkCheck, Plugin, PluginLoadError, type PluginSpec } from "./plugin.ts";
export { Double, Duration, ProtoMessage, Timestamp } from "./properties.ts";
export { SharedData, type SharedDataAccess, SharedQueues } from "./shared-data.ts";
export { HostTrap, HostUsageError } from "./traps.ts";
export { WasmVm } from "./vm.ts";
export { HttpFilterContext, RootContext } from "./context.ts";
export { serializePairs, parsePairs } from "./pairs.ts";
