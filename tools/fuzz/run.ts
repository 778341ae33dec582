// Property-based fuzzing of a compiled plugin through the host (issue: robustness). Two properties:
//  1. requests: random client input and random callback orders against accepted configs never trap, end
//     in pass or a documented status, and every header the plugin lets through is a valid header value;
//     identity/tag headers only carry values the config defines;
//  2. configs: random mutations of the plugin's examples are accepted by on_configure exactly when the
//     plugin.json schema accepts them, and configure never traps.
// A failure throws with fast-check's seed, path and minimal counterexample.
import fc from "fast-check";
import { pluginWasm } from "../paths.ts";
import { checkConfig, loadPluginMeta } from "../plugins/index.ts";
import { PluginTester, type ExchangeResult } from "../host/testing.ts";
import { requestArb, stepsArb, type FuzzRequest, type Step } from "./arbitraries.ts";
import { mutateConfig } from "./mutate.ts";
import { profileFor, type FuzzProfile } from "./profiles.ts";

export interface FuzzOptions {
  /** Requests per plugin (exchanges + callback-order sequences). */
  requests: number;
  /** Random configs checked for schema/plugin agreement. */
  configs: number;
  seed: number;
  /** Stop early (still reporting counts) after this many ms; 0 = no limit. */
  timeLimitMs?: number;
  debug?: boolean;
  log?: (line: string) => void;
}

export interface FuzzReport {
  plugin: string;
  seed: number;
  requests: number;
  exchanges: number;
  sequences: number;
  outcomes: Record<string, number>;
  configsChecked: number;
  configsAccepted: number;
  configsRejected: number;
  /** Schema-valid configs rejected by a declared semantic rule. */
  configsSemantic: number;
  acceptedConfigsUsed: number;
  ms: number;
}

const HEADER_VALUE_OK = /^[^\r\n\0]*$/;

/** Loads one tester per config; only accepted configs are fuzzed with requests. */
async function loadTesters(name: string, configs: unknown[], debug: boolean): Promise<Array<{ t: PluginTester; config: unknown }>> {
  const out: Array<{ t: PluginTester; config: unknown }> = [];
  for (const configuration of configs) {
    const t = await PluginTester.load({
      wasm: pluginWasm(name, debug),
      configuration: JSON.stringify(configuration),
      workers: 2,
      logLevel: "warn",
      clusters: ["authz", "ext-authz", "ext_authz", "auth"],
      // ext_auth style callouts answer by a hash of the request: allow, deny, error, or fail.
      callouts: (req) => {
        const h = req.token % 4;
        if (h === 0) return { status: 200, headers: { "x-user": "fuzz" } };
        if (h === 1) return { status: 403, body: "denied" };
        if (h === 2) return { status: 503 };
        return { failure: "reset" };
      },
    });
    if (t.configured) out.push({ t, config: configuration });
  }
  return out;
}

/**
 * Linear-memory bound (issue 15): one request, however large (the floods in arbitraries.ts reach Envoy's
 * 60 KiB header limit), may grow a VM by at most MAX_PAGES_PER_REQUEST pages, and a whole run at most
 * MAX_PAGES_PER_RUN above what the VM had after configure. Wasm memory never shrinks, so growth that
 * adds up per request is an outage (every worker VM at the 4 GiB cap), not a leak to find later.
 */
export const MAX_PAGES_PER_REQUEST = 8;
export const MAX_PAGES_PER_RUN = 32;

/** Pages of every VM of every plugin of `t`, in a fixed order. */
function vmPages(t: PluginTester): number[] {
  return t.plugins.flatMap((p) => p.vms.map((vm) => vm.memory.buffer.byteLength / 65536));
}

function checkMemory(t: PluginTester, base: number[], before: number[], what: () => string): void {
  const now = vmPages(t);
  for (let i = 0; i < now.length; i++) {
    if (now[i] - before[i] > MAX_PAGES_PER_REQUEST) {
      throw new Error(`one request grew a VM from ${before[i]} to ${now[i]} pages (bound: ${MAX_PAGES_PER_REQUEST}) — on ${what()}`);
    }
    if (now[i] - base[i] > MAX_PAGES_PER_RUN) {
      throw new Error(`VM memory grew from ${base[i]} to ${now[i]} pages over the run (bound: ${MAX_PAGES_PER_RUN}) — last request ${what()}`);
    }
  }
}

