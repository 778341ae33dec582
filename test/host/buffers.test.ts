// Buffers (abi.md §4): body chunks, Envoy's prepend / replace / append only, status flags 0, configs.
import assert from "node:assert/strict";
import { test } from "node:test";
import { PluginTester } from "../../tools/host/testing.ts";
import { fields, probe, results } from "./fixtures.ts";

test("get_buffer_bytes clamps start/size; empty result → ptr 0 / size 0 without allocation; status flags always 0", async () => {
  const t = await PluginTester.load({ wasm: await probe() });
  await t.exchange({
    method: "POST",
    body: "0123456789",
    headers: [["x-probe-request-body", "get_buffer 0 2 3;get_buffer 0 8 100;get_buffer 0 10 5;get_buffer 0 50 5;buffer_status 0"]],
  });
  const r = results(t.logs, "get_buffer").map(fields);
  assert.equal(r[0].text, "234");
  assert.equal(r[1].text, "89");
  assert.deepEqual([r[2].r, r[2].ptr0, r[2].len], ["0", "1", "0"]);
  assert.deepEqual([r[3].r, r[3].ptr0, r[3].len], ["0", "1", "0"]);
  assert.equal(results(t.logs, "buffer_status")[0], "buffer_status r=0 len=10 flags=0");
});

test("set_buffer_bytes: (0,0)=prepend, (0,≥len)=replace, start≥len=append, mid-buffer=BadArgument; (0,n)=drain n then prepend", async () => {
  const t = await PluginTester.load({ wasm: await probe() });
  const cases: Array<[string, string, string]> = [
    ["set_buffer 0 0 0 >>", "0", ">>body"],
    ["set_buffer 0 0 4 new", "0", "new"],
    ["set_buffer 0 0 100 all", "0", "all"],
    ["set_buffer 0 4 0 <<", "0", "body<<"],
    ["set_buffer 0 99 0 <<", "0", "body<<"],
    ["set_buffer 0 2 1 X", "2", "body"],
    ["set_buffer 0 0 2 X", "0", "Xdy"],
  ];
  for (const [cmd, code, upstream] of cases) {
    const before = results(t.logs, "set_buffer").length;
    const res = await t.exchange({ method: "POST", body: "body", headers: [["x-probe-request-body", cmd]] });
    assert.equal(results(t.logs, "set_buffer")[before], `set_buffer r=${code}`, cmd);
    assert.equal(res.upstreamRequest!.body, upstream, cmd);
  }
});

test("response body can be replaced; buffer type > 8 → BadArgument; immutable buffers → BadArgument", async () => {
  const t = await PluginTester.load({ wasm: await probe(), vmConfig: "vm" });
  const res = await t.exchange({
    upstream: () => ({ status: 200, body: "upstream" }),
    headers: [["x-probe-response-body", "set_buffer 1 0 100 replaced;get_buffer 9 0 1;buffer_status 9;set_buffer 6 0 0 x;set_buffer 4 0 0 x"]],
  });
  assert.equal(res.body, "replaced");
  assert.deepEqual(results(t.logs, "set_buffer"), ["set_buffer r=0", "set_buffer r=2", "set_buffer r=2"]);
  assert.equal(results(t.logs, "get_buffer")[0], "get_buffer r=2");
  assert.equal(fields(results(t.logs, "buffer_status")[0]).r, "2");
});

test("request body outside a body callback is empty (Ok, length 0)", async () => {
  const t = await PluginTester.load({ wasm: await probe() });
  await t.exchange({ method: "POST", body: "abc", headers: [["x-probe-request-headers", "buffer_status 0;get_buffer 0 0 10"]] });
  assert.equal(results(t.logs, "buffer_status")[0], "buffer_status r=0 len=0 flags=0");
  assert.equal(results(t.logs, "get_buffer")[0], "get_buffer r=0 ptr0=1 len=0");
});

test("memory growth during a host call: values written after malloc grows memory land correctly", async () => {
  const t = await PluginTester.load({ wasm: await probe() });
  const big = "x".repeat(300_000);
  await t.exchange({ method: "POST", body: big, headers: [["x-probe-request-body", "grow 40;get_buffer 0 299990 100"]] });
  assert.equal(fields(results(t.logs, "get_buffer")[0]).text, "xxxxxxxxxx");
});
