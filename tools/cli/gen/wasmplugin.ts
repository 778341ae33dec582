// gen wasmplugin: Istio extensions.istio.io/v1alpha1 WasmPlugin per plugin (deploy.md §1), and the proxy settings
// that keep the plugins' metrics: Istio's proxies drop every wasm stat their stats matcher does not include, and
// give labels only for the tags ProxyConfig.extraStatTags lists (tools/plugins/metrics.ts).
import type { GenKind, Obj } from "./kind.ts";
import { istioProxyConfig, PLUGIN_METRICS } from "../../plugins/metrics.ts";
import { pluginInputs } from "./plugin-inputs.ts";

/** An IstioOperator overlay (`istioctl install -f`; Helm: the same meshConfig under the istiod chart's values). */
export function statsInclusionOperator(): Obj {
  return {
    apiVersion: "install.istio.io/v1alpha1",
    kind: "IstioOperator",
    metadata: { name: "tollgate-metrics", namespace: "istio-system" },
    spec: { meshConfig: { defaultConfig: istioProxyConfig() } },
  };
}

/** The per-workload alternative: the pod-template annotation carrying the same ProxyConfig fields. */
export function statsInclusionAnnotation(): string {
  return `proxy.istio.io/config: '${JSON.stringify(istioProxyConfig())}'`;
}

/** Structural check of the overlay (no IstioOperator schema ships with tollgate). */
function checkOperator(doc: Obj): string[] {
  const dc = ((doc.spec as Obj)?.meshConfig as Obj)?.defaultConfig as Obj | undefined;
  const m = dc?.proxyStatsMatcher as { inclusionPrefixes?: unknown } | undefined;
  const errors: string[] = [];
  if (!Array.isArray(m?.inclusionPrefixes) || !m.inclusionPrefixes.every((p) => typeof p === "string" && p.length > 0)) errors.push("IstioOperator: spec.meshConfig.defaultConfig.proxyStatsMatcher.inclusionPrefixes must be a list of strings");
  if (!Array.isArray(dc?.extraStatTags) || !(dc.extraStatTags as unknown[]).every((t) => typeof t === "string" && /^[a-z_]+$/.test(t))) errors.push("IstioOperator: spec.meshConfig.defaultConfig.extraStatTags must be a list of tag names");
  return errors;
}

const wasmplugin: GenKind = async (plugins, values) => {
  const { inputs, k8s } = await pluginInputs("wasmplugin", plugins, values);
  const { wasmPlugins } = await import("../../k8s/generate.ts");
  const { checkK8sObject } = await import("../../k8s/check.ts");
  const docs = wasmPlugins(inputs, k8s);
  // auth's remote_jwks: the IdP as a mesh service, so the cluster the plugin calls exists (gen/idp.ts).
  const { checkIdpResource, idpIstioResources, idpSources } = await import("./idp.ts");
  const idp = idpIstioResources(idpSources(inputs), k8s.namespace);
  for (const w of idp.warnings) console.error(`warning: ${w}`);
  const extra: Obj[] = [];
  if (inputs.some((i) => Object.hasOwn(PLUGIN_METRICS, i.meta.name))) {
    if (values["stats-inclusion"] === true) extra.push(statsInclusionOperator());
    else {
      console.error(
        "note: Istio's proxies drop the plugins' metrics unless their stats matcher includes them (plugins/README.md, Metrics). " +
          "Add to the workloads' pod template: " + statsInclusionAnnotation() + " — or mesh-wide with --stats-inclusion (an IstioOperator meshConfig overlay).",
      );
    }
  }
  return {
    docs: [...docs, ...idp.docs, ...extra],
    errors: [...docs.flatMap(checkK8sObject), ...idp.docs.flatMap(checkIdpResource), ...extra.flatMap(checkOperator)],
  };
};
export default wasmplugin;
