// Four worker VMs share one bucket through shared data. The host's shared-data hook stops a VM inside
// proxy_get/set_shared_data and lets the test run another worker's request right there, so every
// interleaving of the plugin's read-decide-CAS loop can be produced. We enumerate them all (depth-first
// over "at this shared-data access, start a request on an idle worker or not") and check each one:
// exactly N requests pass, and rejected requests leave every bucket untouched.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { PluginTester } from "../../../tools/host/testing.ts";
import { BUILDS, load, rule } from "./support.ts";

const WORKERS = 4;

interface Run {
  /** Options at each shared-data access, in order (1 = only "go on"). */
  options: number[];
  allowed: Array<{ key: string; worker: number }>;
  maxDepth: number;
  /** Successful writes that raised a slot's tokens (time does not move within a schedule): refunds. */
  refunds: number;
}

/**
 * Runs `keys.length` requests (request i uses x-api-key keys[i]) against `t` following `choices`: at
 * access e, choice 0 goes on, choice 1 starts the next request on the lowest idle worker, nested inside
 * the current VM's host call. Requests not started by nesting run one after another at top level.
 */
function runSchedule(t: PluginTester, keys: string[], choices: number[]): Run {
  const busy = new Set<number>();
  const run: Run = { options: [], allowed: [], maxDepth: 0, refunds: 0 };
  const lastTokens = new Map<string, number>();
  let next = 0;
  let event = 0;

  const request = (worker: number, key: string) => {
    busy.add(worker);
    run.maxDepth = Math.max(run.maxDepth, busy.size);
    const s = t.stream(worker);
    s.requestHeaders([[":method", "GET"], [":path", "/"], [":authority", "api.example.com"], [":scheme", "http"], ["x-api-key", key]], true);
    if (s.localReply === null) run.allowed.push({ key, worker });
    else assert.equal(s.localReply.status, 429);
    s.complete();
    busy.delete(worker);
  };

  t.env.sharedData.onAccess = (ev) => {
    if (ev.op === "set" && ev.value && ev.value.length === 16 && ev.result === 0) {
      const left = Buffer.from(ev.value).readUInt32LE(4);
      const before = lastTokens.get(ev.key);
      if (before !== undefined && left > before) run.refunds++;
      lastTokens.set(ev.key, left);
    }
    const e = event++;
    let idle = -1;
    for (let w = 0; w < WORKERS; w++) {
      if (!busy.has(w)) {
        idle = w;
        break;
      }
    }
    const canNest = idle >= 0 && next < keys.length;
    run.options.push(canNest ? 2 : 1);
    const choice = e < choices.length ? choices[e] : 0;
    if (choice === 1 && canNest) request(idle, keys[next++]);
  };
  try {
    while (next < keys.length) request(next % WORKERS, keys[next++]);
  } finally {
    t.env.sharedData.onAccess = null;
  }
  return run;
}

/** The next choice vector in depth-first order, or null when the tree is exhausted. */
function nextChoices(choices: number[], options: number[]): number[] | null {
  const full = options.map((_, i) => (i < choices.length ? choices[i] : 0));
  for (let i = full.length - 1; i >= 0; i--) {
    if (full[i] + 1 < options[i]) return [...full.slice(0, i), full[i] + 1];
  }
  return null;
}

/** Tokens left in every slot: key → tokens (slot layout: u32 fingerprint, u32 tokens, u64 anchor). */
function tokens(t: PluginTester): Map<string, number> {
  const out = new Map<string, number>();
  for (const k of t.sharedDataKeys()) out.set(k, t.sharedData(k)!.value.readUInt32LE(4));
  return out;
}

