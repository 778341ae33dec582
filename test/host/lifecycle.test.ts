// Lifecycle and call order (abi.md §2.1–2.3, §2.8): root context start/configure, configuration buffers,
// rejected configurations, per-stream callback order, on_log → on_done → on_delete.
import assert from "node:assert/strict";
import { test } from "node:test";
import { HostEnv, PluginLoadError } from "../../tools/host/index.ts";
import { PluginTester } from "../../tools/host/testing.ts";
import { vmPoolOf } from "../../tools/host/plugin.ts";
import { callbacks, fields, fixture, messages, probe, results } from "./fixtures.ts";

test("root context: on_context_create(root, 0) → on_vm_start → on_configure, root id 1, per VM (canary + workers)", async () => {
  const t = await PluginTester.load({ wasm: await probe(), vmConfig: "vmcfg", configuration: "x=1", workers: 2 });
  assert.ok(t.configured);
  for (const w of [-1, 0, 1]) {
    assert.deepEqual(callbacks(t.logs, w).slice(0, 3), ["on_context_create 1 0", "on_vm_start 1 5", "on_configure 1 3"], `worker ${w}`);
  }
  // The canary is shut down after validating: its root gets on_done → on_delete (abi.md §2.1, §2.8).
  assert.deepEqual(callbacks(t.logs, -1).slice(3), ["on_done 1", "on_delete 1"]);
  // VM configuration is readable in on_vm_start (buffer 6).
  assert.equal(fields(results(t.logs, "vm_config")[0]).text, "vmcfg");
});

test("plugin configuration is readable only during on_configure (buffer 7: NotFound elsewhere)", async () => {
  const t = await PluginTester.load({
    wasm: await probe(),
    configuration: "on_vm_start=buffer_status 7\non_configure=buffer_status 7;get_buffer 7 0 3",
  });
  // on_vm_start runs before on_configure read the scripts, so only on_configure's commands show.
  const inConfigure = results(t.logs, "buffer_status", 0);
  assert.equal(fields(inConfigure[0]).r, "0");
  assert.equal(fields(inConfigure[0]).len, String("on_vm_start=buffer_status 7\non_configure=buffer_status 7;get_buffer 7 0 3".length));
  assert.equal(fields(inConfigure[0]).flags, "0");
  assert.equal(fields(results(t.logs, "get_buffer", 0)[0]).text, "on_");
  await t.exchange({ headers: [["x-probe-request-headers", "buffer_status 7;get_buffer 7 0 10;buffer_status 6"]] });
  const later = results(t.logs, "buffer_status", 0).slice(1);
  assert.equal(fields(later[0]).r, "1", "PluginConfiguration outside on_configure → NotFound");
  assert.equal(fields(results(t.logs, "get_buffer", 0)[1]).r, "1");
  assert.equal(fields(later[1]).r, "0", "VmConfiguration is always available");
});

test("on_configure returning false rejects the plugin; the plugin's log and Envoy's message are shown", async () => {
  const t = await PluginTester.load({ wasm: await probe(), configuration: "on_configure=log 5 'limit'%20must%20be%20positive;return 0" });
  assert.equal(t.configured, false);
  assert.ok(t.loadError instanceof PluginLoadError);
  assert.equal(t.loadError!.phase, "configure");
  assert.match(t.loadError!.message, /Unable to create Wasm HTTP filter probe.*proxy_on_configure returned false/);
  assert.ok(t.loadError!.logs.some((l) => l.message === "'limit' must be positive" && l.levelName === "critical"));
  assert.ok(t.logsAt("critical").includes("'limit' must be positive"));
  // Rejected on the canary: no worker VM was started.
  assert.deepEqual(callbacks(t.logs, 0), []);
  await assert.rejects(() => t.exchange({}), /rejected/);
});

test("on_vm_start returning false fails the start (PluginLoadError phase start)", async () => {
  const t = await PluginTester.load({ wasm: await probe(), vmConfig: "script:log 4 no%20vm;return 0" });
  assert.equal(t.configured, false);
  assert.equal(t.loadError?.phase, "start");
  assert.match(t.loadError!.message, /proxy_on_vm_start returned false/);
  assert.ok(t.logsAt("error").includes("no vm"));
  assert.ok(!callbacks(t.logs, -1).some((c) => c.startsWith("on_configure")), "on_configure is not called after a failed start");
});

for (const target of ["debug", "release"] as const) test(`HTTP stream order (${target} probe): create → request headers → body → trailers → response headers → body → trailers → log → done → delete`, async () => {
  const t = await PluginTester.load({ wasm: await probe(target) });
  await t.exchange({
    method: "POST",
    body: "hello",
    trailers: [["x-t", "1"]],
    upstream: () => ({ status: 200, headers: [["content-type", "text/plain"]], body: "world!", trailers: [["grpc-status", "0"]] }),
  });
  assert.deepEqual(callbacks(t.logs).slice(3), [
    "on_context_create 2 1",
    "on_request_headers 2 4 0",
    "on_request_body 2 5 0",
    "on_request_trailers 2 1",
    "on_response_headers 2 2 0",
    "on_response_body 2 6 0",
    "on_response_trailers 2 1",
    "on_log 2",
    "on_done 2",
    "on_delete 2",
  ]);
});

