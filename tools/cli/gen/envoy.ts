// gen envoy: a static Envoy bootstrap, listener → plugins → router → --upstream; with a rate-limit config that
// has `rls`, also the gRPC (HTTP/2) cluster of Envoy's rate limit service at --rls-address.
import { list, str } from "../args.ts";
import { CliError, UsageError } from "../errors.ts";
import type { GenKind, Obj } from "./kind.ts";
import { pluginInputs } from "./plugin-inputs.ts";

/** Where `tollgate gen envoy` points the rate limit service cluster by default (envoyproxy/ratelimit's GRPC_PORT). */
export const DEFAULT_RLS_ADDRESS = "127.0.0.1:8081";

const envoy: GenKind = async (plugins, v) => {
  const { inputs, k8s } = await pluginInputs("envoy", plugins, v);
  const { envoyBootstrap, parseHostPort } = await import("../../k8s/generate.ts");
  const { checkBootstrap } = await import("../../k8s/check.ts");
  const ups = list(v.upstream);
  if (ups.length !== 1) throw new UsageError("gen envoy needs one --upstream host:port", "e.g. --upstream 127.0.0.1:8080");
  const adminArg = str(v.admin)!;
  const dir = str(v["wasm-dir"])!.replace(/\/+$/, "");
  const bootstrap: Obj = envoyBootstrap(inputs, {
    upstream: parseHostPort(ups[0], "--upstream"),
    listen: parseHostPort(str(v.listen)!, "--listen"),
    admin: adminArg === "none" ? null : parseHostPort(adminArg, "--admin"),
    wasmFile: (n) => `${dir}/${n}.wasm`,
    failStrategy: k8s.failStrategy,
    phase: k8s.phase,
    priority: k8s.priority,
  });
  const rlsArg = str(v["rls-address"]);
  const rls = await rlsCluster(inputs.map((p) => ({ name: p.meta.name, config: p.config })), rlsArg ?? DEFAULT_RLS_ADDRESS);
  if (rls) {
    const clusters = (bootstrap.static_resources as { clusters: Obj[] }).clusters;
    if (clusters.some((c) => c.name === rls.name)) {
      throw new UsageError(`rls.cluster '${rls.name}' is also the name of the upstream cluster`, "name the rate limit service cluster something else, e.g. \"rls\"");
    }
    clusters.push(rls);
  } else if (rlsArg !== undefined) {
    throw new UsageError("--rls-address is given but no rate-limit config has 'rls'", "add \"rls\": {\"cluster\": \"rls\", \"domain\": \"<domain>\"} to the rate-limit config, or drop --rls-address");
  }
  // The clusters auth's remote_jwks fetch keys through (the plugin names them; Envoy must define them).
  const { idpClusters, idpSources } = await import("./idp.ts");
  const idp = idpClusters(idpSources(inputs));
  const clusters = (bootstrap.static_resources as Obj).clusters as Obj[];
  for (const c of idp) {
    if (clusters.some((x) => x.name === c.name)) throw new UsageError(`remote_jwks cluster '${c.name}' clashes with the bootstrap's own cluster`, "name the identity provider's cluster something else, e.g. idp");
    clusters.push(c);
  }
  return { docs: [bootstrap], errors: checkBootstrap(bootstrap) };
};
export default envoy;

/**
 * The cluster `rls.cluster` names: HTTP/2 (gRPC) to the service, STATIC for an IP, STRICT_DNS for a host name.
 * Null when no config has `rls`.
 */
async function rlsCluster(configs: { name: string; config: Obj | null }[], address: string): Promise<Obj | null> {
  const { rlsOf, RateLimitConfigError } = await import("../../ratelimit/config.ts");
  const { parseHostPort } = await import("../../k8s/generate.ts");
  const { isIP } = await import("node:net");
  let rls = null;
  for (const c of configs) {
    if (c.name !== "rate-limit" || !c.config) continue;
    try {
      rls = rlsOf(c.config);
    } catch (e) {
      if (e instanceof RateLimitConfigError) throw new CliError(`the rate-limit config: ${e.message}`);
      throw e;
    }
  }
  if (!rls) return null;
  const at = parseHostPort(address, "--rls-address");
  return {
    name: rls.cluster,
    type: isIP(at.host) ? "STATIC" : "STRICT_DNS",
    connect_timeout: "1s",
    lb_policy: "ROUND_ROBIN",
    // gRPC needs HTTP/2 to the service; Envoy speaks HTTP/1.1 to a cluster unless told otherwise.
    typed_extension_protocol_options: {
      "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
        "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
        explicit_http_config: { http2_protocol_options: {} },
      },
    },
    load_assignment: {
      cluster_name: rls.cluster,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: at.host, port_value: at.port } } } }] }],
    },
  };
}
