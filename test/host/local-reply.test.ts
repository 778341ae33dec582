// proxy_send_local_response (abi.md §5): deferred until the callback returns, result overridden to
// StopAll, Envoy's reply headers, and the reply travels the encoder path of the whole chain.
import assert from "node:assert/strict";
import { test } from "node:test";
import { PluginTester } from "../../tools/host/testing.ts";
import { arg, callbacks, fields, probe, results } from "./fixtures.ts";

test("deferred: commands after send_local_response still run; Continue is overridden (upstream never reached)", async () => {
  const t = await PluginTester.load({ wasm: await probe() });
  const res = await t.exchange({ headers: [["x-probe-request-headers", "local_reply 403 denied nope;get_header 0 :path;log 2 after;return 0"]] });
  assert.deepEqual(results(t.logs, "local_reply"), ["local_reply r=0"]);
  assert.equal(fields(results(t.logs, "get_header")[0]).r, "0", "request headers still readable after the call");
  assert.equal(res.status, 403);
  assert.equal(res.localReply, true);
  assert.equal(res.upstreamRequest, null);
  assert.equal(res.details, "denied");
  assert.equal(res.body, "nope");
});

test("the sender receives on_response_headers/body for its own reply and can modify it", async () => {
  const t = await PluginTester.load({ wasm: await probe() });
  const res = await t.exchange({
    headers: [
      ["x-probe-request-headers", "local_reply 401 auth.denied no x-www-authenticate Bearer"],
      ["x-probe-response-headers", "get_header 2 :status;get_header 2 x-www-authenticate;add_header 2 x-seen-own-reply 1"],
      ["x-probe-response-body", "get_buffer 1 0 100"],
    ],
  });
  assert.equal(fields(results(t.logs, "get_header")[0]).text, "401");
  assert.equal(fields(results(t.logs, "get_header")[1]).text, "Bearer");
  assert.equal(fields(results(t.logs, "get_buffer")[0]).text, "no");
  assert.equal(res.header("x-seen-own-reply"), "1");
  assert.deepEqual(callbacks(t.logs).slice(3), [
    "on_context_create 2 1", "on_request_headers 2 7 1", "on_response_headers 2 4 0", "on_response_body 2 2 1", "on_log 2", "on_done 2", "on_delete 2",
  ]);
});

test("reply headers: :status, extra headers added, content-length and text/plain for a body; none for an empty body", async () => {
  const t = await PluginTester.load({ wasm: await probe() });
  const withBody = await t.exchange({ headers: [["x-probe-request-headers", `local_reply 429 ${arg("rate limited")} ${arg("too many")} retry-after 1`]] });
  assert.deepEqual(withBody.headers, [[":status", "429"], ["retry-after", "1"], ["content-length", "8"], ["content-type", "text/plain"]]);
  assert.equal(withBody.details, "rate_limited", "whitespace in details becomes _");
  const json = await t.exchange({ headers: [["x-probe-request-headers", `local_reply 400 bad {} content-type application/json`]] });
  assert.deepEqual(json.headers, [[":status", "400"], ["content-type", "application/json"], ["content-length", "2"]]);
  const empty = await t.exchange({ headers: [["x-probe-request-headers", "local_reply 204 empty  content-length 99 content-type text/html"]] });
  assert.equal(empty.header(":status"), "204");
  assert.equal(empty.header("content-length"), undefined);
  assert.equal(empty.header("content-type"), undefined);
});

test("gRPC request: HTTP 200, application/grpc, grpc-status mapped from the HTTP code, grpc-message", async () => {
  const t = await PluginTester.load({ wasm: await probe() });
  const res = await t.exchange({
    method: "POST",
    headers: [["content-type", "application/grpc"], ["x-probe-request-headers", `local_reply 401 no ${arg("bad token")}`]],
  });
  assert.equal(res.status, 200);
  assert.equal(res.header("content-type"), "application/grpc");
  assert.equal(res.header("grpc-status"), "16");
  assert.equal(res.header("grpc-message"), "bad token");
  assert.equal(res.body, "");
});

function cbNames(t: PluginTester, name: string): string[] {
  return t.logs.filter((l) => l.plugin === name && l.worker === 0 && l.message.startsWith("cb ")).map((l) => l.message.slice(3).split(" ")[0]).slice(3);
}

