// cors section of `tollgate bench`: an allowed cross-origin GET (the hot path: origin check on the request,
// four header edits on the response) and an allowed preflight (answered locally), each as a ratio to the
// noop floor, also with the Origin changing on every request; release .wasm size; linear-memory growth
// across many requests after warm-up.
import { pluginWasm } from "../paths.ts";
import { type BenchContext, type BenchRequest, round, TYPICAL_REQUEST } from "./context.ts";

const ORIGIN = "https://app.example.com";

/** A realistic policy: two exact origins, a pattern, credentials, an exposed header. */
const CONFIG = {
  allow_origins: ["https://www.example.com", ORIGIN],
  allow_origin_patterns: ["https://*.example.org:[*]"],
  allow_methods: ["GET", "POST", "PUT", "DELETE"],
  allow_headers: ["Content-Type", "Authorization", "X-Request-Id"],
  expose_headers: ["X-Request-Id"],
  allow_credentials: true,
  max_age: 600,
};

/** The floor's typical request, cross-origin from an allowed origin (Origin replaces accept-language, so 10 headers still). */
const GET: BenchRequest = {
  ...TYPICAL_REQUEST,
  headers: [...TYPICAL_REQUEST.headers!.filter(([k]) => k !== "accept-language"), ["origin", ORIGIN]],
};

const PREFLIGHT: BenchRequest = {
  ...TYPICAL_REQUEST,
  method: "OPTIONS",
  headers: [
    ...TYPICAL_REQUEST.headers!.filter(([k]) => k !== "accept-language" && k !== "x-forwarded-for" && k !== "x-request-id"),
    ["origin", ORIGIN],
    ["access-control-request-method", "PUT"],
    ["access-control-request-headers", "content-type,x-request-id"],
  ],
};

/**
 * The same requests with the Origin changing on every request (three allowed origins in turn): the
 * filter memoizes decisions for a repeated Origin / preflight, so these measure its full path.
 */
const ORIGINS = [ORIGIN, "https://www.example.com", "https://eu.example.org"];
const withOrigin = (r: BenchRequest, origin: string): BenchRequest => ({ ...r, headers: r.headers!.map(([k, v]) => [k, k === "origin" ? origin : v]) });
const GETS = ORIGINS.map((o) => withOrigin(GET, o));
const PREFLIGHTS = ORIGINS.map((o) => withOrigin(PREFLIGHT, o));

export async function bench(ctx: BenchContext): Promise<Record<string, unknown>> {
  const spec = { wasm: pluginWasm("cors"), name: "cors", rootId: "cors", configuration: CONFIG };
  const get = await ctx.paired(spec, GET);
  const preflight = await ctx.paired(spec, PREFLIGHT);
  const getChanging = await ctx.paired(spec, (i) => GETS[i % GETS.length]);
  const preflightChanging = await ctx.paired(spec, (i) => PREFLIGHTS[i % PREFLIGHTS.length]);
  const requests = ctx.full ? 1_000_000 : 100_000;
  const memoryGrowthPages = await ctx.memoryGrowthPages(spec, (i) => (i % 4 === 0 ? PREFLIGHT : GET), requests);
  return {
    ratio: get.ratio,
    nsPerRequest: round(get.ns, 0),
    preflightRatio: preflight.ratio,
    preflightNsPerRequest: round(preflight.ns, 0),
    ratioChangingOrigin: getChanging.ratio,
    preflightRatioChangingOrigin: preflightChanging.ratio,
    floorNsPerRequest: round(get.floorNs, 0),
    wasmBytes: ctx.wasmBytes("cors"),
    memoryGrowthPages,
    memoryRequests: requests,
    goals: { ratio: 2.0, preflightRatio: 2.0, wasmBytes: 32768, memoryGrowthPages: 0 },
    request: "GET with 10 headers from an allowed cross-origin Origin (ACAO, ACAC, ACEH, Vary set on the response); preflight: OPTIONS PUT with 2 requested headers; *ChangingOrigin: the same with three allowed origins in turn (no repeated-value memo hits)",
  };
}
