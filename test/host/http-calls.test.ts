// proxy_http_call (abi.md §9): validation, tokens, completion on the root context, response buffers and
// maps readable only in the callback, timeouts as Envoy's 504, resets as BrokenConnection, continue.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ManualClock } from "../../tools/host/index.ts";
import { PluginTester } from "../../tools/host/testing.ts";
import { callbacks, fields, probe, results } from "./fixtures.ts";

const CALL = "http_call auth 5000 :method GET :path /check :authority auth.local";

test("http_call: token 4, 8, …; callout carries lower-cased headers, body + content-length; response on the ROOT context id", async () => {
  const t = await PluginTester.load({ wasm: await probe(), clusters: ["auth"] });
  const p = t.exchange({
    method: "POST",
    headers: [
      ["x-probe-request-headers", "http_call auth 1000 :method POST :path /v X-Up A :authority a -- payload;http_call auth 0 :method GET :path / :authority a;return 1"],
      ["x-probe-http-call-response", "get_header 6 :status;get_header 6 x-r;get_buffer 4 0 100;get_header 7 t;continue 0"],
    ],
  });
  await t.flush();
  assert.deepEqual(results(t.logs, "http_call"), ["http_call r=0 token=4", "http_call r=0 token=8"]);
  const [c1, c2] = t.callouts();
  assert.equal(c1.cluster, "auth");
  assert.equal(c1.timeoutMs, 1000);
  assert.deepEqual(c1.headers, [[":method", "POST"], [":path", "/v"], ["x-up", "A"], [":authority", "a"], ["content-length", "7"]]);
  assert.equal(c1.bodyText, "payload");
  assert.equal(c2.timeoutMs, 0);
  await t.respond(c1, { status: 201, headers: [["x-r", "yes"]], body: "resp-body", trailers: [["t", "v"]] });
  await t.respond(c2, { status: 200 });
  const res = await p;
  assert.equal(res.status, 200);
  assert.ok(callbacks(t.logs).includes("on_http_call_response 1 4 2 9 1"), "root id 1, token, header count, body size, trailer count");
  const gh = results(t.logs, "get_header");
  assert.equal(fields(gh[0]).text, "201");
  assert.equal(fields(gh[1]).text, "yes");
  assert.equal(fields(gh[2]).text, "v");
  assert.equal(fields(results(t.logs, "get_buffer")[0]).text, "resp-body");
  // The first response found its stream (effective context set); the stream may be gone for the second.
  assert.equal(results(t.logs, "set_effective")[0], "set_effective r=0");
});

test("response maps and body exist only during on_http_call_response", async () => {
  const t = await PluginTester.load({ wasm: await probe() });
  const p = t.exchange({
    headers: [["x-probe-request-headers", `${CALL};return 1`], ["x-probe-http-call-response", "continue 0"], ["x-probe-response-headers", "get_header 6 :status;get_buffer 4 0 10;buffer_status 4"]],
  });
  await t.flush();
  await t.respond(t.callouts()[0], { status: 200, body: "x" });
  await p;
  assert.deepEqual(results(t.logs, "get_header"), ["get_header r=2"]);
  assert.deepEqual(results(t.logs, "get_buffer"), ["get_buffer r=1"]);
  assert.equal(fields(results(t.logs, "buffer_status")[0]).r, "1");
});

test("validation: unknown cluster, missing :path/:method/:authority → BadArgument; no token", async () => {
  const t = await PluginTester.load({ wasm: await probe(), clusters: ["auth"] });
  await t.exchange({
    headers: [["x-probe-request-headers", [
      "http_call nope 100 :method GET :path / :authority a",
      "http_call auth 100 :method GET :authority a",
      "http_call auth 100 :path / :authority a",
      "http_call auth 100 :method GET :path /",
      "http_call auth 100 :method GET :path / host h",
    ].join(";")]],
  });
  assert.deepEqual(results(t.logs, "http_call"), ["http_call r=2 token=0", "http_call r=2 token=0", "http_call r=2 token=0", "http_call r=2 token=0", "http_call r=0 token=4"]);
  assert.equal(t.callouts().length, 1);
});

