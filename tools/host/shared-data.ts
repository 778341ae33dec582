// Shared data and shared queue host functions (abi.md §7) over the env's stores (shared-store.ts). Keys
// are looked up straight from guest memory: no string is decoded unless a test hook asks for one.
import { R } from "./abi.ts";
import { selfChecked } from "./restrictions.ts";
import type { WasmVm } from "./vm.ts";

/** proxy_*_shared_data and proxy_*_shared_queue (abi.md §7). */
export function sharedDataImports(vm: WasmVm) {
  const env = vm.env;
  const mem = vm.mem;
  const fns = {
    proxy_get_shared_data(keyPtr: number, keySize: number, retPtr: number, retSize: number, retCas: number): number {
      vm.checkCall("env.proxy_get_shared_data");
      if (!mem.inBounds(keyPtr, keySize)) return R.InvalidMemoryAccess;
      const vmId = vm.plugin.vmId;
      const m = env.sharedData.of(vmId);
      const r = m ? m.find(mem.raw(), keyPtr >>> 0, keySize >>> 0) : -1;
      let result: number;
      if (m === undefined || r < 0) {
        result = R.NotFound;
      } else {
        result = mem.copyOutWith(m.length(r), retPtr, retSize, (buf, p) => m.readInto(r, buf, p));
        if (result === R.Ok && !mem.setU32(retCas, m.cas(r))) result = R.InvalidMemoryAccess;
      }
      if (env.sharedData.onAccess) {
        const found = m !== undefined && r >= 0;
        env.sharedData.fire({ op: "get", vmId, key: mem.latin1(keyPtr, keySize), worker: vm.worker, plugin: vm.plugin.name, result, cas: found ? m.cas(r) : 0, value: found ? m.value(r) : null });
      }
      return result;
    },
    proxy_set_shared_data(keyPtr: number, keySize: number, valuePtr: number, valueSize: number, cas: number): number {
      vm.checkCall("env.proxy_set_shared_data");
      if (!mem.inBounds(keyPtr, keySize) || !mem.inBounds(valuePtr, valueSize)) return R.InvalidMemoryAccess;
      const vmId = vm.plugin.vmId;
      const result = env.sharedData.setFrom(vmId, mem.raw(), keyPtr >>> 0, keySize >>> 0, mem.raw(), valuePtr >>> 0, valueSize >>> 0, cas >>> 0);
      if (env.sharedData.onAccess) {
        env.sharedData.fire({ op: "set", vmId, key: mem.latin1(keyPtr, keySize), worker: vm.worker, plugin: vm.plugin.name, result, cas: cas >>> 0, value: mem.bytes(valuePtr, valueSize) });
      }
      return result;
    },
    proxy_register_shared_queue(namePtr: number, nameSize: number, retToken: number): number {
      if (!mem.inBounds(namePtr, nameSize)) return R.InvalidMemoryAccess;
      const root = vm.rootOfCurrent();
      const token = env.queues.register(vm.plugin.vmId, mem.latin1(namePtr, nameSize), vm, root ? root.id : 0);
      return mem.setU32(retToken, token) ? R.Ok : R.InvalidMemoryAccess;
    },
    proxy_resolve_shared_queue(vmIdPtr: number, vmIdSize: number, namePtr: number, nameSize: number, retToken: number): number {
      if (!mem.inBounds(vmIdPtr, vmIdSize) || !mem.inBounds(namePtr, nameSize)) return R.InvalidMemoryAccess;
      const vmId = vmIdSize === 0 ? vm.plugin.vmId : mem.latin1(vmIdPtr, vmIdSize);
      const token = env.queues.resolve(vmId, mem.latin1(namePtr, nameSize));
      if (token === undefined) return R.NotFound;
      return mem.setU32(retToken, token) ? R.Ok : R.InvalidMemoryAccess;
    },
    proxy_dequeue_shared_queue(token: number, retPtr: number, retSize: number): number {
      const r = env.queues.dequeue(token >>> 0);
      if (r.result !== R.Ok) return r.result;
      return mem.copyOut(r.value!, retPtr, retSize);
    },
    proxy_enqueue_shared_queue(token: number, valuePtr: number, valueSize: number): number {
      if (!mem.inBounds(valuePtr, valueSize)) return R.InvalidMemoryAccess;
      return env.queues.enqueue(token >>> 0, mem.bytes(valuePtr, valueSize));
    },
  };
  return selfChecked(fns, "proxy_get_shared_data", "proxy_set_shared_data");
}