test("chain: a reply from filter 2 aborts the request path (filter 3 never sees it) and passes filter 1's response path", async () => {
  const wasm = await probe();
  const t = await PluginTester.chain([{ wasm, name: "one" }, { wasm, name: "two" }, { wasm, name: "three" }]);
  const res = await t.exchange({
    headers: [["x-probe-only-two-request-headers", "local_reply 403 stop no"], ["x-probe-response-headers", "add_header 2 x-by 1"]],
  });
  assert.equal(res.status, 403);
  assert.equal(res.upstreamRequest, null);
  assert.deepEqual(cbNames(t, "one"), ["on_context_create", "on_request_headers", "on_response_headers", "on_response_body", "on_log", "on_done", "on_delete"]);
  assert.deepEqual(cbNames(t, "two"), ["on_context_create", "on_request_headers", "on_response_headers", "on_response_body", "on_log", "on_done", "on_delete"]);
  // Filter three never saw the request; Envoy still creates its context so on_log can run.
  assert.deepEqual(cbNames(t, "three"), ["on_context_create", "on_log", "on_done", "on_delete"]);
  assert.deepEqual(res.headerAll("x-by"), ["1", "1"], "filters two and one both saw the reply");
});

test("chain: a 401 from a later filter carries the headers an earlier filter adds on the response path (CORS case)", async () => {
  const wasm = await probe();
  const t = await PluginTester.chain([{ wasm, name: "cors" }, { wasm, name: "auth" }]);
  const res = await t.exchange({
    headers: [
      ["x-probe-only-auth-request-headers", "local_reply 401 auth.missing no"],
      ["x-probe-only-cors-response-headers", "get_header 2 :status;add_header 2 access-control-allow-origin https://app.example"],
    ],
  });
  assert.equal(res.status, 401);
  assert.equal(res.header("access-control-allow-origin"), "https://app.example");
  assert.equal(fields(results(t.logs, "get_header")[0]).text, "401");
});

test("response path runs in reverse chain order", async () => {
  const wasm = await probe();
  const t = await PluginTester.chain([{ wasm, name: "a" }, { wasm, name: "b" }, { wasm, name: "c" }]);
  await t.exchange({});
  const order = t.logs.filter((l) => l.worker === 0 && /^cb on_(request|response)_headers/.test(l.message)).map((l) => `${l.plugin}:${l.message.split(" ")[1]}`);
  assert.deepEqual(order, ["a:on_request_headers", "b:on_request_headers", "c:on_request_headers", "c:on_response_headers", "b:on_response_headers", "a:on_response_headers"]);
});

test("a reply sent from on_response_headers goes straight downstream (earlier filters do not see it)", async () => {
  const wasm = await probe();
  const t = await PluginTester.chain([{ wasm, name: "one" }, { wasm, name: "two" }]);
  const res = await t.exchange({
    upstream: () => ({ status: 200, headers: [["x-up", "1"]], body: "upstream body" }),
    headers: [["x-probe-response-headers", "local_reply 502 replaced_in_response bad"]],
  });
  assert.equal(res.status, 502);
  assert.equal(res.body, "bad");
  assert.equal(res.header("x-up"), undefined);
  assert.equal(res.details, "replaced_in_response");
  const one = t.logs.filter((l) => l.plugin === "one" && l.worker === 0 && l.message.startsWith("cb on_response")).length;
  assert.equal(one, 0, "filter one (earlier in the chain) never sees response callbacks");
});

test("a reply after the response headers were sent downstream resets the stream", async () => {
  const t = await PluginTester.load({ wasm: await probe() });
  const res = await t.exchange({
    upstream: () => ({ status: 200, body: "data" }),
    headers: [["x-probe-response-body", "local_reply 500 too_late x"]],
  });
  assert.equal(res.reset, true);
  assert.equal(res.details, "too_late");
});

test("send_local_response outside a stream (root context) returns Ok and does nothing", async () => {
  const t = await PluginTester.load({ wasm: await probe(), configuration: "on_configure=local_reply 500 x y" });
  assert.ok(t.configured);
  assert.deepEqual(results(t.logs, "local_reply", 0), ["local_reply r=0"]);
});
