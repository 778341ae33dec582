// Shared by the canary tests: the compiled module (release and debug, cached by input hash), testers
// with an injectable random source and clear_route_cache counter, and the tag a request ends up with.
import { HostEnv } from "../../../tools/host/env.ts";
import type { RouteInfo } from "../../../tools/host/filter-api.ts";
import type { HeaderMap } from "../../../tools/host/header-map.ts";
import { PluginTester } from "../../../tools/host/testing.ts";

import { type Build, compiledPlugin } from "../../helpers/plugins.ts";
export { BUILDS, type Build } from "../../helpers/plugins.ts";
export const TAG_HEADER = "x-canary-version";

/** plugins/canary compiled for `build` into dist/plugins (no-op when up to date). */
export function canaryWasm(build: Build): Promise<string> {
  return compiledPlugin("canary", build);
}

/** A configured canary plugin plus the knobs the tests turn: random bytes and the foreign function. */
export interface Canary {
  t: PluginTester;
  env: HostEnv;
  /** u32 values random_get serves next (then falls back to `fallback`); counts every draw. */
  draws: number[];
  drawCount: number;
  fallback: () => number;
  clearRouteCacheCalls: number;
}

export interface LoadExtra {
  workers?: number;
  /** Count clear_route_cache calls with a registered function (default true); false = the host's built-in one. */
  clearRouteCache?: boolean;
  /** The route table: re-resolved after the plugin changes request headers (route cache cleared). */
  route?: (h: HeaderMap) => RouteInfo | null;
}

/** Loads a configuration that must be accepted. */
export async function canary(build: Build, configuration: object, extra: LoadExtra = {}): Promise<Canary> {
  const c = {} as Canary;
  c.draws = [];
  c.drawCount = 0;
  c.clearRouteCacheCalls = 0;
  c.fallback = () => 0x9e3779b9;
  const foreignFunctions: Record<string, (args: Uint8Array) => Uint8Array | null> = {};
  if (extra.clearRouteCache !== false) {
    foreignFunctions.clear_route_cache = () => {
      c.clearRouteCacheCalls++;
      return null;
    };
  }
  c.env = new HostEnv({
    random: (buf) => {
      for (let i = 0; i < buf.length; i += 4) {
        c.drawCount++;
        const v = (c.draws.length ? c.draws.shift()! : c.fallback()) >>> 0;
        for (let j = 0; j < 4 && i + j < buf.length; j++) buf[i + j] = (v >>> (8 * j)) & 0xff;
      }
    },
    foreignFunctions,
  });
  c.t = await PluginTester.load({ wasm: await canaryWasm(build), configuration, workers: extra.workers ?? 1, env: c.env, route: extra.route });
  if (!c.t.configured) throw new Error(`canary rejected its configuration: ${c.t.logs.map((l) => l.message).join(" | ")}`);
  return c;
}

/** Loads a configuration expected to be rejected; returns every critical log line. */
export async function rejection(build: Build, configuration: object | string): Promise<string> {
  const t = await PluginTester.load({ wasm: await canaryWasm(build), configuration });
  if (t.configured) throw new Error(`configuration was accepted: ${JSON.stringify(configuration)}`);
  return [...t.logsAt("critical"), t.loadError?.message ?? ""].join("\n");
}

export interface Req {
  method?: string;
  path?: string;
  headers?: Array<[string, string]>;
  worker?: number;
  properties?: Record<string, unknown>;
}

export interface Outcome {
  /** Every value of tag_header the upstream received. */
  tags: string[];
  /** The single tag, or null when the upstream got none. */
  tag: string | null;
  setCookie: string[];
  status: number;
}

/** Sends one request through the plugin to an upstream that records what it received. */
export async function send(c: Canary, req: Req = {}): Promise<Outcome> {
  const res = await c.t.exchange({
    method: req.method ?? "GET",
    path: req.path ?? "/",
    authority: "shop.example.com",
    scheme: "http",
    headers: req.headers ?? [],
    worker: req.worker,
    properties: req.properties,
    upstream: () => ({ status: 200, headers: [["content-type", "text/plain"]], body: "ok" }),
  });
  const up = res.upstreamRequest;
  if (!up) throw new Error(`request never reached the upstream (status ${res.status}, ${res.details})`);
  const tags = up.headers.filter(([k]) => k === TAG_HEADER).map(([, v]) => v);
  const setCookie = res.headerAll("set-cookie");
  return { tags, tag: tags.length ? tags[0] : null, setCookie, status: res.status };
}

/** The tag alone (asserting there is at most one value). */
export async function tagOf(c: Canary, req: Req = {}): Promise<string | null> {
  const o = await send(c, req);
  if (o.tags.length > 1) throw new Error(`upstream got ${o.tags.length} tag headers: ${o.tags.join(", ")}`);
  return o.tag;
}

/** The u32 whose draw bucket is `bucket` (smallest such value). */
export function drawFor(bucket: number): number {
  return Number((BigInt(bucket) * (1n << 32n) + 9999n) / 10000n);
}
