// __NAME__ on its compiled .wasm, through tollgate's host (Envoy's ABI semantics). `npx tollgate test` runs
// this file against the release build and again against the debug build (pluginWasm picks the one).
import assert from "node:assert/strict";
import { test } from "node:test";
import { PluginTester, pluginWasm } from "tollgate/testing";

const load = (configuration: object) => PluginTester.load({ wasm: pluginWasm("__NAME__"), name: "__NAME__", configuration });

test("passes the request to the upstream unchanged", async () => {
  const t = await load({});
  assert.ok(t.configured, t.logsAt("critical").join("\n"));
  const res = await t.exchange({ path: "/hello", headers: { "x-a": "1" } });
  assert.equal(res.status, 200);
  assert.equal(res.localReply, false);
  assert.equal(res.upstreamRequest?.path, "/hello");
  assert.equal(res.upstreamRequest?.header("x-a"), "1");
  t.close();
});

test("an unknown setting is refused at configure, naming the field", async () => {
  const t = await load({ colour: "blue" });
  assert.equal(t.configured, false);
  assert.match(t.logsAt("critical").join("\n"), /colour/);
  t.close();
});
