// gRPC callouts (abi.md §10): proxy_grpc_call, proxy_grpc_cancel / proxy_grpc_close of a call, and their
// completion through proxy_on_grpc_receive / proxy_on_grpc_close, as Envoy 1.40 does them (E-CTX grpcCall,
// onGrpcReceiveWrapper, onGrpcCloseWrapper; Envoy's Grpc::AsyncRequestImpl). Streams (proxy_grpc_stream /
// proxy_grpc_send) validate like Envoy and are then refused: no tollgate plugin uses them.
//
// What a plugin sees, each case checked against Envoy 1.40 (test/gateway/grpc-calls.test.ts runs the same
// bootstrap on both engines against envoyproxy/ratelimit):
// - `upstream` is first parsed as a serialized envoy.config.core.v3.GrpcService; when it does not parse it is a
//   cluster name, and an unknown cluster is ParseFailure (4), no token. A GrpcService naming an unknown cluster
//   takes a token, returns InternalFailure (10) and delivers on_grpc_close(token, 14) "Cluster not available"
//   after the calling callback returns.
// - Tokens are per VM: 5, 9, 13, … (≡ 1 mod 4), written only when the call starts (Ok).
// - A unary call ends in exactly one callback: on_grpc_receive(root, token, size) with the response in
//   GrpcReceiveBuffer when the server answered grpc-status 0 with a message; otherwise on_grpc_close(root,
//   token, status) with proxy_get_status's message = grpc-message (as sent, not percent-decoded) + "{<response
//   code details>}": "{via_upstream}" for the server's own status; the router's reply and details when the call
//   failed before an answer (connection refused: 14 "upstream connect error … remote connection failure{…}";
//   timeout: 14 "upstream request timeout{response_timeout}"). No initial/trailing metadata callbacks for calls.
// - timeout_ms is sent as grpc-timeout, also when 0 ("0m": the server's deadline is already over); only a
//   positive timeout arms the local timer (Envoy's router: 0 = no timeout).
// - proxy_grpc_cancel / proxy_grpc_close of an outstanding call: Ok, no callback ever; again: NotFound. A token
//   that is neither a call (1 mod 4) nor a stream (2 mod 4) id: BadArgument.
// The transport (HTTP/2 to the cluster, gRPC framing, Envoy's router failures) is the engine's: the gateway
// registers it with setGrpcTransport (tools/gateway/grpc-client.ts).
import { LogLevel, R } from "./abi.ts";
import type { RootContext } from "./context.ts";
import type { HostEnv } from "./env.ts";
import type { HeaderList } from "./header-map.ts";
import type { WasmVm } from "./vm.ts";

/** One unary call as the engine sends it. */
export interface GrpcCallRequest {
  cluster: string;
  service: string;
  method: string;
  /** The plugin's initial metadata, keys lower-cased (Envoy's header map). */
  initialMetadata: HeaderList;
  message: Uint8Array;
  /** As the plugin gave it; 0 is sent as grpc-timeout 0m. */
  timeoutMs: number;
  plugin: string;
  worker: number;
  token: number;
}

/** How a call ended: the response message (grpc-status 0), or a status and Envoy's status message. */
export type GrpcCallResult = { status: 0; response: Uint8Array } | { status: number; message: string };

export type GrpcTransport = (req: GrpcCallRequest, signal: AbortSignal) => Promise<GrpcCallResult>;

/** gRPC status codes the async client produces itself. */
export const GRPC_STATUS = { OK: 0, UNKNOWN: 2, INTERNAL: 13, UNAVAILABLE: 14 } as const;

/** Router failures as the async client reports them (status message = body + "{" + details + "}"). */
export const GRPC_FAILURES = {
  clusterNotAvailable: { status: GRPC_STATUS.UNAVAILABLE, message: "Cluster not available" },
  timeout: { status: GRPC_STATUS.UNAVAILABLE, message: "upstream request timeout{response_timeout}" },
  noHealthyUpstream: { status: GRPC_STATUS.UNAVAILABLE, message: "no healthy upstream{no_healthy_upstream}" },
} as const;

