// Timers (abi.md §8) on an injected clock, and metrics (§11).
import assert from "node:assert/strict";
import { test } from "node:test";
import { ManualClock } from "../../tools/host/index.ts";
import { PluginTester } from "../../tools/host/testing.ts";
import { callbacks, fields, probe, results } from "./fixtures.ts";

test("tick period: first on_tick one period after the call, then every period; 0 disables; each worker ticks", async () => {
  const clock = new ManualClock();
  const t = await PluginTester.load({ wasm: await probe(), clock, workers: 2, configuration: "on_configure=set_tick 100" });
  const ticks = (w: number) => callbacks(t.logs, w).filter((c) => c === "on_tick 1").length;
  clock.advance(99);
  assert.equal(ticks(0), 0);
  clock.advance(1);
  assert.deepEqual([ticks(0), ticks(1)], [1, 1]);
  clock.advance(250);
  assert.deepEqual([ticks(0), ticks(1)], [3, 3], "no catch-up, fixed period");
  assert.equal(ticks(-1), 0, "the canary's timer died with it");
  // A stream context changes its root's period.
  await t.exchange({ worker: 0, headers: [["x-probe-request-headers", "set_tick 0"]] });
  clock.advance(1000);
  assert.deepEqual([ticks(0), ticks(1)], [3, 13]);
  t.close();
  clock.advance(1000);
  assert.equal(ticks(1), 13, "shutdown stops timers");
});

test("on_tick can change the period (re-armed with the new one)", async () => {
  const clock = new ManualClock();
  const t = await PluginTester.load({ wasm: await probe(), clock, configuration: "on_configure=set_tick 10\non_tick=set_tick 50" });
  clock.advance(10);
  clock.advance(49);
  assert.equal(callbacks(t.logs).filter((c) => c === "on_tick 1").length, 1);
  clock.advance(1);
  assert.equal(callbacks(t.logs).filter((c) => c === "on_tick 1").length, 2);
});

test("metrics: ids encode the type (counters 4,8…; gauges 5,…; histograms 6,…), every define is a new id, values aggregate by name", async () => {
  const t = await PluginTester.load({ wasm: await probe(), workers: 2 });
  await t.exchange({ headers: [["x-probe-request-headers", "define_metric 0 reqs;increment_metric last 2;define_metric 0 reqs;increment_metric last 3;get_metric last;define_metric 1 inflight;define_metric 2 latency;define_metric 3 bad"]] });
  assert.deepEqual(results(t.logs, "define_metric"), ["define_metric r=0 id=4", "define_metric r=0 id=8", "define_metric r=0 id=5", "define_metric r=0 id=6", "define_metric r=2 id=-"]);
  assert.deepEqual(results(t.logs, "get_metric"), ["get_metric r=0 value=5"]);
  await t.exchange({ worker: 1, headers: [["x-probe-request-headers", "define_metric 0 reqs;increment_metric last 1"]] });
  assert.equal(t.metric("reqs"), 6, "stats aggregate across workers by name");
  assert.equal(t.env.metrics.find("reqs")!.statName, "wasmcustom.reqs");
});

test("metrics: counter increment ≤ 0 → BadArgument; gauge ± and record = set; histogram record only; unknown id → NotFound", async () => {
  const t = await PluginTester.load({ wasm: await probe() });
  await t.exchange({ headers: [["x-probe-request-headers", [
    "define_metric 0 c", "increment_metric last 0", "increment_metric last -1", "record_metric last 5", "get_metric last",
    "define_metric 1 g", "increment_metric last 10", "increment_metric last -3", "get_metric last", "record_metric last 42", "get_metric last",
    "define_metric 2 h", "record_metric last 17", "increment_metric last 1", "get_metric last",
    "increment_metric 999 1", "record_metric 999 1", "get_metric 999",
  ].join(";")]] });
  assert.deepEqual(results(t.logs, "increment_metric"), ["increment_metric r=2", "increment_metric r=2", "increment_metric r=0", "increment_metric r=0", "increment_metric r=2", "increment_metric r=1"]);
  assert.deepEqual(results(t.logs, "record_metric"), ["record_metric r=0", "record_metric r=0", "record_metric r=0", "record_metric r=1"]);
  assert.deepEqual(results(t.logs, "get_metric").map((l) => fields(l).value), ["5", "7", "42", "-", "-"]);
  assert.deepEqual(results(t.logs, "get_metric").map((l) => fields(l).r), ["0", "0", "0", "2", "1"]);
  assert.deepEqual(t.histogram("h"), [17]);
});
