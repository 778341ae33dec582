// Test fixtures for the host suite: compiles AssemblyScript fixtures into dist/fixtures/ (cached by
// input hash) and helpers to read the probe's log lines.
import { dirname, join } from "node:path";
import { compileAssemblyScript, type Target } from "../../tools/build/compile.ts";
import { repoRoot } from "../../tools/paths.ts";
import type { LogRecord } from "../../tools/host/index.ts";

/**
 * Test files run in parallel processes: serialize compiles of one output with a lock directory, so no
 * process reads a module another one is still writing.
 */
async function withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const { mkdirSync, rmSync, statSync } = await import("node:fs");
  const lock = join(repoRoot(), "dist", "fixtures", `.${name}.lock`);
  mkdirSync(dirname(lock), { recursive: true });
  for (let i = 0; ; i++) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      try {
        if (Date.now() - statSync(lock).mtimeMs > 180_000) rmSync(lock, { recursive: true, force: true });
      } catch {
        // the holder just released it
      }
      if (i > 3600) throw new Error(`timed out waiting for ${lock}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Compiles test/fixtures/<dir>/<file>.ts → dist/fixtures/<out>.wasm; returns the path. */
export async function fixture(dir: string, file = "index", target: Target = "debug"): Promise<string> {
  const name = `${dir}${file === "index" ? "" : `-${file}`}${target === "debug" ? ".debug" : ""}`;
  const out = join(repoRoot(), "dist", "fixtures", `${name}.wasm`);
  await withLock(name, () => compileAssemblyScript(join(repoRoot(), "test", "fixtures", dir, `${file}.ts`), out, target));
  return out;
}

export const probe = (target: Target = "debug") => fixture("probe", "index", target);

/** Plugin log messages (proxy_log), optionally from one worker. */
export function messages(logs: LogRecord[], worker?: number): string[] {
  return logs.filter((l) => l.source === "plugin" && (worker === undefined || l.worker === worker)).map((l) => l.message);
}

/** The "cb …" lines: callbacks as the probe saw them. */
export function callbacks(logs: LogRecord[], worker = 0): string[] {
  return messages(logs, worker).filter((m) => m.startsWith("cb ")).map((m) => m.slice(3));
}

/** The result lines of a command ("<cmd> r=…"), in order. */
export function results(logs: LogRecord[], cmd: string, worker = 0): string[] {
  return messages(logs, worker).filter((m) => m.startsWith(`${cmd} `));
}

/** Parses "k=v" fields of a result line (text= runs to the end of the line). */
export function fields(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  const t = line.indexOf(" text=");
  const head = t >= 0 ? line.slice(0, t) : line;
  if (t >= 0) out.text = line.slice(t + 6);
  for (const part of head.split(" ")) {
    const eq = part.indexOf("=");
    if (eq > 0) out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

/** Percent-encodes a script argument for the probe (space, ;, %, NUL). */
export function arg(s: string): string {
  return s.replace(/[%; \0\n]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/**
 * Compiles test/fixtures/hello-sdk with ITS OWN asconfig.json (the SDK's documented
 * `use: abort=abort_proc_exit`), not the repository's, into dist/fixtures/hello-sdk.wasm.
 */
export async function helloSdk(): Promise<string> {
  return withLock("hello-sdk", compileHelloSdk);
}

async function compileHelloSdk(): Promise<string> {
  const { existsSync, readFileSync, statSync, writeFileSync, mkdirSync } = await import("node:fs");
  const dir = join(repoRoot(), "test", "fixtures", "hello-sdk");
  const out = join(repoRoot(), "dist", "fixtures", "hello-sdk.wasm");
  const inputs = [join(dir, "index.ts"), join(dir, "asconfig.json")];
  const stamp = inputs.map((f) => statSync(f).mtimeMs).join(",");
  if (existsSync(out) && existsSync(`${out}.inputs`) && readFileSync(`${out}.inputs`, "utf8") === stamp) return out;
  mkdirSync(dirname(out), { recursive: true });
  // The documented usage: `asc index.ts --config asconfig.json` run in the fixture's folder.
  const { execFile } = await import("node:child_process");
  const asc = join(repoRoot(), "node_modules", "assemblyscript", "bin", "asc.js");
  await new Promise<void>((resolve, reject) => {
    execFile(process.execPath, [asc, "index.ts", "--config", "asconfig.json", "--target", "release", "--outFile", out], { cwd: dir }, (err, _o, stderr) => {
      if (err) reject(new Error(`compiling hello-sdk failed: ${stderr || err.message}`));
      else resolve();
    });
  });
  writeFileSync(`${out}.inputs`, stamp);
  return out;
}
