// `tollgate bench --envoy`: per-request cost of each plugin on real Envoy (`--concurrency 1`, pinned to a core
// where taskset and a second core exist) against the router-only baseline, the noop wasm filter and Envoy's
// native filter doing the same job (tools/bench/envoy-setup.ts). Every target runs in its own Envoy for the
// whole run; wrk (a separate process) loads one target at a time, in alternating rounds, against a second
// Envoy answering with direct_response. CPU per request is the measured Envoy's utime+stime (/proc/<pid>/stat)
// over a wrk window ÷ the requests wrk completed in it.
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { envoyBinary, envoyListeners, findUsableEnvoy, isFound, launchEnvoy, onPath, type FoundEnvoy, type RunningEnvoy } from "../envoy/launcher.ts";
import { processCpuUs, processRssKiB, sender, wrk, wrkScript } from "./envoy-measure.ts";
import { findRateLimitBinaries, RATELIMIT_INSTALL, startRateLimitService, type RateLimitService } from "../ratelimit/service.ts";
import { serviceConfigYaml } from "../ratelimit/config.ts";
import { compileAssemblyScript } from "../build/compile.ts";
import { hostCallCosts, type HostCallCosts, hostCallProbe, hostCallScenarios, hostCallTarget, jwtMaterial, RATE_LIMIT_GLOBAL, RLS_DOMAIN, scenarios as allScenarios, targets as allTargets, type Scenario, type Upstreams } from "./envoy-setup.ts";
import { RlsProbe, type RoundTrip } from "./rls-client.ts";
import { boundaryCounts } from "./boundary.ts";
import { perfUsable, type Region, REGIONS, sampleRegions } from "./envoy-profile.ts";
import type { BoundarySummary } from "../host/profile.ts";

const run = promisify(execFile);

