// Failures (abi.md §14), restricted callbacks (§1.5) and link checks (§1.1, §1.6): the VM is marked failed,
// the message is logged once, streams get 503 wasm_fail_stream (or pass with fail_open), load errors carry
// Envoy's messages, and Node never crashes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { HostEnv, Plugin, PluginLoadError } from "../../tools/host/index.ts";
import { PluginTester } from "../../tools/host/testing.ts";
import { callbacks, fixture, probe } from "./fixtures.ts";

for (const target of ["release", "debug"] as const) {
  test(`trap in on_request_headers (${target}): VM failed, logged once, 503 wasm_fail_stream, response callbacks skipped`, async () => {
    const t = await PluginTester.load({ wasm: await fixture("trap", "index", target), workers: 2 });
    const ok = await t.exchange({});
    assert.equal(ok.header("x-trap-seen"), "no");
    const res = await t.exchange({ headers: [["x-trap", "1"]] });
    assert.equal(res.status, 503);
    assert.equal(res.details, "wasm_fail_stream");
    assert.equal(res.body, "");
    assert.equal(res.header("x-trap-seen"), undefined);
    assert.equal(res.upstreamRequest, null);
    const failures = t.logs.filter((l) => /^Function: \S+ failed: /.test(l.message));
    assert.equal(failures.length, 1);
    assert.equal(failures[0].levelName, "error");
    assert.match(failures[0].message, /Function: proxy_on_request_headers failed: Uncaught RuntimeError: unreachable/);
    assert.equal(failures[0].worker, 0);
    // The worker's VM stays dead: next streams on worker 0 get the 503 without touching the VM, once each.
    const again = await t.exchange({});
    assert.equal(again.status, 503);
    assert.equal(t.logs.filter((l) => /^Function: \S+ failed: /.test(l.message)).length, 1);
    // Worker 1 is another VM and keeps working.
    const other = await t.exchange({ worker: 1 });
    assert.equal(other.status, 200);
    assert.equal(other.header("x-trap-seen"), "no");
  });
}

test("fail_open: the failed filter is bypassed (request reaches upstream), now and for later streams", async () => {
  const t = await PluginTester.load({ wasm: await fixture("trap", "index", "release"), failOpen: true });
  const res = await t.exchange({ headers: [["x-trap", "1"]] });
  assert.equal(res.status, 200);
  assert.ok(res.upstreamRequest);
  assert.equal(res.header("x-trap-seen"), undefined);
  const later = await t.exchange({});
  assert.equal(later.status, 200);
  assert.equal(later.header("x-trap-seen"), undefined, "the plugin no longer runs");
});

test("a trap on the response path: 503 goes straight downstream", async () => {
  const t = await PluginTester.load({ wasm: await probe() });
  const res = await t.exchange({ headers: [["x-probe-response-headers", "trap"]], upstream: () => ({ status: 200, body: "secret" }) });
  assert.equal(res.status, 503);
  assert.equal(res.body, "");
  assert.equal(res.details, "wasm_fail_stream");
});

test("a trap in on_log / on_done: no crash, VM failed, no further callbacks (on_delete skipped)", async () => {
  const t = await PluginTester.load({ wasm: await probe() });
  const res = await t.exchange({ headers: [["x-probe-log", "trap"]] });
  assert.equal(res.status, 200);
  assert.deepEqual(callbacks(t.logs).slice(-1), ["on_log 2"]);
  assert.ok(t.plugin.vms[0].failed);
});

test("a trap in on_configure rejects the plugin with Envoy's failure message", async () => {
  const t = await PluginTester.load({ wasm: await probe(), configuration: "on_configure=trap" });
  assert.equal(t.configured, false);
  assert.equal(t.loadError!.phase, "configure");
  assert.match(t.loadError!.message, /Function: proxy_on_configure failed: Uncaught RuntimeError: unreachable/);
});

test("a trap in on_tick marks the VM failed; later streams on that worker get 503", async () => {
  const { ManualClock } = await import("../../tools/host/index.ts");
  const clock = new ManualClock();
  const t = await PluginTester.load({ wasm: await probe(), clock, configuration: "on_configure=set_tick 10\non_tick=trap" });
  clock.advance(10);
  assert.ok(t.plugin.vms[0].failed);
  clock.advance(100);
  assert.equal(callbacks(t.logs).filter((c) => c.startsWith("on_tick")).length, 1, "no ticks after the failure");
  assert.equal((await t.exchange({})).status, 503);
});

test("restricted callbacks: a host call other than the allow-list during _initialize fails the VM start", async () => {
  const t = await PluginTester.load({ wasm: await fixture("probe", "init-restricted") });
  assert.equal(t.configured, false);
  assert.equal(t.loadError!.phase, "start");
  assert.match(t.loadError!.message, /Function: _initialize failed: restricted_callback/);
  assert.ok(t.logs.some((l) => l.message === "initializing"), "proxy_log is allowed during _initialize");
});

