// `tollgate gen from-ingress` and `tollgate up --ingress`: Ingress files → validated output for one target.
// Every plugin config is checked against its plugin.json schema and by the plugin's own on_configure (the
// .wasm in the embedded host, as `tollgate validate` does); every object against the CRDs / Envoy protos.
import { existsSync, readFileSync } from "node:fs";
import { isIP } from "node:net";
import { pluginWasm } from "../paths.ts";
import { assertBuilt, checkConfig, loadPluginMeta, pluginVerdict } from "../plugins/index.ts";
import { checkBootstrap, checkK8sObject } from "./check.ts";
import { GenError, GenInputError, GenOutputError } from "./errors.ts";
import { parseHostPort, type HostPort, type Obj, type PluginInput } from "./generate.ts";
import { formatNotes, translate, type IngressModel, type SecretDoc } from "./ingress.ts";
import { readIngresses } from "./ingress-read.ts";
import { pluginConfigs } from "./ingress-plugins.ts";
import { clusterNames, envoyIngressBootstrap, higressObjects, istioObjects } from "./ingress-out.ts";

export type Target = "istio" | "higress" | "envoy";
export const TARGETS: readonly Target[] = ["istio", "higress", "envoy"];

export interface FromIngressOptions {
  files: string[];
  target: Target;
  /** Module URL per plugin ({name}, {version} expanded); istio and higress need one. */
  url?: string;
  namespace?: string;
  /** envoy: cluster or service name → address. */
  upstreams?: Record<string, string>;
  /** envoy: address of clusters without --upstream; port base + index (echo upstreams). */
  echoBasePort?: number;
  listen?: HostPort;
  admin?: HostPort | null;
  wasmDir?: string;
}

export interface FromIngressResult {
  model: IngressModel;
  docs: Obj[];
  /** Lines for stderr: notes, every annotation not translated, differences. */
  notes: string[];
  /** envoy: cluster name → the address it was given (echo upstreams included). */
  clusters: Map<string, HostPort>;
  /** envoy: clusters that got the default echo address. */
  echoClusters: string[];
}

