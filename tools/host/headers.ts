// Header map host functions (abi.md §3.2, §3.3) with Envoy's exact result codes: unavailable map →
// BadArgument (NotFound for reads in the access-log phase), absent key → NotFound, get = first value,
// size = byte size. Request-header mutations clear the route cache (ABI 0.2.1 Wasm filter behaviour).
import { MapType, R } from "./abi.ts";
import { HttpFilterContext } from "./stream-context.ts";
import { pairsSize, writePairs } from "./pairs.ts";
import { selfChecked } from "./restrictions.ts";
import type { WasmVm } from "./vm.ts";

export function headersImports(vm: WasmVm) {
  const mem = vm.mem;
  const afterMutation = (type: number): void => {
    if (type !== MapType.RequestHeaders) return;
    const c = vm.ctx();
    if (c instanceof HttpFilterContext && c.cb) c.cb.clearRouteCache();
  };
  const unavailableRead = (): number => {
    const c = vm.ctx();
    return c instanceof HttpFilterContext && c.accessLog ? R.NotFound : R.BadArgument;
  };
  /** add (Envoy addCopy) or replace (setCopy) one value. */
  const putValue = (type: number, keyPtr: number, keySize: number, valuePtr: number, valueSize: number, replace: boolean): number => {
    if (type >>> 0 > MapType.HttpCallResponseTrailers) return R.BadArgument;
    if (!mem.inBounds(keyPtr, keySize) || !mem.inBounds(valuePtr, valueSize)) return R.InvalidMemoryAccess;
    const map = vm.ctx().mutableMap(type);
    if (!map) return R.BadArgument;
    const k = mem.headerKey(keyPtr, keySize);
    const v = mem.latin1(valuePtr, valueSize);
    if (replace) map.setLower(k, v);
    else map.addLower(k, v);
    afterMutation(type);
    return R.Ok;
  };
  const v01 = vm.abi === "0_1_0";
  const fns = {
    proxy_get_header_map_value(type: number, keyPtr: number, keySize: number, retPtr: number, retSize: number): number {
      vm.checkCall("env.proxy_get_header_map_value");
      if (type >>> 0 > MapType.HttpCallResponseTrailers) return R.BadArgument;
      if (!mem.inBounds(keyPtr, keySize)) return R.InvalidMemoryAccess;
      const map = vm.ctx().constMap(type);
      if (!map) return v01 ? mem.copyOut("", retPtr, retSize) : unavailableRead();
      const v = map.getLower(mem.headerKey(keyPtr, keySize));
      if (v === undefined) return v01 ? mem.copyOut("", retPtr, retSize) : R.NotFound;
      return mem.copyOutString(v, retPtr, retSize);
    },
    proxy_add_header_map_value(type: number, keyPtr: number, keySize: number, valuePtr: number, valueSize: number): number {
      vm.checkCall("env.proxy_add_header_map_value");
      return putValue(type, keyPtr, keySize, valuePtr, valueSize, false);
    },
    proxy_replace_header_map_value(type: number, keyPtr: number, keySize: number, valuePtr: number, valueSize: number): number {
      vm.checkCall("env.proxy_replace_header_map_value");
      return putValue(type, keyPtr, keySize, valuePtr, valueSize, true);
    },
    proxy_remove_header_map_value(type: number, keyPtr: number, keySize: number): number {
      vm.checkCall("env.proxy_remove_header_map_value");
      if (type >>> 0 > MapType.HttpCallResponseTrailers) return R.BadArgument;
      if (!mem.inBounds(keyPtr, keySize)) return R.InvalidMemoryAccess;
      const map = vm.ctx().mutableMap(type);
      if (!map) return R.BadArgument;
      map.removeLower(mem.headerKey(keyPtr, keySize));
      afterMutation(type);
      return R.Ok;
    },
    proxy_get_header_map_pairs(type: number, retPtr: number, retSize: number): number {
      vm.checkCall("env.proxy_get_header_map_pairs");
      if (type >>> 0 > MapType.HttpCallResponseTrailers) return R.BadArgument;
      const map = vm.ctx().constMap(type);
      if (!map || map.size === 0) return mem.copyOut("", retPtr, retSize);
      const entries = map.entries;
      return mem.copyOutWith(pairsSize(entries), retPtr, retSize, (buf, p) => writePairs(buf, p, entries));
    },
    proxy_set_header_map_pairs(type: number, ptr: number, size: number): number {
      vm.checkCall("env.proxy_set_header_map_pairs");
      if (type >>> 0 > MapType.HttpCallResponseTrailers) return R.BadArgument;
      if (!mem.inBounds(ptr, size)) return R.InvalidMemoryAccess;
      const map = vm.ctx().mutableMap(type);
      if (!map) return R.BadArgument;
      const pairs = mem.pairs(ptr, size);
      map.clear();
      for (const [k, v] of pairs) map.add(k, v);
      afterMutation(type);
      return R.Ok;
    },
    proxy_get_header_map_size(type: number, retSize: number): number {
      vm.checkCall("env.proxy_get_header_map_size");
      if (type >>> 0 > MapType.HttpCallResponseTrailers) return R.BadArgument;
      const map = vm.ctx().constMap(type);
      if (!map) return R.BadArgument;
      return mem.setU32(retSize, map.byteSize()) ? R.Ok : R.InvalidMemoryAccess;
    },
  };
  return selfChecked(fns, "proxy_get_header_map_value", "proxy_add_header_map_value", "proxy_replace_header_map_value",
    "proxy_remove_header_map_value", "proxy_get_header_map_pairs", "proxy_set_header_map_pairs", "proxy_get_header_map_size");
}
