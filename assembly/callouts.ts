// Callouts: http calls (abi.md §9), gRPC calls (§10) and foreign functions (§12). A call returns a token;
// the context that waits for it registers with awaitCallout(token, id), and its onHttpCallResponse /
// onGrpcReceive / onGrpcClose runs when the answer arrives.
import * as imp from "./imports";
import { encode } from "./header-map";
import { RET_PTR, RET_SIZE } from "./memory";
import { PairsBuilder, serializePairs } from "./pairs";
import { takeBytes } from "./values";

const NO_PAIRS = new PairsBuilder();

/** Starts an http call to `cluster`; returns the token, or 0 when the host refused it. */
export function httpCall(cluster: string, headers: Array<string[]>, body: string, timeoutMs: u32): u32 {
  const c = encode(cluster);
  const h = serializePairs(headers);
  const b = encode(body);
  const t = serializePairs(new Array<string[]>());
  const r = imp.proxy_http_call(changetype<usize>(c), <usize>c.byteLength, changetype<usize>(h), <usize>h.byteLength,
    changetype<usize>(b), <usize>b.byteLength, changetype<usize>(t), <usize>t.byteLength, timeoutMs, RET_PTR);
  return r != 0 ? 0 : load<u32>(RET_PTR);
}

/**
 * httpCall with everything encoded, the headers in a PairsBuilder: for values that are large or arrive as
 * bytes (a 60 KiB request path forwarded to an authorization service), so they are copied once, not
 * decoded to UTF-16, concatenated and encoded again.
 */
export function httpCallEnc(cluster: ArrayBuffer, headers: PairsBuilder, body: ArrayBuffer, timeoutMs: u32): u32 {
  const h = headers.serialize();
  const t = NO_PAIRS.serialize();
  const r = imp.proxy_http_call(changetype<usize>(cluster), <usize>cluster.byteLength, changetype<usize>(h), <usize>h.byteLength,
    changetype<usize>(body), <usize>body.byteLength, changetype<usize>(t), <usize>t.byteLength, timeoutMs, RET_PTR);
  return r != 0 ? 0 : load<u32>(RET_PTR);
}

/**
 * Starts a unary gRPC call of `service`/`method` (e.g. "envoy.service.ratelimit.v3.RateLimitService",
 * "ShouldRateLimit") on `cluster` with a serialized request `message`; returns the token, or 0 when the
 * host refused it (unknown cluster: Result.PARSE_FAILURE in Envoy).
 */
export function grpcCallEnc(cluster: ArrayBuffer, service: ArrayBuffer, method: ArrayBuffer, metadata: PairsBuilder,
  message: ArrayBuffer, timeoutMs: u32): u32 {
  const m = metadata.serialize();
  const r = imp.proxy_grpc_call(changetype<usize>(cluster), <usize>cluster.byteLength, changetype<usize>(service), <usize>service.byteLength,
    changetype<usize>(method), <usize>method.byteLength, changetype<usize>(m), <usize>m.byteLength,
    changetype<usize>(message), <usize>message.byteLength, timeoutMs, RET_PTR);
  return r != 0 ? 0 : load<u32>(RET_PTR);
}

/** Cancels gRPC call `token` (no onGrpcClose follows). Returns the host result. */
export function grpcCancel(token: u32): u32 {
  return imp.proxy_grpc_cancel(token);
}

/** Calls a host foreign function; returns its result code (Result.NOT_FOUND when the host lacks it). */
export function callForeignFunction(name: string, args: ArrayBuffer): u32 {
  return callForeignFunctionEnc(encode(name), args);
}

/** callForeignFunction with the name encoded. */
export function callForeignFunctionEnc(name: ArrayBuffer, args: ArrayBuffer): u32 {
  store<u32>(RET_PTR, 0);
  store<u32>(RET_SIZE, 0);
  const r = imp.proxy_call_foreign_function(changetype<usize>(name), <usize>name.byteLength,
    changetype<usize>(args), <usize>args.byteLength, RET_PTR, RET_SIZE);
  // The result (empty for clear_route_cache) is host-allocated when non-empty: release it.
  if (r == 0) takeBytes();
  return r;
}
