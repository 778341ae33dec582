// `tollgate build`'s work: every plugin (or the named ones) compiled release + debug, and dist/plugins/manifest.json.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { pluginWasm, projectRoot } from "../paths.ts";
import { assertPlugin, bundledPluginNames, pluginEntry, pluginNames } from "../plugins/discover.ts";
import { compileAssemblyScript } from "./compile.ts";

export interface ManifestEntry {
  name: string;
  file: string;
  debugFile: string;
  bytes: number;
  sha256: string;
  root_id: string;
}

/** Builds release + debug for each named plugin (all when empty) and writes the manifest. */
export async function buildPlugins(names: string[], opts: { force?: boolean; log?: (s: string) => void } = {}): Promise<ManifestEntry[]> {
  const all = pluginNames();
  for (const n of names) assertPlugin(n);
  const selected = names.length ? names : all;
  const entries: ManifestEntry[] = [];
  for (const name of selected) {
    const entry = pluginEntry(name);
    const [rel] = await Promise.all([
      compileAssemblyScript(entry, pluginWasm(name), "release", opts.force, true, true),
      compileAssemblyScript(entry, pluginWasm(name, true), "debug", opts.force, false, true),
    ]);
    entries.push({
      name,
      file: relative(projectRoot(), rel.outFile),
      debugFile: relative(projectRoot(), pluginWasm(name, true)),
      bytes: rel.bytes,
      sha256: rel.sha256,
      root_id: name,
    });
    opts.log?.(`${rel.cached ? "up to date" : "built"}: ${name}`);
  }
  const manifest = join(projectRoot(), "dist", "plugins", "manifest.json");
  mkdirSync(dirname(manifest), { recursive: true });
  const previous = existsSync(manifest) ? (JSON.parse(readFileSync(manifest, "utf8")) as { plugins: ManifestEntry[] }).plugins : [];
  const merged = [...previous.filter((p) => !selected.includes(p.name) && (all.includes(p.name) || bundledPluginNames().includes(p.name))), ...entries].sort((a, b) => a.name.localeCompare(b.name));
  writeFileSync(manifest, JSON.stringify({ plugins: merged }, null, 2) + "\n");
  return entries;
}
