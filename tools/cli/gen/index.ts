// `tollgate gen <kind>`: the help text, the flags, and kind → module; each kind lives in its own file here and is
// imported only when asked for. A new kind is a file exporting a GenKind plus one line in KINDS.
import { writeFileSync } from "node:fs";
import { type Command, str } from "../args.ts";
import { CliError, UsageError } from "../errors.ts";
import type { GenKind } from "./kind.ts";

/** Kinds in help order, each lazily imported. */
const KINDS: Record<string, () => Promise<{ default: GenKind }>> = {
  wasmplugin: () => import("./wasmplugin.ts"),
  envoyfilter: () => import("./envoyfilter.ts"),
  higress: () => import("./higress.ts"),
  envoy: () => import("./envoy.ts"),
  "canary-routes": () => import("./canary-routes.ts"),
  "from-ingress": () => import("./from-ingress.ts"),
  "ratelimit-config": () => import("./ratelimit-config.ts"),
  dashboard: () => import("./dashboard.ts"),
};

/**
 * Istio before 1.22 serves networking.istio.io only as v1beta1 / v1alpha3: the networking objects move to `version`
 * and are checked again against that version's CRD schema. EnvoyFilter exists only as v1alpha3.
 */
async function olderNetworkingApi(out: { docs: unknown[]; errors: string[] }, version: string): Promise<void> {
  const { checkK8sObject } = await import("../../k8s/check.ts");
  for (const d of out.docs as Array<Record<string, unknown>>) {
    if (typeof d?.apiVersion !== "string" || !d.apiVersion.startsWith("networking.istio.io/") || d.kind === "EnvoyFilter") continue;
    d.apiVersion = `networking.istio.io/${version}`;
    out.errors.push(...checkK8sObject(d));
  }
}

