// Buffer host functions (abi.md §4): bodies (current chunk or Envoy's buffered body), http-call response
// body, VM / plugin configuration. proxy_set_buffer_bytes follows Envoy: start 0 = drain `size` then
// prepend (so (0, ≥len) replaces), start ≥ len = append, anything else = BadArgument.
import { BufferType, R } from "./abi.ts";
import type { WasmVm } from "./vm.ts";

export function buffersImports(vm: WasmVm) {
  const mem = vm.mem;
  const abi01 = vm.abi === "0_1_0"
    ? {
        /** ABI 0.1.0: plugin configuration during on_configure, else the VM configuration (abi.md §12). */
        proxy_get_configuration(retPtr: number, retSize: number): number {
          const root = vm.rootOfCurrent();
          return mem.copyOut(root?.configuring ? vm.plugin.configuration : vm.plugin.vmConfig, retPtr, retSize);
        },
      }
    : {};
  return {
    ...abi01,
    proxy_get_buffer_status(type: number, retLength: number, retFlags: number): number {
      if (type >>> 0 > BufferType.CallData) return R.BadArgument;
      const b = vm.ctx().buffer(type);
      if (!b) return R.NotFound;
      if (!mem.setU32(retLength, b.data.length) || !mem.setU32(retFlags, 0)) return R.InvalidMemoryAccess;
      return R.Ok;
    },
    proxy_get_buffer_bytes(type: number, start: number, maxSize: number, retPtr: number, retSize: number): number {
      if (type >>> 0 > BufferType.CallData) return R.BadArgument;
      const b = vm.ctx().buffer(type);
      if (!b) return R.NotFound;
      const s = start >>> 0;
      const m = maxSize >>> 0;
      if (s + m > 0xffffffff) return R.BadArgument;
      const len = b.data.length;
      const n = s > len ? 0 : Math.min(m, len - s);
      if (n === 0) return mem.copyOut("", retPtr, retSize);
      return mem.copyOut(b.data.subarray(s, s + n), retPtr, retSize);
    },
    proxy_set_buffer_bytes(type: number, start: number, size: number, valuePtr: number, valueSize: number): number {
      if (type >>> 0 > BufferType.CallData) return R.BadArgument;
      if (!mem.inBounds(valuePtr, valueSize)) return R.InvalidMemoryAccess;
      const b = vm.ctx().buffer(type);
      if (!b || !b.body) return R.BadArgument;
      const data = mem.bytes(valuePtr, valueSize);
      const body = b.body;
      const s = start >>> 0;
      if (s === 0) {
        if (size >>> 0 !== 0) body.drain(size >>> 0);
        body.prepend(data);
        return R.Ok;
      }
      if (s >= body.length) {
        body.append(data);
        return R.Ok;
      }
      return R.BadArgument;
    },
  };
}
