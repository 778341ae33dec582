// gen envoyfilter: Istio networking.istio.io/v1alpha3 EnvoyFilter per plugin, the Wasm filter before the router.
import { str } from "../args.ts";
import { oneOf, type GenKind } from "./kind.ts";
import { pluginInputs } from "./plugin-inputs.ts";

const envoyfilter: GenKind = async (plugins, values) => {
  const { inputs, k8s } = await pluginInputs("envoyfilter", plugins, values);
  const { envoyFilters } = await import("../../k8s/generate.ts");
  const { checkK8sObject } = await import("../../k8s/check.ts");
  const context = oneOf("context", str(values.context), ["GATEWAY", "SIDECAR_INBOUND", "SIDECAR_OUTBOUND"] as const);
  const docs = envoyFilters(inputs, { ...k8s, context });
  return { docs, errors: docs.flatMap(checkK8sObject) };
};
export default envoyfilter;
