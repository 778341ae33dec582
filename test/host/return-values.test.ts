// Callback results → Envoy filter statuses (abi.md §2.4), StopIteration vs StopAll, body buffering and
// re-delivery, proxy_continue_stream / proxy_close_stream (§2.5).
import assert from "node:assert/strict";
import { test } from "node:test";
import { HostEnv, HttpStream, Plugin } from "../../tools/host/index.ts";
import { PluginTester, Status } from "../../tools/host/testing.ts";
import { callbacks, fields, probe, results } from "./fixtures.ts";

test("header results: 0→Continue, 1→StopAllIterationAndWatermark, 2→Continue, 3→StopAllBuffer, 4→StopAllWatermark, >4→StopAllWatermark", async () => {
  const t = await PluginTester.load({ wasm: await probe() });
  const cases: Array<[number, number]> = [[0, 0], [1, 4], [2, 0], [3, 3], [4, 4], [9, 4]];
  for (const [ret, status] of cases) {
    const s = t.stream();
    assert.equal(s.requestHeaders([[":path", "/"], ["x-probe-request-headers", `return ${ret}`], ["x-probe-response-headers", `return ${ret}`]]), status, `request ${ret}`);
    assert.equal(s.responseHeaders([[":status", "200"]]), status, `response ${ret}`);
    s.complete();
  }
});

test("allow_on_headers_stop_iteration: 1 stays StopIteration", async () => {
  const t = await PluginTester.load({ wasm: await probe(), allowOnHeadersStopIteration: true });
  const s = t.stream();
  assert.equal(s.requestHeaders([["x-probe-request-headers", "return 1"]]), Status.StopIteration);
});

test("data results 0..3 as-is, >3 → StopIterationNoBuffer; trailers 0/1, >1 → StopIteration; after a local reply: StopAll / NoBuffer / StopIteration", async () => {
  const t = await PluginTester.load({ wasm: await probe() });
  for (const [ret, status] of [[0, 0], [1, 1], [2, 2], [3, 3], [7, 3]]) {
    const s = t.stream();
    s.requestHeaders([["x-probe-request-body", `return ${ret}`], ["x-probe-request-trailers", `return ${ret}`]], false);
    assert.equal(s.requestBody("x", false), status, `body ${ret}`);
    assert.equal(s.requestTrailers([["t", "1"]]), ret === 0 ? 0 : 1, `trailers ${ret}`);
    s.complete();
  }
  const s = t.stream();
  assert.equal(s.requestHeaders([["x-probe-request-headers", "local_reply 403 x y;return 0"]], false), Status.StopAllIterationAndWatermark);
  const b = t.stream();
  b.requestHeaders([["x-probe-request-body", "local_reply 403 x y;return 0"], ["x-probe-request-trailers", "local_reply 403 x y;return 0"]], false);
  assert.equal(b.requestBody("x", false), Status.StopIterationNoBuffer);
  const c = t.stream();
  c.requestHeaders([["x-probe-request-trailers", "local_reply 403 x y;return 0"]], false);
  assert.equal(c.requestTrailers([["t", "1"]]), 1);
});

async function* chunks(...parts: string[]) {
  for (const p of parts) {
    await new Promise((r) => setImmediate(r));
    yield Buffer.from(p);
  }
}

test("StopIterationAndBuffer: each new chunk is appended and the whole body re-delivered; upstream gets it once", async () => {
  const env = new HostEnv({ logLevel: "trace" });
  const plugin = await Plugin.load(env, { wasm: await probe(), canary: false });
  let upstreamBody = "";
  const stream = new HttpStream([plugin.createFilter(0)], async (req) => {
    upstreamBody = Buffer.from(req.body).toString();
    return { headers: [[":status", "200"]] };
  });
  const done = stream.run({
    headers: [[":method", "POST"], [":path", "/"], [":authority", "a"], [":scheme", "http"], ["x-probe-request-body", "get_buffer 0 0 100;return 1"]],
    body: chunks("ab", "cd", "ef"),
  });
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  assert.match(stream.describeStall(), /stopped iteration at request body/);
  const bodies = callbacks(env.logs).filter((c) => c.startsWith("on_request_body"));
  // Buffering continues until end of stream, where the probe still returns 1: the last (empty, eos) chunk
  // is appended too, and the filter holds the body → nothing reaches upstream until it continues.
  assert.deepEqual(bodies, ["on_request_body 2 2 0", "on_request_body 2 4 0", "on_request_body 2 6 0", "on_request_body 2 6 1"]);
  assert.deepEqual(results(env.logs, "get_buffer").map((l) => fields(l).text), ["ab", "abcd", "abcdef", "abcdef"]);
  assert.equal(upstreamBody, "", "the filter never continued");
  stream.abort();
  assert.equal((await done).reset, true);
});