test("timeout: Envoy delivers a 504 'upstream request timeout' response through the success path", async () => {
  const clock = new ManualClock();
  const t = await PluginTester.load({ wasm: await probe(), clock });
  const p = t.exchange({
    headers: [["x-probe-request-headers", `http_call auth 250 :method GET :path / :authority a;return 1`], ["x-probe-http-call-response", "get_header 6 :status;get_buffer 4 0 100;continue 0"]],
  });
  await t.flush();
  clock.advance(249);
  assert.ok(!callbacks(t.logs).some((c) => c.startsWith("on_http_call_response")));
  clock.advance(1);
  await p;
  assert.ok(callbacks(t.logs).includes("on_http_call_response 1 4 3 24 0"));
  assert.equal(fields(results(t.logs, "get_header")[0]).text, "504");
  assert.equal(fields(results(t.logs, "get_buffer")[0]).text, "upstream request timeout");
  // A late answer for a completed call is ignored.
  await t.respond(t.callouts()[0], { status: 200 });
  assert.equal(callbacks(t.logs).filter((c) => c.startsWith("on_http_call_response")).length, 1);
});

test("reset: on_http_call_response(root, token, 0, 0, 0); proxy_get_status = 11 'reset' during the callback", async () => {
  const t = await PluginTester.load({ wasm: await probe() });
  const p = t.exchange({ headers: [["x-probe-request-headers", `${CALL};return 1`], ["x-probe-http-call-response", "get_status;continue 0"]] });
  await t.flush();
  await t.respond(t.callouts()[0], { failure: "reset" });
  await p;
  assert.ok(callbacks(t.logs).includes("on_http_call_response 1 4 0 0 0"));
  assert.equal(results(t.logs, "get_status")[0], "get_status r=0 code=11 ptr0=0 len=5 hex=7265736574 text=reset");
});

test("callouts are owned by the root context: the response arrives after the stream ended", async () => {
  const t = await PluginTester.load({ wasm: await probe(), configuration: "http_call_response=log 2 root-got-it" });
  await t.exchange({ headers: [["x-probe-request-headers", CALL]] });
  assert.ok(callbacks(t.logs).includes("on_delete 2"));
  await t.respond(t.callouts()[0], { status: 200 });
  // The probe's owner (stream 2) is gone: set_effective_context fails → BadArgument, then the root script runs.
  assert.ok(callbacks(t.logs).includes("on_http_call_response 1 4 1 0 0"));
  assert.deepEqual(results(t.logs, "set_effective"), ["set_effective r=2"]);
});

test("callout function option: completes without t.respond(); shorthand {status, body}", async () => {
  const t = await PluginTester.load({
    wasm: await probe(),
    callouts: (req) => ({ status: 200, headers: [["x-cluster", req.cluster]], body: "ok" }),
  });
  const res = await t.exchange({ headers: [["x-probe-request-headers", `${CALL};return 1`], ["x-probe-http-call-response", "get_header 6 x-cluster;continue 0"]] });
  assert.equal(res.status, 200);
  assert.equal(fields(results(t.logs, "get_header")[0]).text, "auth");
});

test("a local reply sent from on_http_call_response (effective context = the stream) answers the paused stream", async () => {
  const t = await PluginTester.load({ wasm: await probe() });
  const p = t.exchange({
    headers: [["x-probe-request-headers", `${CALL};return 1`], ["x-probe-http-call-response", "local_reply 401 auth.rejected no"], ["x-probe-response-headers", "add_header 2 x-own 1"]],
  });
  await t.flush();
  await t.respond(t.callouts()[0], { status: 403 });
  const res = await p;
  assert.equal(res.status, 401);
  assert.equal(res.details, "auth.rejected");
  assert.equal(res.header("x-own"), "1");
  assert.equal(res.upstreamRequest, null);
});
