import type { Command } from "./args.ts";
import { list } from "./args.ts";
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
  const num = (v: unknown, def: number, name: string, max: number): number => {
    if (v === undefined) return def;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new CliError(`--${name} must be an integer 1-${max}, got '${String(v)}'`);
    return n;
  };
  const seconds = num(secondsArg, 60, "seconds", 3600);
  const connections = num(connectionsArg, 100, "connections", 1000);
  const { runSoak } = await import("../bench/soak.ts");
  try {
    return { soak: await runSoak({ seconds, connections, log: json ? undefined : (l) => console.error(l) }) };
  } catch (e) {
    throw new CliError(`bench --soak: ${(e as Error).message}`, 1, "build the plugins first (tollgate build) and run from the repository root");
  }
}

const command: Command = {
  name: "bench",
  summary: "Measure per-request cost through the host (ratios vs the noop floor), sizes and memory growth.",
  usage: "bench [--json] [--only <section>] [--full] | bench --soak [--seconds <n>] [--connections <n>] [--json]",
  description: `The floor: ns per request of the noop plugin for a typical request (10 request headers, 5 response
headers, no body) through the host, the V8 call overhead, and noop.wasm size. Each registered section
(tools/bench/index.ts) reports its ratios against the noop floor measured beside it: the plugin and
the noop are loaded in the same process, warmed up together and measured in alternating rounds; a ratio
is the median of the per-round ratios. Times are CPU time (user + system) per request, so that a busy
machine does not inflate them; compare ratios, not absolute numbers, across machines.`,
  options: {
    json: { type: "boolean", description: "print the report as JSON" },
    only: { type: "string", multiple: true, valueName: "section", description: "run only these sections (the floor always runs)" },
    full: { type: "boolean", description: "run the long checks too (1M-request memory growth)" },
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
    } else {
      try {
        report = await runBench({
          only: list(args.values.only),
          full: args.values.full === true,
          log: json ? undefined : (l) => console.error(l),
        });
      } catch (e) {
        throw new CliError((e as Error).message);
      }
    }
    // A section that threw is reported as {error} in its slot; the command then exits 1.
    const r = report as Record<string, unknown> & { plugins?: Record<string, unknown> };
    const failed = [...Object.entries(r.plugins ?? {}), ...Object.entries(r).filter(([k]) => k !== "plugins" && k !== "noop")]
      .filter(([, v]) => v && typeof v === "object" && "error" in (v as object))
      .map(([k]) => k);
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
    if (failed.length) console.error(`error: bench section(s) failed: ${failed.join(", ")} (see the 'error' rows)`);
    return failed.length ? 1 : 0;
  },
};
export default command;
