// AssemblyScript compilation shared by `tollgate build`, test fixtures and benchmarks.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { ToolError } from "../errors.ts";
import { repoRoot } from "../paths.ts";
import { packDataSection } from "./pack-data.ts";

export type Target = "release" | "debug";

/** The AssemblyScript compiler rejected a module; the message holds the compiler's own output. */
export class CompileError extends ToolError {}

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
 * false (default: release builds only); reuses the previous output when no input changed.
 */
export async function compileAssemblyScript(entry: string, outFile: string, target: Target, force = false, pack = target === "release"): Promise<CompileResult> {
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
    return await compileInto(asc, entry, outFile, join(work, basename(outFile)), target, pack, stamp, hash);
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
): Promise<CompileResult> {
  let stderr = "";
  const { error } = await asc.main(
    [entry, "--config", join(repoRoot(), "asconfig.json"), "--target", target, "--outFile", tmpFile],
    {
      stdout: { write: () => true } as never,
      stderr: { write: (s: string | Uint8Array) => ((stderr += typeof s === "string" ? s : Buffer.from(s).toString()), true) } as never,
    },
  );
  if (error) {
    throw new CompileError(`compiling ${relative(repoRoot(), entry)} (${target}) failed:\n${stderr.trim() || error.message}`);
  }
  let bytes: Uint8Array = readFileSync(tmpFile);
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
