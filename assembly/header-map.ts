// Header map host calls (abi.md §3). Naming rule of the whole library: the plain name takes and returns
// strings; the `Enc` suffix takes every name and value already UTF-8 encoded (`encode()` them once at
// configure: encoding on every call is a measurable share of a hot-path host call). `Raw` marks a result
// in bytes instead of a string; `Cached` a result memoized across requests.
import * as imp from "./imports";
import { release, RET_PTR, RET_SIZE } from "./memory";
import { writeDecimal } from "./number";
import { bytesEqual, decodeBytes, takeBytes, takeString, takeStringCached } from "./values";

/** UTF-8 bytes of `s`, to pass to an `Enc` call. */
export function encode(s: string): ArrayBuffer {
  return String.UTF8.encode(s, false);
}

// Strings on their way to the host are written into static blocks instead of fresh buffers when they are
// short ASCII (header names and most values): one host call at a time, and the host copies them before
// returning. Names and values have a block each, so one call can pass both.
// @ts-ignore: decorator
@inline const VALUE_SCRATCH_SIZE: usize = 512;
const VALUE_SCRATCH: usize = memory.data(<i32>VALUE_SCRATCH_SIZE, 16);
// @ts-ignore: decorator
@inline const NAME_SCRATCH_SIZE: usize = 128;
const NAME_SCRATCH: usize = memory.data(<i32>NAME_SCRATCH_SIZE, 16);

/**
 * The UTF-8 bytes of `s` for one host call: written one byte per char into `block` when `s` is ASCII and
 * fits `cap`, else encoded into a fresh buffer (nothing collects inside a callback: the minimal runtime
 * collects only at the end of on_delete and on_configure). Returns the address in the high 32 bits and
 * the length in the low 32 bits (`addressOf`, `lengthOf`).
 */
function utf8Of(s: string, block: usize, cap: usize): u64 {
  const n = <usize>s.length;
  if (n <= cap) {
    const src = changetype<usize>(s);
    let i: usize = 0;
    for (; i < n; i++) {
      const c = load<u16>(src + (i << 1));
      if (c >= 0x80) break;
      store<u8>(block + i, <u8>c);
    }
    if (i == n) return (<u64>block << 32) | <u64>n;
  }
  const b = String.UTF8.encode(s, false);
  return (<u64>changetype<usize>(b) << 32) | <u64>b.byteLength;
}

// @ts-ignore: decorator
@inline function addressOf(e: u64): usize { return <usize>(e >>> 32); }
// @ts-ignore: decorator
@inline function lengthOf(e: u64): usize { return <usize>(e & 0xffffffff); }

/** First value of header `name` (lower-case) in map `map` (MapType), or null when absent or unavailable. */
export function getHeader(map: u32, name: string): string | null {
  const k = utf8Of(name, NAME_SCRATCH, NAME_SCRATCH_SIZE);
  if (imp.proxy_get_header_map_value(map, addressOf(k), lengthOf(k), RET_PTR, RET_SIZE) != 0) return null;
  return takeString();
}

/** getHeader with the name encoded. */
export function getHeaderEnc(map: u32, name: ArrayBuffer): string | null {
  if (imp.proxy_get_header_map_value(map, changetype<usize>(name), <usize>name.byteLength, RET_PTR, RET_SIZE) != 0) return null;
  return takeString();
}

/**
 * getHeaderEnc for a header whose values repeat across requests and clients (:method, :authority,
 * Origin, Access-Control-Request-*): a value equal to the last one read here comes back as the same
 * string, without decoding or allocating (takeStringCached). Not for per-client values (credentials,
 * API keys, cookies): those never repeat, so the cache would only cost a copy.
 */
export function getHeaderCachedEnc(map: u32, name: ArrayBuffer): string | null {
  if (imp.proxy_get_header_map_value(map, changetype<usize>(name), <usize>name.byteLength, RET_PTR, RET_SIZE) != 0) return null;
  return takeStringCached(changetype<usize>(name) | <usize>map);
}

/** Raw bytes of the first value of header `name`, or null: for secrets compared byte-exactly. */
export function getHeaderRawEnc(map: u32, name: ArrayBuffer): ArrayBuffer | null {
  if (imp.proxy_get_header_map_value(map, changetype<usize>(name), <usize>name.byteLength, RET_PTR, RET_SIZE) != 0) return null;
  return takeBytes();
}

/**
 * Every value of header `name` (lower-case) joined by `sep`, or null when the header is absent. For
 * headers whose later copies matter (Cookie: an HTTP/1 client may send several, and Envoy keeps them
 * apart unless Cookie is registered inline): proxy_get_header_map_value returns only the first. One copy
 * of the map from the host, one scan, one decode of the joined values.
 */
export function getHeaderJoinedEnc(map: u32, name: ArrayBuffer, sep: ArrayBuffer): string | null {
  if (imp.proxy_get_header_map_pairs(map, RET_PTR, RET_SIZE) != 0) return null;
  const base = <usize>load<u32>(RET_PTR);
  const len = <usize>load<u32>(RET_SIZE);
  if (base == 0) return null;
  const result = len >= 4 && <usize>load<u32>(base) <= (len - 4) >> 3 ? joinValues(base, base + len, name, sep) : null;
  release(base);
  return result;
}

