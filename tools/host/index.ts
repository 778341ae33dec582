// tools/host: a proxy-wasm ABI 0.2.1 host that behaves like Envoy (spec: shared/reference/abi.md).
// Module map (README.md has the table): lifecycle = plugin.ts + vm.ts + context.ts + stream-context.ts
// (§1–2, §14), guest memory = memory.ts, restricted phases = restrictions.ts, linking = imports.ts +
// link.ts + signatures.ts (§1.1, §1.2, §1.6), one module per ABI area (headers, buffers, stream-control,
// properties, shared-data, timers, http-calls, metrics, logs, wasi), filter-manager.ts + filter-chain.ts
// (Envoy's filter chain), testing.ts (the plugin test API).
export { type Clock, ManualClock, RealClock } from "./clock.ts";
export { type CalloutRequest, type CalloutResponse, HostEnv, type HostEnvOptions, type LogRecord } from "./env.ts";
export { type AccessLogView, BodyBuffer, type FilterCallbacks, type HttpFilter, type RouteInfo, type StreamInfo, type StreamState } from "./filter-api.ts";
export { HttpStream, type HttpStreamOptions, type StreamResult, type Upstream, type UpstreamResponse } from "./filter-manager.ts";
export { HeaderMap, type HeaderList } from "./header-map.ts";
export { type Metric, Metrics } from "./stats.ts";
export { linkCheck, Plugin, PluginLoadError, type PluginSpec } from "./plugin.ts";
export { Double, Duration, ProtoMessage, Timestamp } from "./properties.ts";
export { SharedData, type SharedDataAccess, SharedQueues } from "./shared-store.ts";
export { HostTrap, HostUsageError } from "./traps.ts";
export { WasmVm } from "./vm.ts";
export { RootContext } from "./context.ts";
export { HttpFilterContext } from "./stream-context.ts";
export { serializePairs, parsePairs } from "./pairs.ts";
