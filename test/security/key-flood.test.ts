// Attack class 7 (issue 15, attack-findings 6): a flood of fresh rate-limit key values must not lock out
// new legitimate clients while memory stays bounded. Before: values hashed onto max_keys slots and shared
// an occupied slot's bucket, so about max_keys × limit requests with fresh values exhausted every slot and
// denied every new client for a whole refill period. Now a value never shares a bucket: it takes the slot
// of its 8-slot set whose owner has spent the least. Shown on the compiled .wasm (release and debug),
// across 4 worker VMs sharing the store, and black-box through both engines from one bootstrap.
import assert from "node:assert/strict";
import { request } from "node:http";
import { describe, test } from "node:test";
import type { PluginTester } from "../../tools/host/testing.ts";
import { ENGINES, startEngine } from "../helpers/engines.ts";
import { requireEnvoy } from "../helpers/envoy.ts";
import { BUILDS, load, rule } from "../plugins/rate-limit/support.ts";
import { bootstrap } from "./support.ts";

const MAX_KEYS = 64;
const FLOOD = 10 * MAX_KEYS;

/** One request with `x-api-key: key` on `worker`; true = allowed. */
function hit(t: PluginTester, key: string, worker = 0): boolean {
  const s = t.stream(worker);
  s.requestHeaders([[":method", "GET"], [":path", "/"], [":authority", "api.example.com"], [":scheme", "http"], ["x-api-key", key]], true);
  const allowed = s.localReply === null;
  s.complete();
  return allowed;
}

function hits(t: PluginTester, key: string, n: number, worker = 0): boolean[] {
  return Array.from({ length: n }, () => hit(t, key, worker));
}

/** Shared data of the rule: number of keys and total bytes of their values. */
function footprint(t: PluginTester): { keys: number; bytes: number } {
  const keys = t.sharedDataKeys();
  return { keys: keys.length, bytes: keys.reduce((n, k) => n + t.sharedData(k)!.value.length, 0) };
}