/**
 * The values of `name` in the serialized map at [base, end) (abi.md §3.1) joined by `sep`, or null when
 * none; entries from a truncated one on are ignored. A single value is decoded in place; several are
 * copied with their separators into one block of exactly their joined size (a first pass counts and
 * sizes them), decoded once.
 */
function joinValues(base: usize, end: usize, name: ArrayBuffer, sep: ArrayBuffer): string | null {
  const n = <usize>load<u32>(base);
  const nameLen = <usize>name.byteLength;
  const sepLen = <usize>sep.byteLength;
  const start = base + 4 + n * 8;
  // Pass 1: how many values match, their joined size, and where the first one is.
  let data = start;
  let matches: usize = 0;
  let total: usize = 0;
  let first: usize = 0;
  let firstLen: usize = 0;
  let last: usize = 0; // index of the last entry inside [base, end)
  for (; last < n; last++) {
    const klen = <usize>load<u32>(base + 4 + last * 8);
    const vlen = <usize>load<u32>(base + 8 + last * 8);
    if (data + klen + vlen + 2 > end) break;
    if (klen == nameLen && bytesEqual(data, changetype<usize>(name), klen)) {
      if (matches == 0) {
        first = data + klen + 1;
        firstLen = vlen;
      } else {
        total += sepLen;
      }
      total += vlen;
      matches++;
    }
    data += klen + vlen + 2;
  }
  if (matches == 0) return null;
  if (matches == 1) return decodeBytes(first, firstLen);
  // Pass 2: the values and separators into one block.
  const joined = heap.alloc(total);
  data = start;
  let w: usize = 0;
  let copied = false;
  for (let i: usize = 0; i < last; i++) {
    const klen = <usize>load<u32>(base + 4 + i * 8);
    const vlen = <usize>load<u32>(base + 8 + i * 8);
    if (klen == nameLen && bytesEqual(data, changetype<usize>(name), klen)) {
      if (copied) {
        memory.copy(joined + w, changetype<usize>(sep), sepLen);
        w += sepLen;
      }
      memory.copy(joined + w, data + klen + 1, vlen);
      w += vlen;
      copied = true;
    }
    data += klen + vlen + 2;
  }
  const s = decodeBytes(joined, total);
  heap.free(joined);
  return s;
}

/** Appends header `name` with `value` (Envoy keeps existing values). Returns the host result. */
export function addHeader(map: u32, name: string, value: string): u32 {
  const k = utf8Of(name, NAME_SCRATCH, NAME_SCRATCH_SIZE);
  const v = utf8Of(value, VALUE_SCRATCH, VALUE_SCRATCH_SIZE);
  return imp.proxy_add_header_map_value(map, addressOf(k), lengthOf(k), addressOf(v), lengthOf(v));
}

/** addHeader with name and value encoded. */
export function addHeaderEnc(map: u32, name: ArrayBuffer, value: ArrayBuffer): u32 {
  return imp.proxy_add_header_map_value(map, changetype<usize>(name), <usize>name.byteLength, changetype<usize>(value), <usize>value.byteLength);
}

/** Sets header `name` to one value, removing the others. Returns the host result. */
export function replaceHeader(map: u32, name: string, value: string): u32 {
  const k = utf8Of(name, NAME_SCRATCH, NAME_SCRATCH_SIZE);
  const v = utf8Of(value, VALUE_SCRATCH, VALUE_SCRATCH_SIZE);
  return imp.proxy_replace_header_map_value(map, addressOf(k), lengthOf(k), addressOf(v), lengthOf(v));
}

/** replaceHeader with name and value encoded. */
export function replaceHeaderEnc(map: u32, name: ArrayBuffer, value: ArrayBuffer): u32 {
  return imp.proxy_replace_header_map_value(map, changetype<usize>(name), <usize>name.byteLength, changetype<usize>(value), <usize>value.byteLength);
}

/** replaceHeaderEnc with the decimal `n` as the value, formatted without allocating. */
export function replaceHeaderNumberEnc(map: u32, name: ArrayBuffer, n: u64): u32 {
  const len = writeDecimal(VALUE_SCRATCH, n);
  return imp.proxy_replace_header_map_value(map, changetype<usize>(name), <usize>name.byteLength, VALUE_SCRATCH, len);
}

/** Removes every value of header `name`. Returns the host result. */
export function removeHeader(map: u32, name: string): u32 {
  const k = utf8Of(name, NAME_SCRATCH, NAME_SCRATCH_SIZE);
  return imp.proxy_remove_header_map_value(map, addressOf(k), lengthOf(k));
}

/** removeHeader with the name encoded. */
export function removeHeaderEnc(map: u32, name: ArrayBuffer): u32 {
  return imp.proxy_remove_header_map_value(map, changetype<usize>(name), <usize>name.byteLength);
}
