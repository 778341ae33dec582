// canary section of `tollgate bench`: a request tagged by a header rule and a sticky weighted decision
// (hash of x-user-id → bucket → tag), each as a ratio to the noop floor, with the smallest config that
// makes that decision; the same two requests under the demo policy (override header + rule + sticky
// split + pin cookie) and an anonymous weighted draw (random_get + Set-Cookie pin) for information;
// release .wasm size; linear-memory growth after warm-up.
import { pluginWasm } from "../paths.ts";
import { type BenchContext, type BenchRequest, round, TYPICAL_REQUEST } from "./context.ts";

const RULE_RULE = { match: { all: [{ type: "header", key: "x-beta", op: "equal", value: "true" }] }, tag: "v2" };
const RULE_CONFIG = { default_tag: "v1", rules: [RULE_RULE] };
const STICKY_CONFIG = { default_tag: "v1", weights: [{ tag: "v2", weight: 30 }], sticky_by: { header: "x-user-id" } };
/** envoy-configs/demo.yaml's policy. */
const DEMO_CONFIG = {
  ...STICKY_CONFIG,
  override_header: "x-canary",
  canary_tag: "v2",
  stable_tag: "v1",
  rules: [RULE_RULE],
  pin_cookie: "canary_pin",
};

/** The floor's typical request with one header swapped (accept-language → the canary input), so 10 headers still. */
function typicalWith(name: string, value: string): BenchRequest {
  return { ...TYPICAL_REQUEST, headers: [...TYPICAL_REQUEST.headers!.filter(([k]) => k !== "accept-language"), [name, value]] };
}

const RULE = typicalWith("x-beta", "true");
/**
 * 16 user ids, built up front. The plugin caches nothing, so every id costs it the same hash and lookup;
 * more distinct request objects would only add the bench driver's own JS cost (measured: ~0.1 of the
 * floor with 4096) to a ratio that is about the plugin.
 */
const STICKY_POOL: BenchRequest[] = Array.from({ length: 16 }, (_, i) => typicalWith("x-user-id", `user-${i * 7919}`));
const sticky = (i: number): BenchRequest => STICKY_POOL[i & 15];
const ANONYMOUS = typicalWith("accept-language", "en-US,en;q=0.9");

function spec(configuration: object): object {
  return { wasm: pluginWasm("canary"), name: "canary", rootId: "canary", configuration };
}

export async function bench(ctx: BenchContext): Promise<Record<string, unknown>> {
  const rule = await ctx.paired(spec(RULE_CONFIG), RULE);
  const stick = await ctx.paired(spec(STICKY_CONFIG), sticky);
  const demoRule = await ctx.paired(spec(DEMO_CONFIG), RULE);
  const demoSticky = await ctx.paired(spec(DEMO_CONFIG), sticky);
  const draw = await ctx.paired(spec(DEMO_CONFIG), ANONYMOUS);
  const requests = ctx.full ? 1_000_000 : 100_000;
  // Memory: many distinct ids (new strings every request), the three kinds of decision mixed.
  const memoryGrowthPages = await ctx.memoryGrowthPages(spec(DEMO_CONFIG) as never,
    (i) => (i % 3 === 0 ? RULE : i % 3 === 1 ? typicalWith("x-user-id", `user-${i}`) : ANONYMOUS), requests);
  return {
    ratio: rule.ratio,
    nsPerRequest: round(rule.ns, 0),
    stickyRatio: stick.ratio,
    stickyNsPerRequest: round(stick.ns, 0),
    demoPolicy: { ratio: demoRule.ratio, stickyRatio: demoSticky.ratio, drawRatio: draw.ratio, drawNsPerRequest: round(draw.ns, 0) },
    floorNsPerRequest: round(rule.floorNs, 0),
    wasmBytes: ctx.wasmBytes("canary"),
    memoryGrowthPages,
    memoryRequests: requests,
    goals: { ratio: 2.0, stickyRatio: 2.0, wasmBytes: 32768, memoryGrowthPages: 0 },
    request: "typical 10-header GET; ratio: tagged by the header rule x-beta: true (rules only); stickyRatio: 30% split hashed on x-user-id (weights + sticky_by only, 16 rotating ids); demoPolicy: the same under envoy-configs/demo.yaml's policy, plus an anonymous random draw with a Set-Cookie pin; memory: demo policy, the three kinds mixed",
  };
}