function checkVmsAlive(t: PluginTester, what: () => string): void {
  for (const p of t.plugins) {
    for (const vm of p.vms) {
      if (vm.failed) throw new Error(`VM trapped (${vm.failure}) on ${what()}`);
    }
  }
  const critical = t.logs.filter((l) => l.level >= 5);
  if (critical.length) throw new Error(`critical log on the request path: ${critical[0].message} — on ${what()}`);
  // Keep memory bounded across a million requests.
  t.logs.length = 0;
}

function checkResult(profile: FuzzProfile, config: unknown, req: FuzzRequest, r: ExchangeResult, outcomes: Record<string, number>): void {
  const describe = () => JSON.stringify({ config, req, status: r.status, details: r.details });
  for (const [k, v] of r.headers) {
    if (!HEADER_VALUE_OK.test(v)) throw new Error(`response header ${k} carries CR/LF/NUL: ${JSON.stringify(v)} — ${describe()}`);
  }
  if (r.upstreamRequest) {
    for (const [k, v] of r.upstreamRequest.headers) {
      if (!HEADER_VALUE_OK.test(v)) throw new Error(`upstream request header ${k} carries CR/LF/NUL: ${JSON.stringify(v)} — ${describe()}`);
    }
    const bad = profile.checkUpstreamRequest?.(config, req, r.upstreamRequest.headers);
    if (bad) throw new Error(`${bad} — ${describe()}`);
  }
  if (r.localReply) {
    const allowed = profile.localStatuses(config);
    if (!allowed.includes(r.status)) throw new Error(`undocumented local reply ${r.status} (${r.details}); documented: ${allowed.join(", ")} — ${describe()}`);
    outcomes[`local ${r.status} ${r.details}`] = (outcomes[`local ${r.status} ${r.details}`] ?? 0) + 1;
  } else if (r.upstreamRequest) {
    outcomes.upstream = (outcomes.upstream ?? 0) + 1;
  } else {
    outcomes[`other ${r.status} ${r.details}`] = (outcomes[`other ${r.status} ${r.details}`] ?? 0) + 1;
  }
  const badResp = profile.checkResponse?.(config, req, r);
  if (badResp) throw new Error(`${badResp} — ${describe()}`);
}

function driveSteps(t: PluginTester, req: FuzzRequest, steps: Step[], worker: number): void {
  const s = t.stream(worker);
  const reqHeaders: Array<[string, string]> = [[":method", req.method], [":path", req.path], [":authority", req.authority], [":scheme", req.scheme], ...req.headers];
  for (const st of steps) {
    switch (st.kind) {
      case "requestHeaders": s.requestHeaders(reqHeaders, st.endStream); break;
      case "requestBody": s.requestBody(Buffer.from(st.chunk, "latin1"), st.endStream); break;
      case "requestTrailers": s.requestTrailers([["x-trailer", "1"]]); break;
      case "responseHeaders": s.responseHeaders([[":status", String(req.upstreamStatus)], ...req.upstreamHeaders], st.endStream); break;
      case "responseBody": s.responseBody(Buffer.from(st.chunk, "latin1"), st.endStream); break;
      case "responseTrailers": s.responseTrailers([["grpc-status", "0"]]); break;
    }
  }
  s.complete();
}

/** A request for an error message: values longer than 256 characters shown by length and start. */
function describeRequest(req: FuzzRequest): unknown {
  const cut = (v: string) => (v.length > 256 ? `${v.slice(0, 64)}… (${v.length} chars)` : v);
  return { ...req, path: cut(req.path), headers: req.headers.map(([k, v]) => [k, cut(v)]), body: cut(req.body) };
}

/** A counterexample for the error message: strings over 512 characters (the floods) shown by size. */
function clip(s: string): string {
  return s.replace(/"((?:[^"\\]|\\.){512,}?)"/g, (_m, body: string) => `"${body.slice(0, 128)}…" /* ${body.length} chars */`);
}

/** Runs a property; a failure throws with the seed, the replay path, the error and the shrunk counterexample. */
async function check<T>(plugin: string, what: string, prop: fc.IAsyncProperty<T>, params: fc.Parameters<T>): Promise<void> {
  const out = await fc.check(prop, params);
  if (!out.failed) return;
  const err = out.errorInstance instanceof Error ? out.errorInstance.message : String(out.errorInstance);
  throw new Error(
    `${plugin} ${what} property failed (seed ${out.seed}, path ${out.counterexamplePath}, after ${out.numRuns} runs, shrunk ${out.numShrinks} times)\n` +
      `  error: ${err}\n  minimal counterexample: ${clip(fc.stringify(out.counterexample))}`,
  );
}

