// __NAME__ on its compiled .wasm, through tollgate's host (Envoy's ABI semantics). `npx tollgate test` runs
// this file against the release build and again against the debug build (pluginWasm picks the one).
import assert from "node:assert/strict";
import { test } from "node:test";
import { PluginTester, pluginWasm } from "tollgate/testing";

const load = (configuration: object) => PluginTester.load({ wasm: pluginWasm("__NAME__"), name: "__NAME__", configuration });

test("sets the header on the response", async () => {
  const t = await load({ header: "x-hello", value: "world" });
  assert.ok(t.configured, t.logsAt("critical").join("\n"));
  const res = await t.exchange({ path: "/" });
  assert.equal(res.status, 200);
  assert.equal(res.header("x-hello"), "world");
  t.close();
});

test("only for the listed methods", async () => {
  const t = await load({ header: "x-hello", value: "world", methods: ["POST"] });
  assert.equal((await t.exchange({ method: "GET" })).header("x-hello"), undefined);
  assert.equal((await t.exchange({ method: "POST" })).header("x-hello"), "world");
  t.close();
});

test("a bad config is refused at configure, naming the field", async () => {
  const t = await load({ header: "content-length", value: "1" });
  assert.equal(t.configured, false);
  assert.match(t.logsAt("critical").join("\n"), /'header' cannot be "content-length"/);
  t.close();
});
