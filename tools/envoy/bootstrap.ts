// Envoy bootstrap documents for black-box tests and the bench: one listener (port 0) with an HTTP connection manager,
// wasm filters and the router, and STATIC clusters on loopback ports; admin on port 0. The same document runs
// on both engines (test/helpers/engines.ts).

type Obj = Record<string, unknown>;

const ROUTER = { name: "envoy.filters.http.router", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } };

/** One envoy.filters.http.wasm entry: name, root_id and vm_id (default: the name), code, configuration. */
export function wasmFilter(name: string, file: string, opts: { rootId?: string; vmId?: string; configuration?: string; config?: Obj } = {}): Obj {
  return {
    name,
    typed_config: {
      "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
      config: {
        name,
        root_id: opts.rootId ?? name,
        ...(opts.configuration === undefined ? {} : { configuration: { "@type": "type.googleapis.com/google.protobuf.StringValue", value: opts.configuration } }),
        ...(opts.config ?? {}),
        vm_config: { vm_id: opts.vmId ?? name, runtime: "envoy.wasm.runtime.v8", code: { local: { filename: file } } },
      },
    },
  };
}

/** A STATIC cluster with one loopback endpoint. */
export function loopbackCluster(name: string, port: number): Obj {
  return {
    name,
    type: "STATIC",
    connect_timeout: "1s",
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: port } } } }] }] },
  };
}

export interface ListenerSpec {
  /** Listener name and stat_prefix (default "l"). */
  name?: string;
  /** HTTP filters before the router. */
  filters: Obj[];
  /** Routes of the one virtual host (default: everything to the first cluster). */
  routes?: Obj[];
  /** Several virtual hosts instead of the one (`routes` is then ignored). */
  virtualHosts?: Obj[];
  /** More HttpConnectionManager fields (use_remote_address, …). */
  hcm?: Obj;
}

/** A route answering 200 "ok" from the gateway itself: nothing upstream can fail. */
export const DIRECT_OK: Obj = { match: { prefix: "/" }, direct_response: { status: 200, body: { inline_string: "ok" } } };

/** One tollgate plugin from dist/plugins with its configuration (an object is sent as JSON). */
export function pluginFilter(plugin: string, configuration: unknown): Obj {
  return wasmFilter(plugin, `dist/plugins/${plugin}.wasm`, { configuration: typeof configuration === "string" ? configuration : JSON.stringify(configuration) });
}

/** The whole bootstrap: one listener and one cluster per `clusters` entry (name → port). */
export function bootstrapDoc(l: ListenerSpec, clusters: Record<string, number> = {}): Obj {
  const name = l.name ?? "l";
  const first = Object.keys(clusters)[0];
  return {
    admin: { address: { socket_address: { address: "127.0.0.1", port_value: 0 } } },
    static_resources: {
      listeners: [{
        name,
        address: { socket_address: { address: "127.0.0.1", port_value: 0 } },
        filter_chains: [{ filters: [{ name: "envoy.filters.network.http_connection_manager", typed_config: {
          "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
          stat_prefix: name,
          ...(l.hcm ?? {}),
          route_config: { name: "rc", virtual_hosts: l.virtualHosts ?? [{ name: "vh", domains: ["*"], routes: l.routes ?? [{ name: "r1", match: { prefix: "/" }, route: { cluster: first } }] }] },
          http_filters: [...l.filters, ROUTER],
        } }] }],
      }],
      clusters: Object.entries(clusters).map(([n, port]) => loopbackCluster(n, port)),
    },
  };
}
