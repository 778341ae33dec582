// The guest side of the proxy-wasm ABI 0.2.1: allocator, context registry and callback dispatch.
// Replaces the SDK runtime because its CHECK_RESULT throws (a trap, which kills the worker's VM in
// Envoy) on any unexpected host result; here every host result is returned to the caller instead.
import { decimal } from "./number";
import {
  proxy_get_buffer_bytes, proxy_get_property, proxy_log, proxy_set_effective_context,
} from "./imports";

/** Host-facing enums (abi.md §1.4). */
export namespace Action {
  // @ts-ignore: decorator
  @inline export const CONTINUE: u32 = 0;
  /** Headers: StopIteration (Envoy turns it into StopAllIterationAndWatermark). Bodies: buffer. */
  // @ts-ignore: decorator
  @inline export const PAUSE: u32 = 1;
}

export namespace LogLevel {
  // @ts-ignore: decorator
  @inline export const TRACE: u32 = 0;
  // @ts-ignore: decorator
  @inline export const DEBUG: u32 = 1;
  // @ts-ignore: decorator
  @inline export const INFO: u32 = 2;
  // @ts-ignore: decorator
  @inline export const WARN: u32 = 3;
  // @ts-ignore: decorator
  @inline export const ERROR: u32 = 4;
  // @ts-ignore: decorator
  @inline export const CRITICAL: u32 = 5;
}

/** Two u32 out-parameters (pointer, size) that every "ret_*" host call writes; static, never freed. */
export const RET_PTR: usize = memory.data(16);
export const RET_SIZE: usize = RET_PTR + 4;
/** A u64 out-parameter (time, metric value, cas). */
export const RET_U64: usize = RET_PTR + 8;

/**
 * Values the host returns (header values, properties, shared data) are short-lived: the guest copies each
 * into GC memory before its next host call. The first one that fits lands in a static scratch block instead
 * of the heap, which saves an allocator round trip on most host calls; `release` frees either kind. A
 * result that is never released only keeps the scratch busy (later values use the heap), never corrupts.
 */
// @ts-ignore: decorator
@inline const SCRATCH_SIZE: usize = 1024;
const SCRATCH: usize = memory.data(<i32>SCRATCH_SIZE, 16);
let scratchBusy = false;

/**
 * Bytes the host has handed the guest (header values, paths, bodies) since the last collection. What a
 * stream allocates grows with what it reads, so this is the measure of its garbage that proxy_on_delete
 * uses to collect early after large requests.
 */
let hostBytes: usize = 0;

/** The host allocates returned values through this; the guest gives them back with `release`. */
export function malloc(size: usize): usize {
  hostBytes += size;
  if (!scratchBusy && size <= SCRATCH_SIZE) {
    scratchBusy = true;
    return SCRATCH;
  }
  return heap.alloc(size);
}

/** Frees a host-allocated result (scratch or heap). */
export function release(ptr: usize): void {
  if (ptr == SCRATCH) scratchBusy = false;
  else heap.free(ptr);
}

/**
 * Reads a host-allocated (ptr, size) result as a string and releases the host allocation. Valid UTF-8
 * decodes as UTF-8; anything else decodes byte-for-byte (latin1), so distinct byte strings never read
 * as the same string (a lossy U+FFFD decode would let `key\xff` equal `key\x80`).
 */
export function takeString(): string {
  const ptr = load<u32>(RET_PTR);
  const size = load<u32>(RET_SIZE);
  if (ptr == 0) return "";
  const s = size == 0 ? "" : decodeBytes(<usize>ptr, <usize>size);
  release(<usize>ptr);
  return s;
}

/**
 * UTF-8 when the bytes are valid UTF-8 (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF),
 * else latin1 (one char per byte). One pass: ASCII is widened as it is checked, other sequences are
 * validated and decoded together; the first invalid byte switches the whole value to latin1.
 */
export function decodeBytes(ptr: usize, size: usize): string {
  // UTF-16 never needs more units than UTF-8 has bytes: `size` units always fit.
  const out = __new(size << 1, idof<string>());
  const j = decodeInto(ptr, size, out);
  return changetype<string>(j == size ? out : __renew(out, j << 1));
}