export interface EnvoyBenchOptions {
  /** Alternating rounds over all scenarios (default 3). */
  rounds?: number;
  /** Seconds of saturating load per scenario per round, for CPU per request (default 2). */
  windowSeconds?: number;
  /** Seconds of paced load per scenario per round, for p50/p99 (default 1; 0 skips latency). */
  latencySeconds?: number;
  /** wrk connections in the CPU window (default 8). */
  connections?: number;
  /** Only these scenarios (baseline and noop always run; a plugin scenario brings its native pair). */
  only?: string[];
  /** RSS leak check: requests per plugin target after the rounds (default 0 = off; `--full` uses 1,000,000). */
  leakRequests?: number;
  /**
   * Sample each scenario's Envoy with Linux perf in one extra window and split its CPU per request by code
   * region (envoy-profile.ts). Default off; `--profile`.
   */
  profile?: boolean;
  /** Also measure what single ABI calls cost this Envoy (envoy-setup.ts HOST_CALL_KINDS; needs the built probe fixture). */
  hostCalls?: boolean;
  log?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

/** Why the Envoy bench cannot run here, or null when it can. */
export function envoyBenchUnavailable(env: NodeJS.ProcessEnv = process.env): string | null {
  const found = findUsableEnvoy(env);
  if (!isFound(found)) return `Envoy is not available: ${found.reason} (install: eval "$(tools/envoy/install-envoy.sh)", or set ENVOY_PATH)`;
  if (!onPath("wrk", env)) return "wrk is not installed (apt-get install wrk): the Envoy bench loads Envoy with it";
  return null;
}

interface Window {
  requests: number;
  seconds: number;
  cpuUs: number;
  p50Us: number;
  p99Us: number;
}

export interface ScenarioFigures {
  target: string;
  kind: Scenario["kind"];
  note: string;
  /** Envoy CPU µs per request (median over rounds). */
  cpuUsPerRequest: number;
  /** cpuUsPerRequest − the baseline's, per round, median. */
  addedCpuUs: number;
  addedCpuRatioToNoop?: number;
  addedCpuRatioToNative?: number;
  native?: string;
  /** Requests per second wrk reached in the CPU window (median). */
  rps: number;
  /** Latency at the paced rate (median over rounds). */
  p50Us?: number;
  p99Us?: number;
  latencyRps?: number;
  /** Envoy RSS after the run, and growth from after the last round's warm-up (each round starts fresh Envoys) to after it. */
  rssKiB: number;
  rssGrowthKiB: number;
  requests: number;
  perRound: { cpuUsPerRequest: number[]; addedCpuUs: number[] };
  /**
   * rate-limit-global only: the service's own round trip (ShouldRateLimit from the bench process, paced as
   * the latency window; medians over rounds), and this scenario's p50/p99 minus the local rule's (rate-limit)
   * in the same run — what the call adds, to set against the round trip.
   */
  serviceRoundTrip?: { p50Us: number; p99Us: number; rps: number; calls: number };
  overLocal?: { scenario: string; p50Us: number; p99Us: number };
  /**
   * Plugin and noop scenarios: the boundary traffic per request (host calls by function, bytes copied each
   * way, allocator calls, callbacks), counted on the embedded engine from the same bootstrap (boundary.ts).
   */
  boundary?: BoundarySummary | { error: string };
  /** With `profile`: CPU µs per request by code region in the profiled window, and minus the baseline's. */
  cpuByRegion?: Record<Region, number>;
  addedByRegion?: Record<Region, number>;
}

export interface EnvoyBenchReport {
  envoy: { version: string; source: string; concurrency: 1; pinning: string };
  upstream: string;
  load: string;
  latency: string;
  serviceRoundTrip?: string;
  method: string;
  machine: { cpus: number; model: string };
  rounds: number;
  /** A scenario is { skipped } when what it needs is not installed here (rate-limit-global: the rate limit service). */
  scenarios: Record<string, ScenarioFigures | { error: string } | { skipped: string }>;
  /**
   * With `hostCalls`: per kind, Envoy CPU µs per call ((the kind's CPU per request − `none`'s) ÷ calls per
   * request, medians), and with `profile` the same split by region; `overCrossing` = minus get_log_level's.
   */
  hostCalls?: HostCallCosts;
  /** How the regions were measured, or why they were not. */
  profile?: string;
  leak?: Record<string, { requests: number; rssKiB: number[]; growthKiB: number; trend: string }>;
  goals: Array<{ goal: string; scenario: string; value: number | null; limit: number; met: boolean | null }>;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const r2 = (n: number): number => Math.round(n * 100) / 100;

// ---- the run ----

interface Started {
  name: string;
  envoy: RunningEnvoy;
  url: string;
  pid: number;
}

function upstreamBootstrap(): object {
  const listener = (name: string) => ({
    name,
    address: { socket_address: { address: "127.0.0.1", port_value: 0 } },
    filter_chains: [{
      filters: [{
        name: "envoy.filters.network.http_connection_manager",
        typed_config: {
          "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
          stat_prefix: name,
          route_config: { virtual_hosts: [{ name, domains: ["*"], routes: [{ match: { prefix: "/" }, direct_response: { status: 200, body: { inline_string: name } } }] }] },
          http_filters: [{ name: "envoy.filters.http.router", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } }],
        },
      }],
    }],
  });
  return { admin: { address: { socket_address: { address: "127.0.0.1", port_value: 0 } } }, static_resources: { listeners: [listener("stable"), listener("canary")] } };
}

async function validate(binary: string, file: string): Promise<void> {
  try {
    await run(binary, ["--mode", "validate", "-c", file, "--disable-hot-restart", "-l", "error"]);
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`envoy --mode validate rejected ${file}: ${(err.stderr || err.stdout || err.message).trim().split("\n").slice(-3).join(" | ")}`);
  }
}

