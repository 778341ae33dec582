// Deploy manifests for plugins (deploy.md §1–3): Istio WasmPlugin, Istio EnvoyFilter (inline Wasm filter before
// the router), Higress WasmPlugin (defaultConfig + matchRules from our `_rules_`), and a static Envoy bootstrap.
// Every object is returned as plain data; callers serialize and validate (CRDs: crd.ts, Envoy: tools/envoy).
import { isIP } from "node:net";
import type { Phase, PluginMeta } from "../plugins/meta.ts";
import { sortByPhase } from "../plugins/meta.ts";
import { GenError } from "./errors.ts";
import { statsTags } from "../plugins/metrics.ts";

export type Obj = Record<string, unknown>;

export interface PluginInput {
  meta: PluginMeta;
  /** The plugin's JSON config (pluginConfig); null = none. */
  config: Obj | null;
  url?: string;
  /** Lowercase hex, no `sha256:` prefix. */
  sha256?: string;
}

export type FailStrategy = "FAIL_CLOSE" | "FAIL_OPEN" | "FAIL_RELOAD";
export type ProxyContext = "GATEWAY" | "SIDECAR_INBOUND" | "SIDECAR_OUTBOUND";

export interface TargetRef { group: string; kind: string; name: string }

export interface K8sOptions {
  namespace?: string;
  selector?: Record<string, string>;
  targetRefs?: TargetRef[];
  phase?: Phase;
  priority?: number;
  failStrategy?: FailStrategy;
  imagePullSecret?: string;
  imagePullPolicy?: "IfNotPresent" | "Always";
  /** Istio WasmPlugin `match`: the traffic selectors (mode, ports) the plugin applies to. */
  match?: Array<{ mode?: "UNDEFINED" | "CLIENT" | "SERVER" | "CLIENT_AND_SERVER"; ports?: number[] }>;
  /** Istio WasmPlugin `vmConfig.env`: INLINE values, or HOST (read from the proxy's own environment). */
  vmEnv?: Array<{ name: string; value?: string; valueFrom: "INLINE" | "HOST" }>;
}

/**
 * What an operator should hear before applying these WasmPlugins / EnvoyFilters: a placement that covers a
 * whole namespace or the mesh, and FAIL_OPEN on a plugin that authenticates or authorizes.
 */
export function placementWarnings(plugins: PluginInput[], o: K8sOptions, kind: "WasmPlugin" | "EnvoyFilter" | null): string[] {
  const out: string[] = [];
  const scoped = (o.selector && Object.keys(o.selector).length > 0) || (o.targetRefs?.length ?? 0) > 0;
  // kind null: outputs without a placement of their own (Higress's gateway, an Envoy bootstrap).
  if (kind && !scoped) {
    const where = o.namespace === undefined
      ? "no --namespace: it lands in kubectl's current namespace and applies to every workload there (to the whole mesh in the root namespace, istio-system)"
      : o.namespace === "istio-system"
        ? "namespace istio-system is Istio's root namespace: it applies to every workload in the MESH"
        : `it applies to every workload in namespace ${o.namespace}`;
    out.push(`the ${kind}s have no --selector or --target-ref: ${where}; scope them with --selector app=<workload> or --target-ref Gateway/<name>`);
  }
  if (o.failStrategy === "FAIL_OPEN") {
    for (const p of plugins) {
      const phase = o.phase ?? p.meta.phase;
      if (phase === "AUTHN" || phase === "AUTHZ" || p.meta.name === "auth") {
        out.push(`--fail-strategy FAIL_OPEN on ${p.meta.name} (phase ${phase}): when its VM fails or its module cannot be fetched, requests pass WITHOUT ${phase === "AUTHZ" ? "authorization" : "authentication"}; FAIL_CLOSE (the default) answers 503 instead`);
      }
    }
  }
  return out;
}

const WASM_FILTER_TYPE = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm";
const HCM = "envoy.filters.network.http_connection_manager";
const ROUTER = "envoy.filters.http.router";

/** Group of a --target-ref kind, as Istio expects (deploy.md §1.2). */
export function targetRefGroup(kind: string): string {
  switch (kind) {
    case "Gateway":
    case "GatewayClass":
      return "gateway.networking.k8s.io";
    case "Service":
      return "";
    case "ServiceEntry":
      return "networking.istio.io";
    default:
      throw new GenError(`--target-ref kind '${kind}' is not one Istio supports`, "use Gateway/<name>, GatewayClass/<name>, Service/<name> or ServiceEntry/<name>");
  }
}