/** Reads and translates; bad input throws IngressError / GenError / GenInputError naming file, field and fix. */
export async function fromIngress(o: FromIngressOptions): Promise<FromIngressResult> {
  if (o.files.length === 0) throw new GenError("expected one or more Ingress YAML files", "e.g. tollgate gen from-ingress ingress.yaml --target envoy");
  const inputs = o.files.map((file) => {
    if (!existsSync(file)) throw new GenError(`${file}: no such file`, "pass Ingress manifests (multi-document YAML is fine)");
    return { file, text: readFileSync(file, "utf8") };
  });
  const notes: string[] = [];
  const secrets = new Map<string, SecretDoc>();
  const ingresses = await readIngresses(inputs, notes, secrets);
  if (ingresses.length === 0) throw new GenInputError(`no networking.k8s.io/v1 Ingress in ${o.files.join(", ")}`, "pass the files that hold the Ingresses");
  const model = translate(ingresses, notes, secrets);
  if (model.routes.length === 0) throw new GenInputError("the Ingresses define no routes (no rules with paths and no defaultBackend)", "add spec.rules[].http.paths or spec.defaultBackend");
  const configs = pluginConfigs(model, o.target);
  const plugins: PluginInput[] = [];
  for (const [name, config] of configs) {
    const meta = loadPluginMeta(name);
    const bad = checkConfig(name, config);
    if (bad.length) throw new GenOutputError(`the generated ${name} config does not match ${meta.file}:\n  ${bad.join("\n  ")}`, "this is a tollgate bug in tools/k8s/ingress.ts; please report it with the Ingress");
    await checkOnConfigure(name, config);
    const url = o.target === "envoy" ? undefined : o.url?.replaceAll("{name}", name).replaceAll("{version}", meta.version);
    if (o.target !== "envoy" && !url) {
      throw new GenError(`--target ${o.target} needs --url for the ${[...configs.keys()].join(", ")} plugin${configs.size > 1 ? "s" : ""} the annotations translate to`, "pass --url oci://<registry>/{name}:{version} (what 'tollgate push' printed)");
    }
    plugins.push({ meta, config, url });
  }
  const extra: string[] = [];
  let docs: Obj[];
  const clusters = new Map<string, HostPort>();
  const echoClusters: string[] = [];
  if (o.target === "istio") {
    docs = istioObjects(model, { gatewayName: "tollgate-ingress", gatewayNamespace: o.namespace ?? "istio-system", gatewaySelector: { istio: "ingressgateway" }, plugins }, extra);
    for (const t of model.tls) if (!t.secretName) extra.push(`Ingress ${t.ingress}: a tls entry without secretName is not carried over (Istio needs a credentialName)`);
    if (configs.has("auth")) extra.push(`the auth WasmPlugin carries the Basic credentials of Secret ${[...new Set([...model.basicAuth.values()].map((a) => a.secret))].join(", ")} in its pluginConfig: a WasmPlugin is not a Secret, so limit who can read WasmPlugins in ${o.namespace ?? "istio-system"}`);
    if (model.tls.some((t) => t.secretName)) extra.push(`the Gateway's HTTPS servers name the Ingresses' TLS Secrets as credentialName: Istio reads them from the gateway's namespace (${o.namespace ?? "istio-system"}); copy them there`);
  } else if (o.target === "higress") {
    docs = higressObjects(plugins, o.namespace);
    // Higress reads auth-type basic and whitelist-source-range itself: what the auth plugin could not carry is moot.
    const own = new Set(["auth-type", "auth-secret", "auth-secret-type", "auth-realm"].flatMap((k) => [`nginx.ingress.kubernetes.io/${k}`, `higress.io/${k}`]));
    model.untranslated = model.untranslated.filter((u) => !u.annotation || !own.has(u.annotation));
    model.differences = model.differences.filter((u) => !u.annotation || !own.has(u.annotation));
    for (const [name, a] of model.basicAuth) extra.push(`Higress enforces auth-type basic of Ingress ${name} itself from Secret ${a.secret} (apply the Secret with the Ingress); no auth WasmPlugin is generated`);
    for (const name of model.sourceRanges.keys()) extra.push(`Higress enforces whitelist-source-range of Ingress ${name} itself (apply the Ingress unchanged); no WasmPlugin is generated`);
    if (plugins.length) extra.push("Higress routes the Ingresses itself (apply them unchanged) and also implements the CORS annotations natively: remove enable-cors/cors-* from Ingresses covered by the cors WasmPlugin, or both answer");
  } else {
    const names = clusterNames(model);
    const ups = { ...(o.upstreams ?? {}) };
    const used = new Set<string>();
    [...new Set(names.values())].forEach((name, i) => {
      const service = name.split(".")[0];
      const byService = [...new Set(names.values())].filter((n) => n.split(".")[0] === service).length === 1 ? ups[service] : undefined;
      const addr = ups[name] ?? byService;
      if (ups[name] !== undefined) used.add(name);
      else if (byService !== undefined) used.add(service);
      if (addr !== undefined) clusters.set(name, parseHostPort(addr, `--upstream ${name}=`));
      else {
        clusters.set(name, { host: "127.0.0.1", port: (o.echoBasePort ?? 18080) + i });
        echoClusters.push(name);
      }
    });
    for (const k of Object.keys(ups)) if (!used.has(k)) throw new GenError(`--upstream ${k}=…: no backend service named '${k}'`, `the services are: ${[...new Set(names.values())].join(", ")} (write <service> or <service>.<namespace>)`);
    docs = [envoyIngressBootstrap(model, {
      listen: o.listen ?? { host: "127.0.0.1", port: 10000 },
      admin: o.admin === undefined ? { host: "127.0.0.1", port: 9901 } : o.admin,
      upstreams: clusters,
      plugins,
      wasmFile: (n) => `${(o.wasmDir ?? "dist/plugins").replace(/\/+$/, "")}/${n}.wasm`,
    })];

    for (const t of model.tls) extra.push(`Ingress ${t.ingress}: tls (${t.hosts.join(", ") || "*"}) is not served by the local bootstrap (plain HTTP); --target istio carries it to the Gateway`);
  }
  const errors = o.target === "envoy" ? checkBootstrap(docs[0]) : docs.flatMap((d) => (d.kind === "Gateway" ? checkIstioGateway(d) : d.kind === "AuthorizationPolicy" ? checkAuthorizationPolicy(d) : checkK8sObject(d)));
  if (errors.length) throw new GenOutputError(`the generated ${o.target} output does not validate:\n  ${errors.join("\n  ")}`, "this is a tollgate bug; please report it with the Ingress");
  return { model, docs, notes: [...formatNotes(model), ...extra.map((l) => (l.startsWith("Ingress ") ? `not translated: ${l}` : `note: ${l}`))], clusters, echoClusters };
}