for (const build of BUILDS) {
  describe(`rate-limit key flood (${build})`, () => {
    const cfg = (algorithm: string) => ({ max_keys: MAX_KEYS, rules: [rule("per-key", { header: "x-api-key" }, { requests: 3, per: "minute" }, { algorithm })] });

    for (const algorithm of ["token_bucket", "fixed_window"]) {
      test(`${FLOOD} fresh keys (10 × max_keys), then a new client gets its full budget; memory bounded (${algorithm})`, async () => {
        const { t } = await load(build, cfg(algorithm), { workers: 4 });
        try {
          const before = footprint(t);
          assert.deepEqual(before, { keys: MAX_KEYS / 8, bytes: MAX_KEYS * 16 });
          // The flood spreads over the four workers, like connections over Envoy's worker threads.
          let allowed = 0;
          for (let i = 0; i < FLOOD; i++) if (hit(t, `flood-${i}`, i % 4)) allowed++;
          assert.equal(allowed, FLOOD, "every fresh value gets its own bucket");
          const pages = t.plugin.vms.map((vm) => vm.memory.buffer.byteLength);
          for (let i = 0; i < FLOOD; i++) hit(t, `flood2-${i}`, i % 4);
          assert.deepEqual(t.plugin.vms.map((vm) => vm.memory.buffer.byteLength), pages, "no VM grew over a second flood");
          assert.deepEqual(footprint(t), before, "shared data did not grow");
          // New legitimate clients, on any worker: exactly their budget, then 429.
          for (let c = 0; c < 8; c++) assert.deepEqual(hits(t, `new-client-${c}`, 4, c % 4), [true, true, true, false], `new client ${c}`);
          assert.equal(t.metric("tollgate.rule=.=per-key;.;rate_limit_cas_exhausted_total") ?? 0, 0);
        } finally {
          t.close();
        }
      });
    }

    test("a client that spent more than the flood values keeps its bucket (still limited), across the flood", async () => {
      const { t, clock } = await load(build, { max_keys: MAX_KEYS, rules: [rule("per-key", { header: "x-api-key" }, { requests: 5, per: "minute" })] });
      try {
        assert.deepEqual(hits(t, "steady", 4), [true, true, true, true], "steady spends 4 of 5");
        assert.deepEqual(hits(t, "exhausted", 6), [true, true, true, true, true, false], "exhausted spends all 5");
        for (let i = 0; i < FLOOD; i++) hit(t, `flood-${i}`);
        assert.deepEqual(hits(t, "steady", 2), [true, false], "steady still has exactly 1 left");
        assert.deepEqual(hits(t, "exhausted", 1), [false], "exhausted is still limited");
        assert.ok((t.metric("tollgate.rule=.=per-key;.;rate_limit_evictions_total") ?? 0) > 0, "the flood evicted flood values");
        // One token interval (12 s) later each gets exactly one more.
        clock.advance(12_000);
        assert.deepEqual(hits(t, "steady", 2), [true, false]);
        assert.deepEqual(hits(t, "exhausted", 2), [true, false]);
      } finally {
        t.close();
      }
    });

    test("eviction forgives at most what the evicted value spent: flood values that spend everything", async () => {
      // The worst flood: each value spends its whole quota, so the set's cheapest victim has spent 3.
      const { t } = await load(build, { max_keys: 8, rules: [rule("per-key", { header: "x-api-key" }, { requests: 3, per: "minute" })] });
      try {
        for (let i = 0; i < 80; i++) assert.deepEqual(hits(t, `flood-${i}`, 4), [true, true, true, false]);
        // One set of 8: the newcomer still gets its budget (it evicts a value that had spent 3).
        assert.deepEqual(hits(t, "new-client", 4), [true, true, true, false]);
        // Ties go to the lowest slot, so the newest values churn in one slot and the other 7 keep the first
        // values' spent buckets: they stay limited. Each takeover forgave exactly one spent bucket.
        for (let i = 1; i < 8; i++) assert.deepEqual(hits(t, `flood-${i}`, 1), [false], `flood-${i} is still limited`);
        assert.equal(t.metric("tollgate.rule=.=per-key;.;rate_limit_evictions_total"), 80 - 8 + 1, "one eviction per newcomer once the set was full");
      } finally {
        t.close();
      }
    });
  });
}

function get(port: number, key: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/", headers: { host: "api.example.com", "x-api-key": key }, agent: false, timeout: 10_000 }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

describe("key flood through the gateway, both engines", () => {
  const MAX = 16;
  const config = { max_keys: MAX, rules: [rule("per-key", { header: "x-api-key" }, { requests: 2, per: "minute" })] };
  for (const engine of ENGINES) {
    test(`${engine}: ${10 * MAX} fresh keys, then a new client gets 2 × 200 and a 429`, async (t) => {
      const envoy = engine === "envoy" ? requireEnvoy(t) : null;
      if (engine === "envoy" && !envoy) return;
      const gw = await startEngine(engine, bootstrap("rate-limit", config), envoy, { concurrency: 2 });
      try {
        const port = gw.port("main");
        const statuses: number[] = [];
        for (let i = 0; i < 10 * MAX; i++) statuses.push(await get(port, `flood-${i}`));
        assert.deepEqual([...new Set(statuses)], [200], "every fresh key passes once");
        const fresh = [await get(port, "new-client"), await get(port, "new-client"), await get(port, "new-client")];
        assert.deepEqual(fresh, [200, 200, 429]);
        const stats = await gw.stats();
        const evictions = [...stats.entries()].find(([k]) => k.endsWith("tollgate.rule=.=per-key;.;rate_limit_evictions_total"));
        assert.ok(evictions && Number(evictions[1]) > 0, `evictions counted: ${JSON.stringify(evictions)}`);
      } finally {
        await gw.stop();
      }
    });
  }
});