/** The plugins in the order Envoy runs them on the request path (phase, then priority, higher first). */
export function ordered(plugins: PluginInput[], opts: { phase?: Phase; priority?: number }): PluginInput[] {
  const byName = new Map(plugins.map((p) => [p.meta.name, p]));
  return sortByPhase(plugins.map((p) => p.meta), (m) => opts.priority ?? m.priority, (m) => opts.phase ?? m.phase).map((m) => byName.get(m.name)!);
}

function metadata(name: string, namespace: string | undefined): Obj {
  return namespace ? { name, namespace } : { name };
}

function requireUrl(p: PluginInput): string {
  if (!p.url) throw new GenError(`no --url for plugin '${p.meta.name}'`, `pass --url oci://<registry>/<repo>:<tag> (printed by 'tollgate push ${p.meta.name} …'), https://…/${p.meta.name}.wasm or file:///path/${p.meta.name}.wasm`);
  return p.url;
}

function hasConfig(c: Obj | null): c is Obj {
  return c !== null && Object.keys(c).length > 0;
}

/** Istio extensions.istio.io/v1alpha1 WasmPlugin per plugin, ordered as Istio orders them in the chain. */
export function wasmPlugins(plugins: PluginInput[], o: K8sOptions): Obj[] {
  if (o.selector && Object.keys(o.selector).length && o.targetRefs?.length) {
    throw new GenError("--selector and --target-ref are mutually exclusive (Istio: only one of targetRefs or selector can be set)", "pick one: --selector for sidecars/gateways by label, --target-ref for Gateway API gateways and waypoints");
  }
  return ordered(plugins, o).map((p) => {
    const spec: Obj = {};
    if (o.selector && Object.keys(o.selector).length) spec.selector = { matchLabels: o.selector };
    if (o.targetRefs?.length) spec.targetRefs = o.targetRefs.map((t) => ({ ...(t.group ? { group: t.group } : {}), kind: t.kind, name: t.name }));
    Object.assign(spec, moduleSpec(p, o));
    if (hasConfig(p.config)) spec.pluginConfig = p.config;
    if (o.vmEnv?.length) spec.vmConfig = { env: o.vmEnv.map((e) => (e.valueFrom === "HOST" ? { name: e.name, valueFrom: "HOST" } : { name: e.name, value: e.value ?? "" })) };
    if (o.match?.length) spec.match = o.match.map((m) => ({ ...(m.mode ? { mode: m.mode } : {}), ...(m.ports?.length ? { ports: m.ports.map((n) => ({ number: n })) } : {}) }));
    return { apiVersion: "extensions.istio.io/v1alpha1", kind: "WasmPlugin", metadata: metadata(p.meta.name, o.namespace), spec };
  });
}

/** The spec fields Istio's and Higress's WasmPlugin share, in their schema order: module, pull, identity, order, failure. */
function moduleSpec(p: PluginInput, o: K8sOptions): Obj {
  const spec: Obj = { url: requireUrl(p) };
  if (p.sha256) spec.sha256 = p.sha256;
  if (o.imagePullPolicy) spec.imagePullPolicy = o.imagePullPolicy;
  if (o.imagePullSecret) spec.imagePullSecret = o.imagePullSecret;
  spec.pluginName = p.meta.name;
  spec.phase = o.phase ?? p.meta.phase;
  spec.priority = o.priority ?? p.meta.priority;
  if (o.failStrategy) spec.failStrategy = o.failStrategy;
  return spec;
}

/** Higress extensions.higress.io/v1alpha1 WasmPlugin: global keys → defaultConfig, `_rules_` → matchRules. */
export function higressPlugins(plugins: PluginInput[], o: K8sOptions & { namespace?: string }): Obj[] {
  if (o.failStrategy === "FAIL_RELOAD") throw new GenError("Higress supports --fail-strategy FAIL_CLOSE or FAIL_OPEN only");
  if (o.selector && Object.keys(o.selector).length) throw new GenError("Higress WasmPlugins have no selector: Higress applies them to its gateway", "drop --selector; scope with _rules_ (_match_route_, _match_domain_, _match_service_) in the config");
  if (o.targetRefs?.length) throw new GenError("Higress WasmPlugins have no targetRefs", "drop --target-ref; scope with _rules_ in the config");
  return ordered(plugins, o).map((p) => {
    const spec: Obj = moduleSpec(p, o);
    Object.assign(spec, toHigressConfig(p.meta.name, p.config ?? {}));
    // Higress processes WasmPlugins only in its own namespace.
    return { apiVersion: "extensions.higress.io/v1alpha1", kind: "WasmPlugin", metadata: metadata(p.meta.name, o.namespace ?? "higress-system"), spec };
  });
}

const MATCH_KEYS: Record<string, string> = { _match_route_: "ingress", _match_domain_: "domain", _match_service_: "service" };

