// Shared data (abi.md §7.1): key-value pairs shared by every VM with the same vm_id in one Envoy process,
// updated with compare-and-swap.
import * as imp from "./imports";
import { release, RET_PTR, RET_SIZE, RET_U64 } from "./memory";
import { takeBytes } from "./values";

/** Result of getSharedData: value bytes and the CAS to pass to setSharedData; found = false when absent. */
export class SharedValue {
  constructor(public found: bool, public value: ArrayBuffer, public cas: u32) {}
}

/** The value under `key` with its CAS. */
export function getSharedData(key: string): SharedValue {
  const k = String.UTF8.encode(key, false);
  const r = imp.proxy_get_shared_data(changetype<usize>(k), <usize>k.byteLength, RET_PTR, RET_SIZE, RET_U64);
  if (r != 0) return new SharedValue(false, new ArrayBuffer(0), 0);
  const cas = load<u32>(RET_U64);
  return new SharedValue(true, takeBytes(), cas);
}

/** Writes shared data; cas 0 writes unconditionally. Returns Result.OK or Result.CAS_MISMATCH. */
export function setSharedData(key: string, value: ArrayBuffer, cas: u32): u32 {
  const k = String.UTF8.encode(key, false);
  return imp.proxy_set_shared_data(changetype<usize>(k), <usize>k.byteLength, changetype<usize>(value), <usize>value.byteLength, cas);
}

/** What getSharedDataIntoEnc read: the value's size (-1 when absent or unreadable) and its CAS. Reusable. */
export class SharedRead {
  size: i32 = -1;
  cas: u32 = 0;
}

/**
 * Reads shared data under the encoded key [key, key+keyLen) into `dst` without allocating: `out.size` is
 * the value's size (bytes beyond dst's size are not copied), `out.cas` its CAS. Returns `out`.
 */
export function getSharedDataIntoEnc(key: usize, keyLen: usize, dst: ArrayBuffer, out: SharedRead): SharedRead {
  out.size = -1;
  out.cas = 0;
  if (imp.proxy_get_shared_data(key, keyLen, RET_PTR, RET_SIZE, RET_U64) != 0) return out;
  out.cas = load<u32>(RET_U64);
  const ptr = <usize>load<u32>(RET_PTR);
  const size = <usize>load<u32>(RET_SIZE);
  out.size = <i32>size;
  if (ptr == 0) return out;
  memory.copy(changetype<usize>(dst), ptr, min(size, <usize>dst.byteLength));
  release(ptr);
  return out;
}

/** setSharedData under the encoded key [key, key+keyLen). */
export function setSharedDataEnc(key: usize, keyLen: usize, value: ArrayBuffer, cas: u32): u32 {
  return imp.proxy_set_shared_data(key, keyLen, changetype<usize>(value), <usize>value.byteLength, cas);
}
