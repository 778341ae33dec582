// Logging, time, status, effective context, proxy_done and foreign functions (abi.md §2.8, §12).
import { deflateSync, inflateSync } from "node:zlib";
import { ContextKind, LogLevel, R } from "./abi.ts";
import { HttpFilterContext } from "./stream-context.ts";
import { selfChecked } from "./restrictions.ts";
import type { WasmVm } from "./vm.ts";

type Foreign = (vm: WasmVm, args: Uint8Array) => { result: number; value?: Uint8Array };

/** Foreign functions Envoy registers (E-FOREIGN) that make sense without Envoy internals. */
const BUILTIN_FOREIGN: Record<string, Foreign> = {
  clear_route_cache(vm) {
    const c = vm.ctx();
    if (c instanceof HttpFilterContext && c.cb) c.cb.clearRouteCache();
    return { result: R.Ok };
  },
  compress(_vm, args) {
    try {
      return { result: R.Ok, value: deflateSync(args) };
    } catch {
      return { result: R.SerializationFailure };
    }
  },
  uncompress(_vm, args) {
    try {
      return { result: R.Ok, value: inflateSync(args) };
    } catch {
      return { result: R.SerializationFailure };
    }
  },
};

export function logsImports(vm: WasmVm) {
  const env = vm.env;
  const mem = vm.mem;
  const fns = {
    proxy_log(level: number, ptr: number, size: number): number {
      if (level >>> 0 > LogLevel.Critical) return R.BadArgument;
      if (!mem.inBounds(ptr, size)) return R.InvalidMemoryAccess;
      if (level < env.logLevel) return R.Ok;
      env.log(level, mem.utf8(ptr, size), vm.who(vm.ctx().kind === ContextKind.Stream));
      return R.Ok;
    },
    proxy_get_log_level(retLevel: number): number {
      return mem.setU32(retLevel, env.logLevel) ? R.Ok : R.InvalidMemoryAccess;
    },
    proxy_get_current_time_nanoseconds(retTime: number): number {
      vm.checkCall("env.proxy_get_current_time_nanoseconds");
      if (!mem.inBounds(retTime, 8)) return R.InvalidMemoryAccess;
      mem.writeNow(env.clock, retTime);
      return R.Ok;
    },
    proxy_get_status(retCode: number, retMsgPtr: number, retMsgSize: number): number {
      const root = vm.rootOfCurrent();
      if (!mem.setU32(retCode, root ? root.statusCode : 0)) return R.InvalidMemoryAccess;
      return mem.copyOut(root ? root.statusMessage : "", retMsgPtr, retMsgSize);
    },
    proxy_set_effective_context(id: number): number {
      return vm.setEffective(id >>> 0) ? R.Ok : R.BadArgument;
    },
    proxy_done(): number {
      const root = vm.rootOfCurrent();
      if (!root || !root.pendingDone) return R.NotFound;
      root.pendingDone = false;
      vm.defer(() => root.delete());
      return R.Ok;
    },
    proxy_call_foreign_function(namePtr: number, nameSize: number, argsPtr: number, argsSize: number, retPtr: number, retSize: number): number {
      if (!mem.inBounds(namePtr, nameSize) || !mem.inBounds(argsPtr, argsSize)) return R.InvalidMemoryAccess;
      const name = mem.latin1(namePtr, nameSize);
      const args = mem.bytes(argsPtr, argsSize);
      const custom = env.foreignFunctions.get(name);
      let out: { result: number; value?: Uint8Array };
      if (custom) {
        const v = custom(args);
        out = { result: R.Ok, value: v ?? undefined };
      } else if (BUILTIN_FOREIGN[name]) {
        out = BUILTIN_FOREIGN[name](vm, args);
      } else {
        return R.NotFound;
      }
      if (out.result === R.Ok && retPtr !== 0) {
        const r = mem.copyOut(out.value ?? new Uint8Array(0), retPtr, retSize);
        if (r !== R.Ok) return r;
      }
      return out.result;
    },
    pthread_equal(a: number, b: number): number {
      return a === b ? 1 : 0;
    },
    emscripten_notify_memory_growth(_i: number): number {
      return 0;
    },
  };
  return selfChecked(fns, "proxy_get_current_time_nanoseconds");
}