const transports = new WeakMap<HostEnv, GrpcTransport>();

/** The engine's gRPC transport for every VM of `env` (the gateway's cluster manager). */
export function setGrpcTransport(env: HostEnv, t: GrpcTransport): void {
  transports.set(env, t);
}

/** The last gRPC call token per VM (cpp-host nextGrpcCallId: starts at 1, += 4 before use). */
const lastToken = new WeakMap<WasmVm, number>();

const isCallId = (t: number) => (t & 3) === 1;
const isStreamId = (t: number) => (t & 3) === 2;

// ---- envoy.config.core.v3.GrpcService, as protobuf's ParseFromString decides ----------------------------

/** Reads a varint at `p`; null when truncated or longer than 10 bytes. */
function varint(b: Uint8Array, p: number): { v: bigint; next: number } | null {
  let v = 0n;
  for (let i = 0; i < 10; i++) {
    if (p + i >= b.length) return null;
    const c = b[p + i];
    v |= BigInt(c & 0x7f) << BigInt(7 * i);
    if ((c & 0x80) === 0) return { v, next: p + i + 1 };
  }
  return null;
}

type FieldKind = "string" | "bool" | "message";
/**
 * Known fields of the messages walked. A known field with another wire type is kept as an unknown field (as
 * protobuf's generated parsers do); a known string must be UTF-8 (proto3), a known message must parse.
 */
type Schema = Record<number, { kind: FieldKind; schema?: Schema }>;
const ANY: Schema = {};
const ENVOY_GRPC: Schema = { 1: { kind: "string" }, 2: { kind: "string" }, 3: { kind: "message", schema: ANY }, 4: { kind: "message", schema: ANY }, 5: { kind: "bool" } };
const HEADER_VALUE: Schema = { 1: { kind: "string" }, 2: { kind: "string" } };
const GRPC_SERVICE: Schema = {
  1: { kind: "message", schema: ENVOY_GRPC }, 2: { kind: "message", schema: ANY }, 3: { kind: "message", schema: ANY },
  5: { kind: "message", schema: HEADER_VALUE }, 6: { kind: "message", schema: ANY },
};

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Walks `b` as a message of `schema`; returns the string fields seen (field number → last value, for the
 * top-level envoy_grpc lookup) or null when protobuf would refuse to parse it. Unknown fields must be
 * well-formed (groups balanced); nested messages of known fields are walked with their schema (unknown
 * nested content only for well-formedness).
 */
function walk(b: Uint8Array, schema: Schema, depth: number, out?: Map<number, Uint8Array>): boolean {
  if (depth > 32) return false;
  let p = 0;
  const groups: number[] = [];
  while (p < b.length) {
    const tag = varint(b, p);
    if (!tag) return false;
    p = tag.next;
    const field = Number(tag.v >> 3n);
    const wt = Number(tag.v & 7n);
    if (field === 0 || tag.v > 0xffffffffn) return false;
    const def = groups.length === 0 ? schema[field] : undefined;
    const known = def && (def.kind === "bool" ? wt === 0 : wt === 2) ? def : undefined;
    switch (wt) {
      case 0: {
        const v = varint(b, p);
        if (!v) return false;
        p = v.next;
        break;
      }
      case 1:
        if (p + 8 > b.length) return false;
        p += 8;
        break;
      case 5:
        if (p + 4 > b.length) return false;
        p += 4;
        break;
      case 2: {
        const len = varint(b, p);
        if (!len || len.v > BigInt(b.length - len.next)) return false;
        const body = b.subarray(len.next, len.next + Number(len.v));
        p = len.next + Number(len.v);
        if (!known) break;
        if (known.kind === "string") {
          try {
            utf8.decode(body);
          } catch {
            return false;
          }
          out?.set(field, body);
        } else {
          const sub = field === 1 && schema === GRPC_SERVICE ? new Map<number, Uint8Array>() : undefined;
          if (!walk(body, known.schema ?? ANY, depth + 1, sub)) return false;
          if (sub) out?.set(-1, sub.get(1) ?? new Uint8Array(0));
        }
        break;
      }
      case 3:
        groups.push(field);
        break;
      case 4:
        if (groups.pop() !== field) return false;
        break;
      default:
        return false;
    }
  }
  return groups.length === 0;
}

