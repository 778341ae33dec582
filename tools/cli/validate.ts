import { existsSync } from "node:fs";
import { relative } from "node:path";
import { pluginWasm, repoRoot } from "../paths.ts";
import { type Command, str } from "./args.ts";
import { CliError, UsageError } from "./errors.ts";
import { readConfigFile } from "./config-file.ts";

export interface PluginVerdict {
  accepted: boolean;
  /** PluginLoadError phase ("configure", "start", "compile", …) when rejected. */
  phase?: string;
  message?: string;
  logs: Array<{ levelName: string; message: string }>;
}

/**
 * The configuration as Envoy hands it to proxy_on_configure for a WasmPlugin: the JSON of pluginConfig, or
 * nothing at all (size 0) when pluginConfig is empty (Istio sends an empty Any then; deploy.md §1.4).
 */
export function configurationBytes(config: Record<string, unknown>): string {
  return Object.keys(config).length === 0 ? "" : JSON.stringify(config);
}

/** Loads the plugin in the embedded host with this config and reports on_configure's verdict and log. */
export async function pluginVerdict(wasmFile: string, name: string, config: Record<string, unknown>): Promise<PluginVerdict> {
  const { HostEnv, Plugin } = (await import("../host/index.ts")) as unknown as {
    HostEnv: new (o?: object) => { logs: Array<{ levelName: string; message: string; source?: string }> };
    Plugin: { load(env: unknown, spec: object): Promise<{ close(): void }> };
  };
  const env = new HostEnv({ logLevel: "trace" });
  try {
    const plugin = await Plugin.load(env, { wasm: wasmFile, name, rootId: name, configuration: configurationBytes(config) });
    plugin.close();
    return { accepted: true, logs: env.logs.map((l) => ({ levelName: l.levelName, message: l.message })) };
  } catch (e) {
    const err = e as { phase?: string; message?: string; logs?: Array<{ levelName: string; message: string }> };
    if (err.phase === undefined) throw e; // not a load verdict (host bug, unreadable file): let it surface
    const logs = (err.logs ?? env.logs).map((l) => ({ levelName: l.levelName, message: l.message }));
    return { accepted: false, phase: err.phase, message: err.message, logs };
  }
}

const command: Command = {
  name: "validate",
  summary: "Check a plugin config: the schema in plugin.json, then the plugin's own on_configure in the embedded host.",
  usage: "validate <plugin> <config.json|config.yaml> [--debug]",
  description: `
1. The config is checked against plugins/<plugin>/plugin.json's JSON Schema; every error names its JSON path.
2. dist/plugins/<plugin>.wasm is loaded in the embedded proxy-wasm host and configured with the config exactly
   as Envoy would pass a WasmPlugin's pluginConfig (the code Envoy runs); its verdict and log are printed.
Exits 0 only when both accept the config. The config is the plugin's JSON (WasmPlugin pluginConfig), with
Higress-style _rules_ for per-route/domain/service settings.`,
  options: {
    debug: { type: "boolean", description: "load the debug build (<plugin>.debug.wasm)", default: false },
    wasm: { type: "string", description: "load this .wasm instead of dist/plugins/<plugin>.wasm", valueName: "file" },
  },
  async run(args) {
    const [plugin, file, ...extra] = args.positionals;
    if (!plugin || !file || extra.length) throw new UsageError("expected <plugin> <config file>", "e.g. tollgate validate cors cors.json");
    const { loadPluginMeta, checkConfig } = await import("../k8s/plugin-meta.ts");
    const meta = loadPluginMeta(plugin);
    const config = await readConfigFile(file);
    const wasm = str(args.values.wasm) ?? pluginWasm(plugin, args.values.debug === true);
    if (!existsSync(wasm)) throw new CliError(`${relative(repoRoot(), wasm)} does not exist`, 1, `run 'tollgate build ${plugin}' first`);

    const schemaErrors = checkConfig(plugin, config);
    if (schemaErrors.length === 0) console.log(`ok    schema: ${file} matches ${meta.file}`);
    else {
      console.log(`FAIL  schema: ${file} does not match ${meta.file}:`);
      for (const e of schemaErrors) console.log(`        ${file}: ${e}`);
    }
    const verdict = await pluginVerdict(wasm, plugin, config);
    const rel = relative(repoRoot(), wasm) || wasm;
    if (verdict.accepted) console.log(`ok    plugin: ${rel} accepted the config (on_configure returned true)`);
    else console.log(`FAIL  plugin: ${rel} rejected the config at ${verdict.phase}: ${verdict.message}`);
    for (const l of verdict.logs) console.log(`        [${l.levelName}] ${l.message}`);

    const schemaOk = schemaErrors.length === 0;
    if (schemaOk && verdict.accepted) return 0;
    if (schemaOk !== verdict.accepted) {
      console.log(`note: the schema and the plugin disagree on this config — a bug in ${meta.file} or in plugins/${plugin}/ (please report it)`);
    }
    console.error(`error: ${file} is not a valid ${plugin} config\n  fix: change the fields named above${schemaOk ? "" : `; the schema is ${meta.file}`}`);
    return 1;
  },
};
export default command;
