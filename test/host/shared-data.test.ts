// Shared data and queues (abi.md §7): Envoy CAS (one store-wide counter), vm_id partitions, workers
// sharing one store, and interleaving VMs from the onAccess hook.
import assert from "node:assert/strict";
import { test } from "node:test";
import { HostEnv, HostUsageError, SharedData } from "../../tools/host/index.ts";
import { PluginTester } from "../../tools/host/testing.ts";
import { callbacks, fields, probe, results } from "./fixtures.ts";

test("get absent → NotFound; set with any cas on an absent key succeeds; CAS values come from one global counter", async () => {
  const t = await PluginTester.load({ wasm: await probe() });
  await t.exchange({ headers: [["x-probe-request-headers", "get_shared k;set_shared k v1 77;get_shared k;set_shared other x 0;get_shared other;set_shared k v2 0;get_shared k"]] });
  const g = results(t.logs, "get_shared").map(fields);
  assert.equal(g[0].r, "1");
  assert.deepEqual([g[1].cas, g[1].text], ["1", "v1"]);
  assert.equal(g[2].cas, "2", "the counter is store-wide, not per key");
  assert.deepEqual([g[3].cas, g[3].text], ["3", "v2"]);
  assert.deepEqual(results(t.logs, "set_shared"), ["set_shared r=0", "set_shared r=0", "set_shared r=0"]);
});

test("set with a stale cas → CasMismatch (8); the current cas → Ok; cas 0 → unconditional", async () => {
  const t = await PluginTester.load({ wasm: await probe() });
  await t.exchange({ headers: [["x-probe-request-headers", "set_shared c 1 0;get_shared c;set_shared c 2 last;set_shared c 3 last;get_shared c;set_shared c 4 0;get_shared c"]] });
  assert.deepEqual(results(t.logs, "set_shared"), ["set_shared r=0", "set_shared r=0", "set_shared r=8", "set_shared r=0"]);
  assert.equal(fields(results(t.logs, "get_shared")[1]).text, "2");
  assert.equal(fields(results(t.logs, "get_shared")[2]).text, "4");
  assert.equal(t.sharedData("c")!.text, "4");
});

test("the store against a Map model: 5,000 keys (table and slab growth), long keys and values, values changing size, key bytes", () => {
  const store = new SharedData();
  const model = new Map<string, { value: Buffer; cas: number }>();
  let cas = 0;
  let seed = 7;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
  const keyOf = (i: number) => (i % 97 === 0 ? `long-key-${"k".repeat(120)}-${i}` : i % 13 === 0 ? `bytes-\xff\x00\x80-${i}` : `rl:per-client:${i}`);
  for (let step = 0; step < 20000; step++) {
    const key = keyOf(rnd(5000));
    const len = rnd(10) === 0 ? 100 + rnd(200) : rnd(60);
    const value = Buffer.alloc(len, step & 0xff);
    const cur = model.get(key);
    const useCas = rnd(3) === 0 ? (cur ? cur.cas : 0) : rnd(4) === 0 ? 12345 : 0;
    const r = store.set("v", key, value, useCas);
    if (cur && useCas !== 0 && useCas !== cur.cas) {
      assert.equal(r, 8, "stale cas → CasMismatch");
      continue;
    }
    assert.equal(r, 0);
    model.set(key, { value, cas: ++cas });
  }
  assert.deepEqual(store.keys("v"), [...model.keys()], "keys in insertion order");
  for (const [k, e] of model) {
    const got = store.get("v", k)!;
    assert.ok(got, `has ${JSON.stringify(k)}`);
    assert.equal(got.cas, e.cas);
    assert.ok(Buffer.from(got.value).equals(e.value), `value of ${JSON.stringify(k)}`);
  }
  assert.equal(store.get("v", "absent"), undefined);
  assert.equal(store.get("other", "rl:per-client:1"), undefined);
  assert.deepEqual([...store.entries("v").keys()], [...model.keys()]);
});

test("workers share the store; vm_id partitions it", async () => {
  const env = new HostEnv({ logLevel: "trace" });
  const a = await PluginTester.load({ wasm: await probe(), env, name: "a", vmId: "shared", workers: 2 });
  const b = await PluginTester.load({ wasm: await probe(), env, name: "b", vmId: "other" });
  await a.exchange({ worker: 0, headers: [["x-probe-request-headers", "set_shared k from-worker-0 0"]] });
  await a.exchange({ worker: 1, headers: [["x-probe-request-headers", "get_shared k"]] });
  await b.exchange({ headers: [["x-probe-request-headers", "get_shared k"]] });
  assert.equal(fields(env.logs.filter((l) => l.plugin === "a" && l.worker === 1 && l.message.startsWith("get_shared"))[0].message).text, "from-worker-0");
  assert.equal(env.logs.filter((l) => l.plugin === "b" && l.message.startsWith("get_shared"))[0].message, "get_shared r=1");
  assert.deepEqual(a.sharedDataKeys(), ["k"]);
  assert.deepEqual(env.sharedData.keys("other"), []);
});