test("buffer until end of stream, then Continue: upstream receives the whole (modified) body", async () => {
  const env = new HostEnv({ logLevel: "trace" });
  const plugin = await Plugin.load(env, { wasm: await probe(), canary: false });
  let upstreamBody = "";
  const r = await new HttpStream([plugin.createFilter(0)], async (req) => {
    upstreamBody = Buffer.from(req.body).toString();
    return { headers: [[":status", "200"]] };
  }).run({
    headers: [[":method", "POST"], [":path", "/"], [":authority", "a"], [":scheme", "http"], ["x-probe-request-body", "return 1"], ["x-probe-request-trailers", "set_buffer 0 0 0 <;get_buffer 0 0 100"]],
    body: chunks("ab", "cd"),
    trailers: [["x-t", "1"]],
  });
  assert.equal(r.status, 200);
  // Trailers continue the buffered body (Envoy: trailers Continue → commonContinue → buffered data, then trailers).
  assert.equal(upstreamBody, "<abcd");
});

test("StopAll on headers: body chunks wait in the filter manager; continue re-delivers ONE consolidated body with eos", async () => {
  const env = new HostEnv({ logLevel: "trace" });
  let resolveCallout!: () => void;
  env.callouts = () => new Promise((res) => (resolveCallout = () => res({ headers: [[":status", "200"]] })));
  const plugin = await Plugin.load(env, { wasm: await probe(), canary: false });
  let upstreamBody = "";
  const done = new HttpStream([plugin.createFilter(0)], async (req) => {
    upstreamBody = Buffer.from(req.body).toString();
    return { headers: [[":status", "200"]] };
  }).run({
    headers: [[":method", "POST"], [":path", "/"], [":authority", "a"], [":scheme", "http"],
      ["x-probe-request-headers", "http_call c 0 :method GET :path / :authority a;return 1"], ["x-probe-http-call-response", "continue 0"]],
    body: chunks("12", "34", "56"),
  });
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
  assert.ok(!callbacks(env.logs).some((c) => c.startsWith("on_request_body")), "no body delivered while StopAll");
  resolveCallout();
  const r = await done;
  assert.equal(r.status, 200);
  assert.deepEqual(callbacks(env.logs).filter((c) => c.startsWith("on_request_body")), ["on_request_body 2 6 1"]);
  assert.equal(upstreamBody, "123456");
});

test("StopIteration (allowed): body is delivered while headers are stopped; a body Continue resumes the stream", async () => {
  const t = await PluginTester.load({ wasm: await probe(), allowOnHeadersStopIteration: true });
  const res = await t.exchange({
    method: "POST",
    body: "data",
    headers: [["x-probe-request-headers", "return 1"]],
  });
  assert.equal(res.status, 200);
  assert.equal(res.upstreamRequest!.body, "data");
  assert.deepEqual(callbacks(t.logs).filter((c) => /on_request_(headers|body)/.test(c)), ["on_request_headers 2 5 0", "on_request_body 2 4 1"]);
});

test("continue_stream: Request/Response Ok (deferred), Downstream Ok, Upstream Unimplemented, >3 BadArgument; clears the maps", async () => {
  const t = await PluginTester.load({ wasm: await probe() });
  const s = t.stream();
  s.requestHeaders([["x-probe-request-headers", "continue 2;continue 3;continue 4;continue 0;get_header 0 :path;return 1"]]);
  assert.deepEqual(results(t.logs, "continue"), ["continue r=0", "continue r=12", "continue r=2", "continue r=0"]);
  assert.deepEqual(results(t.logs, "get_header"), ["get_header r=2"], "request headers are dropped by continue_stream(Request)");
  assert.equal(s.continued.request, 1);
});

test("continue_stream in a root context is a no-op returning Ok", async () => {
  const t = await PluginTester.load({ wasm: await probe(), configuration: "on_configure=continue 0;continue 1" });
  assert.deepEqual(results(t.logs, "continue", 0), ["continue r=0", "continue r=0"]);
});

test("close_stream(Request): stream reset with details wasm_close_stream", async () => {
  const t = await PluginTester.load({ wasm: await probe() });
  const res = await t.exchange({ headers: [["x-probe-request-headers", "close 0;return 1"]] });
  assert.equal(res.reset, true);
  assert.equal(res.details, "wasm_close_stream");
  assert.equal(res.upstreamRequest, null);
  assert.ok(callbacks(t.logs).includes("on_log 2"), "a reset stream is still logged");
});
