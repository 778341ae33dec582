// Checks generated output the way the consumers would: Kubernetes objects against the official CRDs, Envoy
// configs (bootstrap, EnvoyFilter patch values, route entries) against the Envoy v3 protos, strictly.
import { validateBootstrap, validateEnvoyMessage } from "../envoy/validate.ts";
import { validateK8sObject } from "./crd.ts";
import type { Obj } from "./generate.ts";

const ENVOY_PATCH_TYPES: Record<string, string> = {
  HTTP_FILTER: "envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter",
  CLUSTER: "envoy.config.cluster.v3.Cluster",
};

/** Errors for one generated Kubernetes object, including the Envoy config inside an EnvoyFilter. */
export function checkK8sObject(obj: Obj): string[] {
  const errors = validateK8sObject(obj);
  if (obj.kind === "EnvoyFilter" && String(obj.apiVersion).startsWith("networking.istio.io/")) {
    const patches = ((obj.spec as Obj)?.configPatches ?? []) as Obj[];
    patches.forEach((p, i) => {
      const type = ENVOY_PATCH_TYPES[String(p.applyTo)];
      const value = (p.patch as Obj)?.value;
      if (!type) errors.push(`spec.configPatches[${i}].applyTo: ${p.applyTo} values are not checked against the Envoy protos`);
      else for (const e of validateEnvoyMessage(type, value)) errors.push(`spec.configPatches[${i}].patch.value.${e}`);
    });
  }
  return errors.map((e) => `${obj.kind} ${(obj.metadata as Obj)?.name}: ${e}`);
}

export function checkBootstrap(obj: Obj): string[] {
  return validateBootstrap(obj).map((e) => `bootstrap: ${e}`);
}

export function checkEnvoyRoutes(routes: Obj[]): string[] {
  return routes.flatMap((r, i) => validateEnvoyMessage("envoy.config.route.v3.Route", r).map((e) => `routes[${i}].${e}`));
}
