// "Never a crashed Node process": every host function, called with arbitrary arguments, returns a result
// code or raises a trap-class error (which marks the VM failed) — never a host bug (TypeError, RangeError…).
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { HostTrap, ManualClock } from "../../tools/host/index.ts";
import { PluginTester } from "../../tools/host/testing.ts";
import { probe } from "./fixtures.ts";

test("host functions validate every pointer and size (fuzzed arguments)", async () => {
  const t = await PluginTester.load({ wasm: await probe(), clock: new ManualClock(), canary: false });
  const vm = t.plugin.vms[0];
  const memSize = () => vm.memory.buffer.byteLength;
  const arb = fc.oneof(
    fc.constantFrom(0, 1, 4, 8, 0xffffffff, 0x7fffffff, -1),
    fc.integer({ min: 0, max: 0xffffffff }),
    fc.nat({ max: 4096 }),
    fc.constant(0).map(() => memSize() - 4),
  );
  const fns = Object.entries({ ...vm.imports.env, ...vm.imports.wasi_snapshot_preview1 }) as Array<[string, (...a: unknown[]) => unknown]>;
  const I64 = new Set(["proxy_increment_metric:1", "proxy_record_metric:1", "fd_pwrite:3", "fd_pread:3", "fd_seek:1", "clock_time_get:1",
    "fd_readdir:3", "fd_advise:1", "fd_advise:2", "fd_allocate:1", "fd_allocate:2", "fd_fdstat_set_rights:1", "fd_fdstat_set_rights:2",
    "fd_filestat_set_size:1", "fd_filestat_set_times:1", "fd_filestat_set_times:2", "path_open:5", "path_open:6", "path_filestat_set_times:4", "path_filestat_set_times:5"]);
  // (ptr, size) input pairs per host function: out of bounds must give InvalidMemoryAccess (6), or
  // BadArgument (2) when another argument (map/buffer/metric type) is rejected first.
  const PAIRS: Record<string, Array<[number, number]>> = {
    proxy_log: [[1, 2]], proxy_get_property: [[0, 1]], proxy_set_property: [[0, 1], [2, 3]],
    proxy_send_local_response: [[1, 2], [3, 4], [5, 6]], proxy_get_shared_data: [[0, 1]], proxy_set_shared_data: [[0, 1], [2, 3]],
    proxy_register_shared_queue: [[0, 1]], proxy_resolve_shared_queue: [[0, 1], [2, 3]], proxy_enqueue_shared_queue: [[1, 2]],
    proxy_get_header_map_value: [[1, 2]], proxy_add_header_map_value: [[1, 2], [3, 4]], proxy_replace_header_map_value: [[1, 2], [3, 4]],
    proxy_remove_header_map_value: [[1, 2]], proxy_set_header_map_pairs: [[1, 2]], proxy_set_buffer_bytes: [[3, 4]],
    proxy_http_call: [[0, 1], [2, 3], [4, 5], [6, 7]], proxy_define_metric: [[2, 3]], proxy_call_foreign_function: [[0, 1], [2, 3]],
  };
  await fc.assert(
    fc.property(fc.constantFrom(...fns.map(([n]) => n)), fc.array(arb, { minLength: 12, maxLength: 12 }), (name, args) => {
      if (name === "proxy_done" || name === "proc_exit") return true;
      const fn = fns.find(([n]) => n === name)![1];
      const callArgs = args.map((a, i) => (I64.has(`${name}:${i}`) ? BigInt(a) : a | 0));
      try {
        const size = memSize();
        const oob = (PAIRS[name] ?? []).some(([p, n]) => (callArgs[p] as number >>> 0) + (callArgs[n] as number >>> 0) > size);
        const r = vm.actAs(vm.root, () => fn(...callArgs));
        assert.ok(r === undefined || typeof r === "number", `${name} returned ${String(r)}`);
        if (oob) assert.ok(r === 6 || r === 2, `${name}(${callArgs.join(", ")}) with an out-of-bounds input returned ${r}`);
      } catch (e) {
        // A trap inside the guest allocator (e.g. an absurd size) is a VM failure, not a host bug.
        assert.ok(e instanceof WebAssembly.RuntimeError || e instanceof HostTrap, `${name}(${callArgs.join(", ")}) threw ${(e as Error)?.stack ?? e}`);
      }
      return true;
    }),
    { numRuns: 3000, seed: 42 },
  );
});
