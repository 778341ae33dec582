import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { type Command, list, str } from "./args.ts";
import { CliError, UsageError } from "./errors.ts";

const KINDS = ["wasmplugin", "envoyfilter", "higress", "envoy", "canary-routes", "from-ingress"] as const;
type Kind = (typeof KINDS)[number];

type Obj = Record<string, unknown>;

/** Reads a JSON or YAML config file; errors name the file and the fix. */
export async function readConfigFile(file: string): Promise<Obj> {
  if (!existsSync(file)) throw new UsageError(`config file '${file}' does not exist`);
  const text = readFileSync(file, "utf8");
  let value: unknown;
  try {
    if (/\.ya?ml$/i.test(file)) value = (await import("yaml")).parse(text);
    else value = JSON.parse(text);
  } catch (e) {
    if (e instanceof RangeError) throw new CliError(`${file}: cannot parse: nested too deep for the parser`, 1, `a plugin config is a few levels deep (at most ${MAX_CONFIG_DEPTH}); check the file is the config you meant`);
    throw new CliError(`${file}: cannot parse: ${(e as Error).message}`, 1, "fix the syntax (JSON, or YAML for .yaml/.yml files)");
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) throw new CliError(`${file}: the config must be a JSON object (the WasmPlugin pluginConfig), got ${Array.isArray(value) ? "a list" : JSON.stringify(value)}`, 1, "wrap the settings in { … }");
  const deep = tooDeep(value);
  if (deep) throw new CliError(`${file}: nested more than ${MAX_CONFIG_DEPTH} levels deep at ${deep}`, 1, `a plugin config is a few levels deep; check the file is the config you meant (the schema is in plugins/<name>/plugin.json)`);
  return value as Obj;
}

/** Deeper than any plugin config: schema checks, JSON.stringify and the plugins' readers would recurse that far. */
export const MAX_CONFIG_DEPTH = 64;

/** The path of the first value nested deeper than MAX_CONFIG_DEPTH, or null; iterative, so any depth is safe. */
function tooDeep(root: unknown): string | null {
  const stack: Array<[unknown, string, number]> = [[root, "", 0]];
  while (stack.length) {
    const [v, path, depth] = stack.pop()!;
    if (!v || typeof v !== "object") continue;
    if (depth >= MAX_CONFIG_DEPTH) return path.length > 80 ? `${path.slice(0, 80)}…` : path || "the top";
    for (const [k, x] of Object.entries(v)) stack.push([x, Array.isArray(v) ? `${path}[${k}]` : path ? `${path}.${k}` : k, depth + 1]);
  }
  return null;
}

/**
 * Per-plugin flag values: `plugin=value` applies to that plugin, a bare value to every plugin (when `shared`)
 * or only to a single plugin.
 */
function perPlugin(flag: string, values: string[], plugins: string[], shared: boolean): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of values) {
    const m = /^([a-z0-9][a-z0-9_-]*)=(.*)$/s.exec(v);
    if (m && plugins.includes(m[1])) out.set(m[1], m[2]);
    else if (plugins.length === 1 || shared) {
      for (const p of plugins) if (!out.has(p)) out.set(p, v);
    } else throw new UsageError(`--${flag} '${v}' is ambiguous with several plugins`, `write --${flag} <plugin>=<value>, e.g. --${flag} ${plugins[0]}=…`);
  }
  return out;
}

