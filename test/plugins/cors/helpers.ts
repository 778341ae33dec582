// Shared by the cors plugin tests: builds the real modules (release and debug, cached by input hash), loads
// one tester per configuration, and reads response headers the way a browser or cache would see them.
import { join } from "node:path";
import { compileAssemblyScript } from "../../../tools/build/compile.ts";
import { repoRoot } from "../../../tools/paths.ts";
import { PluginTester } from "../../../tools/host/testing.ts";

import { type Build, compiledPlugin } from "../../helpers/plugins.ts";
export { BUILDS, type Build } from "../../helpers/plugins.ts";

/** plugins/cors compiled into dist/plugins/cors{,.debug}.wasm (no-op when up to date); returns the path. */
export function corsWasm(build: Build): Promise<string> {
  return compiledPlugin("cors", build);
}

/** The 401-answering fixture filter (test/plugins/cors/fixtures/deny.ts) in dist/fixtures/. */
export async function denyWasm(build: Build): Promise<string> {
  const out = join(repoRoot(), "dist", "fixtures", `cors-deny${build === "debug" ? ".debug" : ""}.wasm`);
  await compileAssemblyScript(join(repoRoot(), "test", "plugins", "cors", "fixtures", "deny.ts"), out, build);
  return out;
}

/** One tester per (build, configuration): loading a VM is the slow part, requests are cheap. */
export class Testers {
  private readonly cache = new Map<string, Promise<PluginTester>>();
  constructor(private readonly build: Build) {}

  get(config: unknown): Promise<PluginTester> {
    const key = JSON.stringify(config);
    let t = this.cache.get(key);
    if (!t) {
      t = corsWasm(this.build).then((wasm) => PluginTester.load({ wasm, configuration: config as object, workers: 1 }));
      this.cache.set(key, t);
    }
    return t;
  }

  async close(): Promise<void> {
    for (const t of this.cache.values()) (await t).close?.();
    this.cache.clear();
  }
}

export type Pairs = Array<[string, string]>;

/** Every value of `name` in a header list (names compared lower-case). */
export function values(headers: Pairs, name: string): string[] {
  return headers.filter(([k]) => k.toLowerCase() === name).map(([, v]) => v);
}

/** Vary tokens of all Vary lines, lower-case. */
export function varyTokens(headers: Pairs): string[] {
  return values(headers, "vary").flatMap((v) => v.split(",")).map((s) => s.trim().toLowerCase()).filter(Boolean);
}

/** The Access-Control-* response headers, as a name → value record (fails on duplicates). */
export function acHeaders(headers: Pairs): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of headers) {
    const n = k.toLowerCase();
    if (!n.startsWith("access-control-")) continue;
    if (n in out) throw new Error(`duplicate ${n}: ${JSON.stringify(out[n])} and ${JSON.stringify(v)}`);
    out[n] = v;
  }
  return out;
}

export const AC_ALLOW = [
  "access-control-allow-origin",
  "access-control-allow-credentials",
  "access-control-allow-methods",
  "access-control-allow-headers",
  "access-control-expose-headers",
  "access-control-max-age",
  "access-control-allow-private-network",
];
