// Shared by the rate-limit plugin tests: the compiled module (release and debug, cached by input hash),
// testers on a manual clock, and small request helpers.
import { ManualClock } from "../../../tools/host/clock.ts";
import { PluginTester } from "../../../tools/host/testing.ts";

import { type Build, compiledPlugin } from "../../helpers/plugins.ts";
export { BUILDS, type Build } from "../../helpers/plugins.ts";

/** plugins/rate-limit compiled for `build` into dist/plugins (no-op when up to date). */
export function rateLimitWasm(build: Build): Promise<string> {
  return compiledPlugin("rate-limit", build);
}

/**
 * 1970-02-01T00:00:00Z: calendar-aligned, so tests can reason about window boundaries, and small enough
 * that ManualClock's `nowMs * 1e6` stays below 2^53 (exact); near 2026 that product loses up to 0.13 ms,
 * which moves exact millisecond boundaries.
 */
export const T0 = Date.UTC(1970, 1, 1);

export interface Loaded {
  t: PluginTester;
  clock: ManualClock;
}

/** A configured tester on a manual clock at `startMs`; fails with the plugin's log if configure failed. */
export async function load(build: Build, configuration: object, opts: { workers?: number; startMs?: number; properties?: Record<string, unknown> } = {}): Promise<Loaded> {
  const clock = new ManualClock(opts.startMs ?? T0);
  const t = await PluginTester.load({
    wasm: await rateLimitWasm(build),
    configuration,
    workers: opts.workers ?? 1,
    clock,
    properties: opts.properties ?? { "source.address": "192.0.2.10:40000" },
  });
  if (!t.configured) throw new Error(`rate-limit rejected its configuration: ${t.logs.map((l) => l.message).join(" | ")}`);
  return { t, clock };
}

/** Loads a configuration expected to be rejected; returns the critical log lines and the load error. */
export async function rejectedConfig(build: Build, configuration: object | string): Promise<string> {
  const t = await PluginTester.load({ wasm: await rateLimitWasm(build), configuration });
  try {
    if (t.configured) throw new Error("configuration was accepted");
    return [...t.logsAt("critical"), t.loadError?.message ?? ""].join("\n");
  } finally {
    t.close();
  }
}

/** One rule config. */
export function rule(name: string, key: object, limit: object, extra: object = {}): object {
  return { name, key, limit, ...extra };
}

export type Pairs = Array<[string, string]>;

/** A GET through the plugin; `headers` are request headers. */
export function get(t: PluginTester, headers: Pairs = [], opts: { path?: string; worker?: number; properties?: Record<string, unknown> } = {}) {
  return t.exchange({
    method: "GET",
    path: opts.path ?? "/",
    authority: "api.example.com",
    scheme: "http",
    headers,
    worker: opts.worker,
    properties: opts.properties,
    upstream: () => ({ status: 200, headers: [["content-type", "text/plain"]], body: "ok" }),
  });
}

/** Statuses of `n` identical requests, in order. */
export async function statuses(t: PluginTester, n: number, headers: Pairs = [], opts: Parameters<typeof get>[2] = {}): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await get(t, headers, opts)).status);
  return out;
}

/** `n` × 200 followed by `m` × 429. */
export function passThenReject(n: number, m: number, status = 429): number[] {
  return [...Array(n).fill(200), ...Array(m).fill(status)];
}
