// rate-limit section of `tollgate bench`: a request that passes one per-client rule (x-api-key, 10k
// distinct clients in rotation, so every request finds a token) as a ratio to the noop floor, with
// draft-03 headers (three response header writes) and with headers off; release .wasm size; linear-memory
// growth over many requests from 10k distinct clients after warm-up.
import { pluginWasm } from "../paths.ts";
import { type BenchContext, type BenchRequest, round, TYPICAL_REQUEST } from "./context.ts";

const CLIENTS = 10_000;

function config(headers: "draft03" | "none") {
  return {
    headers,
    max_keys: CLIENTS,
    rules: [{ name: "per-client", key: { header: "x-api-key" }, limit: { requests: 1000, per: "second" } }],
  };
}

/**
 * The floor's typical request with an API key instead of accept-language (10 headers, as the floor), one
 * per client, built before measuring: the floor reuses one request object, so building requests inside
 * the measured loop would charge the plugin for the bench's own allocations.
 */
const REQUESTS: BenchRequest[] = Array.from({ length: CLIENTS }, (_, i) => ({
  ...TYPICAL_REQUEST,
  headers: [...TYPICAL_REQUEST.headers!.filter(([k]) => k !== "accept-language"), ["x-api-key", `client-${i}`]],
}));
const request = (i: number): BenchRequest => REQUESTS[i % CLIENTS];

export async function bench(ctx: BenchContext): Promise<Record<string, unknown>> {
  const spec = (headers: "draft03" | "none") => ({ wasm: pluginWasm("rate-limit"), name: "rate-limit", rootId: "rate-limit", configuration: config(headers) });
  const withHeaders = await ctx.paired(spec("draft03"), request);
  const bare = await ctx.paired(spec("none"), request);
  const requests = ctx.full ? 1_000_000 : 100_000;
  const memoryGrowthPages = await ctx.memoryGrowthPages(spec("draft03"), request, requests);
  return {
    ratio: withHeaders.ratio,
    nsPerRequest: round(withHeaders.ns, 0),
    noHeadersRatio: bare.ratio,
    noHeadersNsPerRequest: round(bare.ns, 0),
    floorNsPerRequest: round(withHeaders.floorNs, 0),
    wasmBytes: ctx.wasmBytes("rate-limit"),
    memoryGrowthPages,
    memoryRequests: requests,
    memoryClients: CLIENTS,
    goals: { ratio: 3.0, wasmBytes: 32768, memoryGrowthPages: 0 },
    request: "GET with 10 headers passing one per-client token bucket (x-api-key, 10k clients): 1 shared-data get + 1 CAS set; draft-03 headers on the response (noHeaders: headers 'none')",
  };
}
