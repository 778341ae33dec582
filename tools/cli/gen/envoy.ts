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
  const tagged = ups.length > 1 || ups.some((u) => /^[A-Za-z0-9][-A-Za-z0-9_.]*=/.test(u));
  if (ups.length === 0 || (!tagged && ups.length !== 1)) {
    throw new UsageError("gen envoy needs one --upstream host:port (or, with canary, one --upstream <tag>=host:port per version)", "e.g. --upstream 127.0.0.1:8080, or --upstream v1=127.0.0.1:8081 --upstream v2=127.0.0.1:8082");
  }
  const adminArg = str(v.admin)!;
  const dir = str(v["wasm-dir"])!.replace(/\/+$/, "");
  const bootstrap: Obj = envoyBootstrap(inputs, {
    upstream: parseHostPort(tagged ? ups[0].slice(ups[0].indexOf("=") + 1) : ups[0], "--upstream"),
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
  if (tagged) await canaryRouting(bootstrap, inputs, ups, v);
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

/**
 * gen envoy with the canary plugin and one `--upstream <tag>=host:port` per version: the routes that make the tag
 * route (the same entries `gen canary-routes --format envoy` prints, issue 18 item 7) replace the single route,
 * one cluster per tag. Every tag the config can write needs an upstream.
 */
async function canaryRouting(bootstrap: Obj, inputs: Array<{ meta: { name: string }; config: Obj | null }>, ups: string[], v: Parameters<GenKind>[1]): Promise<void> {
  const canary = inputs.find((p) => p.meta.name === "canary");
  if (!canary?.config) throw new UsageError("--upstream <tag>=host:port routes on the canary plugin's tag: add canary with its --config", "e.g. gen envoy canary --config canary.json --upstream v1=127.0.0.1:8081 --upstream v2=127.0.0.1:8082");
  const { parseHostPort, staticCluster } = await import("../../k8s/generate.ts");
  const { canaryTags, envoyCanaryRoutes } = await import("../../k8s/canary-routes.ts");
  const byTag = new Map<string, ReturnType<typeof parseHostPort>>();
  for (const u of ups) {
    const i = u.indexOf("=");
    if (i <= 0) throw new UsageError(`--upstream '${u}' must be <tag>=host:port when several versions are given`);
    byTag.set(u.slice(0, i), parseHostPort(u.slice(i + 1), "--upstream"));
  }
  const base = { config: canary.config, service: str(v.service) ?? "upstream", stable: str(v.stable)!, canary: str(v.canary)!, routeName: str(v["route-name"]) };
  const missing = [base.stable, ...canaryTags(base)].filter((t) => !byTag.has(t));
  if (missing.length) throw new UsageError(`no --upstream for tag${missing.length > 1 ? "s" : ""} ${missing.join(", ")} (the canary config can write ${missing.length > 1 ? "them" : "it"}; --stable is ${base.stable})`, `add --upstream ${missing[0]}=host:port`);
  const routes = envoyCanaryRoutes({ ...base, clusterFor: (t) => `tag-${t}` });
  const hcm = (((bootstrap.static_resources as Obj).listeners as Obj[])[0].filter_chains as Obj[])[0].filters as Obj[];
  const rc = (hcm[0].typed_config as Obj).route_config as { virtual_hosts: Obj[] };
  rc.virtual_hosts[0].routes = routes;
  const clusters = (bootstrap.static_resources as Obj).clusters as Obj[];
  clusters.splice(clusters.findIndex((c) => c.name === "upstream"), 1, ...[...byTag].map(([t, at]) => staticCluster(`tag-${t}`, at)));
  console.error(`note: routes on ${JSON.stringify((routes[0] as Obj).name)} by the canary tag header: ${[...byTag.keys()].map((t) => `${t} → ${byTag.get(t)!.host}:${byTag.get(t)!.port}`).join(", ")}`);
}
