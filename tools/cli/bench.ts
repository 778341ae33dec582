import type { Command, ParsedArgs } from "./args.ts";
import { list } from "./args.ts";
import { ToolError } from "../errors.ts";
import { CliError } from "./errors.ts";

function fmt(v: unknown): string {
  if (typeof v === "number") return Number.isInteger(v) ? v.toLocaleString("en-US") : String(v);
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}

/** Flattens nested results into "a.b" → value rows. */
function rows(prefix: string, v: unknown, out: Array<[string, string]>): void {
  if (v && typeof v === "object" && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) rows(prefix ? `${prefix}.${k}` : k, x, out);
  } else {
    out.push([prefix, fmt(v)]);
  }
}

/** `--soak`: the embedded gateway under a bounded load (tools/bench/soak.ts). */
async function soak(secondsArg: unknown, connectionsArg: unknown, json: boolean): Promise<object> {
  const seconds = intOption(secondsArg, 60, "seconds", 1, 3600);
  const connections = intOption(connectionsArg, 100, "connections", 1, 1000);
  const { runSoak } = await import("../bench/soak.ts");
  try {
    return { soak: await runSoak({ seconds, connections, log: json ? undefined : (l) => console.error(l) }) };
  } catch (e) {
    if (e instanceof ToolError) throw e;
    throw new CliError(`bench --soak: ${(e as Error).message}`, 1, "build the plugins first (tollgate build) and run from the repository root");
  }
}

/** Integer option in [min, max], or `def` when absent. */
function intOption(v: unknown, def: number, name: string, min: number, max: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new CliError(`--${name} must be an integer ${min}-${max}, got '${String(v)}'`);
  return n;
}

/** The Envoy part (tools/bench/envoy.ts): `--envoy` alone, or after the Node figures in the default run. */
async function envoyBench(values: ParsedArgs["values"], json: boolean): Promise<object> {
  const { runEnvoyBench } = await import("../bench/envoy.ts");
  return runEnvoyBench({
    rounds: intOption(values.rounds, 3, "rounds", 1, 100),
    windowSeconds: intOption(values.window, 2, "window", 1, 600),
    latencySeconds: intOption(values["latency-window"], 1, "latency-window", 0, 600),
    only: list(values.scenario),
    leakRequests: values.full === true ? 1_000_000 : 0,
    profile: values.profile === true,
    hostCalls: values["host-calls"] === true,
    log: json ? undefined : (l) => console.error(l),
  });
}

