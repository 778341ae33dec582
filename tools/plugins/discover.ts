// Which plugins exist: the one rule build, validate, docs, gen, bench and up share.
import { existsSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { repoRoot } from "../paths.ts";
import { PluginNotBuiltError, UnknownPluginError } from "./errors.ts";

/** plugins/<name>/index.ts: a plugin's entry, the file that makes a folder a plugin. */
export function pluginEntry(name: string): string {
  return join(repoRoot(), "plugins", name, "index.ts");
}

/** plugins/<name>/plugin.json: a plugin's metadata. */
export function pluginMetaFile(name: string): string {
  return join(repoRoot(), "plugins", name, "plugin.json");
}

/** Every plugin, sorted: each folder under plugins/ with an index.ts (its plugin.json is read on demand). */
export function pluginNames(): string[] {
  const dir = join(repoRoot(), "plugins");
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => existsSync(pluginEntry(n)))
    .sort();
}

/** Throws UnknownPluginError unless `name` is a plugin (plugin names only, never a path). */
export function assertPlugin(name: string, needs: "index.ts" | "plugin.json" = "index.ts"): void {
  const file = needs === "index.ts" ? pluginEntry(name) : pluginMetaFile(name);
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(name) || !existsSync(pluginEntry(name)) || !existsSync(file)) {
    throw new UnknownPluginError(name, join("plugins", name, needs), pluginNames());
  }
}

/** Throws PluginNotBuiltError unless `wasm` (a build of `plugin`) exists; `why` says what needs it. */
export function assertBuilt(wasm: string, plugin: string, why?: string): void {
  if (!existsSync(wasm)) throw new PluginNotBuiltError(relative(repoRoot(), wasm) || wasm, plugin, why);
}
