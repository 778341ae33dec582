// The flags the plugin kinds (wasmplugin, envoyfilter, higress, envoy) share: plugins, configs, URLs, digests,
// phase/priority and the Kubernetes placement, checked once and turned into the generators' inputs.
import type { ParsedArgs } from "../args.ts";
import { list, str } from "../args.ts";
import { readConfigFile } from "../config-file.ts";
import { CliError, UsageError } from "../errors.ts";
import type { K8sOptions, PluginInput } from "../../k8s/generate.ts";
import { kv, oneOf, type Obj } from "./kind.ts";
import { assertPluginAccepts } from "./verdict.ts";

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

/** Reads the shared flags for `gen <kind> <plugin...>`; warns on stderr about chain orders a client could steer. */
export async function pluginInputs(kind: string, plugins: string[], v: ParsedArgs["values"]): Promise<{ inputs: PluginInput[]; k8s: K8sOptions }> {
  const gen = await import("../../k8s/generate.ts");
  const { loadPluginMeta, checkConfig, PHASES } = await import("../../plugins/index.ts");
  if (plugins.length === 0) throw new UsageError(`gen ${kind} needs at least one plugin name`);
  if (new Set(plugins).size !== plugins.length) throw new UsageError("a plugin is named twice");
  const metas = plugins.map((p) => loadPluginMeta(p));
  const configs = perPlugin("config", list(v.config), plugins, false);
  const urls = perPlugin("url", list(v.url), plugins, true);
  const shas = perPlugin("sha256", list(v.sha256), plugins, false);
  const inputs: PluginInput[] = [];
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
    // The plugin's own on_configure, before anything is printed (issue 18 item 6).
    await assertPluginAccepts(meta.name, config, file ?? `plugin '${meta.name}' without --config`);
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
  const k8s: K8sOptions = {
    namespace: str(v.namespace),
    selector: kv(list(v.selector), "selector"),
    targetRefs,
    phase,
    priority: pr === undefined ? undefined : Number(pr),
    failStrategy: oneOf("fail-strategy", str(v["fail-strategy"]), ["FAIL_CLOSE", "FAIL_OPEN", "FAIL_RELOAD"] as const),
    imagePullSecret: str(v["image-pull-secret"]),
    imagePullPolicy: oneOf("image-pull-policy", str(v["image-pull-policy"]), ["IfNotPresent", "Always"] as const),
    match: matchOf(v),
    vmEnv: vmEnvOf(v),
  };
  if ((k8s.match || k8s.vmEnv) && kind !== "wasmplugin") throw new UsageError(`--match-mode, --match-port and --vm-env are Istio WasmPlugin fields (gen wasmplugin), not ${kind}`);
  // Placements that cover a namespace or the mesh, FAIL_OPEN on an authenticating plugin (issue 18 item 7).
  const placed = kind === "wasmplugin" ? "WasmPlugin" : kind === "envoyfilter" ? "EnvoyFilter" : null;
  for (const w of gen.placementWarnings(inputs, k8s, placed)) console.error(`warning: ${w}`);
  // Orders a client could steer (issue 15, item 3): said on stderr, the manifests still print.
  const { chainWarnings } = await import("../../k8s/chain.ts");
  for (const w of chainWarnings(gen.ordered(inputs, k8s).map((p) => ({ name: p.meta.name, config: p.config })))) console.error(`warning: ${w}`);
  return { inputs, k8s };
}

/** --match-mode / --match-port: one WasmPlugin `match` entry (Istio applies the plugin only to that traffic). */
function matchOf(v: ParsedArgs["values"]): K8sOptions["match"] {
  const mode = oneOf("match-mode", str(v["match-mode"]), ["UNDEFINED", "CLIENT", "SERVER", "CLIENT_AND_SERVER"] as const);
  const ports = list(v["match-port"]).map((p) => {
    const n = Number(p);
    if (!/^\d+$/.test(p) || n < 1 || n > 65535) throw new UsageError(`--match-port must be a port 1-65535, got '${p}'`);
    return n;
  });
  return mode || ports.length ? [{ mode, ports }] : undefined;
}

/** --vm-env NAME=value (INLINE) and --vm-env-host NAME (HOST: the proxy's own environment variable). */
function vmEnvOf(v: ParsedArgs["values"]): K8sOptions["vmEnv"] {
  const out: NonNullable<K8sOptions["vmEnv"]> = [];
  const name = (n: string, flag: string) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(n)) throw new UsageError(`--${flag} '${n}' must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*)`);
    if (out.some((e) => e.name === n)) throw new UsageError(`--${flag}: '${n}' is set twice`);
    return n;
  };
  for (const e of list(v["vm-env"])) {
    const i = e.indexOf("=");
    if (i <= 0) throw new UsageError(`--vm-env '${e}' must be NAME=value`, "for a variable read from the proxy's environment use --vm-env-host NAME");
    out.push({ name: name(e.slice(0, i), "vm-env"), value: e.slice(i + 1), valueFrom: "INLINE" });
  }
  for (const n of list(v["vm-env-host"])) out.push({ name: name(n, "vm-env-host"), valueFrom: "HOST" });
  return out.length ? out : undefined;
}