const command: Command = {
  name: "bench",
  summary: "Measure per-request cost on real Envoy against its native filters, and through the Node host.",
  usage: "bench [--json] [--only <section>] [--full] | bench --envoy [--scenario <name>] [--rounds <n>] [--window <s>] [--profile] [--host-calls] [--json] | bench --soak [--seconds <n>] [--connections <n>] [--json]",
  description: `The floor: ns per request of the noop plugin for a typical request (10 request headers, 5 response
headers, no body) through the host, the V8 call overhead, and noop.wasm size. Each registered section
(tools/bench/index.ts) reports its ratios against the noop floor measured beside it: the plugin and
the noop are loaded in the same process, warmed up together and measured in alternating rounds; a ratio
is the median of the per-round ratios. Times are CPU time (user + system) per request, so that a busy
machine does not inflate them; compare ratios, not absolute numbers, across machines.

On real Envoy (--envoy; also part of the default run when Envoy and wrk are available, which the output
says either way): every configuration — router only (the baseline), the noop wasm filter, each plugin with
the demo's configuration, Envoy's native filter doing the same job, all plugins vs all native filters —
runs in its own Envoy (--concurrency 1, pinned to a core with taskset when there are two). Each is first
validated (envoy --mode validate) and checked functionally, then loaded by wrk in alternating rounds.
Per scenario: Envoy CPU µs per request (utime+stime from /proc), the added µs over the baseline,
addedCpuRatioToNoop, addedCpuRatioToNative, p50/p99 at a paced rate, and RSS; then each goal of issue 17
with its figure. Each plugin scenario also reports its boundary traffic per request (host calls by
function, bytes copied each way, allocator calls), counted on the embedded engine from the same bootstrap.
--profile samples every Envoy with Linux perf in one more window and splits its CPU per request by code
region (Envoy's C++, V8-generated wasm code, kernel, libc). --host-calls measures what one ABI call costs
Envoy (the probe fixture making 20 copies of one call per request). --full adds a 1,000,000-request RSS leak
check per plugin.`,
  options: {
    json: { type: "boolean", description: "print the report as JSON" },
    only: { type: "string", multiple: true, valueName: "section", description: "run only these sections (the floor always runs; 'envoy' is the real-Envoy part, which runs by default)" },
    full: { type: "boolean", description: "run the long checks too (1M-request memory growth, on the host and on Envoy)" },
    envoy: { type: "boolean", description: "only the real-Envoy bench (fails when Envoy or wrk is missing)" },
    scenario: { type: "string", multiple: true, valueName: "name", description: "Envoy: only these plugin scenarios, or a plugin's scenarios by target (cors, canary, rate-limit, auth, all); baseline and noop always run (default: all)" },
    rounds: { type: "string", valueName: "n", description: "Envoy: alternating rounds (default 3)" },
    window: { type: "string", valueName: "s", description: "Envoy: seconds of load per scenario per round for CPU per request (default 2)" },
    "host-calls": { type: "boolean", description: "Envoy: also measure what single ABI calls cost (the probe fixture; a checkout with `tollgate build` run)" },
    profile: { type: "boolean", description: "Envoy: split each scenario's CPU by code region with Linux perf (one more window per scenario)" },
    "latency-window": { type: "string", valueName: "s", description: "Envoy: seconds of paced load per scenario per round for p50/p99; 0 skips (default 1)" },
    soak: { type: "boolean", description: "instead: soak the embedded gateway (demo.yaml, all plugins) and report Node heap/RSS and wasm pages" },
    seconds: { type: "string", valueName: "n", description: "--soak: measured seconds after a 10 s warm-up (default 60)" },
    connections: { type: "string", valueName: "n", description: "--soak: concurrent connections (default 100)" },
  },
  async run(args) {
    const { runBench } = await import("../bench/index.ts");
    const json = args.values.json === true;
    let report;
    if (args.values.soak === true) {
      report = await soak(args.values.seconds, args.values.connections, json);
    } else if (args.values.envoy === true) {
      const { envoyBenchUnavailable } = await import("../bench/envoy.ts");
      const why = envoyBenchUnavailable();
      if (why) throw new CliError(`bench --envoy: ${why}`);
      try {
        report = { envoy: await envoyBench(args.values, json) };
      } catch (e) {
        if (e instanceof ToolError) throw e;
        throw new CliError(`bench --envoy: ${(e as Error).message}`, 1, "build the plugins first (tollgate build) and run from the repository root");
      }
    } else {
      const only = list(args.values.only);
      try {
        report = await runBench({
          only, // "envoy" is no host section: `--only envoy` runs the floor, then the Envoy bench
          full: args.values.full === true,
          log: json ? undefined : (l) => console.error(l),
        });
      } catch (e) {
        if (e instanceof ToolError) throw e;
        throw new CliError((e as Error).message);
      }
      if (!only?.length || only.includes("envoy")) {
        const { envoyBenchUnavailable } = await import("../bench/envoy.ts");
        const why = envoyBenchUnavailable();
        if (why) {
          // Said on stderr and in the report: a run without Envoy must never look like a complete one.
          console.error(`NOTE: the real-Envoy bench did not run — ${why}. The figures above are the Node host's only.`);
          (report as Record<string, unknown>).envoy = { skipped: why };
        } else {
          try {
            (report as Record<string, unknown>).envoy = await envoyBench(args.values, json);
          } catch (e) {
            (report as Record<string, unknown>).envoy = { error: (e as Error).message };
          }
        }
      }
    }
    // A section that threw is reported as {error} in its slot; the command then exits 1.
    const r = report as Record<string, unknown> & { plugins?: Record<string, unknown> };
    const failed = [...Object.entries(r.plugins ?? {}), ...Object.entries(r).filter(([k]) => k !== "plugins" && k !== "noop")]
      .filter(([, v]) => v && typeof v === "object" && "error" in (v as object))
      .map(([k]) => k);
    const envoyScenarios = (r.envoy as { scenarios?: Record<string, object> } | undefined)?.scenarios ?? {};
    for (const [k, v] of Object.entries(envoyScenarios)) if ("error" in v) failed.push(`envoy.scenarios.${k}`);
    if (json) {
      console.log(JSON.stringify(report, null, 2));
      return failed.length ? 1 : 0;
    }
    const out: Array<[string, string]> = [];
    rows("", report, out);
    const w = Math.max(...out.map((r) => r[0].length)) + 2;
    console.log(`${"metric".padEnd(w)}value`);
    console.log(`${"-".repeat(w - 2)}  ${"-".repeat(12)}`);
    for (const [k, v] of out) console.log(`${k.padEnd(w)}${v}`);
    const goals = (r.envoy as { goals?: Array<{ goal: string; scenario: string; value: number | null; limit: number; met: boolean | null }> } | undefined)?.goals;
    if (goals?.length) {
      console.log("\nissue 17 goals on Envoy (value vs limit; 'not resolved' = below this machine's noise):");
      for (const g of goals) console.log(`  ${g.met === null ? "not resolved" : g.met ? "met   " : "missed"}  ${g.scenario.padEnd(24)} ${String(g.value ?? "—").padStart(8)} vs ${g.limit}  ${g.goal}`);
    }
    if (failed.length) console.error(`error: bench section(s) failed: ${failed.join(", ")} (see the 'error' rows)`);
    return failed.length ? 1 : 0;
  },
};
export default command;
