// Shared by the attack-class tests: a one-filter bootstrap, and "this config does not start" on an engine.
import { type Engine, startEngine } from "../helpers/engines.ts";
import { compiledPlugin } from "../helpers/plugins.ts";
import type { FoundEnvoy } from "../../tools/envoy/launcher.ts";

type Obj = Record<string, unknown>;

/** One listener, one wasm filter with `configuration`, a direct-response route: nothing else can fail. */
export function bootstrap(plugin: string, configuration: Obj): Obj {
  return {
    admin: { address: { socket_address: { address: "127.0.0.1", port_value: 0 } } },
    static_resources: {
      listeners: [{
        name: "main",
        address: { socket_address: { address: "127.0.0.1", port_value: 0 } },
        filter_chains: [{
          filters: [{
            name: "envoy.filters.network.http_connection_manager",
            typed_config: {
              "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
              stat_prefix: "main",
              route_config: { name: "main", virtual_hosts: [{ name: "all", domains: ["*"], routes: [{ match: { prefix: "/" }, direct_response: { status: 200, body: { inline_string: "ok" } } }] }] },
              http_filters: [
                {
                  name: plugin,
                  typed_config: {
                    "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
                    config: {
                      name: plugin,
                      root_id: plugin,
                      configuration: { "@type": "type.googleapis.com/google.protobuf.StringValue", value: JSON.stringify(configuration) },
                      vm_config: { vm_id: plugin, runtime: "envoy.wasm.runtime.v8", code: { local: { filename: `dist/plugins/${plugin}.wasm` } } },
                    },
                  },
                },
                { name: "envoy.filters.http.router", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } },
              ],
            },
          }],
        }],
      }],
    },
  };
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