/** decodeBytes into `out` (room for `size` UTF-16 units), for callers that compare instead of keeping: returns the units written. */
export function decodeInto(ptr: usize, size: usize, out: usize): usize {
  let i: usize = 0;
  let j: usize = 0;
  while (i < size) {
    const c = <u32>load<u8>(ptr + i);
    if (c < 0x80) {
      store<u16>(out + (j++ << 1), <u16>c);
      i++;
      continue;
    }
    let n: usize = 0;
    let min: u32 = 0;
    let cp: u32 = 0;
    if ((c & 0xe0) == 0xc0) { n = 1; min = 0x80; cp = c & 0x1f; }
    else if ((c & 0xf0) == 0xe0) { n = 2; min = 0x800; cp = c & 0x0f; }
    else if ((c & 0xf8) == 0xf0) { n = 3; min = 0x10000; cp = c & 0x07; }
    else return latin1Into(out, ptr, size);
    if (i + n >= size) return latin1Into(out, ptr, size);
    for (let k: usize = 1; k <= n; k++) {
      const d = <u32>load<u8>(ptr + i + k);
      if ((d & 0xc0) != 0x80) return latin1Into(out, ptr, size);
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return latin1Into(out, ptr, size);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      store<u16>(out + (j++ << 1), <u16>(0xd800 | (cp >> 10)));
      store<u16>(out + (j++ << 1), <u16>(0xdc00 | (cp & 0x3ff)));
    } else {
      store<u16>(out + (j++ << 1), <u16>cp);
    }
    i += n + 1;
  }
  return j;
}

/**
 * Whether the `n` bytes at `a` and `b` are equal. One out-of-line loop for every byte comparison of the
 * library (std's memory.compare is inlined at each use, ~170 bytes a time).
 */
export function bytesEqual(a: usize, b: usize, n: usize): bool {
  for (; n >= 8; n -= 8, a += 8, b += 8) if (load<u64>(a) != load<u64>(b)) return false;
  for (; n > 0; n--, a++, b++) if (load<u8>(a) != load<u8>(b)) return false;
  return true;
}

/** Fills the `size` units at `out` with the bytes at `ptr`, one char per byte; returns `size`. */
function latin1Into(out: usize, ptr: usize, size: usize): usize {
  for (let k: usize = 0; k < size; k++) store<u16>(out + (k << 1), <u16>load<u8>(ptr + k));
  return size;
}

// Header values repeat from request to request (:method, :authority, the browser app's Origin, a
// route's Accept): the last value read at each call site is kept with a copy of its bytes, and a value
// with the same bytes is returned as the same (immutable) string — no decoding, nothing allocated, less
// for the collector. Validation is by content, so a slot shared by two call sites only costs misses.
// @ts-ignore: decorator
@inline const VALUE_SLOTS: usize = 16;
// @ts-ignore: decorator
@lazy const valueKeys = new StaticArray<usize>(<i32>VALUE_SLOTS);
// @ts-ignore: decorator
@lazy const valueLengths = new StaticArray<usize>(<i32>VALUE_SLOTS);
/** Copies of the values' bytes, grown as needed (never shrunk: values of one header have similar sizes). */
// @ts-ignore: decorator
@lazy const valueBytes = new StaticArray<ArrayBuffer | null>(<i32>VALUE_SLOTS);
// @ts-ignore: decorator
@lazy const valueStrings = new StaticArray<string | null>(<i32>VALUE_SLOTS);

/**
 * takeString() through the value cache; `site` tells call sites apart (a header name's address and the
 * map type) so that each keeps its last value.
 */
export function takeStringCached(site: usize): string {
  const ptr = <usize>load<u32>(RET_PTR);
  const size = <usize>load<u32>(RET_SIZE);
  if (ptr == 0) return "";
  const slot = <i32>(((site >> 4) ^ (site & 15) * 5) & (VALUE_SLOTS - 1));
  let bytes = unchecked(valueBytes[slot]);
  if (unchecked(valueKeys[slot]) == site && unchecked(valueLengths[slot]) == size && bytes !== null && bytesEqual(ptr, changetype<usize>(bytes), size)) {
    release(ptr);
    return unchecked(valueStrings[slot])!;
  }
  const s = size == 0 ? "" : decodeBytes(ptr, size);
  if (bytes === null || <usize>bytes.byteLength < size) {
    bytes = new ArrayBuffer(<i32>max<usize>(size, 64));
    unchecked((valueBytes[slot] = bytes));
  }
  memory.copy(changetype<usize>(bytes), ptr, size);
  unchecked((valueLengths[slot] = size));
  unchecked((valueKeys[slot] = site));
  unchecked((valueStrings[slot] = s));
  release(ptr);
  return s;
}

/** Reads a host-allocated (ptr, size) result as bytes and releases the host allocation. */
export function takeBytes(): ArrayBuffer {
  const ptr = load<u32>(RET_PTR);
  const size = load<u32>(RET_SIZE);
  const out = new ArrayBuffer(<i32>size);
  if (ptr == 0) return out;
  memory.copy(changetype<usize>(out), <usize>ptr, <usize>size);
  release(<usize>ptr);
  return out;
}