function kv(values: string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf("=");
    if (i <= 0) throw new UsageError(`--${flag} '${v}' must be key=value`, `e.g. --${flag} app=productpage`);
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

function oneOf<T extends string>(flag: string, v: string | undefined, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (!allowed.includes(v as T)) throw new UsageError(`--${flag} must be one of ${allowed.join(", ")}, got '${v}'`);
  return v as T;
}

const command: Command = {
  name: "gen",
  summary: "Generate Istio / Higress / Envoy manifests for plugins (YAML on stdout).",
  usage: "gen <wasmplugin|envoyfilter|higress|envoy|canary-routes> <plugin...> [options] | gen from-ingress <ingress.yaml...> [--target istio|higress|envoy]",
  description: `
Kinds:
  wasmplugin     Istio extensions.istio.io/v1alpha1 WasmPlugin per plugin (pluginName = root_id), ordered by phase/priority
  envoyfilter    Istio networking.istio.io/v1alpha3 EnvoyFilter per plugin: envoy.filters.http.wasm before the router
  higress        Higress extensions.higress.io/v1alpha1 WasmPlugin: defaultConfig + matchRules from the config's _rules_
  envoy          Envoy bootstrap: listener → plugins → router → --upstream
  canary-routes  Istio VirtualService + DestinationRule (or --format envoy: route entries) routing the canary tag header
  from-ingress   Kubernetes Ingress files (ingress-nginx / Higress annotations: CORS, canary, limit-rps/rpm) →
                 --target istio: Gateway + VirtualServices (routes named <namespace>/<ingress>) + WasmPlugins;
                 higress: WasmPlugins with matchRules by ingress; envoy: a runnable bootstrap, one cluster per
                 backend Service (--upstream <service>=host:port, default an echo upstream per service).
                 Every annotation not translated is listed on stderr with its Ingress.
Per-plugin flags (--config, --url, --sha256) take <plugin>=<value> when several plugins are given; --url may
contain {name} and {version} (from plugin.json). Configs are checked against plugins/<name>/plugin.json's schema
and every output against the official CRDs / Envoy protos before it is printed.
Examples:
  tollgate gen wasmplugin cors --url oci://ghcr.io/acme/cors:1.0.0 --sha256 <digest> --config cors.json | kubectl apply -f -
  tollgate gen higress cors --url oci://ghcr.io/acme/cors:1.0.0 --config cors.json | kubectl apply -f -
  tollgate gen envoy cors canary --config cors=cors.json --config canary=canary.json --upstream 127.0.0.1:8080 -o envoy.yaml
  tollgate gen canary-routes --config canary.json --service reviews.default.svc.cluster.local --stable v1 --canary v2
  tollgate gen from-ingress ingress.yaml --target envoy -o envoy.yaml && tollgate up envoy.yaml
  tollgate gen from-ingress ingress.yaml --target istio --url oci://ghcr.io/acme/{name}:{version} | kubectl apply -f -`,
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
    context: { type: "string", description: "envoyfilter: GATEWAY | SIDECAR_INBOUND | SIDECAR_OUTBOUND", default: "SIDECAR_INBOUND", valueName: "ctx" },
    upstream: { type: "string", multiple: true, description: "envoy: upstream host:port; from-ingress: <service>=host:port per backend (repeatable)", valueName: "host:port" },
    target: { type: "string", description: "from-ingress: istio | higress | envoy", default: "istio", valueName: "t" },
    "echo-base-port": { type: "string", description: "from-ingress --target envoy: first port of the echo upstreams of services without --upstream", default: "18080", valueName: "n" },
    listen: { type: "string", description: "envoy: listener address", default: "127.0.0.1:10000", valueName: "host:port" },
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
    const [kindArg, ...plugins] = args.positionals;
    const kind = oneOf("kind", kindArg, KINDS) as Kind | undefined;
    if (!kind) throw new UsageError(`expected a kind: ${KINDS.join(", ")}`, "e.g. tollgate gen wasmplugin cors --url oci://…");
    const gen = await import("../k8s/generate.ts");
    const { checkK8sObject, checkBootstrap, checkEnvoyRoutes } = await import("../k8s/check.ts");
    const { loadPluginMeta, checkConfig, PHASES } = await import("../k8s/plugin-meta.ts");
    // Quotes every string a YAML 1.1 reader (Envoy's yaml-cpp, Kubernetes' sigs.k8s.io/yaml) would read as
    // something else: a plain `on` or `y` in a plugin config or a name would arrive as the bool true.
    const { stringifyEnvoyYaml: stringify } = await import("../envoy/yaml.ts");
    const v = args.values;
    let docs: unknown[];
    let errors: string[];
    try {
      if (kind === "from-ingress") {
        const target = oneOf("target", str(v.target), ["istio", "higress", "envoy"] as const)!;
        const base = Number(str(v["echo-base-port"]));
        if (!Number.isInteger(base) || base < 1 || base > 65000) throw new UsageError(`--echo-base-port must be an integer 1-65000, got '${str(v["echo-base-port"])}'`);
        const adminArg = str(v.admin)!;
        const { fromIngress } = await import("../k8s/from-ingress.ts");
        const r = await fromIngress({
          files: plugins,
          target,
          url: list(v.url)[0],
          namespace: str(v.namespace),
          upstreams: kv(list(v.upstream), "upstream"),
          echoBasePort: base,
          listen: gen.parseHostPort(str(v.listen)!, "--listen"),
          admin: adminArg === "none" ? null : gen.parseHostPort(adminArg, "--admin"),
          wasmDir: str(v["wasm-dir"]),
        });
        for (const l of r.notes) console.error(l);
        for (const c of r.echoClusters) console.error(`upstream: ${c} → http://127.0.0.1:${r.clusters.get(c)!.port} (start it with: tollgate echo --port ${r.clusters.get(c)!.port} --name ${c}; or pass --upstream ${c.split(".")[0]}=host:port)`);
        docs = r.docs;
        errors = [];
      } else if (kind === "canary-routes") {
        const { istioCanaryRoutes, envoyCanaryRoutes } = await import("../k8s/canary-routes.ts");
        const cfgFiles = list(v.config);
        if (cfgFiles.length !== 1) throw new UsageError("canary-routes needs exactly one --config <canary config file>");
        const service = str(v.service);
        if (!service) throw new UsageError("canary-routes needs --service <host>", "e.g. --service reviews.default.svc.cluster.local");
        const config = await readConfigFile(cfgFiles[0]);
        if (existsSync((await import("../paths.ts")).pluginDir("canary") + "/plugin.json")) {
          const bad = checkConfig("canary", config);
          if (bad.length) throw new CliError(`${cfgFiles[0]}: not a valid canary config:\n  ${bad.join("\n  ")}`, 1, "fix the fields above (tollgate validate canary <file> explains more)");
        }
        const base = { config, service, stable: str(v.stable)!, canary: str(v.canary)!, namespace: str(v.namespace), gateways: list(v.gateway), label: str(v.label), routeName: str(v["route-name"]) };
        if (base.stable === base.canary) throw new UsageError("--stable and --canary must differ");
        const format = oneOf("format", str(v.format), ["istio", "envoy"] as const);
        if (format === "envoy") {
          const clusters = kv(list(v.cluster), "cluster");
          const routes = envoyCanaryRoutes({ ...base, clusterFor: (t) => clusters[t] ?? (t === base.stable ? "stable" : t === base.canary ? "canary" : t) });
          docs = [routes];
          errors = checkEnvoyRoutes(routes);
          console.error(`note: every route is named '${(routes[0] as Obj).name}': scope auth / rate-limit / cors rules for this service with "_match_route_": ["${(routes[0] as Obj).name}"] (one name for every tag, so the tag header cannot pick the rules)`);
        } else {
          docs = istioCanaryRoutes(base);
          errors = (docs as Obj[]).flatMap(checkK8sObject);
          const rn = ((docs[0] as Obj).spec as { http: Obj[] }).http[0].name;
          console.error(`note: every http route is named '${rn}': scope auth / rate-limit / cors rules for this service with "_match_route_": ["${rn}"] (one name for every tag, so the tag header cannot pick the rules)`);
        }
      } else {
        if (plugins.length === 0) throw new UsageError(`gen ${kind} needs at least one plugin name`);
        if (new Set(plugins).size !== plugins.length) throw new UsageError("a plugin is named twice");
        const metas = plugins.map((p) => loadPluginMeta(p));
        const configs = perPlugin("config", list(v.config), plugins, false);
        const urls = perPlugin("url", list(v.url), plugins, true);
        const shas = perPlugin("sha256", list(v.sha256), plugins, false);
        const inputs = [];
        for (const meta of metas) {
          const file = configs.get(meta.name);
          let config: Obj | null = null;
          if (file) {
            config = await readConfigFile(file);
            const bad = checkConfig(meta.name, config);
            if (bad.length) throw new CliError(`${file}: not a valid ${meta.name} config:\n  ${bad.join("\n  ")}`, 1, `fix the fields above; the schema is in ${meta.file}`);
          } else if (checkConfig(meta.name, {}).length) {
            throw new UsageError(`plugin '${meta.name}' needs a config (an empty one does not satisfy ${meta.file})`, `pass --config ${plugins.length > 1 ? `${meta.name}=` : ""}<file>; examples are in ${meta.file}`);
          }
          let sha = shas.get(meta.name)?.replace(/^sha256:/, "");
          if (sha !== undefined && !/^[a-f0-9]{64}$/.test(sha)) throw new UsageError(`--sha256 for '${meta.name}' must be 64 lowercase hex digits, got '${sha}'`);
          const url = urls.get(meta.name)?.replaceAll("{name}", meta.name).replaceAll("{version}", meta.version);
          if (url && list(v.url).length === 1 && plugins.length > 1 && !/\{name\}/.test(list(v.url)[0]) && !list(v.url)[0].includes("=")) {
            throw new UsageError(`one --url for ${plugins.length} plugins would load the same module for all`, "use {name} in the URL (oci://ghcr.io/acme/{name}:{version}) or --url <plugin>=<url>");
          }
          // oci://…@sha256:<digest> pins the image; Istio takes the checksum from it when sha256 is empty.
          if (!sha && url) sha = /@sha256:([a-f0-9]{64})$/.exec(url)?.[1] ?? undefined;
          inputs.push({ meta, config, url, sha256: sha });
        }
        const phase = oneOf("phase", str(v.phase), PHASES);
        const pr = str(v.priority);
        if (pr !== undefined && !/^-?\d+$/.test(pr)) throw new UsageError(`--priority must be an integer, got '${pr}'`);
        const targetRefs = list(v["target-ref"]).map((t) => {
          const m = /^([A-Za-z]+)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(t);
          if (!m) throw new UsageError(`--target-ref '${t}' must be Kind/name`, "e.g. --target-ref Gateway/my-gateway");
          return { kind: m[1], name: m[2], group: gen.targetRefGroup(m[1]) };
        });
        const k8s = {
          namespace: str(v.namespace),
          selector: kv(list(v.selector), "selector"),
          targetRefs,
          phase,
          priority: pr === undefined ? undefined : Number(pr),
          failStrategy: oneOf("fail-strategy", str(v["fail-strategy"]), ["FAIL_CLOSE", "FAIL_OPEN", "FAIL_RELOAD"] as const),
          imagePullSecret: str(v["image-pull-secret"]),
          imagePullPolicy: oneOf("image-pull-policy", str(v["image-pull-policy"]), ["IfNotPresent", "Always"] as const),
        };
        // Orders a client could steer (issue 15, item 3): said on stderr, the manifests still print.
        const { chainWarnings } = await import("../k8s/chain.ts");
        for (const w of chainWarnings(gen.ordered(inputs, k8s).map((p) => ({ name: p.meta.name, config: p.config })))) console.error(`warning: ${w}`);
        if (kind === "wasmplugin") docs = gen.wasmPlugins(inputs, k8s);
        else if (kind === "higress") docs = gen.higressPlugins(inputs, k8s);
        else if (kind === "envoyfilter") docs = gen.envoyFilters(inputs, { ...k8s, context: oneOf("context", str(v.context), ["GATEWAY", "SIDECAR_INBOUND", "SIDECAR_OUTBOUND"] as const) });
        else {
          const ups = list(v.upstream);
          if (ups.length !== 1) throw new UsageError("gen envoy needs one --upstream host:port", "e.g. --upstream 127.0.0.1:8080");
          const up = ups[0];
          const adminArg = str(v.admin)!;
          const dir = str(v["wasm-dir"])!.replace(/\/+$/, "");
          docs = [gen.envoyBootstrap(inputs, {
            upstream: gen.parseHostPort(up, "--upstream"),
            listen: gen.parseHostPort(str(v.listen)!, "--listen"),
            admin: adminArg === "none" ? null : gen.parseHostPort(adminArg, "--admin"),
            wasmFile: (n) => `${dir}/${n}.wasm`,
            failStrategy: k8s.failStrategy,
            phase,
            priority: k8s.priority,
          })];
        }
        errors = kind === "envoy" ? checkBootstrap(docs[0] as Obj) : (docs as Obj[]).flatMap(checkK8sObject);
      }
    } catch (e) {
      if (e instanceof gen.GenError) throw new UsageError(e.message, e.hint);
      throw e;
    }
    if (errors.length) {
      // The generator produced something the CRDs / protos reject: a tollgate bug or an invalid flag value.
      throw new CliError(`the generated ${kind} output does not validate:\n  ${errors.join("\n  ")}`, 1, "check the flag values above; if they are right, this is a tollgate bug");
    }
    const text = docs.map((d) => stringify(d, { lineWidth: 0 })).join("---\n");
    const out = str(v.output);
    if (out) writeFileSync(out, text);
    else process.stdout.write(text);
    return 0;
  },
};
export default command;
