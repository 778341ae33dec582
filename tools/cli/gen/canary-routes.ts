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
  // canary is the project's own or tollgate's shipped one: its schema, then its own on_configure.
  const bad = checkConfig("canary", config);
  if (bad.length) throw new CliError(`${cfgFiles[0]}: not a valid canary config:\n  ${bad.join("\n  ")}`, 1, "fix the fields above (tollgate validate canary <file> explains more)");
  await assertPluginAccepts("canary", config, cfgFiles[0]);
  const base = { config, service, stable: str(v.stable)!, canary: str(v.canary)!, namespace: str(v.namespace), gateways: list(v.gateway), label: str(v.label), routeName: str(v["route-name"]) };
  if (base.stable === base.canary) throw new UsageError("--stable and --canary must differ");
  const format = oneOf("format", str(v.format), ["istio", "envoy"] as const);
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
