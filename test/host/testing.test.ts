// The plugin test API itself (tools/host/testing.ts): drivers, local replies, stalls, callouts, chains.
import assert from "node:assert/strict";
import { test } from "node:test";
import { PluginTester, Status } from "../../tools/host/testing.ts";
import { callbacks, probe, results } from "./fixtures.ts";

test("stream driver: a local reply runs through the plugin's own response callbacks and is recorded", async () => {
  const t = await PluginTester.load({ wasm: await probe() });
  const s = t.stream();
  const st = s.requestHeaders([["x-probe-request-headers", "local_reply 403 denied go%20away x-why no"], ["x-probe-response-headers", "add_header 2 x-own 1"]]);
  assert.equal(st, Status.StopAllIterationAndWatermark);
  assert.equal(s.localReply!.status, 403);
  assert.equal(s.localReply!.body, "go away");
  assert.equal(s.localReply!.header("x-why"), "no");
  assert.equal(s.localReply!.header("x-own"), "1", "the plugin's on_response_headers ran on its reply");
  assert.equal(s.localReply!.details, "denied");
  s.complete();
  assert.deepEqual(callbacks(t.logs).slice(-3), ["on_log 2", "on_done 2", "on_delete 2"]);
});

test("stream driver: request map mutations are visible; continue_stream is counted", async () => {
  const t = await PluginTester.load({ wasm: await probe() });
  const s = t.stream();
  s.requestHeaders([[":path", "/"], ["x-probe-request-headers", "add_header 0 x-added 1;continue 0;return 1"]]);
  assert.equal(s.request!.get("x-added"), "1");
  assert.equal(s.continued.request, 1);
});

test("exchange: a stalled stream fails with the reason instead of hanging", async () => {
  const t = await PluginTester.load({ wasm: await probe() });
  await assert.rejects(
    () => t.exchange({ timeoutMs: 200, headers: [["x-probe-request-headers", "return 1"]] }),
    /did not finish within 200 ms: probe stopped iteration at request headers \(StopAll\) and was never continued/,
  );
  // The aborted stream was still completed (on_log → on_done → on_delete).
  assert.deepEqual(callbacks(t.logs).slice(-3), ["on_log 2", "on_done 2", "on_delete 2"]);
});

test("exchange: pending callouts are named in the stall message; respond by token", async () => {
  const t = await PluginTester.load({ wasm: await probe() });
  const p = t.exchange({ headers: [["x-probe-request-headers", "http_call c 0 :method GET :path / :authority a;return 1"], ["x-probe-http-call-response", "continue 0"]] });
  await t.flush();
  assert.equal(t.callouts().length, 1);
  await t.respond(4, { status: 200 });
  assert.equal((await p).status, 200);
  await assert.rejects(() => t.respond(4, { status: 200 }), /no unique pending callout/);
});

test("logsAt / metric / sharedDataKeys / configured", async () => {
  const t = await PluginTester.load({ wasm: await probe(), configuration: "on_configure=log 4 cfg-error;define_metric 0 m;increment_metric last 3;set_shared s 1 0" });
  assert.ok(t.configured);
  assert.deepEqual(t.logsAt("error"), ["cfg-error", "cfg-error"], "once from the canary VM, once from worker 0");
  assert.equal(t.metric("m"), 6);
  assert.deepEqual(t.sharedDataKeys(), ["s"]);
  assert.equal(t.sharedData("s")!.text, "1");
  assert.deepEqual(results(t.logs, "set_shared", 0), ["set_shared r=0"]);
});
