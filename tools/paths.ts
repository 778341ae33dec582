import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

/** The repository root: the nearest ancestor of this file (bundled or not) holding asconfig.json. */
export function repoRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "asconfig.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("cannot find the tollgate repository root (asconfig.json)");
    dir = up;
  }
  cached = dir;
  return dir;
}

/** dist/plugins/<name>.wasm (release) or .debug.wasm. */
export function pluginWasm(name: string, debug = false): string {
  return join(repoRoot(), "dist", "plugins", `${name}${debug ? ".debug" : ""}.wasm`);
}

export function pluginDir(name: string): string {
  return join(repoRoot(), "plugins", name);
}