for (const build of BUILDS) {
  describe(`rate-limit concurrency, ${WORKERS} workers (${build})`, () => {
    test("one bucket of 3, 6 requests: exactly 3 pass in every interleaving", async (tc) => {
      const N = 3;
      const { t, clock } = await load(build, { rules: [rule("per-key", { header: "x-api-key" }, { max_tokens: N, tokens_per_fill: N, fill_interval_ms: 1000 })], max_keys: 4 }, { workers: WORKERS });
      try {
        const keys = Array(6).fill("k");
        let choices: number[] | null = [];
        let schedules = 0;
        let deepest = 0;
        const workersSeen = new Set<number>();
        while (choices) {
          const run = runSchedule(t, keys, choices);
          schedules++;
          deepest = Math.max(deepest, run.maxDepth);
          for (const a of run.allowed) workersSeen.add(a.worker);
          assert.equal(run.allowed.length, N, `schedule ${JSON.stringify(choices)}: ${run.allowed.length} allowed`);
          for (const left of tokens(t).values()) assert.ok(left === 0 || left === N, `slot left with ${left}`);
          // Refill the bucket for the next schedule.
          clock.advance(1000);
          choices = nextChoices(choices, run.options);
        }
        tc.diagnostic(`${schedules} interleavings`);
        assert.ok(schedules > 100, `explored ${schedules} schedules`);
        assert.equal(deepest, WORKERS, "some schedule stacks all four VMs");
        assert.equal(workersSeen.size, WORKERS, "every worker got a token in some schedule");
        assert.equal(t.metric("tollgate.rule=.=per-key;.;rate_limit_cas_exhausted_total"), 0);
        assert.equal(t.metric("tollgate.outcome=.=allowed;.;rule=.=per-key;.;rate_limit_requests_total"), N * schedules);
        assert.equal(t.metric("tollgate.outcome=.=rejected;.;rule=.=per-key;.;rate_limit_requests_total"), (keys.length - N) * schedules);
      } finally {
        t.close();
      }
    });

    test("fixed window of 3: exactly 3 pass in every interleaving", async (tc) => {
      const N = 3;
      const cfg = { rules: [rule("per-key", { header: "x-api-key" }, { requests: N, per: "second" }, { algorithm: "fixed_window" })], max_keys: 4 };
      const { t, clock } = await load(build, cfg, { workers: WORKERS });
      try {
        const keys = Array(5).fill("k");
        let choices: number[] | null = [];
        let schedules = 0;
        while (choices) {
          const run = runSchedule(t, keys, choices);
          schedules++;
          assert.equal(run.allowed.length, N, `schedule ${JSON.stringify(choices)}: ${run.allowed.length} allowed`);
          // The next schedule runs in the next calendar second: a fresh window.
          clock.advance(1000);
          choices = nextChoices(choices, run.options);
        }
        tc.diagnostic(`${schedules} interleavings`);
        assert.ok(schedules > 50, `explored ${schedules} schedules`);
        assert.equal(t.metric("tollgate.rule=.=per-key;.;rate_limit_cas_exhausted_total"), 0);
      } finally {
        t.close();
      }
    });

    test("two new values racing into one set: each gets one bucket, exactly 2 + 2 pass in every interleaving", async (tc) => {
      // max_keys 2: one set of two slots. Placing a value in the set and charging it is one CAS on the set,
      // so two workers inserting the same value at once cannot give it two buckets.
      const cfg = { rules: [rule("per-key", { header: "x-api-key" }, { max_tokens: 2, tokens_per_fill: 2, fill_interval_ms: 1000 })], max_keys: 2 };
      const { t, clock } = await load(build, cfg, { workers: WORKERS });
      try {
        const keys = ["a", "b", "a", "b", "a", "b"];
        let choices: number[] | null = [];
        let schedules = 0;
        while (choices) {
          const run = runSchedule(t, keys, choices);
          schedules++;
          const where = `schedule ${JSON.stringify(choices)}`;
          const a = run.allowed.filter((x) => x.key === "a").length;
          const b = run.allowed.filter((x) => x.key === "b").length;
          assert.deepEqual([a, b], [2, 2], `${where}: a=${a}, b=${b}`);
          const [key] = t.sharedDataKeys();
          const v = t.sharedData(key)!.value;
          assert.equal(v.length, 32, "one value holds both slots");
          const fps = [v.readUInt32LE(0), v.readUInt32LE(16)];
          assert.ok(fps[0] !== 0 && fps[1] !== 0 && fps[0] !== fps[1], `${where}: two distinct owners, got ${fps}`);
          assert.deepEqual([v.readUInt32LE(4), v.readUInt32LE(20)], [0, 0], `${where}: both buckets spent`);
          // Past a full refill both slots are idle again; the next schedule may place a and b either way round.
          clock.advance(1000);
          choices = nextChoices(choices, run.options);
        }
        tc.diagnostic(`${schedules} interleavings`);
        assert.ok(schedules > 100, `explored ${schedules} schedules`);
        assert.equal(t.metric("tollgate.rule=.=per-key;.;rate_limit_cas_exhausted_total"), 0);
      } finally {
        t.close();
      }
    });

    test("two rules (per-key 2, global 3): a request rejected after a lost race gives its tokens back", async (tc) => {
      const cfg = {
        rules: [
          rule("per-key", { header: "x-api-key" }, { max_tokens: 2, tokens_per_fill: 2, fill_interval_ms: 1000 }, { values: ["a", "b"] }),
          rule("all", { global: {} }, { max_tokens: 3, tokens_per_fill: 3, fill_interval_ms: 1000 }),
        ],
      };
      const { t, clock } = await load(build, cfg, { workers: WORKERS });
      try {
        const keys = ["a", "b", "a", "b", "a"];
        let choices: number[] | null = [];
        let schedules = 0;
        let refunds = 0;
        while (choices) {
          const run = runSchedule(t, keys, choices);
          schedules++;
          const a = run.allowed.filter((x) => x.key === "a").length;
          const b = run.allowed.filter((x) => x.key === "b").length;
          const where: string = `schedule ${JSON.stringify(choices)}`;
          assert.ok(a <= 2 && b <= 2, `${where}: per-key limit broken (a=${a}, b=${b})`);
          // Every serial order of a,b,a,b,a passes exactly 3; a rejection that kept a token would pass fewer.
          assert.equal(a + b, 3, `${where}: ${a + b} allowed`);
          const left = [...tokens(t).values()].sort();
          // per-key a, per-key b, global: what remains must be exactly what the allowed requests took.
          assert.deepEqual(left, [2 - a, 2 - b, 0].sort(), `${where}: tokens left ${JSON.stringify(left)}`);
          refunds += run.refunds;
          clock.advance(1000);
          choices = nextChoices(choices, run.options);
        }
        tc.diagnostic(`${schedules} interleavings, ${refunds} refunds`);
        assert.ok(schedules > 100, `explored ${schedules} schedules`);
        assert.ok(refunds > 0, "some schedule went through a lost race and a refund");
        assert.equal(t.metric("tollgate.rule=.=all;.;rate_limit_cas_exhausted_total") ?? 0, 0);
      } finally {
        t.close();
      }
    });
  });
}
