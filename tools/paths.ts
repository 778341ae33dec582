import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

/**
 * tollgate's own root (the repository, or node_modules/tollgate once installed): the nearest ancestor of this
 * file (bundled or not) holding asconfig.json. assembly/, asconfig.json, the bundled plugins and the CRDs live here.
 */
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

let project: string | undefined;

/** Fixes the project root (the CLI's --root); later projectRoot() calls return it. */
export function setProjectRoot(dir: string): void {
  project = resolve(dir);
}

/**
 * The user's project: where plugins/ is read and dist/ written. --root (setProjectRoot) or TOLLGATE_ROOT if set;
 * else the directory of the nearest package.json above the working directory, moved by its `"tollgate": {"root":
 * "<dir>"}` field when present; else the working directory. In this repository that is the repository itself.
 */
export function projectRoot(): string {
  if (project) return project;
  if (process.env.TOLLGATE_ROOT) return resolve(process.env.TOLLGATE_ROOT);
  let dir = process.cwd();
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg)) {
      let field: unknown;
      try {
        field = (JSON.parse(readFileSync(pkg, "utf8")) as { tollgate?: { root?: unknown } }).tollgate?.root;
      } catch {
        field = undefined; // an unreadable package.json still marks the project
      }
      return typeof field === "string" ? resolve(dir, field) : dir;
    }
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

/** dist/plugins/<name>.wasm (release) or .debug.wasm, in the project. */
export function pluginWasm(name: string, debug = false): string {
  return join(projectRoot(), "dist", "plugins", `${name}${debug ? ".debug" : ""}.wasm`);
}

/** The plugin's folder: the project's plugins/<name>, else tollgate's bundled one of that name. */
export function pluginDir(name: string): string {
  const own = join(projectRoot(), "plugins", name);
  if (existsSync(join(own, "index.ts"))) return own;
  const bundled = join(repoRoot(), "plugins", name);
  return existsSync(join(bundled, "index.ts")) ? bundled : own;
}
