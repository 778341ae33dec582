// __NAME__ on its compiled .wasm, through tollgate's host (Envoy's ABI semantics). `npx tollgate test` runs
// this file against the release build and again against the debug build (pluginWasm picks the one).
import assert from "node:assert/strict";
import { test } from "node:test";
import { PluginTester, pluginWasm, Status } from "tollgate/testing";

const KEY = "change-me-0123456789abcdef";
const load = (configuration: object) => PluginTester.load({ wasm: pluginWasm("__NAME__"), name: "__NAME__", configuration });

test("no key: 401 from the plugin, the upstream never called", async () => {
  const t = await load({ keys: [KEY] });
  const res = await t.exchange({ path: "/" });
  assert.equal(res.status, 401);
  assert.equal(res.localReply, true);
  assert.equal(res.details, "__NAME__.missing_key");
  assert.equal(res.upstreamRequest, null);
  t.close();
});

test("another key: 403", async () => {
  const t = await load({ keys: [KEY] });
  const res = await t.exchange({ headers: { "x-api-key": "not-the-key-0123456789" } });
  assert.equal(res.status, 403);
  assert.equal(res.details, "__NAME__.bad_key");
  t.close();
});

test("per callback: the key passes with Continue", async () => {
  const t = await load({ keys: [KEY] });
  const s = t.stream();
  assert.equal(s.requestHeaders([[":method", "GET"], [":path", "/"], [":authority", "example.com"], ["x-api-key", KEY]]), Status.Continue);
  assert.equal(s.request?.get("x-api-key"), undefined);
  s.complete();
  t.close();
});

test("the key: passes, and the upstream does not see it", async () => {
  const t = await load({ keys: [KEY] });
  const res = await t.exchange({ headers: { "x-api-key": KEY } });
  assert.equal(res.status, 200);
  assert.equal(res.upstreamRequest?.header("x-api-key"), undefined);
  t.close();
});

test("per callback: a denied request stops at request headers", async () => {
  const t = await load({ keys: [KEY] });
  const s = t.stream();
  // Envoy answers StopAllIterationAndWatermark for a filter that sent a local reply, whatever it returned.
  assert.equal(s.requestHeaders([[":method", "GET"], [":path", "/"], [":authority", "example.com"]]), Status.StopAllIterationAndWatermark);
  assert.equal(s.localReply?.status, 401);
  s.complete();
  t.close();
});

test("a short key is refused at configure, naming the field", async () => {
  const t = await load({ keys: ["short"] });
  assert.equal(t.configured, false);
  assert.match(t.logsAt("critical").join("\n"), /'keys\[0\]' must be at least 16 characters/);
  t.close();
});
