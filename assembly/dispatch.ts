// The callbacks the host calls (abi.md §1.3), routed to contexts, and the collection policy: the minimal
// runtime collects only where this module says it is safe. exports.ts re-exports these.
import { Action, BufferType } from "./abi";
import { calloutReceiver, createRoot, createStream, deleteRoot, deleteStream, needsRootId, rootOf, streamOf } from "./context";
import { proxy_get_buffer_bytes, proxy_get_property, proxy_set_effective_context } from "./imports";
import { hostBytesSinceTake, RET_PTR, RET_SIZE, takeHostBytes } from "./memory";
import { takeString } from "./values";

export function proxy_on_context_create(contextId: u32, parentId: u32): void {
  if (parentId == 0) createRoot(contextId, currentRootId());
  else createStream(contextId, parentId);
}

/** plugin_root_id of the plugin whose root context is being created (abi.md §6.3). */
function currentRootId(): string {
  if (!needsRootId()) return "";
  const path = String.UTF8.encode("plugin_root_id", false);
  if (proxy_get_property(changetype<usize>(path), <usize>path.byteLength, RET_PTR, RET_SIZE) != 0) return "";
  return takeString();
}

export function proxy_on_vm_start(rootId: u32, vmConfigSize: u32): bool {
  const root = rootOf(rootId);
  return root === null || root.onVmStart(readConfigBuffer(BufferType.VM_CONFIGURATION, vmConfigSize));
}

export function proxy_on_configure(rootId: u32, configSize: u32): bool {
  const root = rootOf(rootId);
  if (root === null) return true;
  const ok = root.onConfigure(readConfigBuffer(BufferType.PLUGIN_CONFIGURATION, configSize));
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
  const root = rootOf(rootId);
  if (root !== null) root.onTick();
}

export function proxy_on_queue_ready(rootId: u32, token: u32): void {
  const root = rootOf(rootId);
  if (root !== null) root.onQueueReady(token);
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

// Callout answers arrive on the root context (abi.md §9, §10); the context that started the call
// (awaitCallout) gets them, as the effective context so that its host calls act on it.

export function proxy_on_http_call_response(rootId: u32, token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void {
  const r = calloutReceiver(token, true);
  if (r === null) return;
  proxy_set_effective_context(r.id);
  r.onHttpCallResponse(token, numHeaders, bodySize, numTrailers);
}

export function proxy_on_grpc_receive(rootId: u32, token: u32, messageSize: u32): void {
  // A unary call (token ≡ 1 mod 4, abi.md §9) ends with its message: Envoy erases it and sends no close, so
  // keeping the token would leak one entry per answered call. A stream's token lives until its close.
  const r = calloutReceiver(token, (token & 3) == 1);
  if (r === null) return;
  proxy_set_effective_context(r.id);
  r.onGrpcReceive(token, messageSize);
}

export function proxy_on_grpc_close(rootId: u32, token: u32, status: u32): void {
  const r = calloutReceiver(token, true);
  if (r === null) return;
  proxy_set_effective_context(r.id);
  r.onGrpcClose(token, status);
}

export function proxy_on_log(id: u32): void {
  const s = streamOf(id);
  if (s !== null) s.onLog();
}

/**
 * A stream's end. Envoy calls on_log, then on_done, then on_delete, and ignores on_done's result for HTTP
 * streams (abi.md §2.7): the stream is freed here, so a plugin that does not export proxy_on_delete (or
 * proxy_on_log) is not called for them at all — each skipped callback is one V8 entry less per request
 * on Envoy (exports-headers.ts).
 */
export function proxy_on_done(id: u32): bool {
  const s = streamOf(id);
  if (s !== null) {
    s.onDone();
    streamGone(id);
    return true;
  }
  const root = rootOf(id);
  return root === null || root.onDone();
}

export function proxy_on_delete(id: u32): void {
  // A stream is normally gone since its on_done; a host that skipped on_done frees it here.
  if (streamOf(id) !== null) streamGone(id);
  else deleteRoot(id);
}

/**
 * The minimal runtime collects only when asked. A collection is safe only where no managed object is
 * referenced from the wasm stack alone: the end of proxy_on_done (or proxy_on_delete), once the stream is
 * gone, is such a point. A collection marks every live object (the parsed config included), so it runs every
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

function streamGone(id: u32): void {
  deleteStream(id);
  if (++deletes >= COLLECT_EVERY || memory.size() != pagesAtCollect || hostBytesSinceTake() >= COLLECT_HOST_BYTES) {
    deletes = 0;
    takeHostBytes();
    __collect();
    pagesAtCollect = memory.size();
  }
}
