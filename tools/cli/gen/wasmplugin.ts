// gen wasmplugin: Istio extensions.istio.io/v1alpha1 WasmPlugin per plugin (deploy.md §1).
import type { GenKind } from "./kind.ts";
import { pluginInputs } from "./plugin-inputs.ts";

const wasmplugin: GenKind = async (plugins, values) => {
  const { inputs, k8s } = await pluginInputs("wasmplugin", plugins, values);
  const { wasmPlugins } = await import("../../k8s/generate.ts");
  const { checkK8sObject } = await import("../../k8s/check.ts");
  const docs = wasmPlugins(inputs, k8s);
  // auth's remote_jwks: the IdP as a mesh service, so the cluster the plugin calls exists (gen/idp.ts).
  const { checkIdpResource, idpIstioResources, idpSources } = await import("./idp.ts");
  const idp = idpIstioResources(idpSources(inputs), k8s.namespace);
  for (const w of idp.warnings) console.error(`warning: ${w}`);
  return { docs: [...docs, ...idp.docs], errors: [...docs.flatMap(checkK8sObject), ...idp.docs.flatMap(checkIdpResource)] };
};
export default wasmplugin;
