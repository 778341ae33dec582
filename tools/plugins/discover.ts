// Which plugins exist: the one rule build, validate, docs, gen, bench and up share. A name is looked up in the
// user's project first (plugins/<name>/ under projectRoot(): --root, the nearest package.json), then among the
// plugins tollgate ships (plugins/<name>/ in tollgate's own package), so `tollgate build cors` works in an
// empty project. In this repository both are the same folder.
import { existsSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { pluginDir, projectRoot, repoRoot } from "../paths.ts";
import { PluginNotBuiltError, UnknownPluginError } from "./errors.ts";

/** plugins/<name>/index.ts: a plugin's entry, the file that makes a folder a plugin. */
export function pluginEntry(name: string): string {
  return join(pluginDir(name), "index.ts");
}

/** plugins/<name>/plugin.json: a plugin's metadata. */
export function pluginMetaFile(name: string): string {
  return join(pluginDir(name), "plugin.json");
}

function pluginsIn(root: string): string[] {
  const dir = join(root, "plugins");
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => existsSync(join(dir, n, "index.ts")))
    .sort();
}

/** The project's own plugins, sorted: each folder under plugins/ with an index.ts (plugin.json is read on demand). */
export function pluginNames(): string[] {
  return pluginsIn(projectRoot());
}

/** The plugins tollgate ships (cors, canary, rate-limit, auth, noop), buildable by name from any project. */
export function bundledPluginNames(): string[] {
  return pluginsIn(repoRoot());
}

/** Is `name` one of tollgate's shipped plugins rather than the project's own? */
export function isBundledPlugin(name: string): boolean {
  return !pluginNames().includes(name) && bundledPluginNames().includes(name);
}

/** Throws UnknownPluginError unless `name` is a plugin (plugin names only, never a path). */
export function assertPlugin(name: string, needs: "index.ts" | "plugin.json" = "index.ts"): void {
  const file = needs === "index.ts" ? pluginEntry(name) : pluginMetaFile(name);
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(name) || !existsSync(pluginEntry(name)) || !existsSync(file)) {
    const known = [...new Set([...pluginNames(), ...bundledPluginNames()])].sort();
    throw new UnknownPluginError(name, join("plugins", name, needs), known);
  }
}

/** Throws PluginNotBuiltError unless `wasm` (a build of `plugin`) exists; `why` says what needs it. */
export function assertBuilt(wasm: string, plugin: string, why?: string): void {
  if (!existsSync(wasm)) throw new PluginNotBuiltError(relative(projectRoot(), wasm) || wasm, plugin, why);
}
