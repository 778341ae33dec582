// Header map host functions (abi.md §3.2, §3.3) with Envoy's exact result codes: unavailable map →
// BadArgument (NotFound for reads in the access-log phase), absent key → NotFound, get = first value,
// size = byte size. Request-header mutations clear the route cache (ABI 0.2.1 Wasm filter behaviour).
import { MapType, R } from "./abi.ts";
import { HttpFilterContext } from "./context.ts";
import { pairsSize, writePairs } from "./pairs.ts";
import { selfChecked, type WasmVm } from "./vm.ts";

export function headersImports(vm: WasmVm) {
  const afterMutation = (type: number): void => {
    if (type !== MapType.RequestHeaders) return;
    const c = vm.ctx();
    if (c instanceof HttpFilterContext && c.cb) c.cb.clearRouteCache();
  };
  const unavailableRead = (): number => {
    const c = vm.ctx();
    return c instanceof HttpFilterContext && c.accessLog ? R.NotFound : R.BadArgument;
  };
  const v01 = vm.abi === "0_1_0";
  const fns = {
    proxy_get_header_map_value(type: number, keyPtr: number, keySize: number, retPtr: number, retSize: number): number {
      vm.checkUnrestricted("env.proxy_get_header_map_value");
      if (type >>> 0 > MapType.HttpCallResponseTrailers) return R.BadArgument;
      if (!vm.inBounds(keyPtr, keySize)) return R.InvalidMemoryAccess;
      const map = vm.ctx().constMap(type);
      if (!map) return v01 ? vm.copyOut("", retPtr, retSize) : unavailableRead();
      const v = map.getLower(vm.headerKey(keyPtr, keySize));
      if (v === undefined) return v01 ? vm.copyOut("", retPtr, retSize) : R.NotFound;
      return vm.copyOutString(v, retPtr, retSize);
    },
    proxy_add_header_map_value(type: number, keyPtr: number, keySize: number, valuePtr: number, valueSize: number): number {
      vm.checkUnrestricted("env.proxy_add_header_map_value");
      if (type >>> 0 > MapType.HttpCallResponseTrailers) return R.BadArgument;
      if (!vm.inBounds(keyPtr, keySize) || !vm.inBounds(valuePtr, valueSize)) return R.InvalidMemoryAccess;
      const map = vm.ctx().mutableMap(type);
      if (!map) return R.BadArgument;
      map.addLower(vm.headerKey(keyPtr, keySize), vm.latin1(valuePtr, valueSize));
      afterMutation(type);
      return R.Ok;
    },
    proxy_replace_header_map_value(type: number, keyPtr: number, keySize: number, valuePtr: number, valueSize: number): number {
      vm.checkUnrestricted("env.proxy_replace_header_map_value");
      if (type >>> 0 > MapType.HttpCallResponseTrailers) return R.BadArgument;
      if (!vm.inBounds(keyPtr, keySize) || !vm.inBounds(valuePtr, valueSize)) return R.InvalidMemoryAccess;
      const map = vm.ctx().mutableMap(type);
      if (!map) return R.BadArgument;
      map.setLower(vm.headerKey(keyPtr, keySize), vm.latin1(valuePtr, valueSize));
      afterMutation(type);
      return R.Ok;
    },
    proxy_remove_header_map_value(type: number, keyPtr: number, keySize: number): number {
      vm.checkUnrestricted("env.proxy_remove_header_map_value");
      if (type >>> 0 > MapType.HttpCallResponseTrailers) return R.BadArgument;
      if (!vm.inBounds(keyPtr, keySize)) return R.InvalidMemoryAccess;
      const map = vm.ctx().mutableMap(type);
      if (!map) return R.BadArgument;
      map.removeLower(vm.headerKey(keyPtr, keySize));
      afterMutation(type);
      return R.Ok;
    },
    proxy_get_header_map_pairs(type: number, retPtr: number, retSize: number): number {
      vm.checkUnrestricted("env.proxy_get_header_map_pairs");
      if (type >>> 0 > MapType.HttpCallResponseTrailers) return R.BadArgument;
      const map = vm.ctx().constMap(type);
      if (!map || map.size === 0) return vm.copyOut("", retPtr, retSize);
      const entries = map.entries;
      return vm.copyOutWith(pairsSize(entries), retPtr, retSize, (p) => writePairs(vm.buf, p, entries));
    },
    proxy_set_header_map_pairs(type: number, ptr: number, size: number): number {
      vm.checkUnrestricted("env.proxy_set_header_map_pairs");
      if (type >>> 0 > MapType.HttpCallResponseTrailers) return R.BadArgument;
      if (!vm.inBounds(ptr, size)) return R.InvalidMemoryAccess;
      const map = vm.ctx().mutableMap(type);
      if (!map) return R.BadArgument;
      const pairs = vm.pairs(ptr, size);
      map.clear();
      for (const [k, v] of pairs) map.add(k, v);
      afterMutation(type);
      return R.Ok;
    },
    proxy_get_header_map_size(type: number, retSize: number): number {
      vm.checkUnrestricted("env.proxy_get_header_map_size");
      if (type >>> 0 > MapType.HttpCallResponseTrailers) return R.BadArgument;
      const map = vm.ctx().constMap(type);
      if (!map) return R.BadArgument;
      return vm.setU32(retSize, map.byteSize()) ? R.Ok : R.InvalidMemoryAccess;
    },
  };
  return selfChecked(fns, "proxy_get_header_map_value", "proxy_add_header_map_value", "proxy_replace_header_map_value",
    "proxy_remove_header_map_value", "proxy_get_header_map_pairs", "proxy_set_header_map_pairs", "proxy_get_header_map_size");
}
