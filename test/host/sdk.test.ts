// The SDK's documented hello-world filter, unmodified, runs in the host and adds its response header.
import assert from "node:assert/strict";
import { test } from "node:test";
import { PluginTester } from "../../tools/host/testing.ts";
import { helloSdk } from "./fixtures.ts";

test("@gcoredev/proxy-wasm-sdk-as hello world adds hello: world! to the response", async () => {
  const t = await PluginTester.load({ wasm: await helloSdk(), rootId: "add_header" });
  assert.ok(t.configured, t.loadError?.message);
  const res = await t.exchange({ path: "/" });
  assert.equal(res.status, 200);
  assert.equal(res.header("hello"), "world!");
  // Worker VMs run clean. (The canary VM, worker -1, traps in proxy_on_done at its shutdown: the SDK's
  // proxy_on_done looks the root context up in its stream-context map — an SDK bug Envoy hits the same way.)
  assert.deepEqual(t.logs.filter((l) => l.worker >= 0 && l.level >= 4).map((l) => l.message), []);
});

test("hello world with a plugin configuration adds the configuration as the value", async () => {
  const t = await PluginTester.load({ wasm: await helloSdk(), rootId: "add_header", configuration: "configured-value", workers: 2 });
  assert.ok(t.configured, t.loadError?.message);
  for (const worker of [0, 1]) {
    const res = await t.exchange({ worker });
    assert.equal(res.header("hello"), "configured-value");
  }
});
