// Header-map calls with names (and constant values) UTF-8 encoded once, at module start or configure.
// assembly/host.ts encodes both strings on every call; on cors's hot path that is a third of the cost of
// each host call, so the few calls cors makes per request take pre-encoded buffers instead.
// Memory: key/value buffers stay owned by the guest (GC memory, kept alive by the caller for the call);
// a value the host returns is host-allocated through malloc and freed by takeString after copying.
import {
  proxy_add_header_map_value, proxy_get_header_map_value, proxy_remove_header_map_value, proxy_replace_header_map_value,
  proxy_send_local_response,
} from "../../assembly/imports";
import { RET_PTR, RET_SIZE, takeString } from "../../assembly/runtime";

/** UTF-8 bytes of `s`, to pass as a header name or value. */
export function encoded(s: string): ArrayBuffer {
  return String.UTF8.encode(s, false);
}

/** First value of header `key` in map `map`, or null when absent or unavailable. */
export function getHeaderB(map: u32, key: ArrayBuffer): string | null {
  if (proxy_get_header_map_value(map, changetype<usize>(key), <usize>key.byteLength, RET_PTR, RET_SIZE) != 0) return null;
  return takeString();
}

/** Sets header `key` to one value (other values removed). Returns the host result. */
export function replaceHeaderB(map: u32, key: ArrayBuffer, value: ArrayBuffer): u32 {
  return proxy_replace_header_map_value(map, changetype<usize>(key), <usize>key.byteLength, changetype<usize>(value), <usize>value.byteLength);
}

/** Appends a value of header `key`. Returns the host result. */
export function addHeaderB(map: u32, key: ArrayBuffer, value: ArrayBuffer): u32 {
  return proxy_add_header_map_value(map, changetype<usize>(key), <usize>key.byteLength, changetype<usize>(value), <usize>value.byteLength);
}

/** Removes every value of header `key`. Returns the host result. */
export function removeHeaderB(map: u32, key: ArrayBuffer): u32 {
  return proxy_remove_header_map_value(map, changetype<usize>(key), <usize>key.byteLength);
}

/**
 * Header pairs for a local reply, collected as pre-encoded buffers and serialized in one allocation
 * (abi.md §3.1 wire format). One instance is reused: `reset()` keeps the arrays' capacity.
 */
export class PairsBuilder {
  private keys: ArrayBuffer[] = [];
  private values: ArrayBuffer[] = [];

  reset(): void {
    this.keys.length = 0;
    this.values.length = 0;
  }

  add(key: ArrayBuffer, value: ArrayBuffer): void {
    this.keys.push(key);
    this.values.push(value);
  }

  /** count, then (key length, value length) per pair, then each key and value NUL-terminated. */
  serialize(): ArrayBuffer {
    const n = this.keys.length;
    let size = 4 + n * 8;
    for (let i = 0; i < n; i++) size += unchecked(this.keys[i]).byteLength + unchecked(this.values[i]).byteLength + 2;
    const buf = new ArrayBuffer(size);
    const base = changetype<usize>(buf);
    store<u32>(base, <u32>n);
    let data = base + 4 + <usize>n * 8;
    for (let i = 0; i < n; i++) {
      const k = unchecked(this.keys[i]);
      const v = unchecked(this.values[i]);
      store<u32>(base + 4 + <usize>i * 8, <u32>k.byteLength);
      store<u32>(base + 8 + <usize>i * 8, <u32>v.byteLength);
      memory.copy(data, changetype<usize>(k), <usize>k.byteLength);
      data += <usize>k.byteLength;
      store<u8>(data, 0);
      data += 1;
      memory.copy(data, changetype<usize>(v), <usize>v.byteLength);
      data += <usize>v.byteLength;
      store<u8>(data, 0);
      data += 1;
    }
    return buf;
  }
}

/** Local reply with an empty body and pre-encoded details and headers; deferred by the host until the callback returns. */
export function sendEmptyLocalReply(status: u32, details: ArrayBuffer, headers: ArrayBuffer): u32 {
  return proxy_send_local_response(status, changetype<usize>(details), <usize>details.byteLength, 0, 0,
    changetype<usize>(headers), <usize>headers.byteLength, -1);
}