/** Fuzzes one plugin; throws on the first invariant violation with the seed and the counterexample. */
export async function fuzzPlugin(name: string, opts: FuzzOptions): Promise<FuzzReport> {
  const started = Date.now();
  const meta = loadPluginMeta(name);
  const profile = profileFor(name);
  const valid = (config: unknown) => checkConfig(name, config).length === 0;
  const deadline = opts.timeLimitMs ? started + opts.timeLimitMs : Infinity;
  const report: FuzzReport = {
    plugin: name, seed: opts.seed, requests: 0, exchanges: 0, sequences: 0, outcomes: {},
    configsChecked: 0, configsAccepted: 0, configsRejected: 0, configsSemantic: 0, acceptedConfigsUsed: 0, ms: 0,
  };
  const examples = meta.examples.map((e) => e.config);
  const semantic = (meta["x-semantic-rules"] ?? []).map((r) => new RegExp(r.log));

  // Property 2: schema ⇔ on_configure on random mutations of the examples.
  const acceptedRandom: unknown[] = [];
  if (opts.configs > 0 && examples.length) {
    await check(name, "configs",
      fc.asyncProperty(fc.nat({ max: examples.length - 1 }), fc.integer(), fc.integer({ min: 1, max: 4 }), async (i, mseed, n) => {
        const config = mutateConfig(examples[i], mseed, n);
        const bySchema = valid(config);
        const t = await PluginTester.load({ wasm: pluginWasm(name, opts.debug), configuration: JSON.stringify(config), logLevel: "warn" });
        const trapped = t.plugins.some((p) => p.vms.some((vm) => vm.failed)) || (t.loadError?.message ?? "").includes("failed:");
        t.close();
        report.configsChecked++;
        if (trapped) throw new Error(`configure trapped: ${t.loadError?.message} — config ${JSON.stringify(config)}`);
        if (t.configured) report.configsAccepted++;
        else report.configsRejected++;
        const lines = t.logsAt("critical");
        if (bySchema && !t.configured && semantic.some((re) => lines.some((l) => re.test(l)))) {
          report.configsSemantic++;
          return;
        }
        if (bySchema !== t.configured) {
          const why = t.configured ? "the plugin accepted a config the schema rejects" : `the schema accepts a config the plugin rejects (${t.logsAt("critical").join("; ") || t.loadError?.message})`;
          throw new Error(`${why}: ${JSON.stringify(config)}`);
        }
        if (t.configured && acceptedRandom.length < 8) acceptedRandom.push(config);
      }),
      { numRuns: opts.configs, seed: opts.seed, endOnFailure: true },
    );
  }

  // Property 1: requests against every example (the demo configs) and a few accepted random configs.
  const configs = [...examples, ...acceptedRandom];
  const testers = await loadTesters(name, configs, opts.debug ?? false);
  if (!testers.length) throw new Error(`${name}: no example config is accepted by the plugin`);
  const basePages = testers.map(({ t }) => vmPages(t));
  report.acceptedConfigsUsed = testers.length;
  try {
    await check(name, "requests",
      fc.asyncProperty(fc.nat({ max: testers.length - 1 }), requestArb, fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: stepsArb }), fc.nat({ max: 1 }), async (ti, req, steps, worker) => {
        if (Date.now() > deadline) return;
        const { t, config } = testers[ti];
        report.requests++;
        const before = vmPages(t);
        // Floods are 60 KiB: describe them by size, not by value.
        const show = () => JSON.stringify({ config, req: describeRequest(req), steps });
        if (steps) {
          report.sequences++;
          driveSteps(t, req, steps, worker);
          checkVmsAlive(t, show);
          checkMemory(t, basePages[ti], before, show);
          return;
        }
        report.exchanges++;
        const r = await t.exchange({
          method: req.method, path: req.path, authority: req.authority, scheme: req.scheme, headers: req.headers,
          body: Buffer.from(req.body, "latin1"), worker,
          upstream: () => ({ status: req.upstreamStatus, headers: req.upstreamHeaders, body: "ok" }),
        });
        checkVmsAlive(t, show);
        checkMemory(t, basePages[ti], before, show);
        checkResult(profile, config, req, r, report.outcomes);
      }),
      { numRuns: opts.requests, seed: opts.seed, endOnFailure: true },
    );
  } finally {
    for (const { t } of testers) t.close();
  }
  report.ms = Date.now() - started;
  return report;
}