/**
 * The Istio Gateway's fields as Istio's API reference defines them (networking.istio.io/v1 Gateway): the bundled
 * CRDs (tools/k8s/crds) do not include gateways.networking.istio.io yet, so this checks what the generator writes.
 */
export function checkIstioGateway(g: Obj): string[] {
  const errors: string[] = [];
  const meta = g.metadata as Obj;
  const name = String(meta?.name);
  const dns = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
  if (g.apiVersion !== "networking.istio.io/v1") errors.push(`apiVersion must be networking.istio.io/v1`);
  if (!dns.test(name) || !dns.test(String(meta?.namespace))) errors.push("metadata.name/namespace must be DNS names");
  const spec = g.spec as Obj;
  const servers = spec?.servers;
  if (!Array.isArray(servers) || servers.length === 0) errors.push("spec.servers must be a non-empty list");
  const names = new Set<string>();
  (Array.isArray(servers) ? servers : []).forEach((s: Obj, i: number) => {
    const p = s.port as Obj;
    if (!p || !Number.isInteger(p.number) || (p.number as number) < 1 || (p.number as number) > 65535) errors.push(`spec.servers[${i}].port.number must be 1-65535`);
    if (!["HTTP", "HTTPS", "HTTP2", "GRPC", "TCP", "TLS"].includes(String(p?.protocol))) errors.push(`spec.servers[${i}].port.protocol is not an Istio protocol`);
    if (typeof p?.name !== "string" || names.has(p.name)) errors.push(`spec.servers[${i}].port.name must be a unique string`);
    else names.add(p.name);
    if (!Array.isArray(s.hosts) || s.hosts.length === 0 || s.hosts.some((h) => typeof h !== "string" || !/^(\*|(\*\.)?[a-z0-9.-]+)$/.test(h))) errors.push(`spec.servers[${i}].hosts must be a non-empty list of hosts`);
    const tls = s.tls as Obj | undefined;
    if (p?.protocol === "HTTPS" && (!tls || tls.mode !== "SIMPLE" || typeof tls.credentialName !== "string" || !tls.credentialName)) errors.push(`spec.servers[${i}].tls needs mode SIMPLE and a credentialName for HTTPS`);
  });
  if (!spec?.selector || typeof spec.selector !== "object") errors.push("spec.selector must be a map of labels");
  return errors.map((e) => `Gateway ${name}: ${e}`);
}

/**
 * The AuthorizationPolicy fields the generator writes, as Istio's API reference defines them (security.istio.io/v1):
 * the bundled CRDs do not include authorizationpolicies.security.istio.io. Addresses and CIDRs are checked as
 * Istio's webhook parses them.
 */
