// Typed wrappers over the host functions plugins use. None of them traps: each returns the host's
// result (or a neutral value) and leaves the decision to the plugin. Strings crossing the boundary are
// UTF-8; values the host returns are copied into GC memory and the host allocation is freed at once.
import * as imp from "./imports";
import { writeDecimal } from "./number";
import { bytesEqual, decodeBytes, release, RET_PTR, RET_SIZE, RET_U64, takeBytes, takeString, takeStringCached } from "./runtime";
export { decimal, writeDecimal } from "./number";

/** Header map types (abi.md §1.4). */
export namespace MapType {
  // @ts-ignore: decorator
  @inline export const REQUEST_HEADERS: u32 = 0;
  // @ts-ignore: decorator
  @inline export const REQUEST_TRAILERS: u32 = 1;
  // @ts-ignore: decorator
  @inline export const RESPONSE_HEADERS: u32 = 2;
  // @ts-ignore: decorator
  @inline export const RESPONSE_TRAILERS: u32 = 3;
  // @ts-ignore: decorator
  @inline export const HTTP_CALL_RESPONSE_HEADERS: u32 = 6;
}

/** Buffer types (abi.md §1.4). */
export namespace BufferType {
  // @ts-ignore: decorator
  @inline export const REQUEST_BODY: u32 = 0;
  // @ts-ignore: decorator
  @inline export const RESPONSE_BODY: u32 = 1;
  // @ts-ignore: decorator
  @inline export const HTTP_CALL_RESPONSE_BODY: u32 = 4;
}

/** WasmResult values plugins test for (abi.md §1.4). */
export namespace Result {
  // @ts-ignore: decorator
  @inline export const OK: u32 = 0;
  // @ts-ignore: decorator
  @inline export const NOT_FOUND: u32 = 1;
  // @ts-ignore: decorator
  @inline export const CAS_MISMATCH: u32 = 8;
}

// ---- header maps (abi.md §3) ----
// Each call has a variant taking names/values already UTF-8 encoded (`encode` them once at configure):
// encoding on every call is a measurable share of a hot-path host call.

/** UTF-8 bytes of `s`, to pass as a pre-encoded header name or value. */
export function encode(s: string): ArrayBuffer {
  return String.UTF8.encode(s, false);
}

/** First value of header `name` (pre-encoded, lower-case) in map `map`, or null when absent or unavailable. */
export function getHeaderBytes(map: u32, name: ArrayBuffer): string | null {
  if (imp.proxy_get_header_map_value(map, changetype<usize>(name), <usize>name.byteLength, RET_PTR, RET_SIZE) != 0) return null;
  return takeString();
}

/**
 * getHeaderBytes for a header whose values repeat across requests and clients (:method, :authority,
 * Origin, Access-Control-Request-*): a value equal to the last one read here comes back as the same
 * string, without decoding or allocating (takeStringCached). Not for per-client values (credentials,
 * API keys, cookies): those never repeat, so the cache would only cost a copy.
 */
export function getRepeatedHeader(map: u32, name: ArrayBuffer): string | null {
  if (imp.proxy_get_header_map_value(map, changetype<usize>(name), <usize>name.byteLength, RET_PTR, RET_SIZE) != 0) return null;
  return takeStringCached(changetype<usize>(name) | <usize>map);
}

