// `tollgate bench` plumbing (not timings: performance goals live in the bench output, never in tests):
// the report shape, the noop floor fields, section registration and BenchContext helpers.
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { test } from "node:test";
import { makeContext, SyncDriver, TYPICAL_REQUEST } from "../../tools/bench/context.ts";
import { runBench, sections } from "../../tools/bench/index.ts";
import { HostEnv, Plugin } from "../../tools/host/index.ts";
import { pluginWasm } from "../../tools/paths.ts";
import { callbacks, probe } from "../host/fixtures.ts";

test("runBench: noop floor fields, wasm size from dist, no sections selected → empty plugins", async () => {
  const r = await runBench({ only: ["__no_such_section__"] });
  assert.ok(r.noop.nsPerRequest > 0);
  assert.equal(r.noop.wasmBytes, statSync(pluginWasm("noop")).size);
  assert.ok(r.noop.hostToWasmCallNs > 0 && r.noop.wasmToHostCallNs > 0);
  assert.deepEqual(r.plugins, {});
  assert.deepEqual(JSON.parse(JSON.stringify(r)).noop.wasmBytes, r.noop.wasmBytes);
});

test("sections are unique and loadable modules exporting bench()", async () => {
  const names = sections.map((s) => s.name);
  assert.equal(new Set(names).size, names.length);
  for (const s of sections) assert.equal(typeof (await s.load()).bench, "function", s.name);
});

test("the floor's request runs the Envoy sequence: 10 request headers, 5 response headers, every callback once", async () => {
  const env = new HostEnv({ logLevel: "trace" });
  const p = await Plugin.load(env, { wasm: pluginWasm("noop"), canary: false });
  const d = new SyncDriver(env, [p]);
  const out = d.run(TYPICAL_REQUEST);
  assert.deepEqual(out, { status: 200, localReply: false });
  assert.equal(4 + TYPICAL_REQUEST.headers!.length, 10);
  assert.equal(p.vms[0].streams().length, 0, "stream context deleted");
  // The same driver on the probe shows the callbacks and counts.
  const penv = new HostEnv({ logLevel: "trace" });
  const probePlugin = await Plugin.load(penv, { wasm: await probe(), canary: false });
  new SyncDriver(penv, [probePlugin]).run(TYPICAL_REQUEST);
  assert.deepEqual(callbacks(penv.logs).slice(3), ["on_context_create 2 1", "on_request_headers 2 10 1", "on_response_headers 2 5 1", "on_log 2", "on_done 2", "on_delete 2"]);
  const ctx = makeContext(1000, false, () => {});
  assert.equal(ctx.ratio(2500), 2.5);
  assert.equal(await ctx.memoryGrowthPages({ wasm: pluginWasm("noop") }, () => TYPICAL_REQUEST, 2000), 0);
});
