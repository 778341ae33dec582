// Stream control from the guest: proxy_send_local_response (abi.md §5), proxy_continue_stream and
// proxy_close_stream (§2.5), and the ABI 0.1.0 proxy_continue_request/response/clear_route_cache.
// All of them act after the current VM call returns (Envoy defers them, §2.6).
import { GRPC_STATUS_MAX, R, StreamType } from "./abi.ts";
import { HttpFilterContext } from "./stream-context.ts";
import { selfChecked } from "./restrictions.ts";
import type { WasmVm } from "./vm.ts";

/** The body of every local reply without one (zero-length: nothing can write into it). */
const EMPTY = new Uint8Array(0);

export function streamImports(vm: WasmVm) {
  const mem = vm.mem;
  const continueStream = (type: number): number => {
    if (type >>> 0 > StreamType.Upstream) return R.BadArgument;
    const c = vm.ctx();
    if (type === StreamType.Upstream) return R.Unimplemented;
    if (!(c instanceof HttpFilterContext) || !c.cb) return R.Ok;
    const cb = c.cb;
    if (type === StreamType.Request) {
      vm.defer(() => cb.continueDecoding());
      c.requestHeaders = null;
      c.requestBody = null;
      c.requestTrailers = null;
    } else if (type === StreamType.Response) {
      vm.defer(() => cb.continueEncoding());
      c.responseHeaders = null;
      c.responseBody = null;
      c.responseTrailers = null;
    }
    return R.Ok;
  };
  let lastRawDetails = "";
  let lastDetails = "";
  const imports: Record<string, (...a: number[]) => number> = {
    proxy_send_local_response(status: number, detailsPtr: number, detailsSize: number, bodyPtr: number, bodySize: number,
      headersPtr: number, headersSize: number, grpcStatus: number): number {
      vm.checkCall("env.proxy_send_local_response");
      if (!mem.inBounds(detailsPtr, detailsSize) || !mem.inBounds(bodyPtr, bodySize) || !mem.inBounds(headersPtr, headersSize)) {
        return R.InvalidMemoryAccess;
      }
      const raw = mem.latin1(detailsPtr, detailsSize);
      // Plugins send the same few details strings (the same cached string object): sanitized once.
      if (raw !== lastRawDetails) {
        lastRawDetails = raw;
        lastDetails = /\s/.test(raw) ? raw.replace(/\s/g, "_") : raw;
      }
      const details = lastDetails;
      const body = bodySize === 0 ? EMPTY : mem.bytes(bodyPtr, bodySize);
      const headers = mem.pairs(headersPtr, headersSize);
      vm.stopAfterCall();
      const c = vm.ctx();
      if (c instanceof HttpFilterContext && c.cb) {
        const cb = c.cb;
        const g = grpcStatus | 0;
        vm.defer(() => cb.sendLocalReply(status >>> 0, body, headers, g >= 0 && g <= GRPC_STATUS_MAX ? g : null, details));
      }
      return R.Ok;
    },
    proxy_close_stream(type: number): number {
      if (type >>> 0 > StreamType.Upstream) return R.BadArgument;
      const c = vm.ctx();
      if (!(c instanceof HttpFilterContext) || !c.cb) return R.Ok;
      const cb = c.cb;
      if (type === StreamType.Request || type === StreamType.Response) {
        const info = cb.streamInfo();
        if (!info.responseCodeDetails) info.responseCodeDetails = "wasm_close_stream";
        vm.defer(() => cb.resetStream("wasm_close_stream"));
      } else {
        vm.defer(() => cb.resetStream(type === StreamType.Downstream ? "wasm_downstream_close" : "wasm_upstream_close"));
      }
      return R.Ok;
    },
  };
  if (vm.abi === "0_1_0") {
    imports.proxy_continue_request = () => continueStream(StreamType.Request);
    imports.proxy_continue_response = () => continueStream(StreamType.Response);
    imports.proxy_clear_route_cache = () => {
      const c = vm.ctx();
      if (c instanceof HttpFilterContext && c.cb) c.cb.clearRouteCache();
      return R.Ok;
    };
  } else {
    imports.proxy_continue_stream = continueStream;
  }
  return selfChecked(imports, "proxy_send_local_response");
}