/** Logs at `level`; never fails. */
export function log(level: u32, message: string): void {
  const buf = String.UTF8.encode(message, false);
  proxy_log(level, changetype<usize>(buf), <usize>buf.byteLength);
}

/**
 * Debug builds route aborts (config assertions, out-of-bounds) here: the host log at critical, then a trap.
 * Release builds trap without a message (asconfig.json `abort=`), which keeps the strings out of the binary.
 */
// @ts-ignore: decorator
@global
export function tollgate_abort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let text = "abort: ";
  if (message !== null) text += message;
  if (fileName !== null) text += " at " + fileName + ":" + decimal(<i64>line) + ":" + decimal(<i64>column);
  log(LogLevel.CRITICAL, text);
}

/** A plugin instance (one per plugin config per VM): parses config once, creates stream contexts. */
export class RootContext {
  constructor(public readonly id: u32) {}
  /** VM configuration (vm_config.configuration); false fails the VM start. */
  onVmStart(vmConfig: string): bool { return true; }
  /** Plugin configuration; false rejects the plugin (log the field and the rule first). */
  onConfigure(config: string): bool { return true; }
  onTick(): void {}
  onQueueReady(token: u32): void {}
  /** A new HTTP stream; null means this plugin ignores the stream. */
  createHttpContext(id: u32): HttpContext | null { return null; }
  onDone(): bool { return true; }
  onDelete(): void {}
}