async function start(found: FoundEnvoy, name: string, file: string, core: number | null, log: (l: string) => void): Promise<Started> {
  const tail: string[] = [];
  const envoy = await launchEnvoy(found, file, {
    hasAdmin: true,
    extraArgs: ["--concurrency", "1", "-l", "warning"],
    onLine: (l) => {
      tail.push(l);
      if (tail.length > 20) tail.shift();
    },
    readyTimeoutMs: 60_000,
  }).catch((e: Error) => {
    throw new Error(`${name}: ${e.message}\n${tail.join("\n")}`);
  });
  const pid = envoy.child.pid!;
  // All of Envoy's threads (main, worker, stats flush) on one core, away from wrk and the upstream.
  if (core !== null) await run("taskset", ["-a", "-p", "-c", String(core), String(pid)]);
  const listeners = await envoyListeners(envoy.adminUrl);
  const url = (listeners.find((l) => l.name === "bench") ?? listeners[0])?.url;
  if (!url) {
    await envoy.stop();
    throw new Error(`${name}: Envoy serves no listener (${JSON.stringify(listeners)})`);
  }
  log(`  ${name}: Envoy pid ${pid} on ${url}`);
  return { name, envoy, url, pid };
}

function envoyVersion(binary: string): string {
  try {
    const out = execFileSync(binary, ["--version"], { encoding: "utf8" });
    return /version: \S+\/(\d+\.\d+\.\d+)/.exec(out)?.[1] ?? out.trim();
  } catch {
    return "unknown";
  }
}

/** Chooses the scenarios to run: baseline and noop always; `only` names plugin scenarios (or their prefixes). */
function select(all: Scenario[], only?: string[]): Scenario[] {
  if (!only?.length) return all;
  const names = new Set(["baseline", "noop"]);
  for (const s of all) {
    if (s.kind !== "plugin") continue;
    if (only.some((o) => s.name === o || s.name.startsWith(o + "-") || s.target === o)) {
      names.add(s.name);
      if (s.native) names.add(s.native);
    }
  }
  // A scenario's comparison (rate-limit-global's local rule, its native's local native), with that one's native.
  for (const s of all) if (names.has(s.name) && s.alongside) names.add(s.alongside);
  for (const s of all) if (names.has(s.name) && s.native) names.add(s.native);
  const unknown = only.filter((o) => !all.some((s) => s.name === o || s.name.startsWith(o + "-") || s.target === o));
  if (unknown.length) throw new Error(`unknown Envoy bench scenario(s): ${unknown.join(", ")} (known: ${all.filter((s) => s.kind === "plugin").map((s) => s.name).join(", ")})`);
  return all.filter((s) => names.has(s.name));
}

