// gen canary-routes: Istio VirtualService + DestinationRule, or Envoy route entries, routing the canary tag header.
import { list, str } from "../args.ts";
import { readConfigFile } from "../config-file.ts";
import { CliError, UsageError } from "../errors.ts";
import { kv, oneOf, type GenKind, type Obj } from "./kind.ts";
import { assertPluginAccepts } from "./verdict.ts";

const canaryRoutes: GenKind = async (_operands, v) => {
  const { istioCanaryRoutes, envoyCanaryRoutes } = await import("../../k8s/canary-routes.ts");
  const { checkK8sObject, checkEnvoyRoutes } = await import("../../k8s/check.ts");
  const { checkConfig } = await import("../../plugins/index.ts");
  const cfgFiles = list(v.config);
  if (cfgFiles.length !== 1) throw new UsageError("canary-routes needs exactly one --config <canary config file>");
  const service = str(v.service);
  if (!service) throw new UsageError("canary-routes needs --service <host>", "e.g. --service reviews.default.svc.cluster.local");
  const config = await readConfigFile(cfgFiles[0]);
  const format = oneOf("format", str(v.format), ["istio", "envoy"] as const);
  // canary is the project's own or tollgate's shipped one: its schema, then its own on_configure.
  const bad = checkConfig("canary", config);
  if (bad.length) throw new CliError(`${cfgFiles[0]}: not a valid canary config:\n  ${bad.join("\n  ")}`, 1, "fix the fields above (tollgate validate canary <file> explains more)");
  await assertPluginAccepts("canary", config, cfgFiles[0]);
  const gateways = list(v.gateway);
  const hosts = list(v.host);
  // Through a gateway the VirtualService must match the host names clients send, not the internal service.
  if (gateways.some((g) => g !== "mesh") && hosts.length === 0) {
    throw new UsageError("--gateway binds the routes to a gateway: pass the external host names clients use with --host", "e.g. --gateway istio-system/public --host reviews.example.com (add --gateway mesh --host <service> to keep in-mesh routing)");
  }
  if (hosts.length && format === "envoy") throw new UsageError("--host is for the Istio VirtualService (--format istio)");
  const apiVersion = oneOf("networking-version", str(v["networking-version"]), ["v1", "v1beta1", "v1alpha3"] as const);
  const base = { config, service, stable: str(v.stable)!, canary: str(v.canary)!, namespace: str(v.namespace), gateways, hosts, apiVersion, label: str(v.label), routeName: str(v["route-name"]) };
  if (base.stable === base.canary) throw new UsageError("--stable and --canary must differ");
  if (format === "envoy") {
    const clusters = kv(list(v.cluster), "cluster");
    const routes = envoyCanaryRoutes({ ...base, clusterFor: (t) => clusters[t] ?? (t === base.stable ? "stable" : t === base.canary ? "canary" : t) });
    console.error(`note: every route is named '${(routes[0] as Obj).name}': scope auth / rate-limit / cors rules for this service with "_match_route_": ["${(routes[0] as Obj).name}"] (one name for every tag, so the tag header cannot pick the rules)`);
    return { docs: [routes], errors: checkEnvoyRoutes(routes) };
  }
  const docs = istioCanaryRoutes(base);
  const rn = ((docs[0] as Obj).spec as { http: Obj[] }).http[0].name;
  console.error(`note: every http route is named '${rn}': scope auth / rate-limit / cors rules for this service with "_match_route_": ["${rn}"] (one name for every tag, so the tag header cannot pick the rules)`);
  return { docs, errors: (docs as Obj[]).flatMap(checkK8sObject) };
};
export default canaryRoutes;
