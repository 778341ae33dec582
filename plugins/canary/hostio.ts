// Host calls on the request hot path with names encoded once at configure: assembly/host.ts encodes the
// header name on every call (one allocation each), which the per-request budget (≤ 2× the no-op filter)
// cannot afford. Same ABI calls and the same no-trap contract as assembly/host.ts; strings the host
// returns are copied into GC memory and the host allocation is freed at once.
import * as imp from "../../assembly/imports";
import { RET_PTR, RET_SIZE, takeString } from "../../assembly/runtime";
import { encodeName } from "./config";
import { CLEAR_ROUTE_CACHE } from "./constants";

const CLEAR_ROUTE_CACHE_NAME = encodeName(CLEAR_ROUTE_CACHE);
const NO_ARGS = new ArrayBuffer(0);

/** First value of a header, or null when absent or unavailable. */
export function getHeaderBytes(map: u32, name: ArrayBuffer): string | null {
  const r = imp.proxy_get_header_map_value(map, changetype<usize>(name), <usize>name.byteLength, RET_PTR, RET_SIZE);
  if (r != 0) return null;
  return takeString();
}

/** Sets a header to one value (UTF-8 bytes), dropping every other value. Returns the host result. */
export function replaceHeaderBytes(map: u32, name: ArrayBuffer, value: ArrayBuffer): u32 {
  return imp.proxy_replace_header_map_value(map, changetype<usize>(name), <usize>name.byteLength,
    changetype<usize>(value), <usize>value.byteLength);
}

/** Removes every value of a header. Returns the host result. */
export function removeHeaderBytes(map: u32, name: ArrayBuffer): u32 {
  return imp.proxy_remove_header_map_value(map, changetype<usize>(name), <usize>name.byteLength);
}

/** Calls the clear_route_cache foreign function; returns its result (1 = NotFound: the host lacks it). */
export function callClearRouteCache(): u32 {
  store<u32>(RET_PTR, 0);
  store<u32>(RET_SIZE, 0);
  const r = imp.proxy_call_foreign_function(changetype<usize>(CLEAR_ROUTE_CACHE_NAME), <usize>CLEAR_ROUTE_CACHE_NAME.byteLength,
    changetype<usize>(NO_ARGS), 0, RET_PTR, RET_SIZE);
  // Envoy's clear_route_cache returns nothing; free whatever a host allocated for the (empty) result.
  if (r == 0) {
    const ptr = load<u32>(RET_PTR);
    if (ptr != 0) heap.free(<usize>ptr);
  }
  return r;
}