/**
 * `upstream` as Envoy reads it: a GrpcService (its envoy_grpc.cluster_name, or null when it has no
 * envoy_grpc: a google_grpc or empty service), or not a GrpcService at all (undefined: a cluster name).
 */
export function parseGrpcService(upstream: Uint8Array): { cluster: string | null } | undefined {
  const seen = new Map<number, Uint8Array>();
  if (!walk(upstream, GRPC_SERVICE, 0, seen)) return undefined;
  const name = seen.get(-1);
  return { cluster: name === undefined ? null : Buffer.from(name).toString("latin1") };
}

// ---- the ABI ----------------------------------------------------------------------------------------------

/** Delivers a finished call to the root context that owns it (Envoy: onSuccessRaw / onFailure). */
function complete(vm: WasmVm, root: RootContext, token: number, result: GrpcCallResult): void {
  const state = root.grpcCalls.get(token);
  if (!state) return; // cancelled, or already delivered
  state.cancel();
  root.grpcCalls.delete(token);
  deliver(vm, root, token, result);
}

function deliver(vm: WasmVm, root: RootContext, token: number, result: GrpcCallResult): void {
  if (vm.failed || root.deleted) return;
  if (vm.inCall) {
    // Completions arriving during a VM call run after it (E-CTX: addAfterVmCallAction when reentrant).
    vm.defer(() => deliver(vm, root, token, result));
    return;
  }
  if (result.status === GRPC_STATUS.OK && "response" in result) {
    const f = vm.ex.proxy_on_grpc_receive;
    if (!f) return;
    root.grpcReceive = result.response;
    try {
      vm.invoke(root, "proxy_on_grpc_receive", f, root.id, token, result.response.length);
    } finally {
      root.grpcReceive = null;
    }
    return;
  }
  const f = vm.ex.proxy_on_grpc_close;
  if (!f) return;
  const failure = result as { status: number; message: string };
  root.statusCode = failure.status;
  root.statusMessage = failure.message;
  try {
    vm.invoke(root, "proxy_on_grpc_close", f, root.id, token, failure.status);
  } finally {
    root.statusMessage = "";
  }
}