test("headers-only request: end_of_stream = 1 on headers; context ids increase per stream", async () => {
  const t = await PluginTester.load({ wasm: await probe() });
  await t.exchange({});
  await t.exchange({});
  const cbs = callbacks(t.logs).slice(3);
  assert.deepEqual(cbs.filter((c) => c.startsWith("on_context_create")), ["on_context_create 2 1", "on_context_create 3 1"]);
  assert.ok(cbs.includes("on_request_headers 2 4 1"));
  assert.ok(cbs.includes("on_response_headers 3 1 1"));
});

test("a stream the plugin never saw (an earlier filter replied) still gets create → log → done → delete", async () => {
  const first = await probe();
  const t = await PluginTester.chain([
    { wasm: first, name: "replier" },
    { wasm: first, name: "second" },
  ]);
  const res = await t.exchange({ headers: [["x-probe-request-headers", "local_reply 403 denied no"]] });
  assert.equal(res.status, 403);
  // Same vm_id, VM configuration and code: one VM serves both filters, as in Envoy, each with its own root
  // context (replier's root 1, second's root 2; the stream contexts 3 and 4). The second one's lines:
  const second = t.logs.filter((l) => l.plugin === "second" && l.worker === 0 && l.message.startsWith("cb ")).map((l) => l.message.slice(3));
  assert.deepEqual(second.slice(3), ["on_context_create 4 2", "on_log 4", "on_done 4", "on_delete 4"]);
});

test("plugin shutdown: root on_done → on_delete; on_done false waits for proxy_done, which is deferred", async () => {
  const t = await PluginTester.load({ wasm: await probe(), configuration: "on_done=return 0\non_tick=done;set_tick 0" , canary: false });
  t.close();
  assert.deepEqual(callbacks(t.logs).slice(-1), ["on_done 1"], "on_delete waits for proxy_done");
  // proxy_done from a later callback (here on_tick) → Ok, and on_delete follows after the call returns.
  const root = t.plugin.vms[0].root!;
  assert.equal(root.pendingDone, true);
  root.onTick();
  assert.deepEqual(results(t.logs, "done"), ["done r=0"]);
  assert.deepEqual(callbacks(t.logs).slice(-2), ["on_tick 1", "on_delete 1"]);
});

test("proxy_done when no shutdown is pending → NotFound", async () => {
  const t = await PluginTester.load({ wasm: await probe() });
  await t.exchange({ headers: [["x-probe-request-headers", "done"]] });
  assert.deepEqual(results(t.logs, "done"), ["done r=1"]);
  assert.ok(messages(t.logs).length > 0);
});

test("start: _initialize, then main(0, 0) when exported (WASI reactor with main)", async () => {
  const t = await PluginTester.load({ wasm: await fixture("probe", "main-export"), canary: false });
  assert.ok(t.configured, t.loadError?.message);
  assert.deepEqual(t.logs.map((l) => l.message).slice(0, 2), ["top-level code (_initialize)", "main called 0 0"]);
});

test("allocator: proxy_on_memory_allocate when malloc is absent; neither → load error", async () => {
  const t = await PluginTester.load({ wasm: await fixture("probe", "alloc-fallback"), configuration: "cfg", canary: false });
  assert.ok(t.configured, t.loadError?.message);
  assert.ok(t.logs.some((l) => l.message === "config via proxy_on_memory_allocate: cfg"));
  const bad = await PluginTester.load({ wasm: await fixture("probe", "no-malloc") });
  assert.equal(bad.configured, false);
  assert.equal(bad.loadError!.phase, "load");
  assert.equal(bad.loadError!.message, "Wasm module is missing malloc function.");
});

test("a filter that joins a running VM and fails to configure ends only its own root context; the VM keeps serving the others", async () => {
  const env = new HostEnv();
  const a = await PluginTester.load({ wasm: await probe(), env, name: "a", vmId: "same" });
  const b = await PluginTester.load({ wasm: await probe(), env, name: "b", vmId: "same", configuration: "on_configure=return 0", canary: false });
  assert.match(b.loadError?.message ?? "", /failed to configure/);
  const r = await a.exchange({ headers: [["x-probe-request-headers", "log 2 still-here"]] });
  assert.equal(r.status, 200, "a's VM was not shut down by b's failure");
  assert.ok(a.logs.some((l) => l.plugin === "a" && l.message === "still-here"));
  a.close();
  assert.equal(vmPoolOf(env).size, 0, "the last user's close ends the VMs");
});