/** One HTTP stream. Return Action.CONTINUE or Action.PAUSE from the header/body/trailer hooks. */
export class HttpContext {
  constructor(public readonly id: u32, public readonly root: RootContext) {}
  onRequestHeaders(numHeaders: u32, endOfStream: bool): u32 { return Action.CONTINUE; }
  onRequestBody(bodySize: u32, endOfStream: bool): u32 { return Action.CONTINUE; }
  onRequestTrailers(numTrailers: u32): u32 { return Action.CONTINUE; }
  onResponseHeaders(numHeaders: u32, endOfStream: bool): u32 { return Action.CONTINUE; }
  onResponseBody(bodySize: u32, endOfStream: bool): u32 { return Action.CONTINUE; }
  onResponseTrailers(numTrailers: u32): u32 { return Action.CONTINUE; }
  /** The response of an http call this stream started with httpCall(); the stream is the effective context. */
  onHttpCallResponse(token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void {}
  onLog(): void {}
  onDone(): void {}
}

type RootFactory = (id: u32) => RootContext;

const factoryIds = new Array<string>();
const factories = new Array<RootFactory>();
const roots = new Map<u32, RootContext>();
const streams = new Map<u32, HttpContext>();
/** http_call token → stream context id that waits for it. */
const callouts = new Map<u32, u32>();

// Every callback of a stream looks its context up; requests run their callbacks back to back, so the last
// one found is kept (cleared when that stream is deleted).
let lastStreamId: u32 = 0;
let lastStream: HttpContext | null = null;

function streamOf(id: u32): HttpContext | null {
  const last = lastStream;
  if (last !== null && lastStreamId == id) return last;
  if (!streams.has(id)) return null;
  const s = streams.get(id);
  lastStreamId = id;
  lastStream = s;
  return s;
}

/** Registers the plugin under its root_id; call once from the plugin's index.ts top level. */
export function registerRootContext(rootId: string, factory: RootFactory): void {
  factoryIds.push(rootId);
  factories.push(factory);
}

/** Routes the response of http call `token` to stream context `contextId`. */
export function awaitCallout(token: u32, contextId: u32): void {
  callouts.set(token, contextId);
}

function createRoot(id: u32, rootId: string): RootContext {
  for (let i = 0; i < factoryIds.length; i++) {
    if (factoryIds[i] == rootId) return factories[i](id);
  }
  // Envoy config often leaves root_id empty; a module with one plugin serves any root_id.
  if (factories.length > 0) return factories[0](id);
  return new RootContext(id);
}

// ---- Exports the host calls (abi.md §1.3). The entry file re-exports these. ----

export function proxy_on_context_create(contextId: u32, parentId: u32): void {
  if (parentId == 0) {
    roots.set(contextId, createRoot(contextId, currentRootId()));
    return;
  }
  if (!roots.has(parentId)) return;
  const ctx = roots.get(parentId).createHttpContext(contextId);
  if (ctx !== null) streams.set(contextId, ctx);
}

/** plugin_root_id of the plugin whose root context is being created (abi.md §6.3). */
function currentRootId(): string {
  if (factories.length < 2) return "";
  const path = String.UTF8.encode("plugin_root_id", false);
  if (proxy_get_property(changetype<usize>(path), <usize>path.byteLength, RET_PTR, RET_SIZE) != 0) return "";
  return takeString();
}

export function proxy_on_vm_start(rootId: u32, vmConfigSize: u32): bool {
  if (!roots.has(rootId)) return true;
  return roots.get(rootId).onVmStart(readConfigBuffer(6, vmConfigSize));
}

export function proxy_on_configure(rootId: u32, configSize: u32): bool {
  if (!roots.has(rootId)) return true;
  const ok = roots.get(rootId).onConfigure(readConfigBuffer(7, configSize));
  // Parsing leaves garbage; nothing managed is live on the stack past this point.
  __collect();
  return ok;
}

function readConfigBuffer(bufferType: u32, size: u32): string {
  if (size == 0) return "";
  if (proxy_get_buffer_bytes(bufferType, 0, size, RET_PTR, RET_SIZE) != 0) return "";
  return takeString();
}

export function proxy_on_tick(rootId: u32): void {
  if (roots.has(rootId)) roots.get(rootId).onTick();
}

export function proxy_on_queue_ready(rootId: u32, token: u32): void {
  if (roots.has(rootId)) roots.get(rootId).onQueueReady(token);
}

export function proxy_on_request_headers(id: u32, numHeaders: u32, endOfStream: bool): u32 {
  const s = streamOf(id);
  return s !== null ? s.onRequestHeaders(numHeaders, endOfStream) : Action.CONTINUE;
}

export function proxy_on_request_body(id: u32, bodySize: u32, endOfStream: bool): u32 {
  const s = streamOf(id);
  return s !== null ? s.onRequestBody(bodySize, endOfStream) : Action.CONTINUE;
}

export function proxy_on_request_trailers(id: u32, numTrailers: u32): u32 {
  const s = streamOf(id);
  return s !== null ? s.onRequestTrailers(numTrailers) : Action.CONTINUE;
}

export function proxy_on_response_headers(id: u32, numHeaders: u32, endOfStream: bool): u32 {
  const s = streamOf(id);
  return s !== null ? s.onResponseHeaders(numHeaders, endOfStream) : Action.CONTINUE;
}

export function proxy_on_response_body(id: u32, bodySize: u32, endOfStream: bool): u32 {
  const s = streamOf(id);
  return s !== null ? s.onResponseBody(bodySize, endOfStream) : Action.CONTINUE;
}

export function proxy_on_response_trailers(id: u32, numTrailers: u32): u32 {
  const s = streamOf(id);
  return s !== null ? s.onResponseTrailers(numTrailers) : Action.CONTINUE;
}

export function proxy_on_http_call_response(rootId: u32, token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void {
  if (!callouts.has(token)) return;
  const id = callouts.get(token);
  callouts.delete(token);
  const s = streamOf(id);
  if (s === null) return;
  proxy_set_effective_context(id);
  s.onHttpCallResponse(token, numHeaders, bodySize, numTrailers);
}

export function proxy_on_log(id: u32): void {
  const s = streamOf(id);
  if (s !== null) s.onLog();
}

export function proxy_on_done(id: u32): bool {
  const s = streamOf(id);
  if (s !== null) {
    s.onDone();
    return true;
  }
  if (roots.has(id)) return roots.get(id).onDone();
  return true;
}

/**
 * The minimal runtime collects only when asked. A collection is safe only where no managed object is
 * referenced from the wasm stack alone: the end of proxy_on_delete, once the stream is gone, is such a
 * point. A collection marks every live object (the parsed config included), so it runs every
 * COLLECT_EVERY streams — and at once after a stream during which linear memory grew, so a burst of
 * garbage (uncached RS256 verifications) is reclaimed before it can raise the high-water mark further —
 * and once the streams since the last one have read COLLECT_HOST_BYTES from the host: without that, 64
 * requests of 60 KiB headers leave ~16 MiB of garbage and the allocator doubles memory to hold it.
 */
// @ts-ignore: decorator
@inline const COLLECT_EVERY: u32 = 64;
// @ts-ignore: decorator
@inline const COLLECT_HOST_BYTES: usize = 32 * 1024;
let deletes: u32 = 0;
let pagesAtCollect: i32 = 0;

export function proxy_on_delete(id: u32): void {
  if (streams.has(id)) {
    streams.delete(id);
    if (lastStreamId == id) lastStream = null;
    if (++deletes >= COLLECT_EVERY || memory.size() != pagesAtCollect || hostBytes >= COLLECT_HOST_BYTES) {
      deletes = 0;
      hostBytes = 0;
      __collect();
      pagesAtCollect = memory.size();
    }
    return;
  }
  if (roots.has(id)) {
    roots.get(id).onDelete();
    roots.delete(id);
  }
}