export function grpcCallsImports(vm: WasmVm) {
  const mem = vm.mem;
  let streamWarned = false;
  let transportWarned = false;
  const nextToken = () => {
    const t = (lastToken.get(vm) ?? 1) + 4;
    lastToken.set(vm, t);
    return t;
  };
  const stopCall = (token: number): number => {
    token >>>= 0;
    if (isCallId(token)) {
      const root = vm.rootOfCurrent();
      const state = root?.grpcCalls.get(token);
      if (!root || !state) return R.NotFound;
      state.cancel();
      root.grpcCalls.delete(token);
      return R.Ok;
    }
    // No stream is ever opened (proxy_grpc_stream is refused), so a stream id is never found.
    return isStreamId(token) ? R.NotFound : R.BadArgument;
  };
  return {
    proxy_grpc_call(upstreamPtr: number, upstreamSize: number, servicePtr: number, serviceSize: number, methodPtr: number,
      methodSize: number, metadataPtr: number, metadataSize: number, messagePtr: number, messageSize: number,
      timeoutMs: number, retToken: number): number {
      if (!mem.inBounds(upstreamPtr, upstreamSize) || !mem.inBounds(servicePtr, serviceSize) || !mem.inBounds(methodPtr, methodSize) ||
        !mem.inBounds(metadataPtr, metadataSize) || !mem.inBounds(messagePtr, messageSize)) return R.InvalidMemoryAccess;
      const upstream = mem.bytes(upstreamPtr, upstreamSize);
      const parsed = parseGrpcService(upstream);
      let cluster: string;
      if (parsed === undefined) {
        cluster = Buffer.from(upstream).toString("latin1");
        if (!vm.env.clusterExists(cluster)) return R.ParseFailure;
      } else if (parsed.cluster === null) {
        // google_grpc (or no target): the embedded engine has Envoy's own gRPC client only.
        vm.env.log(LogLevel.Warn, "tollgate host: a GrpcService without envoy_grpc is not supported by the embedded engine", vm.who(false), "host");
        return R.BadArgument;
      } else {
        cluster = parsed.cluster;
      }
      const root = vm.rootOfCurrent();
      if (!root) return R.InternalFailure;
      const token = nextToken();
      const transport = transports.get(vm.env);
      // The call fails inline: InternalFailure now, on_grpc_close once the calling callback has returned.
      const failInline = (r: { status: number; message: string }) => {
        vm.defer(() => deliver(vm, root, token, r));
        return R.InternalFailure;
      };
      if (!vm.env.clusterExists(cluster)) return failInline(GRPC_FAILURES.clusterNotAvailable);
      if (!vm.env.clusterHasHosts(cluster)) return failInline(GRPC_FAILURES.noHealthyUpstream);
      if (!transport) {
        if (!transportWarned) {
          transportWarned = true;
          vm.env.log(LogLevel.Warn, "tollgate host: no gRPC transport (gRPC calls need the gateway's cluster manager)", vm.who(false), "host");
        }
        return R.InternalFailure;
      }
      const req: GrpcCallRequest = {
        cluster,
        service: mem.utf8(servicePtr, serviceSize),
        method: mem.utf8(methodPtr, methodSize),
        initialMetadata: mem.pairsCopy(metadataPtr, metadataSize).map(([k, v]) => [k.toLowerCase(), v] as [string, string]),
        message: mem.bytes(messagePtr, messageSize),
        timeoutMs: timeoutMs >>> 0,
        plugin: vm.plugin.name,
        worker: vm.worker,
        token,
      };
      const abort = new AbortController();
      let timer: unknown = null;
      root.grpcCalls.set(token, {
        token,
        cancel() {
          if (timer !== null) vm.env.clock.clearTimer(timer);
          timer = null;
          abort.abort();
        },
      });
      if (req.timeoutMs > 0) {
        timer = vm.env.clock.setTimer(() => {
          timer = null;
          complete(vm, root, token, GRPC_FAILURES.timeout);
        }, req.timeoutMs);
      }
      let p: Promise<GrpcCallResult>;
      try {
        p = Promise.resolve(transport(req, abort.signal));
      } catch (e) {
        p = Promise.reject(e);
      }
      p.then(
        (r) => complete(vm, root, token, r),
        (e) => {
          vm.env.internalError("gRPC transport", e);
          complete(vm, root, token, { status: GRPC_STATUS.INTERNAL, message: "" });
        },
      ).catch((e) => vm.env.internalError("gRPC call completion", e));
      return mem.setU32(retToken, token) ? R.Ok : R.InvalidMemoryAccess;
    },
    proxy_grpc_stream(upstreamPtr: number, upstreamSize: number): number {
      if (!mem.inBounds(upstreamPtr, upstreamSize)) return R.InvalidMemoryAccess;
      const upstream = mem.bytes(upstreamPtr, upstreamSize);
      if (parseGrpcService(upstream) === undefined && !vm.env.clusterExists(Buffer.from(upstream).toString("latin1"))) return R.ParseFailure;
      if (!streamWarned) {
        streamWarned = true;
        vm.env.log(LogLevel.Warn, "tollgate host: gRPC streams are not supported by the embedded engine", vm.who(false), "host");
      }
      return R.InternalFailure;
    },
    proxy_grpc_send(token: number): number {
      return isStreamId(token >>> 0) ? R.NotFound : R.BadArgument;
    },
    proxy_grpc_close(token: number): number {
      return stopCall(token);
    },
    proxy_grpc_cancel(token: number): number {
      return stopCall(token);
    },
  };
}