export async function runEnvoyBench(opts: EnvoyBenchOptions = {}): Promise<EnvoyBenchReport> {
  const log = opts.log ?? (() => {});
  const env = opts.env ?? process.env;
  const why = envoyBenchUnavailable(env);
  if (why) throw new Error(why);
  const rounds = opts.rounds ?? 3;
  const windowSeconds = opts.windowSeconds ?? 2;
  const latencySeconds = opts.latencySeconds ?? 1;
  const connections = opts.connections ?? 8;
  const found0 = findUsableEnvoy(env) as FoundEnvoy;
  const binary = envoyBinary(found0, env);
  // Launch the binary itself (not func-e) so the child's pid is the Envoy whose CPU we read.
  const found: FoundEnvoy = { source: "ENVOY_PATH", path: binary, reason: found0.reason };
  const cores = cpus().length;
  const pinned = cores >= 2 && onPath("taskset", env) !== null;
  const envoyCore = pinned ? 1 : null;
  const loadCore = pinned ? 0 : null;
  const pinning = pinned ? "measured Envoy on core 1; wrk and the upstream Envoy on core 0 (taskset)" : cores < 2 ? "not pinned: one CPU" : "not pinned: taskset not found";

  const jwt = jwtMaterial();
  const selected = select(allScenarios(jwt), opts.only);
  if (opts.hostCalls) {
    const probe = hostCallProbe();
    if (!existsSync(probe.source)) throw new Error(`--host-calls needs a tollgate checkout: the probe fixture ${probe.source} is missing`);
    await compileAssemblyScript(probe.source, probe.wasm, "release");
    selected.push(...hostCallScenarios());
  }
  // The rate limit service (Redis + envoyproxy/ratelimit): a scenario needing it is skipped, and says so, when
  // the binaries are not installed here.
  const skipped = new Map<string, string>();
  const rlsBins = selected.some((s) => s.needs === "rls") ? findRateLimitBinaries() : null;
  if (rlsBins && "missing" in rlsBins) {
    for (const s of selected) if (s.needs === "rls") skipped.set(s.name, `not run: ${rlsBins.missing} (install: ${RATELIMIT_INSTALL})`);
  }
  const chosen = selected.filter((s) => !skipped.has(s.name));
  const targetNames = [...new Set(chosen.map((s) => s.target))];
  const targets = [...allTargets(jwt), hostCallTarget()].filter((t) => targetNames.includes(t.name));
  const dir = mkdtempSync(join(tmpdir(), "tollgate-bench-envoy-"));
  const running: Started[] = [];
  let rls: RateLimitService | null = null;
  let probe: RlsProbe | null = null;
  try {
    log(`Envoy ${envoyVersion(binary)} (${found0.reason}), --concurrency 1, ${pinning}`);
    for (const [name, why] of skipped) log(`  ${name}: ${why}`);
    const upFile = join(dir, "upstream.json");
    writeFileSync(upFile, JSON.stringify(upstreamBootstrap(), null, 1));
    const upstream = await start(found, "upstream", upFile, loadCore, log);
    running.push(upstream);
    const upListeners = await envoyListeners(upstream.envoy.adminUrl);
    const port = (n: string): number => Number(new URL(upListeners.find((l) => l.name === n)!.url).port);
    const up: Upstreams = { stable: port("stable"), canary: port("canary") };
    if (rlsBins && !("missing" in rlsBins) && chosen.some((s) => s.needs === "rls")) {
      log("starting Redis and envoyproxy/ratelimit …");
      rls = await startRateLimitService(rlsBins, { config: serviceConfigYaml(RATE_LIMIT_GLOBAL) });
      // With the load generators, away from the measured Envoy's core.
      if (loadCore !== null) for (const pid of rls.pids) await run("taskset", ["-a", "-p", "-c", String(loadCore), String(pid)]);
      up.rls = rls.grpcPort;
      probe = new RlsProbe(rls.grpcPort, RLS_DOMAIN);
      log(`  rate limit service on ${rls.address} (Redis on ${rls.redisPort})`);
    }

    const files = new Map<string, string>();
    for (const t of targets) {
      const file = join(dir, `${t.name}.json`);
      writeFileSync(file, JSON.stringify(t.bootstrap(up), null, 1));
      files.set(t.name, file);
    }
    log(`validating ${targets.length} bootstraps with envoy --mode validate …`);
    for (const t of targets) await validate(binary, files.get(t.name)!);
    const byTarget = new Map<string, Started>();
    // Every round gets fresh Envoy processes: the same binary and bootstrap cost a few µs more or less per
    // request from one process to the next (code placement, V8's state), so a median over windows of one
    // process would carry that process's luck into every ratio.
    const startTargets = async (): Promise<void> => {
      log(`starting ${targets.length} Envoys …`);
      for (const t of targets) {
        const old = byTarget.get(t.name);
        if (old) {
          await old.envoy.stop(5000);
          running.splice(running.indexOf(old), 1);
        }
        const s = await start(found, t.name, files.get(t.name)!, envoyCore, log);
        running.push(s);
        byTarget.set(t.name, s);
      }
    };
    await startTargets();

    // Functional checks before any figure: a scenario whose target does not do its job is not measured.
    const errors = new Map<string, string>();
    for (const s of chosen) {
      const send = sender(byTarget.get(s.target)!.url);
      try {
        for (const check of s.checks) await check(send);
      } catch (e) {
        errors.set(s.name, `functional check failed on target ${s.target}: ${(e as Error).message}`);
        log(`  ${s.name}: ${errors.get(s.name)}`);
      }
    }
    if (errors.has("baseline")) throw new Error(`the baseline does not work: ${errors.get("baseline")}`);
    if (probe) {
      try {
        await probe.call();
      } catch (e) {
        for (const s of chosen) if (s.needs === "rls") errors.set(s.name, `the service's own round trip cannot be measured: ${(e as Error).message}`);
      }
    }
    const measured = chosen.filter((s) => !errors.has(s.name));

    const scripts = new Map<string, { cpu: string; latency: string }>();
    for (const s of measured) {
      const cpu = join(dir, `${s.name.replace(/[^a-z0-9-]/gi, "_")}.lua`);
      const latency = join(dir, `${s.name.replace(/[^a-z0-9-]/gi, "_")}.paced.lua`);
      writeFileSync(cpu, wrkScript(s.request));
      writeFileSync(latency, wrkScript(s.request, 1));
      scripts.set(s.name, { cpu, latency });
    }

    const measure = async (s: Scenario, seconds: number): Promise<Window> => {
      const t = byTarget.get(s.target)!;
      const c0 = processCpuUs(t.pid);
      const w = await wrk(t.url, scripts.get(s.name)!.cpu, seconds, connections, loadCore);
      const c1 = processCpuUs(t.pid);
      return { requests: w.requests, seconds: w.duration_us / 1e6, cpuUs: c1 - c0, p50Us: w.p50, p99Us: w.p99 };
    };

    const rssAfterWarmup = new Map<string, number>();
    const warmUp = async (): Promise<void> => {
      log(`warming up ${measured.length} scenarios (1 s each) …`);
      for (const s of measured) {
        if (errors.has(s.name)) continue;
        try {
          await measure(s, 1);
        } catch (e) {
          errors.set(s.name, (e as Error).message);
        }
      }
      for (const [name, t] of byTarget) rssAfterWarmup.set(name, processRssKiB(t.pid));
    };
    await warmUp();

    const cpu = new Map<string, number[]>();
    const rps = new Map<string, number[]>();
    const lat = new Map<string, { p50: number[]; p99: number[]; rps: number[] }>();
    const served = new Map<string, number>();
    const roundTrips: RoundTrip[] = [];
    for (let r = 0; r < rounds; r++) {
      if (r > 0) {
        await startTargets();
        await warmUp();
      }
      // ABC…, then …CBA: drift on a shared machine hits every scenario alike.
      const order = r % 2 === 0 ? measured : [...measured].reverse();
      log(`round ${r + 1}/${rounds} …`);
      for (const s of order) {
        if (errors.has(s.name)) continue;
        try {
          const w = await measure(s, windowSeconds);
          (cpu.get(s.name) ?? cpu.set(s.name, []).get(s.name)!).push(w.cpuUs / w.requests);
          (rps.get(s.name) ?? rps.set(s.name, []).get(s.name)!).push(w.requests / w.seconds);
          served.set(s.name, (served.get(s.name) ?? 0) + w.requests);
          if (latencySeconds > 0) {
            const t = byTarget.get(s.target)!;
            const p = await wrk(t.url, scripts.get(s.name)!.latency, latencySeconds, 2, loadCore);
            const l = lat.get(s.name) ?? lat.set(s.name, { p50: [], p99: [], rps: [] }).get(s.name)!;
            l.p50.push(p.p50);
            l.p99.push(p.p99);
            l.rps.push(p.requests / (p.duration_us / 1e6));
            // The service's own round trip right after, at the same pacing.
            if (s.needs === "rls" && s.kind === "plugin" && probe) roundTrips.push(await probe.paced(latencySeconds));
          }
        } catch (e) {
          errors.set(s.name, (e as Error).message);
          log(`  ${s.name}: ${(e as Error).message}`);
        }
      }
    }

    const baseline = cpu.get("baseline");
    if (!baseline || baseline.length !== rounds) throw new Error(`the baseline was not measured: ${errors.get("baseline") ?? "no rounds"}`);
    const added = (name: string): number[] | undefined => {
      const xs = cpu.get(name);
      return xs && xs.length === rounds ? xs.map((x, i) => x - baseline[i]) : undefined;
    };
    // Ratios of the medians over rounds; none when either median is not above zero: the difference was not
    // resolved above this machine's noise, and a ratio of it would read as a figure.
    const ratio = (a: number[] | undefined, b: number[] | undefined): number | undefined => {
      if (!a || !b) return undefined;
      const n = median(a);
      const d = median(b);
      return n > 0 && d > 0 ? r2(n / d) : undefined;
    };
    const noopAdded = added("noop");

    const out: EnvoyBenchReport["scenarios"] = {};
    for (const [name, why] of skipped) out[name] = { skipped: why };
    for (const s of chosen) {
      const err = errors.get(s.name);
      const t = byTarget.get(s.target)!;
      if (err) {
        out[s.name] = { error: err };
        continue;
      }
      const a = added(s.name)!;
      const l = lat.get(s.name);
      const rss = processRssKiB(t.pid);
      out[s.name] = {
        target: s.target,
        kind: s.kind,
        note: s.note,
        cpuUsPerRequest: r2(median(cpu.get(s.name)!)),
        addedCpuUs: r2(median(a)),
        ...(s.kind === "plugin" ? { addedCpuRatioToNoop: ratio(a, noopAdded) } : {}),
        ...(s.kind === "plugin" && s.native ? { addedCpuRatioToNative: errors.has(s.native) ? undefined : ratio(a, added(s.native)), native: s.native } : {}),
        rps: Math.round(median(rps.get(s.name)!)),
        ...(l ? { p50Us: median(l.p50), p99Us: median(l.p99), latencyRps: Math.round(median(l.rps)) } : {}),
        rssKiB: rss,
        rssGrowthKiB: rss - rssAfterWarmup.get(s.target)!,
        requests: served.get(s.name) ?? 0,
        perRound: { cpuUsPerRequest: cpu.get(s.name)!.map(r2), addedCpuUs: a.map(r2) },
      };
    }
    for (const s of chosen) {
      const f = out[s.name];
      if (!s.alongside || !f || "error" in f || "skipped" in f) continue;
      if (s.kind === "plugin" && roundTrips.length) {
        f.serviceRoundTrip = {
          p50Us: median(roundTrips.map((x) => x.p50Us)),
          p99Us: median(roundTrips.map((x) => x.p99Us)),
          rps: Math.round(median(roundTrips.map((x) => x.rps))),
          calls: roundTrips.reduce((n, x) => n + x.calls, 0),
        };
      }
      const local = s.alongside ? out[s.alongside] : undefined;
      if (local && !("error" in local) && !("skipped" in local) && local.p50Us !== undefined && f.p50Us !== undefined) {
        f.overLocal = { scenario: s.alongside!, p50Us: r2(f.p50Us - local.p50Us), p99Us: r2(f.p99Us! - local.p99Us!) };
      }
    }

    // What each plugin does at the boundary, counted on the embedded engine from the same bootstrap.
    log("counting boundary traffic on the embedded engine (same bootstraps) …");
    for (const s of measured) {
      const f = out[s.name];
      if ((s.kind !== "plugin" && s.kind !== "noop") || !f || "error" in f || "skipped" in f) continue;
      try {
        const { statuses, ...counts } = await boundaryCounts(files.get(s.target)!, s.request);
        f.boundary = Object.keys(statuses).every((c) => c.startsWith("2")) ? counts : { error: `the embedded engine answered ${JSON.stringify(statuses)}` };
      } catch (e) {
        f.boundary = { error: (e as Error).message.split("\n")[0] };
      }
    }

    let profile: string | undefined;
    if (opts.profile) {
      const why = await perfUsable();
      if (why) {
        profile = `not profiled: ${why}`;
        log(`  ${profile}`);
      } else {
        profile = `perf record -e cpu-clock -F 1999 -p <envoy pid> over one more ${windowSeconds} s saturating window per scenario (after the rounds); a region's µs = that window's CPU µs per request × the region's share of the samples; added = minus the baseline's`;
        log("profiling each scenario's Envoy with perf …");
        const perRegion = new Map<string, Record<Region, number>>();
        for (const s of measured) {
          const f = out[s.name];
          if (!f || "error" in f || "skipped" in f) continue;
          const t = byTarget.get(s.target)!;
          try {
            const { result: w, shares } = await sampleRegions(t.pid, join(dir, `${s.name.replace(/[^a-z0-9-]/gi, "_")}.perf.data`), () => measure(s, windowSeconds));
            const us = w.cpuUs / w.requests;
            const by = Object.fromEntries(REGIONS.map((r) => [r, r2(us * shares[r])])) as Record<Region, number>;
            perRegion.set(s.name, by);
            f.cpuByRegion = by;
          } catch (e) {
            log(`  ${s.name}: profile failed: ${(e as Error).message}`);
          }
        }
        const base = perRegion.get("baseline");
        if (base) {
          for (const [name, by] of perRegion) {
            const f = out[name] as ScenarioFigures;
            if (name !== "baseline") f.addedByRegion = Object.fromEntries(REGIONS.map((r) => [r, r2(by[r] - base[r])])) as Record<Region, number>;
          }
        }
      }
    }

    const hostCalls = opts.hostCalls ? hostCallCosts(out) : undefined;

    let leak: EnvoyBenchReport["leak"];
    if (opts.leakRequests && opts.leakRequests > 0) {
      leak = {};
      const perTarget = new Map<string, Scenario>();
      for (const s of measured) if ((s.kind === "plugin" || s.kind === "noop") && !errors.has(s.name) && !perTarget.has(s.target)) perTarget.set(s.target, s);
      for (const [target, s] of perTarget) {
        log(`leak check: ${target}, ${opts.leakRequests.toLocaleString("en-US")} requests (${s.name}) …`);
        const t = byTarget.get(target)!;
        const rate = Math.max(1, median(rps.get(s.name) ?? [1000]));
        const chunk = Math.max(1, Math.round(opts.leakRequests / 10 / rate));
        const samples = [processRssKiB(t.pid)];
        let n = 0;
        while (n < opts.leakRequests) {
          n += (await wrk(t.url, scripts.get(s.name)!.cpu, chunk, connections, loadCore)).requests;
          samples.push(processRssKiB(t.pid));
        }
        const growth = samples[samples.length - 1] - samples[0];
        // Upward trend: the last third of the samples sits above the first third by more than 1 MiB.
        const third = Math.max(1, Math.floor(samples.length / 3));
        const rising = median(samples.slice(-third)) - median(samples.slice(0, third)) > 1024;
        leak[target] = { requests: n, rssKiB: samples, growthKiB: growth, trend: rising ? "rising" : "flat" };
      }
    }

    return {
      envoy: { version: envoyVersion(binary), source: found0.reason.replace(/=.*$/, ""), concurrency: 1, pinning },
      upstream: "a second Envoy (--concurrency 1) answering every request with direct_response (200, body 'stable' or 'canary'): C++ with no GC pauses and no per-request work beyond HTTP/1.1, so the upstream adds little noise to p99 and takes little of the shared core",
      load: `wrk -t1 -c${connections}, ${windowSeconds} s per scenario per round (saturating), keep-alive HTTP/1.1; per-request header values (x-client-id, x-user-id) from a wrk Lua script`,
      latency: latencySeconds > 0
        ? `wrk's latency histogram (p50/p99) with 2 connections each pausing 1 ms between requests (wrk's delay(); latencyRps is the rate reached), ${latencySeconds} s per scenario per round; closed loop, so no coordinated-omission correction`
        : "not measured (latency window 0)",
      ...(probe ? { serviceRoundTrip: "rate-limit-global: the rate limit service (envoyproxy/ratelimit on a private Redis, both on the load core) measured directly right after each of its latency windows — ShouldRateLimit with the plugin's request (domain, {per-client: client-<n>}, hits_addend 1) from the bench process over one HTTP/2 connection (tools/gateway/grpc-client.ts), 2 callers each pausing 1 ms, as wrk; overLocal = its p50/p99 minus the local rule's (rate-limit) in the same run (and native:rate-limit-global's minus native:rate-limit's, for scale)" } : {}),
      method: `Envoy CPU µs per request = (utime+stime of the measured Envoy from /proc/<pid>/stat over the wrk window) ÷ requests completed; added = minus the baseline's in the same round; medians over ${rounds} alternating rounds, each on freshly started Envoys; ratios = median added ÷ median added (absent when either median is ≤ 0, i.e. not resolved above noise)`,
      machine: { cpus: cores, model: cpus()[0]?.model ?? "unknown" },
      rounds,
      scenarios: out,
      ...(profile ? { profile } : {}),
      ...(hostCalls ? { hostCalls } : {}),
      ...(leak ? { leak } : {}),
      goals: goals(out, leak),
    };
  } finally {
    probe?.close();
    for (const s of running.reverse()) await s.envoy.stop(5000);
    await rls?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Issue 17's goals, each figure against its limit (null when the scenario was not measured). */
function goals(s: EnvoyBenchReport["scenarios"], leak: EnvoyBenchReport["leak"]): EnvoyBenchReport["goals"] {
  const fig = (name: string): ScenarioFigures | undefined => {
    const f = s[name];
    return f && !("error" in f) && !("skipped" in f) ? f : undefined;
  };
  const out: EnvoyBenchReport["goals"] = [];
  const add = (goal: string, scenario: string, value: number | undefined, limit: number, strict = false) =>
    scenario in s && // a scenario not selected (--scenario) has no goal row
    out.push({ goal, scenario, value: value ?? null, limit, met: value === undefined ? null : strict ? value < limit : value <= limit });
  for (const [name, f] of Object.entries(s)) {
    if ("error" in f || "skipped" in f || f.kind !== "plugin" || name === "all" || f.serviceRoundTrip) continue;
    add("added CPU ≤ 1.5× the noop wasm filter's", name, f.addedCpuRatioToNoop, 1.5);
  }
  for (const name of ["cors-simple", "cors-preflight", "rate-limit", "auth-key"]) add("added CPU ≤ 2× Envoy's native filter", name, fig(name)?.addedCpuRatioToNative, 2);
  // Issue 19: the global rule's call adds no more than the service's own round trip (p50, same run, same pacing).
  const global = fig("rate-limit-global");
  if (global?.overLocal && global.serviceRoundTrip) {
    add("(issue 19) global p50 − local p50 ≤ the service's own round-trip p50 (µs)", "rate-limit-global", global.overLocal.p50Us, global.serviceRoundTrip.p50Us);
  }
  for (const alg of ["rs256", "es256"]) {
    const cached = fig(`auth-jwt-cached-${alg}`);
    const native = fig(`native:auth-jwt-${alg}`);
    const resolved = cached && native && native.addedCpuUs > 0 ? r2(Math.max(cached.addedCpuUs, 0) / native.addedCpuUs) : undefined;
    add("cached JWT cheaper than jwt_authn verifying every request (ratio < 1)", `auth-jwt-cached-${alg}`, resolved, 1, true);
    add("uncached JWT ≤ 2× jwt_authn without its cache", `auth-jwt-${alg}`, fig(`auth-jwt-${alg}`)?.addedCpuRatioToNative, 2);
  }
  for (const [target, l] of Object.entries(leak ?? {})) out.push({ goal: "RSS growth over the leak run: no upward trend", scenario: target, value: l.growthKiB, limit: 1024, met: l.trend === "flat" });
  return out;
}
