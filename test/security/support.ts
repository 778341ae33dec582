// Shared by the attack-class tests: a one-filter bootstrap, and "this config does not start" on an engine.
import { bootstrapDoc, DIRECT_OK, pluginFilter } from "../helpers/bootstrap.ts";
import { type Engine, startEngine } from "../helpers/engines.ts";
import { compiledPlugin } from "../helpers/plugins.ts";
import type { FoundEnvoy } from "../../tools/envoy/launcher.ts";

type Obj = Record<string, unknown>;

/** One listener, one wasm filter with `configuration`, a direct-response route: nothing else can fail. */
export function bootstrap(plugin: string, configuration: Obj): Obj {
  return bootstrapDoc({ name: "main", filters: [pluginFilter(plugin, configuration)], routes: [DIRECT_OK] });
}


/**
 * Starts `plugin` with `config` on `engine` and expects the start to fail (on_configure refused it);
 * returns the error with the engine's output (for matching the plugin's log line).
 */
export async function refusedAtStart(engine: Engine, envoy: FoundEnvoy | null, plugin: string, config: Obj): Promise<string> {
  await compiledPlugin(plugin, "release");
  let started: Awaited<ReturnType<typeof startEngine>> | null = null;
  try {
    started = await startEngine(engine, bootstrap(plugin, config), envoy);
  } catch (e) {
    return (e as Error).message;
  }
  await started.stop();
  throw new Error(`${engine} started with ${plugin} ${JSON.stringify(config)}`);
}
