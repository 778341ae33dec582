// gen higress: Higress extensions.higress.io/v1alpha1 WasmPlugin, defaultConfig + matchRules (deploy.md §2).
import type { GenKind } from "./kind.ts";
import { pluginInputs } from "./plugin-inputs.ts";

const higress: GenKind = async (plugins, values) => {
  const { inputs, k8s } = await pluginInputs("higress", plugins, values);
  const { higressPlugins } = await import("../../k8s/generate.ts");
  const { checkK8sObject } = await import("../../k8s/check.ts");
  const docs = higressPlugins(inputs, k8s);
  return { docs, errors: docs.flatMap(checkK8sObject) };
};
export default higress;
