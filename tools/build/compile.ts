// AssemblyScript compilation shared by `tollgate build`, test fixtures and benchmarks.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { ToolError } from "../errors.ts";
import { projectRoot, repoRoot } from "../paths.ts";
import { packDataSection } from "./pack-data.ts";

export type Target = "release" | "debug";

/** The AssemblyScript compiler rejected a module; the message holds the compiler's own output. */
export class CompileError extends ToolError {}

/** The module compiled but lacks the exports Envoy needs to load it (the ABI marker, the callbacks, malloc). */
export class MissingAbiExportsError extends ToolError {
  constructor(readonly entry: string, readonly missing: string[]) {
    super(
      `${entry} compiles to a module without ${missing.join(", ")}: Envoy would refuse it at load ("Missing or unknown Proxy-Wasm ABI version")`,
      `add \`export * from "tollgate/assembly/exports-headers";\` (or "tollgate/assembly/exports" for every callback) to ${entry}`,
    );
  }
}

/** What Envoy needs a plugin module to export (abi.md §1): the ABI marker, context creation, and an allocator. */
export function missingAbiExports(wasm: Uint8Array): string[] {
  const names = new Set(WebAssembly.Module.exports(new WebAssembly.Module(wasm)).map((e) => e.name));
  const missing: string[] = [];
  if (![...names].some((n) => n.startsWith("proxy_abi_version_"))) missing.push("proxy_abi_version_0_2_1");
  if (!names.has("proxy_on_context_create")) missing.push("proxy_on_context_create");
  if (!names.has("malloc") && !names.has("proxy_on_memory_allocate")) missing.push("malloc");
  return missing;
}

/**
 * Where `import … from "tollgate/assembly"` resolves when no node_modules/tollgate sits above the working
 * directory (this repository, a linked or globally installed CLI): a package path (asc --path) that readFile
 * below maps to the tollgate the CLI runs from, so a plugin always compiles against the library of its CLI.
 */
const PACKAGES = resolve(sep, "__tollgate_packages__");

async function readSource(file: string, baseDir: string): Promise<string | null> {
  let full = resolve(baseDir, file);
  const own = join(PACKAGES, "tollgate") + sep;
  if (full.startsWith(own)) full = join(repoRoot(), full.slice(own.length));
  try {
    return await readFile(full, "utf8");
  } catch {
    return null;
  }
}
export interface CompileResult {
  outFile: string;
  bytes: number;
  sha256: string;
  cached: boolean;
}

function filesUnder(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) filesUnder(p, out);
    else if (p.endsWith(".ts") || p.endsWith(".json")) out.push(p);
  }
  return out;
}

/** Hash of everything a module's output depends on: compiler version, asconfig, the data packer, assembly/, the entry's folder. */
function inputsHash(entry: string, target: Target, version: string): string {
  const h = createHash("sha256").update(version).update(target);
  const root = repoRoot();
  const packer = join(root, "tools", "build", "pack-data.ts");
  for (const f of [join(root, "asconfig.json"), packer, ...filesUnder(join(root, "assembly")), ...filesUnder(dirname(entry))]) {
    h.update(relative(root, f)).update(readFileSync(f));
  }
  return h.digest("hex");
}

/**
 * Compiles `entry` with asconfig.json's `target`, the data section packed (pack-data.ts) unless `pack` is
 * false (default: release builds only); reuses the previous output when no input changed. With `abi` (plugin
 * builds), a module without the proxy-wasm exports is refused (MissingAbiExportsError) and not written; test
 * fixtures that check the host's own refusal leave it off.
 */
export async function compileAssemblyScript(entry: string, outFile: string, target: Target, force = false, pack = target === "release", abi = false): Promise<CompileResult> {
  const asc = await import("assemblyscript/asc");
  const stamp = `${outFile}.inputs`;
  const hash = inputsHash(entry, target, asc.version) + (pack ? "+packed" : "");
  if (!force && existsSync(outFile) && existsSync(stamp) && readFileSync(stamp, "utf8") === hash) {
    const bytes = readFileSync(outFile);
    return { outFile, bytes: bytes.length, sha256: sha256(bytes), cached: true };
  }
  mkdirSync(dirname(outFile), { recursive: true });
  // Compile into a private folder beside the output and rename into place: test files build in parallel
  // processes, and a reader must never see a half-written module. Same basename, so a debug build's
  // sourceMappingURL names the final file.
  const work = mkdtempSync(join(dirname(outFile), ".compile-"));
  try {
    return await compileInto(asc, entry, outFile, join(work, basename(outFile)), target, pack, stamp, hash, abi);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function compileInto(
  asc: typeof import("assemblyscript/asc"),
  entry: string,
  outFile: string,
  tmpFile: string,
  target: Target,
  pack: boolean,
  stamp: string,
  hash: string,
  abi: boolean,
): Promise<CompileResult> {
  let stderr = "";
  const { error } = await asc.main(
    [entry, "--config", join(repoRoot(), "asconfig.json"), "--target", target, "--outFile", tmpFile, "--path", PACKAGES],
    {
      readFile: readSource,
      stdout: { write: () => true } as never,
      stderr: { write: (s: string | Uint8Array) => ((stderr += typeof s === "string" ? s : Buffer.from(s).toString()), true) } as never,
    },
  );
  if (error) {
    throw new CompileError(`compiling ${relative(projectRoot(), entry)} (${target}) failed:\n${stderr.trim() || error.message}`);
  }
  let bytes: Uint8Array = readFileSync(tmpFile);
  // Refused here, not at load: a module Envoy cannot load is a build error naming the missing line.
  const missing = abi ? missingAbiExports(bytes) : [];
  if (missing.length) throw new MissingAbiExportsError(relative(projectRoot(), entry) || entry, missing);
  const packed = pack ? packDataSection(bytes) : null;
  if (packed) {
    bytes = packed.wasm;
    writeFileSync(tmpFile, bytes);
  }
  if (existsSync(`${tmpFile}.map`)) renameSync(`${tmpFile}.map`, `${outFile}.map`);
  renameSync(tmpFile, outFile);
  writeFileSync(`${tmpFile}.inputs`, hash);
  renameSync(`${tmpFile}.inputs`, stamp);
  return { outFile, bytes: bytes.length, sha256: sha256(bytes), cached: false };
}

export function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}
