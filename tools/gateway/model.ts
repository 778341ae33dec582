// The embedded engine's model of a bootstrap: what config.ts reads out of the Envoy YAML and server.ts, routes.ts
// and upstream.ts run.
import type { ForwardingConfig } from "./forwarding.ts";
import type { StatsSettings } from "./prometheus.ts";
import type { RbacFilter, RbacPerRoute } from "./rbac.ts";

export interface SocketAddress {
  address: string;
  port: number;
}

export type StringMatch =
  | { kind: "exact" | "prefix" | "suffix" | "contains"; value: string; ignoreCase: boolean }
  | { kind: "present"; present: boolean }
  /** safe_regex: the whole value must match (RE2 FullMatch, as Envoy's StringMatcher). */
  | { kind: "regex"; regex: string; test: (value: string) => boolean };

export interface HeaderMatcher {
  name: string;
  match: StringMatch;
  invert: boolean;
  treatMissingAsEmpty: boolean;
}

export interface HeaderToAdd {
  key: string;
  value: string;
  action: "APPEND_IF_EXISTS_OR_ADD" | "ADD_IF_ABSENT" | "OVERWRITE_IF_EXISTS_OR_ADD" | "OVERWRITE_IF_EXISTS";
  keepEmpty: boolean;
}

export type RouteTarget =
  | { kind: "cluster"; cluster: string }
  | { kind: "weighted"; clusters: Array<{ name: string; weight: number; headersToAdd: HeaderToAdd[] }>; total: number }
  | { kind: "header"; header: string };

export interface Route {
  name: string;
  path: string; // YAML path, for messages
  match: { prefix?: string; path?: string; caseSensitive: boolean; headers: HeaderMatcher[] };
  action:
    | { kind: "route"; target: RouteTarget; timeoutMs: number /* 0 = none */; hostRewrite?: string; prefixRewrite?: string }
    | { kind: "direct"; status: number; body: string | null };
  headersToAdd: HeaderToAdd[];
  /** typed_per_filter_config RBACPerRoute entries by filter name. */
  rbac?: RbacPerRoute;
}

export interface VirtualHost {
  name: string;
  domains: string[];
  routes: Route[];
}

export interface WasmFilter {
  /** The http_filters[] entry name (Envoy uses it only for logs/stats). */
  filterName: string;
  path: string;
  name: string;
  rootId: string;
  vmId: string;
  vmConfig: string;
  configuration: string;
  /** code.local.filename as written, and resolved against the working directory like Envoy does. */
  filename: string;
  wasmFile: string;
  /** The deprecated fail_open: true (a trapping request itself continues, as Envoy 1.40 does). */
  failOpen: boolean;
  /** What a failed VM does to later requests (fail_open: true → FAIL_OPEN; default FAIL_CLOSED). */
  failurePolicy: FailurePolicy;
  /** FAIL_RELOAD: time after a failure before a request may reload the VM (reload_config.backoff.base_interval, 1 s). */
  reloadBackoffMs: number;
  allowOnHeadersStopIteration: boolean;
}

export type FailurePolicy = "FAIL_CLOSED" | "FAIL_OPEN" | "FAIL_RELOAD";

export interface Listener {
  name: string;
  address: SocketAddress;
  statPrefix: string;
  /** use_remote_address / xff_num_trusted_hops / skip_xff_append (forwarding.ts). */
  forwarding: ForwardingConfig;
  routeConfigName: string;
  virtualHosts: VirtualHost[];
  filters: WasmFilter[];
  /** envoy.filters.http.rbac filters, each with the number of wasm filters before it in the chain. */
  rbac: Array<RbacFilter & { position: number }>;
}

export interface Cluster {
  name: string;
  type: "STATIC" | "STRICT_DNS";
  connectTimeoutMs: number;
  endpoints: SocketAddress[];
  /** HTTP/2 to the endpoints (HttpProtocolOptions explicit_http_config.http2_protocol_options): gRPC calls only. */
  http2: boolean;
}

/** Where a gRPC call goes now: one endpoint of its cluster, and whether the cluster speaks HTTP/2. */
export interface GrpcEndpoint {
  address: string;
  port: number;
  connectTimeoutMs: number;
  http2: boolean;
}

export interface GatewayConfig {
  file: string;
  /** Bootstrap node (xds.node for plugins). */
  node: { id?: string; cluster?: string };
  admin: SocketAddress | null;
  listeners: Listener[];
  clusters: Map<string, Cluster>;
  /** stats_config: tag extractors and the stats matcher (absent: Envoy's defaults). */
  stats?: StatsSettings;
}