/** Raw bytes of the first value of header `name` (pre-encoded), or null: for secrets compared byte-exactly. */
export function getHeaderRaw(map: u32, name: ArrayBuffer): ArrayBuffer | null {
  if (imp.proxy_get_header_map_value(map, changetype<usize>(name), <usize>name.byteLength, RET_PTR, RET_SIZE) != 0) return null;
  return takeBytes();
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
/** Byte length of the last utf8Of() result. */
let utf8Len: usize = 0;

/**
 * The UTF-8 bytes of `s` for one host call: written one byte per char into `block` when `s` is ASCII and
 * fits `cap`, else encoded into a fresh buffer (nothing collects inside a callback: the minimal runtime
 * collects only at the end of on_delete and on_configure). Returns the address; the length is in utf8Len.
 */
function utf8Of(s: string, block: usize, cap: usize): usize {
  const n = <usize>s.length;
  if (n <= cap) {
    const src = changetype<usize>(s);
    let i: usize = 0;
    for (; i < n; i++) {
      const c = load<u16>(src + (i << 1));
      if (c >= 0x80) break;
      store<u8>(block + i, <u8>c);
    }
    if (i == n) {
      utf8Len = n;
      return block;
    }
  }
  const b = String.UTF8.encode(s, false);
  utf8Len = <usize>b.byteLength;
  return changetype<usize>(b);
}

/** First value of header `name` (lower-case) in map `map`, or null when absent or unavailable. */
export function getHeader(map: u32, name: string): string | null {
  const p = utf8Of(name, NAME_SCRATCH, NAME_SCRATCH_SIZE);
  if (imp.proxy_get_header_map_value(map, p, utf8Len, RET_PTR, RET_SIZE) != 0) return null;
  return takeString();
}

/** Sets header `name` (pre-encoded) to a string value. */
export function replaceHeaderValue(map: u32, name: ArrayBuffer, value: string): u32 {
  const v = utf8Of(value, VALUE_SCRATCH, VALUE_SCRATCH_SIZE);
  return imp.proxy_replace_header_map_value(map, changetype<usize>(name), <usize>name.byteLength, v, utf8Len);
}

/** Appends header `name` (pre-encoded) with a string value. */
export function addHeaderValue(map: u32, name: ArrayBuffer, value: string): u32 {
  const v = utf8Of(value, VALUE_SCRATCH, VALUE_SCRATCH_SIZE);
  return imp.proxy_add_header_map_value(map, changetype<usize>(name), <usize>name.byteLength, v, utf8Len);
}

/** Sets header `name` (pre-encoded) to the decimal `n`, formatted without allocating. */
export function replaceHeaderNumber(map: u32, name: ArrayBuffer, n: u64): u32 {
  const len = writeDecimal(VALUE_SCRATCH, n);
  return imp.proxy_replace_header_map_value(map, changetype<usize>(name), <usize>name.byteLength, VALUE_SCRATCH, len);
}

/** Appends a header (Envoy keeps existing values). Returns the host result. */
export function addHeaderBytes(map: u32, name: ArrayBuffer, value: ArrayBuffer): u32 {
  return imp.proxy_add_header_map_value(map, changetype<usize>(name), <usize>name.byteLength, changetype<usize>(value), <usize>value.byteLength);
}

export function addHeader(map: u32, name: string, value: string): u32 {
  const k = utf8Of(name, NAME_SCRATCH, NAME_SCRATCH_SIZE);
  const kl = utf8Len;
  const v = utf8Of(value, VALUE_SCRATCH, VALUE_SCRATCH_SIZE);
  return imp.proxy_add_header_map_value(map, k, kl, v, utf8Len);
}

/** Sets a header to one value, removing the others. Returns the host result. */
export function replaceHeaderBytes(map: u32, name: ArrayBuffer, value: ArrayBuffer): u32 {
  return imp.proxy_replace_header_map_value(map, changetype<usize>(name), <usize>name.byteLength, changetype<usize>(value), <usize>value.byteLength);
}

export function replaceHeader(map: u32, name: string, value: string): u32 {
  const k = utf8Of(name, NAME_SCRATCH, NAME_SCRATCH_SIZE);
  const kl = utf8Len;
  const v = utf8Of(value, VALUE_SCRATCH, VALUE_SCRATCH_SIZE);
  return imp.proxy_replace_header_map_value(map, k, kl, v, utf8Len);
}

/** Removes every value of a header. Returns the host result. */
export function removeHeaderBytes(map: u32, name: ArrayBuffer): u32 {
  return imp.proxy_remove_header_map_value(map, changetype<usize>(name), <usize>name.byteLength);
}

export function removeHeader(map: u32, name: string): u32 {
  const k = utf8Of(name, NAME_SCRATCH, NAME_SCRATCH_SIZE);
  return imp.proxy_remove_header_map_value(map, k, utf8Len);
}

/** All (name, value) pairs of a map, in order; empty when unavailable. Costs one copy of the map. */
export function getHeaderPairs(map: u32): Array<string[]> {
  const out = new Array<string[]>();
  if (imp.proxy_get_header_map_pairs(map, RET_PTR, RET_SIZE) != 0) return out;
  const buf = takeBytes();
  const base = changetype<usize>(buf);
  const len = <usize>buf.byteLength;
  if (len < 4) return out;
  const n = <usize>load<u32>(base);
  if (n * 8 + 4 > len) return out;
  let data = base + 4 + n * 8;
  const end = base + len;
  for (let i: usize = 0; i < n; i++) {
    const klen = <usize>load<u32>(base + 4 + i * 8);
    const vlen = <usize>load<u32>(base + 8 + i * 8);
    if (data + klen + vlen + 2 > end) break;
    const k = decodeBytes(data, klen);
    data += klen + 1;
    const v = decodeBytes(data, vlen);
    data += vlen + 1;
    out.push([k, v]);
  }
  return out;
}

/**
 * Every value of header `name` (pre-encoded, lower-case) joined by `sep` (UTF-8 bytes), or null when the
 * header is absent. For headers whose later copies matter (Cookie: an HTTP/1 client may send several,
 * and Envoy keeps them apart unless Cookie is registered inline): proxy_get_header_map_value returns only
 * the first. One copy of the map from the host, one scan, one decode of the joined values.
 */
export function getHeaderJoined(map: u32, name: ArrayBuffer, sep: ArrayBuffer): string | null {
  if (imp.proxy_get_header_map_pairs(map, RET_PTR, RET_SIZE) != 0) return null;
  const base = <usize>load<u32>(RET_PTR);
  const len = <usize>load<u32>(RET_SIZE);
  if (base == 0) return null;
  let result: string | null = null;
  if (len >= 4 && <usize>load<u32>(base) <= (len - 4) >> 3) {
    // Pass 1: how many values match and their joined size; pass 2, for more than one: the values and
    // separators into one buffer, decoded once.
    const total = joinValues(base, base + len, name, sep, 0);
    if (joinMatches == 1) {
      result = decodeBytes(joinLast, total);
    } else if (joinMatches > 1) {
      const joined = heap.alloc(max<usize>(total, 1));
      joinValues(base, base + len, name, sep, joined);
      result = decodeBytes(joined, total);
      heap.free(joined);
    }
  }
  release(base);
  return result;
}

/** What the last joinValues call found besides the size: the number of values and where the last one starts. */
let joinMatches: usize = 0;
let joinLast: usize = 0;

/**
 * The values of `name` in the serialized map at [base, end) (abi.md §3.1) joined by `sep`: returns the
 * joined size and writes the join to `out` unless it is 0. Entries from a truncated one on are ignored.
 */
function joinValues(base: usize, end: usize, name: ArrayBuffer, sep: ArrayBuffer, out: usize): usize {
  const n = <usize>load<u32>(base);
  const nameLen = <usize>name.byteLength;
  const sepLen = <usize>sep.byteLength;
  let data = base + 4 + n * 8;
  let w: usize = 0;
  let matches: usize = 0;
  for (let i: usize = 0; i < n; i++) {
    const klen = <usize>load<u32>(base + 4 + i * 8);
    const vlen = <usize>load<u32>(base + 8 + i * 8);
    if (data + klen + vlen + 2 > end) break;
    if (klen == nameLen && bytesEqual(data, changetype<usize>(name), klen)) {
      if (matches > 0) {
        if (out != 0) memory.copy(out + w, changetype<usize>(sep), sepLen);
        w += sepLen;
      }
      joinLast = data + klen + 1;
      if (out != 0) memory.copy(out + w, joinLast, vlen);
      w += vlen;
      matches++;
    }
    data += klen + vlen + 2;
  }
  joinMatches = matches;
  return w;
}

/**
 * Header pairs collected as pre-encoded buffers and serialized in the ABI wire format (abi.md §3.1:
 * count, (key length, value length) per pair, then each key and value NUL-terminated).
 * An instance can be reused: `reset()` keeps the arrays' capacity, and `sendLocalResponsePairs`
 * serializes into a block the builder keeps, so a builder reused per request allocates nothing and
 * hands the host the same address every time.
 */
export class PairsBuilder {
  private keys: ArrayBuffer[] = [];
  private values: ArrayBuffer[] = [];
  private out: ArrayBuffer = new ArrayBuffer(0);
  /** Size of the serialization in `out`, 0 when the pairs changed since (see serializeReused). */
  private written: usize = 0;

  reset(): void {
    this.keys.length = 0;
    this.values.length = 0;
    this.written = 0;
  }

  add(key: ArrayBuffer, value: ArrayBuffer): void {
    this.keys.push(key);
    this.values.push(value);
    this.written = 0;
  }

  /** Bytes the serialized pairs take. */
  size(): usize {
    if (this.written != 0) return this.written;
    const n = this.keys.length;
    let size = 4 + <usize>n * 8;
    for (let i = 0; i < n; i++) size += <usize>(unchecked(this.keys[i]).byteLength + unchecked(this.values[i]).byteLength + 2);
    return size;
  }

  /** A new buffer holding the serialized pairs. */
  serialize(): ArrayBuffer {
    const buf = new ArrayBuffer(<i32>this.size());
    this.writeTo(changetype<usize>(buf));
    return buf;
  }

  /**
   * The serialized pairs (`size` = size()) in this builder's own block, valid until its next use; returns
   * its address. A builder sent again unchanged (nothing added since) is not serialized again.
   */
  serializeReused(size: usize): usize {
    if (this.written == size) return changetype<usize>(this.out);
    if (<usize>this.out.byteLength < size) this.out = new ArrayBuffer(<i32>max<usize>(size, 256));
    const base = changetype<usize>(this.out);
    this.writeTo(base);
    this.written = size;
    return base;
  }

  private writeTo(base: usize): void {
    const n = this.keys.length;
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
  }
}

/** Serializes string pairs in the ABI wire format (abi.md §3.1). */
export function serializePairs(pairs: Array<string[]>): ArrayBuffer {
  const b = new PairsBuilder();
  for (let i = 0; i < pairs.length; i++) {
    const pair = pairs[i];
    b.add(encode(pair.length > 0 ? pair[0] : ""), encode(pair.length > 1 ? pair[1] : ""));
  }
  return b.serialize();
}

// ---- buffers (abi.md §4) ----

/** Bytes [start, start+size) of a buffer; empty when unavailable. */
export function getBuffer(bufferType: u32, start: u32, size: u32): ArrayBuffer {
  if (imp.proxy_get_buffer_bytes(bufferType, start, size, RET_PTR, RET_SIZE) != 0) return new ArrayBuffer(0);
  return takeBytes();
}

/** Replaces the whole buffer with `value` (Envoy supports replace-from-start, prepend and append only). */
export function setBuffer(bufferType: u32, value: ArrayBuffer): u32 {
  return imp.proxy_set_buffer_bytes(bufferType, 0, 0xffffffff, changetype<usize>(value), <usize>value.byteLength);
}

// ---- properties (abi.md §6) ----

/** Property at a NUL-separated path (e.g. "source\0address") as raw bytes, or null. */
export function getPropertyBytes(path: string): ArrayBuffer | null {
  const p = String.UTF8.encode(path, false);
  if (imp.proxy_get_property(changetype<usize>(p), <usize>p.byteLength, RET_PTR, RET_SIZE) != 0) return null;
  return takeBytes();
}

/** String property at a dot path ("source.address", "plugin_name"), or null. */
export function getProperty(dotted: string): string | null {
  const p = String.UTF8.encode(dotted, false);
  const base = changetype<usize>(p);
  for (let i = 0; i < p.byteLength; i++) {
    if (load<u8>(base + <usize>i) == 0x2e) store<u8>(base + <usize>i, 0);
  }
  if (imp.proxy_get_property(changetype<usize>(p), <usize>p.byteLength, RET_PTR, RET_SIZE) != 0) return null;
  return takeString();
}

// ---- local replies (abi.md §5) ----

/** Sends a local reply with pre-encoded details, body and serialized headers (see PairsBuilder). */
export function sendLocalResponseBytes(status: u32, details: ArrayBuffer, body: ArrayBuffer, headers: ArrayBuffer): u32 {
  return imp.proxy_send_local_response(status, changetype<usize>(details), <usize>details.byteLength,
    changetype<usize>(body), <usize>body.byteLength, changetype<usize>(headers), <usize>headers.byteLength, -1);
}

/** sendLocalResponseBytes with the headers of a (reused) PairsBuilder: nothing allocated per reply. */
export function sendLocalResponsePairs(status: u32, details: ArrayBuffer, body: ArrayBuffer, headers: PairsBuilder): u32 {
  const size = headers.size();
  const p = headers.serializeReused(size);
  return imp.proxy_send_local_response(status, changetype<usize>(details), <usize>details.byteLength,
    changetype<usize>(body), <usize>body.byteLength, p, size, -1);
}

/** Sends a local reply after the current callback returns; the caller then returns Action.PAUSE. */
export function sendLocalResponse(status: u32, details: string, body: string, headers: Array<string[]>): u32 {
  return sendLocalResponseBytes(status, encode(details), encode(body), serializePairs(headers));
}

// ---- stream control (abi.md §2.5) ----

/** Resumes a paused request (from a later callback, e.g. an http call response). */
export function continueRequest(): u32 { return imp.proxy_continue_stream(0); }
/** Resumes a paused response. */
export function continueResponse(): u32 { return imp.proxy_continue_stream(1); }

// ---- shared data (abi.md §7.1) ----

/** Result of getSharedData: value bytes and the CAS to pass to setSharedData; found = false when absent. */
export class SharedValue {
  constructor(public found: bool, public value: ArrayBuffer, public cas: u32) {}
}

export function getSharedData(key: string): SharedValue {
  const k = String.UTF8.encode(key, false);
  const r = imp.proxy_get_shared_data(changetype<usize>(k), <usize>k.byteLength, RET_PTR, RET_SIZE, RET_U64);
  if (r != 0) return new SharedValue(false, new ArrayBuffer(0), 0);
  const cas = load<u32>(RET_U64);
  return new SharedValue(true, takeBytes(), cas);
}

/** CAS of the value the last getSharedDataInto found. */
let sharedCas: u32 = 0;

/**
 * Reads shared data under a pre-encoded key [key, key+keyLen) into `dst` without allocating: returns the
 * value's size (bytes beyond dst's size are not copied) and keeps its CAS for `lastSharedCas()`; -1 when
 * the key is absent or the read failed.
 */
export function getSharedDataInto(key: usize, keyLen: usize, dst: ArrayBuffer): i32 {
  if (imp.proxy_get_shared_data(key, keyLen, RET_PTR, RET_SIZE, RET_U64) != 0) return -1;
  sharedCas = load<u32>(RET_U64);
  const ptr = <usize>load<u32>(RET_PTR);
  const size = <usize>load<u32>(RET_SIZE);
  if (ptr == 0) return 0;
  memory.copy(changetype<usize>(dst), ptr, min(size, <usize>dst.byteLength));
  release(ptr);
  return <i32>size;
}

export function lastSharedCas(): u32 {
  return sharedCas;
}

/** setSharedData under a pre-encoded key [key, key+keyLen). */
export function setSharedDataAt(key: usize, keyLen: usize, value: ArrayBuffer, cas: u32): u32 {
  return imp.proxy_set_shared_data(key, keyLen, changetype<usize>(value), <usize>value.byteLength, cas);
}

/** Writes shared data; cas 0 writes unconditionally. Returns Result.OK or Result.CAS_MISMATCH. */
export function setSharedData(key: string, value: ArrayBuffer, cas: u32): u32 {
  const k = String.UTF8.encode(key, false);
  return imp.proxy_set_shared_data(changetype<usize>(k), <usize>k.byteLength, changetype<usize>(value), <usize>value.byteLength, cas);
}

// ---- http callouts (abi.md §9) ----

/** Starts an http call to `cluster`; returns the token, or 0 when the host refused it. */
export function httpCall(cluster: string, headers: Array<string[]>, body: string, timeoutMs: u32): u32 {
  const c = String.UTF8.encode(cluster, false);
  const h = serializePairs(headers);
  const b = String.UTF8.encode(body, false);
  const t = serializePairs(new Array<string[]>());
  const r = imp.proxy_http_call(changetype<usize>(c), <usize>c.byteLength, changetype<usize>(h), <usize>h.byteLength,
    changetype<usize>(b), <usize>b.byteLength, changetype<usize>(t), <usize>t.byteLength, timeoutMs, RET_PTR);
  if (r != 0) return 0;
  return load<u32>(RET_PTR);
}

/**
 * httpCall with headers already encoded in a PairsBuilder: for values that are large or arrive as bytes
 * (a 60 KiB request path forwarded to an authorization service), so they are copied once, not decoded to
 * UTF-16, concatenated and encoded again.
 */
export function httpCallPairs(cluster: string, headers: PairsBuilder, timeoutMs: u32): u32 {
  const c = String.UTF8.encode(cluster, false);
  const h = headers.serialize();
  const t = serializePairs(new Array<string[]>());
  const r = imp.proxy_http_call(changetype<usize>(c), <usize>c.byteLength, changetype<usize>(h), <usize>h.byteLength,
    0, 0, changetype<usize>(t), <usize>t.byteLength, timeoutMs, RET_PTR);
  if (r != 0) return 0;
  return load<u32>(RET_PTR);
}

// ---- metrics (abi.md §11) ----

export namespace MetricType {
  // @ts-ignore: decorator
  @inline export const COUNTER: u32 = 0;
  // @ts-ignore: decorator
  @inline export const GAUGE: u32 = 1;
  // @ts-ignore: decorator
  @inline export const HISTOGRAM: u32 = 2;
}

/** Defines a metric and returns its id (0 if the host refused). */
export function defineMetric(metricType: u32, name: string): u32 {
  const n = String.UTF8.encode(name, false);
  if (imp.proxy_define_metric(metricType, changetype<usize>(n), <usize>n.byteLength, RET_PTR) != 0) return 0;
  return load<u32>(RET_PTR);
}

export function incrementMetric(id: u32, offset: i64): void {
  if (id != 0) imp.proxy_increment_metric(id, offset);
}

export function recordMetric(id: u32, value: u64): void {
  if (id != 0) imp.proxy_record_metric(id, value);
}

// ---- time, randomness, ticks, foreign functions (abi.md §8, §12, §13) ----

/** Wall-clock time in nanoseconds since the epoch, from the host. */
export function nowNanos(): u64 {
  if (imp.proxy_get_current_time_nanoseconds(RET_U64) != 0) return 0;
  return load<u64>(RET_U64);
}

/** Wall-clock time in milliseconds since the epoch. */
export function nowMillis(): u64 {
  return nowNanos() / 1000000;
}

/** A uniformly random u32 from the host (WASI random_get). */
export function randomU32(): u32 {
  imp.wasi_random_get(RET_U64, 4);
  return load<u32>(RET_U64);
}

export function setTickPeriod(ms: u32): u32 {
  return imp.proxy_set_tick_period_milliseconds(ms);
}

/** Calls a host foreign function with a pre-encoded name; returns its result code (1 = NotFound when the host lacks it). */
export function callForeignFunctionBytes(name: ArrayBuffer, args: ArrayBuffer): u32 {
  store<u32>(RET_PTR, 0);
  store<u32>(RET_SIZE, 0);
  const r = imp.proxy_call_foreign_function(changetype<usize>(name), <usize>name.byteLength,
    changetype<usize>(args), <usize>args.byteLength, RET_PTR, RET_SIZE);
  // The result (empty for clear_route_cache) is host-allocated when non-empty: release it.
  if (r == 0) takeBytes();
  return r;
}

export function callForeignFunction(name: string, args: ArrayBuffer): u32 {
  return callForeignFunctionBytes(encode(name), args);
}
