// A client paced below a bucket's refill rate is never limited and always sees the bucket almost full,
// black-box on both engines from one bootstrap. The reference is Envoy 1.40 itself: its local_ratelimit
// filter, given the same token_bucket (100 tokens, 100 per 1 s), answers X-RateLimit-Remaining 99 to every
// request at 80 req/s, because its bucket refills at a steady tokens_per_fill / fill_interval
// (AtomicTokenBucketImpl), not in one lump per interval. The plugin's max_tokens form is documented as that
// bucket, so it must answer the same; so must the `{requests: 100, per: "second"}` form. A bucket that
// refilled in lumps would count down 99, 98, … to about 20 before the first refill, so the assertions below
// cannot pass on it; the tolerance only absorbs the odd request whose processing was delayed by the
// machine, so that it reached the engine less than 10 ms after the previous one (one token short).
import assert from "node:assert/strict";
import { Agent, request } from "node:http";
import { test } from "node:test";
import { bootstrapDoc, DIRECT_OK, pluginFilter } from "../../helpers/bootstrap.ts";
import { ENGINES, startEngine, type EngineHandle } from "../../helpers/engines.ts";
import { requireEnvoy } from "../../helpers/envoy.ts";
import { rateLimitWasm } from "./support.ts";

const RPS = 80;
const REQUESTS = 200; // 2.5 s: more than two refill intervals of the lump-refill reading
const CAPACITY = 100;
/**
 * The lowest remaining allowed. Timer jitter on a busy 2-core machine lets requests bunch up and see tokens
 * not yet back (Envoy's own filter dips too), so dips are timing, not a verdict; a bucket refilled in lumps
 * counts down to ~20 here (24 and 28 measured), far below this floor. Shares of exact answers are not asserted:
 * they depend on the machine's load.
 */
const MAX_DIP = 25;

const FORMS = [
  { host: "bucket.test", what: "max_tokens 100, tokens_per_fill 100, fill_interval_ms 1000", limit: { max_tokens: CAPACITY, tokens_per_fill: CAPACITY, fill_interval_ms: 1000 } },
  { host: "rate.test", what: "requests 100 per second", limit: { requests: CAPACITY, per: "second" } },
];

const pluginConfig = {
  _rules_: FORMS.map((f) => ({ _match_domain_: [f.host], headers: "draft03", rules: [{ name: "all", key: { global: {} }, limit: f.limit }] })),
};

function bootstrap(name: string, filter: Record<string, unknown>): object {
  return bootstrapDoc({ name, filters: [filter], routes: [DIRECT_OK] });
}

const pluginBootstrap = bootstrap("rl", pluginFilter("rate-limit", pluginConfig));

/** Envoy's own filter with the same bucket as the max_tokens form (Envoy only: the embedded engine runs wasm filters). */
const nativeBootstrap = bootstrap("native", {
  name: "envoy.filters.http.local_ratelimit",
  typed_config: {
    "@type": "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
    stat_prefix: "native",
    enable_x_ratelimit_headers: "DRAFT_VERSION_03",
    token_bucket: { max_tokens: CAPACITY, tokens_per_fill: CAPACITY, fill_interval: "1s" },
    filter_enabled: { default_value: { numerator: 100, denominator: "HUNDRED" } },
    filter_enforced: { default_value: { numerator: 100, denominator: "HUNDRED" } },
  },
});

interface Answer { status: number; remaining: number }

/** REQUESTS GETs on one keep-alive connection, one at a time, started at most RPS per second. */
async function paced(port: number, host: string): Promise<Answer[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const gap = 1000 / RPS;
  const out: Answer[] = [];
  try {
    let next = performance.now();
    for (let i = 0; i < REQUESTS; i++) {
      const wait = next - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      next = Math.max(next, performance.now()) + gap;
      out.push(await new Promise<Answer>((resolve, reject) => {
        const req = request({ host: "127.0.0.1", port, path: `/p${i}`, headers: { host }, agent, timeout: 10_000 }, (res) => {
          res.resume();
          res.on("end", () => resolve({ status: res.statusCode ?? 0, remaining: Number(res.headers["x-ratelimit-remaining"] ?? NaN) }));
        });
        req.on("timeout", () => req.destroy(new Error(`request ${i}: timeout`)));
        req.on("error", reject);
        req.end();
      }));
    }
  } finally {
    agent.destroy();
  }
  return out;
}

function histogram(answers: Answer[]): string {
  const h = new Map<string, number>();
  for (const a of answers) h.set(`${a.status}:${a.remaining}`, (h.get(`${a.status}:${a.remaining}`) ?? 0) + 1);
  return [...h].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}×${n}`).join(" ");
}

/** Every request allowed; remaining near capacity - 1 (no countdown). */
function assertNearlyFull(answers: Answer[], what: string): void {
  const summary = `${what}: status:remaining ${histogram(answers)}; in order: ${answers.map((a) => a.remaining).join(" ")}`;
  assert.ok(answers.every((a) => a.status === 200), `every request is allowed — ${summary}`);
  const min = Math.min(...answers.map((a) => a.remaining));
  assert.ok(min >= CAPACITY - 1 - MAX_DIP, `the bucket never counts down (lowest remaining ${min}) — ${summary}`);
}

test(`reference: Envoy 1.40's local_ratelimit (100 tokens, 100 per 1 s) at ${RPS} req/s keeps remaining at ${CAPACITY - 1}`, { timeout: 120_000 }, async (t) => {
  const envoy = requireEnvoy(t);
  if (!envoy) return;
  const gw = await startEngine("envoy", nativeBootstrap, envoy);
  try {
    const answers = await paced(gw.port("native"), "native.test");
    t.diagnostic(`native local_ratelimit: ${histogram(answers)}`);
    assertNearlyFull(answers, "Envoy local_ratelimit");
  } finally {
    await gw.stop();
  }
});

for (const engine of ENGINES) {
  test(`rate-limit paced at ${RPS} req/s below a ${CAPACITY}/s refill keeps remaining at ${CAPACITY - 1} on ${engine}`, { timeout: 120_000 }, async (t) => {
    const envoy = engine === "envoy" ? requireEnvoy(t) : null;
    if (engine === "envoy" && !envoy) return;
    await rateLimitWasm("release");
    const gw: EngineHandle = await startEngine(engine, pluginBootstrap, envoy);
    try {
      for (const f of FORMS) {
        await t.test(f.what, async () => {
          const answers = await paced(gw.port("rl"), f.host);
          t.diagnostic(`${engine} ${f.what}: ${histogram(answers)}`);
          assertNearlyFull(answers, `${engine}, ${f.what}`);
        });
      }
      const stats = await gw.stats();
      assert.equal(stats.get("wasmcustom.tollgate.outcome=.=rejected;.;rule=.=all;.;rate_limit_requests_total"), "0", "nothing was rejected");
    } finally {
      await gw.stop();
    }
  });
}
