// proxy_http_call and its completion (abi.md §9). gRPC calls (§10) are grpc-calls.ts.
import { R } from "./abi.ts";
import type { HttpCallState, RootContext } from "./context.ts";
import type { CalloutResponse } from "./env.ts";
import { HeaderMap, type HeaderList } from "./header-map.ts";
import type { WasmVm } from "./vm.ts";

const EMPTY = new Uint8Array(0);

/** Envoy router replies that reach on_http_call_response through the success path (abi.md §9). */
function routerReply(status: number, body: string): { headers: HeaderList; body: Uint8Array; trailers: HeaderList } {
  return {
    headers: [[":status", String(status)], ["content-length", String(body.length)], ["content-type", "text/plain"]],
    body: Buffer.from(body),
    trailers: [],
  };
}

/** Delivers a finished http call to the root context that owns it. */
function completeHttpCall(vm: WasmVm, root: RootContext, token: number, resp: CalloutResponse): void {
  if (!root.httpCalls.has(token)) return;
  root.httpCalls.get(token)!.cancel();
  root.httpCalls.delete(token);
  if (vm.failed || root.deleted) return;
  if (vm.inCall) {
    // Completions arriving during a VM call are deferred (E-CTX onHttpCallSuccess).
    root.httpCalls.set(token, { token, cancel() {} });
    vm.defer(() => completeHttpCall(vm, root, token, resp));
    return;
  }
  const f = vm.ex.proxy_on_http_call_response;
  let r: { headers: HeaderList; body: Uint8Array; trailers: HeaderList } | null;
  if ("failure" in resp) {
    if (resp.failure === "timeout") r = routerReply(504, "upstream request timeout");
    else if (resp.failure === "no_cluster") r = routerReply(503, "no healthy upstream");
    else r = null;
  } else {
    const body = resp.body === undefined ? EMPTY : typeof resp.body === "string" ? Buffer.from(resp.body) : resp.body;
    r = { headers: resp.headers, body, trailers: resp.trailers ?? [] };
  }
  if (!f) return;
  if (!r) {
    root.statusCode = R.BrokenConnection;
    root.statusMessage = "reset";
    try {
      vm.invoke(root, "proxy_on_http_call_response", f, root.id, token, 0, 0, 0);
    } finally {
      root.statusMessage = "";
    }
    return;
  }
  const headers = new HeaderMap("response", r.headers);
  const trailers = new HeaderMap("response-trailers", r.trailers);
  root.inCallResponse = { headers, body: r.body, trailers };
  try {
    vm.invoke(root, "proxy_on_http_call_response", f, root.id, token, headers.size, r.body.length, trailers.size);
  } finally {
    root.inCallResponse = null;
  }
}

export function httpCallsImports(vm: WasmVm) {
  const mem = vm.mem;
  return {
    proxy_http_call(upstreamPtr: number, upstreamSize: number, headersPtr: number, headersSize: number, bodyPtr: number,
      bodySize: number, trailersPtr: number, trailersSize: number, timeoutMs: number, retToken: number): number {
      if (!mem.setU32(retToken, 0)) return R.InvalidMemoryAccess;
      if (!mem.inBounds(upstreamPtr, upstreamSize) || !mem.inBounds(headersPtr, headersSize) ||
        !mem.inBounds(bodyPtr, bodySize) || !mem.inBounds(trailersPtr, trailersSize)) return R.InvalidMemoryAccess;
      if ((timeoutMs | 0) < 0) return R.BadArgument;
      const cluster = mem.latin1(upstreamPtr, upstreamSize);
      if (!vm.env.clusterExists(cluster)) return R.BadArgument;
      const headers: HeaderList = mem.pairsCopy(headersPtr, headersSize);
      const has = (k: string) => headers.some((h) => h[0] === k);
      // :path, :method and :authority or host (Envoy 1.40 accepts a `host` header for :authority: seen live).
      if (!has(":path") || !has(":method") || !(has(":authority") || has("host"))) return R.BadArgument;
      const body = mem.bytes(bodyPtr, bodySize);
      const trailers: HeaderList = mem.pairsCopy(trailersPtr, trailersSize);
      if (body.length > 0) {
        const i = headers.findIndex((h) => h[0] === "content-length");
        if (i >= 0) headers.splice(i, 1);
        headers.push(["content-length", String(body.length)]);
      }
      // No host in the cluster: Envoy's async client answers "no healthy upstream" inline, so the call fails.
      if (!vm.env.clusterHasHosts(cluster)) return R.InternalFailure;
      const root = vm.rootOfCurrent();
      const callouts = vm.env.callouts;
      if (!root || !callouts) return R.InternalFailure;
      const token = vm.nextHttpCallToken();
      const abort = new AbortController();
      let timer: unknown = null;
      const state: HttpCallState = {
        token,
        cancel() {
          if (timer !== null) vm.env.clock.clearTimer(timer);
          timer = null;
          abort.abort();
        },
      };
      root.httpCalls.set(token, state);
      const timeout = timeoutMs >>> 0;
      if (timeout > 0) {
        timer = vm.env.clock.setTimer(() => {
          timer = null;
          completeHttpCall(vm, root, token, { failure: "timeout" });
        }, timeout);
      }
      let p: Promise<CalloutResponse>;
      try {
        p = Promise.resolve(callouts({ cluster, headers, body, trailers, timeoutMs: timeout, plugin: vm.plugin.name, worker: vm.worker, token }, abort.signal));
      } catch (e) {
        p = Promise.reject(e);
      }
      p.then(
        (resp) => completeHttpCall(vm, root, token, resp),
        () => completeHttpCall(vm, root, token, { failure: "reset" }),
      ).catch((e) => vm.env.internalError("http call completion", e));
      return mem.setU32(retToken, token) ? R.Ok : R.InvalidMemoryAccess;
    },
  };
}
