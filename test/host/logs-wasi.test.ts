// Logging, log level, time, foreign functions (abi.md §12) and the WASI subset (§13).
import assert from "node:assert/strict";
import { test } from "node:test";
import { inflateSync } from "node:zlib";
import { ManualClock, RealClock } from "../../tools/host/index.ts";
import { PluginTester } from "../../tools/host/testing.ts";
import { fields, probe, results } from "./fixtures.ts";

test("proxy_log: levels 0..5 recorded with names and Envoy's line prefix; level > 5 → BadArgument; OOB → InvalidMemoryAccess", async () => {
  const t = await PluginTester.load({ wasm: await probe(), name: "p", rootId: "r", vmId: "v" });
  await t.exchange({ headers: [["x-probe-request-headers", "log 0 t;log 3 w;log 5 c;log 6 x;oob_log"]] });
  assert.deepEqual(results(t.logs, "log"), ["log r=0", "log r=0", "log r=0", "log r=2"]);
  assert.deepEqual(results(t.logs, "oob_log"), ["oob_log r=6"]);
  const w = t.logs.find((l) => l.message === "w")!;
  assert.equal(w.levelName, "warn");
  assert.equal(w.line, "wasm log p r v: w");
  assert.deepEqual(t.logsAt("critical"), ["c"]);
});

test("logger level: records below it are dropped; proxy_get_log_level returns it", async () => {
  const t = await PluginTester.load({ wasm: await probe(), logLevel: "warn" });
  await t.exchange({ headers: [["x-probe-request-headers", "log 2 info-dropped;log 4 kept;get_log_level"]] });
  const msgs = t.logs.map((l) => l.message);
  assert.ok(!msgs.includes("info-dropped"));
  assert.ok(msgs.includes("kept"));
  // The probe's own result lines are info-level, so read the level through a warn-level log instead:
  const t2 = await PluginTester.load({ wasm: await probe(), logLevel: "trace" });
  await t2.exchange({ headers: [["x-probe-request-headers", "get_log_level"]] });
  assert.deepEqual(results(t2.logs, "get_log_level"), ["get_log_level r=0 level=0"]);
});

test("time: proxy_get_current_time_nanoseconds and WASI clock_time_get(realtime) follow the injected clock", async () => {
  const clock = new ManualClock(Date.UTC(2030, 5, 1));
  const t = await PluginTester.load({ wasm: await probe(), clock });
  await t.exchange({ headers: [["x-probe-request-headers", "time;wasi_time 0;wasi_time 1;wasi_time 7"]] });
  const ns = BigInt(Date.UTC(2030, 5, 1)) * 1_000_000n;
  assert.deepEqual(results(t.logs, "time"), [`time r=0 ns=${ns}`]);
  assert.deepEqual(results(t.logs, "wasi_time"), [`wasi_time r=0 ns=${ns}`, "wasi_time r=0 ns=0", "wasi_time r=58 ns=0"]);
});

test("time: the u64 the host writes equals nowNanos() exactly (fractional ms, today, up to the end of the u64 range; real clock within its ms)", () => {
  const dv = new DataView(new ArrayBuffer(8));
  for (const ms of [0, 1.5, Date.UTC(2026, 10, 22, 6, 0, 0, 123) + 0.456789, 2 ** 40 + 0.999, Date.UTC(2554, 0, 1)]) {
    const c = new ManualClock(ms);
    c.writeNowNanos(dv, 0);
    assert.equal(dv.getBigUint64(0, true), c.nowNanos(), `ms=${ms}`);
  }
  const real = new RealClock();
  const before = BigInt(Date.now()) * 1_000_000n;
  real.writeNowNanos(dv, 0);
  const after = (BigInt(Date.now()) + 1n) * 1_000_000n;
  const got = dv.getBigUint64(0, true);
  assert.ok(got >= before && got < after, `${got} within [${before}, ${after})`);
});

test("foreign functions: clear_route_cache Ok (xds.route_name keeps the first resolution, as Envoy 1.40), compress via zlib, custom ones, unknown → NotFound", async () => {
  let resolved = 0;
  const t = await PluginTester.load({
    wasm: await probe(),
    route: () => ({ name: `r${++resolved}` }),
    foreignFunctions: { echo_upper: (a) => Buffer.from(Buffer.from(a).toString().toUpperCase()) },
  });
  await t.exchange({ headers: [["x-probe-request-headers", "get_property xds%00route_name;foreign clear_route_cache;get_property xds%00route_name;foreign compress hello;foreign echo_upper abc;foreign nope x"]] });
  assert.deepEqual(results(t.logs, "get_property").map((l) => fields(l).text), ["r1", "r1"]);
  const f = results(t.logs, "foreign").map(fields);
  assert.equal(f[0].r, "0");
  assert.equal(inflateSync(Buffer.from(f[1].hex, "hex")).toString(), "hello");
  assert.equal(f[2].text, "ABC");
  assert.equal(f[3].r, "1");
});

test("request-header changes clear the route cache: the request is routed again, xds.route_name stays as first resolved (Envoy 1.40)", async () => {
  const t = await PluginTester.load({ wasm: await probe(), route: (h) => ({ name: `route-for-${h.get("x-tag") ?? "none"}`, cluster: h.get("x-tag") ?? "stable" }) });
  let routed: string | undefined;
  await t.exchange({
    headers: [["x-probe-request-headers", "get_property xds%00route_name;add_header 0 x-tag canary;get_property xds%00route_name"]],
    upstream: (v) => ((routed = v.route?.name), { status: 200 }),
  });
  assert.deepEqual(results(t.logs, "get_property").map((l) => fields(l).text), ["route-for-none", "route-for-none"]);
  assert.equal(routed, "route-for-canary", "the router resolves the route again");
});

test("WASI: fd_write 1 → info, 2 → error (one trailing newline stripped), other fd → BADF; random_get fills, >64KiB → INVAL", async () => {
  const t = await PluginTester.load({ wasm: await probe() });
  await t.exchange({ headers: [["x-probe-request-headers", "fd_write 1 out%0A;fd_write 2 err;fd_write 3 x;random 32;random 70000;random 0"]] });
  assert.deepEqual(results(t.logs, "fd_write"), ["fd_write r=0 n=4", "fd_write r=0 n=3", "fd_write r=8 n=3"]);
  assert.ok(t.logs.some((l) => l.message === "out" && l.levelName === "info"));
  assert.ok(t.logs.some((l) => l.message === "err" && l.levelName === "error"));
  const r = results(t.logs, "random").map(fields);
  assert.equal(r[0].r, "0");
  assert.ok(Number(r[0].nonzero) > 20);
  assert.equal(r[1].r, "28");
  assert.equal(r[2].r, "0");
});

test("set_effective_context to an unknown id → BadArgument", async () => {
  const t = await PluginTester.load({ wasm: await probe() });
  await t.exchange({ headers: [["x-probe-request-headers", "set_effective 999;set_effective 1"]] });
  assert.deepEqual(results(t.logs, "set_effective"), ["set_effective r=2", "set_effective r=0"]);
});
