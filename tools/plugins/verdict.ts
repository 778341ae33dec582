// A plugin's own verdict on a config: the .wasm loaded in the embedded host and configured exactly as Envoy
// configures a WasmPlugin (validate, gen from-ingress, the tests that check schema/plugin agreement).
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