test("onAccess hook interleaves workers: worker 1 writes between worker 0's get and set → worker 0's CAS fails", async () => {
  const t = await PluginTester.load({ wasm: await probe(), workers: 2 });
  await t.exchange({ headers: [["x-probe-request-headers", "set_shared n 0 0"]] });
  const seen: string[] = [];
  let injected = false;
  t.env.sharedData.onAccess = (ev) => {
    seen.push(`${ev.worker}:${ev.op}:${ev.result}`);
    if (ev.worker === 0 && ev.op === "get" && !injected) {
      injected = true;
      const s = t.stream(1);
      s.requestHeaders([["x-probe-request-headers", "get_shared n;set_shared n 1 last"]]);
      s.complete();
    }
  };
  await t.exchange({ worker: 0, headers: [["x-probe-request-headers", "get_shared n;set_shared n 1 last"]] });
  assert.deepEqual(seen, ["0:get:0", "1:get:0", "1:set:0", "0:set:8"]);
  assert.deepEqual(results(t.logs, "set_shared", 1), ["set_shared r=0"]);
  assert.deepEqual(results(t.logs, "set_shared", 0).slice(-1), ["set_shared r=8"]);
});

test("re-entering the SAME worker from the hook throws HostUsageError to the test (no Node crash)", async () => {
  const t = await PluginTester.load({ wasm: await probe() });
  t.env.sharedData.onAccess = () => {
    t.stream(0).requestHeaders([]);
  };
  await assert.rejects(() => t.exchange({ headers: [["x-probe-request-headers", "get_shared x"]] }), (e: unknown) => {
    assert.ok(e instanceof HostUsageError);
    assert.match((e as Error).message, /re-entrant call into the VM of plugin 'probe' worker 0/);
    return true;
  });
});

test("an assertion thrown inside the hook propagates to the driver", async () => {
  const t = await PluginTester.load({ wasm: await probe() });
  t.env.sharedData.onAccess = () => {
    throw new Error("hook says no");
  };
  assert.throws(() => t.stream(0).requestHeaders([["x-probe-request-headers", "get_shared x"]]), /hook says no/);
});

test("SharedData in isolation: cas wraps past 0xffffffff skipping 0", () => {
  const sd = new SharedData();
  (sd as unknown as { nextCas: number }).nextCas = 0xffffffff;
  assert.equal(sd.set("", "a", new Uint8Array([1]), 0), 0);
  assert.equal(sd.get("", "a")!.cas, 0xffffffff);
  sd.set("", "a", new Uint8Array([2]), 0);
  assert.equal(sd.get("", "a")!.cas, 1);
});

test("queues: register (same token again), resolve (own vm_id with empty name), enqueue posts on_queue_ready per item, dequeue FIFO then Empty", async () => {
  const t = await PluginTester.load({
    wasm: await probe(),
    configuration: "on_configure=register_queue q;register_queue q\non_queue_ready=dequeue last",
  });
  assert.deepEqual(results(t.logs, "register_queue", 0), ["register_queue r=0 token=1", "register_queue r=0 token=1"]);
  await t.exchange({ headers: [["x-probe-request-headers", "resolve_queue - q;resolve_queue - nope;enqueue last a;enqueue last b;enqueue 99 c"]] });
  assert.deepEqual(results(t.logs, "resolve_queue"), ["resolve_queue r=0 token=1", "resolve_queue r=1 token=0"]);
  assert.deepEqual(results(t.logs, "enqueue"), ["enqueue r=0", "enqueue r=0", "enqueue r=1"]);
  await t.flush();
  assert.deepEqual(callbacks(t.logs).filter((c) => c.startsWith("on_queue_ready")), ["on_queue_ready 1 1", "on_queue_ready 1 1"]);
  assert.deepEqual(results(t.logs, "dequeue").map((l) => fields(l).text), ["a", "b"]);
  await t.exchange({ headers: [["x-probe-request-headers", "dequeue 1;dequeue 99"]] });
  assert.deepEqual(results(t.logs, "dequeue").slice(2), ["dequeue r=7", "dequeue r=1"]);
});

test("data for a vm_id lives while any plugin/VM holds that vm_id, and goes with the last one", async () => {
  const env = new HostEnv({ logLevel: "trace" });
  const a = await PluginTester.load({ wasm: await probe(), env, name: "a", vmId: "shared" });
  const b = await PluginTester.load({ wasm: await probe(), env, name: "b", vmId: "shared" });
  await a.exchange({ headers: [["x-probe-request-headers", "set_shared k v 0"]] });
  a.close();
  assert.deepEqual(env.sharedData.keys("shared"), ["k"], "b still holds vm_id 'shared'");
  b.close();
  assert.deepEqual(env.sharedData.keys("shared"), []);
});