const command: Command = {
  name: "gen",
  summary: "Generate Istio / Higress / Envoy manifests for plugins (YAML on stdout).",
  usage: "gen <wasmplugin|envoyfilter|higress|envoy|canary-routes> <plugin...> [options] | gen from-ingress <ingress.yaml...> [--target istio|higress|envoy] | gen ratelimit-config <rate-limit.json> | gen dashboard [plugin...]",
  description: `
Kinds:
  wasmplugin     Istio extensions.istio.io/v1alpha1 WasmPlugin per plugin (pluginName = root_id), ordered by phase/priority
  envoyfilter    Istio networking.istio.io/v1alpha3 EnvoyFilter per plugin: envoy.filters.http.wasm before the router
  higress        Higress extensions.higress.io/v1alpha1 WasmPlugin: defaultConfig + matchRules from the config's _rules_
  envoy          Envoy bootstrap: listener → plugins → router → --upstream
  canary-routes  Istio VirtualService + DestinationRule (or --format envoy: route entries) routing the canary tag header
  from-ingress   Kubernetes Ingress files (ingress-nginx / Higress annotations: CORS, canary, limit-rps/rpm, basic auth
                 from htpasswd Secrets in the input, whitelist-source-range) →
                 --target istio: Gateway + VirtualServices (routes named <namespace>/<ingress>) + WasmPlugins;
                 higress: WasmPlugins with matchRules by ingress; envoy: a runnable bootstrap, one cluster per
                 backend Service (--upstream <service>=host:port, default an echo upstream per service).
                 Every annotation not translated is listed on stderr with its Ingress.
  ratelimit-config  <rate-limit.json>: the envoyproxy/ratelimit service config (domain, descriptors, units) for the
                 config's "scope": "global" rules; with 'rls' in the config, gen envoy adds its gRPC cluster.
  dashboard      [plugin...]: Grafana dashboard JSON, one row per plugin, PromQL over the plugins' metrics
                 (plugins/README.md, Metrics; default: every plugin with metrics)
Per-plugin flags (--config, --url, --sha256) take <plugin>=<value> when several plugins are given; --url may
contain {name} and {version} (from plugin.json). Configs are checked against plugins/<name>/plugin.json's schema
and every output against the official CRDs / Envoy protos before it is printed.
Examples:
  tollgate gen wasmplugin cors --url oci://ghcr.io/acme/cors:1.0.0 --sha256 <digest> --config cors.json | kubectl apply -f -
  tollgate gen higress cors --url oci://ghcr.io/acme/cors:1.0.0 --config cors.json | kubectl apply -f -
  tollgate gen envoy cors canary --config cors=cors.json --config canary=canary.json --upstream 127.0.0.1:8080 -o envoy.yaml
  tollgate gen canary-routes --config canary.json --service reviews.default.svc.cluster.local --stable v1 --canary v2
  tollgate gen canary-routes --config canary.json --service reviews.default.svc.cluster.local --gateway istio-system/public --host reviews.example.com
  tollgate gen envoy canary --config canary.json --upstream v1=127.0.0.1:8081 --upstream v2=127.0.0.1:8082 -o envoy.yaml
  tollgate gen wasmplugin auth --config auth.json --url oci://… --selector app=api --match-mode SERVER --match-port 8080 --vm-env-host POD_NAME
  tollgate gen from-ingress ingress.yaml --target envoy -o envoy.yaml && tollgate up envoy.yaml
  tollgate gen from-ingress ingress.yaml --target istio --url oci://ghcr.io/acme/{name}:{version} | kubectl apply -f -
  tollgate gen ratelimit-config rate-limit.json -o ratelimit/config/tollgate.yaml
  tollgate gen dashboard -o tollgate-dashboard.json`,
  options: {
    output: { type: "string", short: "o", description: "write to this file instead of stdout", valueName: "file" },
    config: { type: "string", multiple: true, description: "plugin config file, JSON or YAML ([plugin=]file)", valueName: "file" },
    url: { type: "string", multiple: true, description: "module URL: oci://, https://, file:// ([plugin=]url; {name}, {version})", valueName: "url" },
    sha256: { type: "string", multiple: true, description: "oci: manifest digest; http(s): the .wasm's sha256 ([plugin=]hex)", valueName: "hex" },
    namespace: { type: "string", short: "n", description: "metadata.namespace (higress default: higress-system)", valueName: "ns" },
    selector: { type: "string", multiple: true, description: "workload label key=value (repeatable)", valueName: "k=v" },
    "target-ref": { type: "string", multiple: true, description: "Kind/name: Gateway, GatewayClass, Service, ServiceEntry", valueName: "Kind/name" },
    phase: { type: "string", description: "AUTHN | AUTHZ | STATS | UNSPECIFIED_PHASE (default: plugin.json)", valueName: "phase" },
    priority: { type: "string", description: "priority within the phase, higher first (default: plugin.json)", valueName: "n" },
    "fail-strategy": { type: "string", description: "FAIL_CLOSE | FAIL_OPEN | FAIL_RELOAD (envoy, envoyfilter: the filter's failure_policy, Envoy 1.33+; higress: no FAIL_RELOAD)", valueName: "s" },
    "image-pull-secret": { type: "string", description: "dockerconfigjson Secret in the same namespace", valueName: "name" },
    "image-pull-policy": { type: "string", description: "IfNotPresent | Always", valueName: "p" },
    "stats-inclusion": { type: "boolean", description: "wasmplugin: also emit the IstioOperator meshConfig overlay that keeps the plugins' metrics (proxyStatsMatcher) and labels them (extraStatTags); without it, a note on stderr shows the pod annotation" },
    "match-mode": { type: "string", description: "wasmplugin: traffic the plugin applies to: CLIENT | SERVER | CLIENT_AND_SERVER | UNDEFINED (spec.match)", valueName: "mode" },
    "match-port": { type: "string", multiple: true, description: "wasmplugin: only these ports (spec.match ports; repeatable)", valueName: "n" },
    "vm-env": { type: "string", multiple: true, description: "wasmplugin: NAME=value in the plugin VM's environment (spec.vmConfig.env, INLINE; repeatable)", valueName: "k=v" },
    "vm-env-host": { type: "string", multiple: true, description: "wasmplugin: NAME passed from the proxy's own environment (spec.vmConfig.env, HOST; repeatable)", valueName: "name" },
    "networking-version": { type: "string", description: "networking.istio.io version of VirtualService / DestinationRule / Gateway / ServiceEntry: v1 | v1beta1 | v1alpha3 (older Istio; EnvoyFilter stays v1alpha3)", default: "v1", valueName: "v" },
    host: { type: "string", multiple: true, description: "canary-routes: the VirtualService's external hosts when --gateway is given (repeatable)", valueName: "host" },
    context: { type: "string", description: "envoyfilter: GATEWAY | SIDECAR_INBOUND | SIDECAR_OUTBOUND", default: "SIDECAR_INBOUND", valueName: "ctx" },
    upstream: { type: "string", multiple: true, description: "envoy: upstream host:port, or with canary <tag>=host:port per version (routes on the tag); from-ingress: <service>=host:port per backend (repeatable)", valueName: "host:port" },
    target: { type: "string", description: "from-ingress: istio | higress | envoy", default: "istio", valueName: "t" },
    "echo-base-port": { type: "string", description: "from-ingress --target envoy: first port of the echo upstreams of services without --upstream", default: "18080", valueName: "n" },
    listen: { type: "string", description: "envoy: listener address", default: "127.0.0.1:10000", valueName: "host:port" },
    "rls-address": { type: "string", description: "envoy: the rate limit service's gRPC address, for the cluster a rate-limit config's rls.cluster names (default: 127.0.0.1:8081)", valueName: "host:port" },
    admin: { type: "string", description: "envoy: admin address, or 'none'", default: "127.0.0.1:9901", valueName: "host:port" },
    "wasm-dir": { type: "string", description: "envoy: directory of the .wasm files, as Envoy resolves it", default: "dist/plugins", valueName: "dir" },
    service: { type: "string", description: "canary-routes: the service host", valueName: "host" },
    stable: { type: "string", description: "canary-routes: stable tag / subset", default: "v1", valueName: "tag" },
    canary: { type: "string", description: "canary-routes: canary tag / subset", default: "v2", valueName: "tag" },
    gateway: { type: "string", multiple: true, description: "canary-routes: VirtualService gateways", valueName: "name" },
    label: { type: "string", description: "canary-routes: pod label the subsets select on", default: "version", valueName: "key" },
    "route-name": { type: "string", description: "canary-routes: the one route name every tag's route carries, what _match_route_ names (default: the service's short name)", valueName: "name" },
    cluster: { type: "string", multiple: true, description: "canary-routes --format envoy: tag=cluster (default: stable, canary, else the tag)", valueName: "tag=name" },
    format: { type: "string", description: "canary-routes: istio | envoy", default: "istio", valueName: "f" },
  },
  async run(args) {
    const [kind, ...operands] = args.positionals;
    if (kind === undefined) throw new UsageError(`expected a kind: ${Object.keys(KINDS).join(", ")}`, "e.g. tollgate gen wasmplugin cors --url oci://…");
    const load = Object.hasOwn(KINDS, kind) ? KINDS[kind] : undefined;
    if (!load) throw new UsageError(`--kind must be one of ${Object.keys(KINDS).join(", ")}, got '${kind}'`);
    // Quotes every string a YAML 1.1 reader (Envoy's yaml-cpp, Kubernetes' sigs.k8s.io/yaml) would read as
    // something else: a plain `on` or `y` in a plugin config or a name would arrive as the bool true.
    const { stringifyEnvoyYaml: stringify } = await import("../../envoy/yaml.ts");
    const out = await (await load()).default(operands, args.values);
    const nv = str(args.values["networking-version"]) ?? "v1";
    if (!["v1", "v1beta1", "v1alpha3"].includes(nv)) throw new UsageError(`--networking-version must be v1, v1beta1 or v1alpha3, got '${nv}'`);
    if (nv !== "v1") await olderNetworkingApi(out, nv);
    if (out.errors.length) {
      // The generator produced something the CRDs / protos reject: a tollgate bug or an invalid flag value.
      throw new CliError(`the generated ${kind} output does not validate:\n  ${out.errors.join("\n  ")}`, 1, "check the flag values above; if they are right, this is a tollgate bug");
    }
    const text = out.text ?? out.docs.map((d) => stringify(d, { lineWidth: 0 })).join("---\n");
    const file = str(args.values.output);
    if (file) writeFileSync(file, text);
    else process.stdout.write(text);
    return 0;
  },
};
export default command;