test("restricted callbacks: the guest malloc may call proxy_log but nothing else", async () => {
  const t = await PluginTester.load({ wasm: await fixture("probe", "malloc-restricted"), configuration: "{}" });
  assert.equal(t.configured, false);
  assert.match(t.loadError!.message, /restricted_callback: env.proxy_get_current_time_nanoseconds may not be called from the allocator/);
  assert.ok(t.logs.some((l) => l.message === "malloc called"));
});

test("restricted callbacks: every host function but the allow-lists traps in either restricted phase (wrapped or self-checked), env and WASI", async () => {
  const { MALLOC_ALLOWED, START_ALLOWED, Phase } = await import("../../tools/host/restrictions.ts");
  const env = new HostEnv({ logLevel: "critical" });
  const p = await Plugin.load(env, { wasm: await probe(), workers: 1, canary: false });
  try {
    const vm = p.vms[0];
    const keys = Object.entries(vm.imports).flatMap(([m, fns]) => Object.keys(fns).map((n) => `${m}.${n}`));
    for (const k of ["env.proxy_get_header_map_value", "env.proxy_get_shared_data", "env.proxy_log", "wasi_snapshot_preview1.fd_write", "wasi_unstable.path_open"]) {
      assert.ok(keys.includes(k), k);
    }
    for (const [phase, allowed] of [[Phase.Start, START_ALLOWED], [Phase.Malloc, MALLOC_ALLOWED]] as const) {
      for (const key of keys) {
        const [m, name] = key.split(".");
        const f = vm.imports[m][name] as (...a: unknown[]) => unknown;
        // i64 parameters get BigInts; the rest 0 (every host function validates them).
        const args = Array.from({ length: 12 }, (_, i) => (I64_ARGS.has(`${name}:${i}`) ? 0n : 0));
        let err: unknown = null;
        try {
          vm.inPhase(phase, () => f(...args));
        } catch (e) {
          err = e;
        }
        const trapped = err instanceof Error && err.message.startsWith(`restricted_callback: ${key} `);
        assert.equal(trapped, !allowed.has(key), `${key} in phase ${phase}: ${String(err)}`);
        if (!trapped) assert.equal(err, null, `${key} in phase ${phase}`);
      }
    }
  } finally {
    p.close();
  }
});

/** "name:index" of host-function parameters that are i64 (signatures.ts). */
const I64_ARGS = new Set(["proxy_increment_metric:1", "proxy_record_metric:1", "fd_pwrite:3", "fd_pread:3", "fd_seek:1", "clock_time_get:1",
  "fd_readdir:3", "fd_advise:1", "fd_advise:2", "fd_allocate:1", "fd_allocate:2", "fd_fdstat_set_rights:1", "fd_fdstat_set_rights:2",
  "fd_filestat_set_size:1", "fd_filestat_set_times:1", "fd_filestat_set_times:2", "path_open:5", "path_open:6", "path_filestat_set_times:4", "path_filestat_set_times:5"]);

test("link checks: Envoy's load errors for missing imports, wrong import types, env.abort, no ABI marker, bad callback signature", async () => {
  const env = new HostEnv();
  const cases: Array<[string, RegExp]> = [
    ["missing-import", /^Failed to load Wasm module due to a missing import: env\.proxy_clear_route_cache$/],
    ["bad-signature", /^Failed to load Wasm module due to an import type mismatch: env\.proxy_log, want: i32 i32 -> i32, but host exports: i32 i32 i32 -> i32$/],
    ["env-abort", /missing import: env\.abort$/],
    ["no-abi", /^Missing or unknown Proxy-Wasm ABI version$/],
    ["bad-callback", /^Bad function signature for: proxy_on_request_headers$/],
  ];
  for (const [name, re] of cases) {
    const wasm = await fixture("probe", name);
    await assert.rejects(() => Plugin.load(env, { wasm }), (e: unknown) => {
      assert.ok(e instanceof PluginLoadError, name);
      assert.equal((e as PluginLoadError).phase, "load");
      assert.match((e as Error).message, re, name);
      return true;
    });
  }
  assert.ok(env.logs.some((l) => l.levelName === "critical" && l.message.startsWith("Unable to create Wasm HTTP filter")));
});

test("garbage bytes are a load error, not a crash", async () => {
  await assert.rejects(() => Plugin.load(new HostEnv(), { wasm: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]) }), PluginLoadError);
});

test("an AssemblyScript throw: debug builds log the abort message at critical; both builds fail the VM", async () => {
  // Release builds route abort to a bare trap (no message strings in the binary: ~1.3 KB per plugin);
  // debug builds keep the message, file and line for diagnosis.
  for (const target of ["debug", "release"] as const) {
    const t = await PluginTester.load({ wasm: await fixture("trap", "index", target) });
    const res = await t.exchange({ headers: [["x-throw", "1"]] });
    assert.equal(res.status, 503, target);
    const aborts = t.logsAt("critical").filter((m) => m.startsWith("abort: "));
    if (target === "debug") {
      assert.equal(aborts.length, 1);
      assert.match(aborts[0], /^abort: boom from the plugin at test\/fixtures\/trap\/index\.ts:\d+:\d+$/);
    } else {
      assert.deepEqual(aborts, []);
    }
    assert.equal(t.logs.filter((l) => /^Function: \S+ failed: /.test(l.message)).length, 1, target);
  }
});