/**
 * Our JSON → Higress defaultConfig/matchRules, the inverse of Higress' convertIstioWasmPlugin (deploy.md §2.2), so
 * the plugin receives exactly the JSON it was validated with. `_match_route_prefix_` has no matchRules field:
 * such configs are passed through unchanged as pluginConfig (Higress then ignores defaultConfig/matchRules).
 */
export function toHigressConfig(name: string, config: Obj): Obj {
  const { _rules_: rules, ...global } = config;
  if (rules === undefined) return Object.keys(global).length ? { defaultConfig: global } : {};
  if (!Array.isArray(rules)) throw new GenError(`config for '${name}': '_rules_' must be a list`);
  const passthrough = rules.some((r) => r && typeof r === "object" && ("_match_route_prefix_" in r || Object.keys(MATCH_KEYS).every((k) => !(k in r))));
  if (passthrough) return { pluginConfig: config };
  const out: Obj = {};
  if (Object.keys(global).length) out.defaultConfig = global;
  out.matchRules = rules.map((r: Obj) => {
    const rule: Obj = {};
    const rest: Obj = {};
    for (const [k, v] of Object.entries(r)) {
      if (MATCH_KEYS[k]) rule[MATCH_KEYS[k]] = v;
      else rest[k] = v;
    }
    rule.config = rest;
    return rule;
  });
  return out;
}

/** envoy.extensions.wasm.v3.FailurePolicy (Envoy 1.33+); unset is Envoy's default, FAIL_CLOSED. */
export type FailurePolicy = "FAIL_CLOSED" | "FAIL_OPEN" | "FAIL_RELOAD";

/**
 * The Envoy HTTP filter (envoy.filters.http.wasm) for one plugin. `code` is a vm_config.code value. The failure
 * behaviour is `failure_policy`, not the deprecated `fail_open` (Envoy 1.40 logs a deprecation warning for it).
 */
export function wasmHttpFilter(p: PluginInput, code: Obj, failurePolicy?: FailurePolicy): Obj {
  const config: Obj = { name: p.meta.name, root_id: p.meta.name };
  if (hasConfig(p.config)) config.configuration = { "@type": "type.googleapis.com/google.protobuf.StringValue", value: JSON.stringify(p.config) };
  config.vm_config = { vm_id: p.meta.name, runtime: "envoy.wasm.runtime.v8", code };
  if (failurePolicy) config.failure_policy = failurePolicy;
  return { name: p.meta.name, typed_config: { "@type": WASM_FILTER_TYPE, config } };
}

/** --fail-strategy (Istio's WasmPlugin names) → Envoy's failure_policy, as Istio's agent maps it (deploy.md §1). */
export function failurePolicyOf(s: FailStrategy | undefined): FailurePolicy | undefined {
  if (s === undefined) return undefined;
  return s === "FAIL_CLOSE" ? "FAIL_CLOSED" : s;
}

/** A cluster Envoy can fetch a remote module through (EnvoyFilter inline code.remote needs one). */
export function fetchCluster(url: URL, name: string): Obj {
  const https = url.protocol === "https:";
  const port = Number(url.port || (https ? 443 : 80));
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const cluster: Obj = {
    name,
    type: isIP(host) ? "STATIC" : "LOGICAL_DNS",
    connect_timeout: "5s",
    dns_lookup_family: "V4_PREFERRED",
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: host, port_value: port } } } }] }] },
  };
  if (isIP(host)) delete cluster.dns_lookup_family;
  if (https) {
    cluster.transport_socket = {
      name: "envoy.transport_sockets.tls",
      typed_config: { "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext", sni: host },
    };
  }
  return cluster;
}

function codeFor(p: PluginInput, kind: string): { code: Obj; cluster?: Obj } {
  const url = requireUrl(p);
  if (url.startsWith("file://")) return { code: { local: { filename: url.slice("file://".length) } } };
  if (/^https?:\/\//.test(url)) {
    if (!p.sha256) throw new GenError(`${kind}: remote code for '${p.meta.name}' needs --sha256 (Envoy requires the module's sha256 for code.remote)`, `sha256sum dist/plugins/${p.meta.name}.wasm`);
    const u = new URL(url);
    const clusterName = `tollgate-wasm-fetch-${u.hostname.replace(/[^a-zA-Z0-9]+/g, "-")}`;
    return {
      code: { remote: { http_uri: { uri: url, cluster: clusterName, timeout: "30s" }, sha256: p.sha256 } },
      cluster: fetchCluster(u, clusterName),
    };
  }
  throw new GenError(`${kind}: --url '${url}' cannot be loaded by an inline Wasm filter (Istio's agent fetches oci:// only for WasmPlugin/ECDS)`, "use 'tollgate gen wasmplugin' for oci:// images, or an https:// or file:// URL here");
}

