// The compiled plugin modules plugin tests run on: release and debug builds, compiled once per test file
// (compileAssemblyScript is a no-op when dist/ is up to date).
import { join } from "node:path";
import { compileAssemblyScript } from "../../tools/build/compile.ts";
import { pluginWasm, repoRoot } from "../../tools/paths.ts";

export const BUILDS = ["release", "debug"] as const;
export type Build = (typeof BUILDS)[number];

const built = new Map<string, Promise<string>>();

/** dist/plugins/<name>[.debug].wasm, compiled from plugins/<name>/index.ts if needed. */
export function compiledPlugin(name: string, build: Build): Promise<string> {
  const key = `${name}/${build}`;
  let p = built.get(key);
  if (!p) {
    const out = pluginWasm(name, build === "debug");
    p = compileAssemblyScript(join(repoRoot(), "plugins", name, "index.ts"), out, build).then(() => out);
    built.set(key, p);
  }
  return p;
}
