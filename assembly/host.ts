// Host calls other than header maps, shared data and callouts: buffers (abi.md §4), properties (§6),
// local replies (§5), stream control (§2.5), metrics (§11), time, randomness, ticks and status (§8, §12).
// None of them traps: each returns the host's result (or a neutral value) and leaves the decision to the
// plugin. Naming as in header-map.ts: the `Enc` suffix takes encoded bytes.
import { MetricType, StreamType } from "./abi";
import { encode } from "./header-map";
import * as imp from "./imports";
import { RET_PTR, RET_SIZE, RET_U64 } from "./memory";
import { PairsBuilder, serializePairs } from "./pairs";
import { takeBytes, takeString } from "./values";

/** Bytes [start, start+size) of buffer `bufferType` (BufferType); empty when unavailable. */
export function getBuffer(bufferType: u32, start: u32, size: u32): ArrayBuffer {
  if (imp.proxy_get_buffer_bytes(bufferType, start, size, RET_PTR, RET_SIZE) != 0) return new ArrayBuffer(0);
  return takeBytes();
}

/** String property at a dot path ("source.address", "plugin_name"), or null. */
export function getProperty(dotted: string): string | null {
  const p = encode(dotted);
  const base = changetype<usize>(p);
  for (let i = 0; i < p.byteLength; i++) {
    if (load<u8>(base + <usize>i) == 0x2e) store<u8>(base + <usize>i, 0);
  }
  if (imp.proxy_get_property(changetype<usize>(p), <usize>p.byteLength, RET_PTR, RET_SIZE) != 0) return null;
  return takeString();
}

/** Sends a local reply after the current callback returns; the caller then returns Action.PAUSE. */
export function sendLocalResponse(status: u32, details: string, body: string, headers: Array<string[]>): u32 {
  const d = encode(details);
  const b = encode(body);
  const h = serializePairs(headers);
  return imp.proxy_send_local_response(status, changetype<usize>(d), <usize>d.byteLength,
    changetype<usize>(b), <usize>b.byteLength, changetype<usize>(h), <usize>h.byteLength, -1);
}

/** sendLocalResponse with details and body encoded and the headers of a (reused) PairsBuilder: nothing allocated per reply. */
export function sendLocalResponseEnc(status: u32, details: ArrayBuffer, body: ArrayBuffer, headers: PairsBuilder): u32 {
  const size = headers.size();
  const p = headers.serializeReused(size);
  return imp.proxy_send_local_response(status, changetype<usize>(details), <usize>details.byteLength,
    changetype<usize>(body), <usize>body.byteLength, p, size, -1);
}

/** Resumes a paused request (from a later callback, e.g. a callout response). */
export function continueRequest(): u32 {
  return imp.proxy_continue_stream(StreamType.REQUEST);
}

/**
 * Makes stream `contextId` the context later host calls act on, from a root callback (a tick): to resume or
 * answer a request that waited for the root. Result.BAD_ARGUMENT when that stream is gone.
 */
export function setEffectiveContext(contextId: u32): u32 {
  return imp.proxy_set_effective_context(contextId);
}

/** The status message of the callout that just closed (in onGrpcClose), or "". */
export function getStatusMessage(): string {
  if (imp.proxy_get_status(RET_U64, RET_PTR, RET_SIZE) != 0) return "";
  return takeString();
}

/** Defines a metric of type `metricType` (MetricType) and returns its id (0 if the host refused). */
export function defineMetric(metricType: u32, name: string): u32 {
  const n = encode(name);
  if (imp.proxy_define_metric(metricType, changetype<usize>(n), <usize>n.byteLength, RET_PTR) != 0) return 0;
  return load<u32>(RET_PTR);
}

/** A counter's id (defineMetric(MetricType.COUNTER, name)). */
export function defineCounter(name: string): u32 {
  return defineMetric(MetricType.COUNTER, name);
}

/** Adds `offset` to metric `id`; id 0 (undefined) is ignored. */
export function incrementMetric(id: u32, offset: i64): void {
  if (id != 0) imp.proxy_increment_metric(id, offset);
}

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

/** Calls the root context's onTick every `ms` milliseconds (0 stops). Returns the host result. */
export function setTickPeriod(ms: u32): u32 {
  return imp.proxy_set_tick_period_milliseconds(ms);
}

/**
 * Sends a local reply (deferred by the host until the callback returns; return Action.PAUSE after it).
 * `contentType` "" sends no content-type; `extra` are more response headers.
 */
export function localReply(status: u32, details: string, body: string, contentType: string, extra: Array<string[]>): u32 {
  const headers = new Array<string[]>();
  if (contentType.length > 0) headers.push(["content-type", contentType]);
  for (let i = 0; i < extra.length; i++) headers.push(extra[i]);
  return sendLocalResponse(status, details, body, headers);
}
