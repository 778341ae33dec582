import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { compileAssemblyScript } from "../build/compile.ts";
import { pluginWasm, repoRoot } from "../paths.ts";
import { type Command } from "./args.ts";
import { UsageError } from "./errors.ts";

export interface ManifestEntry {
  name: string;
  file: string;
  debugFile: string;
  bytes: number;
  sha256: string;
  root_id: string;
}

/** Every plugins/<name>/index.ts, sorted. */
export function pluginNames(): string[] {
  const dir = join(repoRoot(), "plugins");
  return readdirSync(dir)
    .filter((n) => existsSync(join(dir, n, "index.ts")))
    .sort();
}

/** Builds release + debug for each named plugin (all when empty) and writes the manifest. */
export async function buildPlugins(names: string[], opts: { force?: boolean; log?: (s: string) => void } = {}): Promise<ManifestEntry[]> {
  const all = pluginNames();
  for (const n of names) {
    if (!all.includes(n)) throw new UsageError(`no plugin named '${n}' (plugins/${n}/index.ts does not exist)`, `one of: ${all.join(", ")}`);
  }
  const selected = names.length ? names : all;
  const entries: ManifestEntry[] = [];
  for (const name of selected) {
    const entry = join(repoRoot(), "plugins", name, "index.ts");
    const [rel] = await Promise.all([
      compileAssemblyScript(entry, pluginWasm(name), "release", opts.force),
      compileAssemblyScript(entry, pluginWasm(name, true), "debug", opts.force),
    ]);
    entries.push({
      name,
      file: relative(repoRoot(), rel.outFile),
      debugFile: relative(repoRoot(), pluginWasm(name, true)),
      bytes: rel.bytes,
      sha256: rel.sha256,
      root_id: name,
    });
    opts.log?.(`${rel.cached ? "up to date" : "built"}: ${name}`);
  }
  const manifest = join(repoRoot(), "dist", "plugins", "manifest.json");
  const previous = existsSync(manifest) ? (JSON.parse(readFileSync(manifest, "utf8")) as { plugins: ManifestEntry[] }).plugins : [];
  const merged = [...previous.filter((p) => !selected.includes(p.name) && all.includes(p.name)), ...entries].sort((a, b) => a.name.localeCompare(b.name));
  writeFileSync(manifest, JSON.stringify({ plugins: merged }, null, 2) + "\n");
  return entries;
}

const command: Command = {
  name: "build",
  summary: "Compile plugins/<name>/index.ts to dist/plugins/<name>.wasm (release) and <name>.debug.wasm.",
  usage: "build [name...] [--force] [--quiet]",
  description: "Writes dist/plugins/manifest.json (name, file, bytes, sha256, root_id) and prints size and sha256.\nA compile error prints the compiler's message and exits non-zero.",
  options: {
    force: { type: "boolean", description: "recompile even when no input changed", default: false },
    quiet: { type: "boolean", description: "print only errors", default: false },
  },
  async run(args) {
    const entries = await buildPlugins(args.positionals, { force: args.values.force === true });
    if (args.values.quiet) return 0;
    const w = Math.max(6, ...entries.map((e) => e.name.length));
    console.log(`${"plugin".padEnd(w)}  ${"bytes".padStart(7)}  sha256`);
    for (const e of entries) console.log(`${e.name.padEnd(w)}  ${String(e.bytes).padStart(7)}  ${e.sha256}`);
    console.log(`manifest: ${relative(process.cwd(), join(repoRoot(), "dist", "plugins", "manifest.json")) || "dist/plugins/manifest.json"}`);
    return 0;
  },
};
export default command;
