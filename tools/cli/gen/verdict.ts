// The plugin's own verdict before any manifest is printed: gen runs the plugin's on_configure on the config (as
// `tollgate validate` does) and fails with the plugin's own message, so no manifest a plugin rejects leaves gen.
import { existsSync } from "node:fs";
import { pluginWasm } from "../../paths.ts";
import { CliError } from "../errors.ts";
import type { Obj } from "./kind.ts";

/**
 * Throws a CliError quoting the plugin's critical log when `name` rejects `config` (null: no config, as Istio
 * sends an empty pluginConfig). A plugin not built yet is built first (release), saying so on stderr.
 */
export async function assertPluginAccepts(name: string, config: Obj | null, source: string): Promise<void> {
  const wasm = pluginWasm(name);
  if (!existsSync(wasm)) {
    console.error(`note: building ${name} to run its on_configure on the config`);
    const { buildPlugins } = await import("../../build/plugins.ts");
    await buildPlugins([name]);
  }
  const { pluginVerdict } = await import("../../plugins/index.ts");
  const v = await pluginVerdict(wasm, name, config ?? {});
  if (v.accepted) return;
  // Plugins log the rejected field at critical (the house rule); the host's own "failed to configure" line is
  // the fallback for a plugin that says nothing.
  const at = (level: string) => v.logs.filter((l) => l.levelName === level).map((l) => l.message);
  const said = at("critical").length ? at("critical") : at("error");
  const why = [...new Set(said)].join("\n  ") || v.message || "on_configure returned false";
  throw new CliError(`${source}: the ${name} plugin rejects this config (its on_configure, as Envoy would run it):\n  ${why}`, 1, `fix the config; 'tollgate validate ${name} <file>' prints the plugin's full log`);
}
