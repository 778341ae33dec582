// Where an Envoy's CPU goes, by code region, from Linux perf's sampling (`perf record -p`, software clock
// events: no hardware counters needed): Envoy's own C++ (the filter chain, the ABI's host side, V8's
// runtime and builtins, which are linked into the binary), code V8 generated at run time (the compiled wasm,
// which perf sees as anonymous memory), the kernel (sockets, syscalls) and the C library. Multiplied by the
// window's CPU per request this splits a plugin's added cost into what its wasm runs and what its host
// calls make Envoy do. The Envoy release binary is stripped: regions, not functions.
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

export type Region = "envoy" | "jit" | "kernel" | "libc" | "other";
export const REGIONS: Region[] = ["envoy", "jit", "kernel", "libc", "other"];

/** The region of one `perf report --sort dso` row. */
export function region(dso: string): Region {
  if (dso === "envoy" || dso.endsWith("/envoy")) return "envoy";
  if (dso.startsWith("[kernel") || dso === "[vdso]") return "kernel";
  if (/^(\[unknown\]|\[JIT\]|\/\/anon|\[anon|perf-\d+\.map|memfd:)/.test(dso)) return "jit";
  if (/^(libc|libm|libpthread|ld-linux|libstdc|libgcc|librt|libdl)/.test(dso.replace(/^.*\//, ""))) return "libc";
  return "other";
}

/** Shares (0..1) of the samples per region, from `perf report --sort dso --stdio` output. */
export function parseDsoReport(text: string): Record<Region, number> {
  const out: Record<Region, number> = { envoy: 0, jit: 0, kernel: 0, libc: 0, other: 0 };
  for (const line of text.split("\n")) {
    const m = /^\s*([\d.]+)%\s+(.+?)\s*$/.exec(line);
    if (!m) continue;
    out[region(m[2])] += Number(m[1]) / 100;
  }
  return out;
}

/** Whether `perf record` can sample a process here (installed, and allowed). */
export async function perfUsable(): Promise<string | null> {
  try {
    await run("perf", ["record", "-e", "cpu-clock", "-F", "999", "-o", "/dev/null", "--", "true"]);
    return null;
  } catch (e) {
    const err = e as { code?: string; stderr?: string; message: string };
    return err.code === "ENOENT" ? "perf is not installed (apt-get install linux-perf)" : `perf record failed: ${(err.stderr || err.message).trim().split("\n")[0]}`;
  }
}

/** Samples process `pid` while `during` runs; returns `during`'s result and the shares per region. */
export async function sampleRegions<T>(pid: number, file: string, during: () => Promise<T>): Promise<{ result: T; shares: Record<Region, number> }> {
  const rec = spawn("perf", ["record", "-e", "cpu-clock", "-F", "1999", "-p", String(pid), "-o", file], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  rec.stderr.on("data", (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => rec.on("exit", (code) => resolve(code)));
  // perf attaches asynchronously: give it a moment so the window's first requests are sampled too.
  await new Promise((r) => setTimeout(r, 300));
  let result: T;
  try {
    result = await during();
  } finally {
    rec.kill("SIGINT");
  }
  const code = await exited;
  if (code !== 0 && code !== null) throw new Error(`perf record exited ${code}: ${err.trim().split("\n").slice(-2).join(" | ")}`);
  const { stdout } = await run("perf", ["report", "-i", file, "--sort", "dso", "--stdio", "-q"], { maxBuffer: 16 << 20 });
  return { result, shares: parseDsoReport(stdout) };
}