/** Istio networking.istio.io/v1alpha3 EnvoyFilter per plugin: HTTP_FILTER INSERT_BEFORE the router. */
export function envoyFilters(plugins: PluginInput[], o: K8sOptions & { context?: ProxyContext }): Obj[] {
  if (o.selector && Object.keys(o.selector).length && o.targetRefs?.length) throw new GenError("--selector and --target-ref are mutually exclusive");
  const failurePolicy = failurePolicyOf(o.failStrategy);
  const context = o.context ?? "SIDECAR_INBOUND";
  return ordered(plugins, o).map((p, i) => {
    const { code, cluster } = codeFor(p, "envoyfilter");
    const patches: Obj[] = [];
    if (cluster) patches.push({ applyTo: "CLUSTER", match: { context }, patch: { operation: "ADD", value: cluster } });
    patches.push({
      applyTo: "HTTP_FILTER",
      match: { context, listener: { filterChain: { filter: { name: HCM, subFilter: { name: ROUTER } } } } },
      patch: { operation: "INSERT_BEFORE", value: wasmHttpFilter(p, code, failurePolicy) },
    });
    const spec: Obj = {};
    if (o.selector && Object.keys(o.selector).length) spec.workloadSelector = { labels: o.selector };
    if (o.targetRefs?.length) spec.targetRefs = o.targetRefs.map((t) => ({ ...(t.group ? { group: t.group } : {}), kind: t.kind, name: t.name }));
    // Each insert lands just before the router, so applying them in chain order keeps the order.
    spec.priority = i;
    spec.configPatches = patches;
    return { apiVersion: "networking.istio.io/v1alpha3", kind: "EnvoyFilter", metadata: metadata(p.meta.name, o.namespace), spec };
  });
}

export interface HostPort { host: string; port: number }

export function parseHostPort(s: string, flag: string): HostPort {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) throw new GenError(`${flag} '${s}' must be host:port`, `e.g. ${flag} 127.0.0.1:8080`);
  return { host: m[1].replace(/^\[|\]$/g, ""), port };
}

/** A static Envoy bootstrap: listener → HCM → the plugins (chain order) → router → one upstream cluster. */
export function envoyBootstrap(plugins: PluginInput[], o: { upstream: HostPort; listen: HostPort; admin?: HostPort | null; wasmFile: (name: string) => string; failStrategy?: FailStrategy; phase?: Phase; priority?: number }): Obj {
  const failurePolicy = failurePolicyOf(o.failStrategy);
  return listenerBootstrap({
    name: "tollgate",
    listen: o.listen,
    admin: o.admin,
    hcm: { route_config: { name: "tollgate", virtual_hosts: [{ name: "all", domains: ["*"], routes: [{ match: { prefix: "/" }, route: { cluster: "upstream", timeout: "15s" } }] }] } },
    httpFilters: ordered(plugins, o).map((p) => wasmHttpFilter(p, { local: { filename: o.wasmFile(p.meta.name) } }, failurePolicy)),
    clusters: [staticCluster("upstream", o.upstream)],
  });
}

/** Envoy's socket_address for host:port. */
export function socketAddress(h: HostPort): Obj {
  return { socket_address: { address: h.host, port_value: h.port } };
}

/** A cluster with one endpoint: STATIC for an IP address, STRICT_DNS for a name. */
export function staticCluster(name: string, up: HostPort): Obj {
  return {
    name,
    type: isIP(up.host) ? "STATIC" : "STRICT_DNS",
    connect_timeout: "1s",
    lb_policy: "ROUND_ROBIN",
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress(up) } }] }] },
  };
}

/**
 * The bootstrap both `gen envoy` and `gen from-ingress --target envoy` write: an admin when given, one listener
 * `name` whose HCM (stat_prefix `name`, codec AUTO, then `hcm`'s fields) runs `httpFilters` then the router.
 */
export function listenerBootstrap(o: { name: string; listen: HostPort; admin?: HostPort | null; hcm: Obj; httpFilters: Obj[]; clusters: Obj[] }): Obj {
  const boot: Obj = {};
  if (o.admin) boot.admin = { address: socketAddress(o.admin) };
  // The plugins' metric labels (plugins/README.md, Metrics): Envoy's tag extractors for tollgate's encoding.
  boot.stats_config = { stats_tags: statsTags() };
  boot.static_resources = {
    listeners: [{
      name: o.name,
      address: socketAddress(o.listen),
      filter_chains: [{
        filters: [{
          name: HCM,
          typed_config: {
            "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
            stat_prefix: o.name,
            codec_type: "AUTO",
            ...o.hcm,
            http_filters: [...o.httpFilters, { name: ROUTER, typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } }],
          },
        }],
      }],
    }],
    clusters: o.clusters,
  };
  return boot;
}