export function checkAuthorizationPolicy(p: Obj): string[] {
  const errors: string[] = [];
  const meta = p.metadata as Obj;
  const name = String(meta?.name);
  const dns = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
  if (p.apiVersion !== "security.istio.io/v1") errors.push("apiVersion must be security.istio.io/v1");
  if (!dns.test(name) || name.length > 253 || !dns.test(String(meta?.namespace))) errors.push("metadata.name/namespace must be DNS names");
  const spec = (p.spec ?? {}) as Obj;
  for (const k of Object.keys(spec)) if (!["selector", "action", "rules"].includes(k)) errors.push(`spec.${k} is not a field the generator writes`);
  const labels = (spec.selector as Obj | undefined)?.matchLabels as Obj | undefined;
  if (!labels || Object.keys(labels).length === 0 || Object.values(labels).some((v) => typeof v !== "string" || v.includes("*"))) errors.push("spec.selector.matchLabels must be non-wildcard labels");
  if (!["ALLOW", "DENY", "AUDIT", "CUSTOM"].includes(String(spec.action))) errors.push("spec.action must be ALLOW, DENY, AUDIT or CUSTOM");
  const cidr = (c: unknown) => {
    if (typeof c !== "string") return false;
    const [a, len, extra] = c.split("/");
    const v = isIP(a);
    return v !== 0 && extra === undefined && (len === undefined || (/^\d+$/.test(len) && Number(len) <= (v === 4 ? 32 : 128)));
  };
  const rules = spec.rules;
  if (!Array.isArray(rules) || rules.length === 0) errors.push("spec.rules must be a non-empty list");
  (Array.isArray(rules) ? rules : []).forEach((r: Obj, i: number) => {
    for (const k of Object.keys(r)) if (!["from", "to"].includes(k)) errors.push(`spec.rules[${i}].${k} is not a field the generator writes`);
    ((r.from ?? []) as Obj[]).forEach((f, j) => {
      const src = f.source as Obj;
      for (const k of Object.keys(src ?? {})) {
        const list = src[k];
        if (!["remoteIpBlocks", "notRemoteIpBlocks", "ipBlocks", "notIpBlocks"].includes(k)) errors.push(`spec.rules[${i}].from[${j}].source.${k} is not a field the generator writes`);
        else if (!Array.isArray(list) || list.length === 0 || !list.every(cidr)) errors.push(`spec.rules[${i}].from[${j}].source.${k} must be a non-empty list of IPs or CIDRs`);
      }
    });
    ((r.to ?? []) as Obj[]).forEach((t, j) => {
      const op = (t.operation ?? {}) as Obj;
      for (const k of Object.keys(op)) {
        const list = op[k];
        if (!["hosts", "notHosts", "paths"].includes(k)) errors.push(`spec.rules[${i}].to[${j}].operation.${k} is not a field the generator writes`);
        // Istio string matches: exact, `prefix*`, `*suffix` or `*`; a path must start with / unless it is a wildcard.
        else if (!Array.isArray(list) || list.length === 0 || list.some((v) => typeof v !== "string" || v === "" || v.slice(1, -1).includes("*") || (k === "paths" && !v.startsWith("/") && !v.startsWith("*")))) errors.push(`spec.rules[${i}].to[${j}].operation.${k} must be a non-empty list of exact, prefix* or *suffix strings`);
      }
    });
  });
  return errors.map((e) => `AuthorizationPolicy ${name}: ${e}`);
}

/** The plugin's own verdict on the config, as `tollgate validate` gets it. */
async function checkOnConfigure(name: string, config: Obj): Promise<void> {
  const wasm = pluginWasm(name);
  assertBuilt(wasm, name, `needed to check the generated ${name} config with the plugin's on_configure`);
  const v = await pluginVerdict(wasm, name, config);
  if (!v.accepted) {
    throw new GenOutputError(`the ${name} plugin rejected the generated config at ${v.phase}: ${v.message}\n  ${v.logs.map((l) => `[${l.levelName}] ${l.message}`).join("\n  ")}`, "this is a tollgate bug in tools/k8s/ingress.ts; please report it with the Ingress");
  }
}
