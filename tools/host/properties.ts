// proxy_get_property / proxy_set_property (abi.md §6): NUL-separated paths, Envoy's attribute names
// (request.*, response.*, source.*, destination.*, connection.*, upstream.*, xds.*, plugin_*, filter
// state) and Envoy's value encodings (§6.2): strings raw, ints 8-byte LE, bools 1 byte, timestamps and
// durations as int64 ns, maps/lists as serialized pairs, protobuf messages as protobuf bytes.
import { ContextKind, R } from "./abi.ts";
import type { Context } from "./context.ts";
import { HttpFilterContext } from "./stream-context.ts";
import type { StreamState } from "./filter-api.ts";
import type { HeaderMap } from "./header-map.ts";
import { serializePairs } from "./pairs.ts";
import { selfChecked } from "./restrictions.ts";
import type { WasmVm } from "./vm.ts";

/** CEL duration (serialized as int64 nanoseconds). */
export class Duration {
  constructor(readonly nanos: bigint) {}
}
/** CEL timestamp (serialized as int64 Unix nanoseconds). */
export class Timestamp {
  constructor(readonly nanos: bigint) {}
}
/** Forces a double encoding for an integral number. */
export class Double {
  constructor(readonly value: number) {}
}
/** A protobuf message: its binary serialization and its fields for sub-path lookup. */
export class ProtoMessage {
  constructor(readonly bytes: Uint8Array, readonly fields: Record<string, unknown>) {}
}

const NOT_FOUND = Symbol("not found");
const STREAM_ATTRS = new Set(["request", "response", "connection", "upstream", "source", "destination", "metadata", "filter_state", "upstream_filter_state"]);
const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);
type Value = unknown;

function latin1(s: string): Uint8Array {
  return Buffer.from(s, "latin1");
}

/** Envoy's serializeValue (abi.md §6.2). Returns null for types Envoy cannot serialize. */
function serializeValue(v: Value): Uint8Array | null {
  if (v instanceof Uint8Array) return v;
  if (typeof v === "string") return Buffer.from(v, "utf8");
  if (typeof v === "bigint") return int64(v);
  if (typeof v === "number") {
    if (Number.isInteger(v)) return int64(BigInt(v));
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v);
    return b;
  }
  if (v instanceof Double) {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v.value);
    return b;
  }
  if (typeof v === "boolean") return Uint8Array.of(v ? 1 : 0);
  if (v instanceof Duration || v instanceof Timestamp) return int64(v.nanos);
  if (v instanceof Date) return int64(BigInt(v.getTime()) * 1_000_000n);
  if (v instanceof ProtoMessage) return v.bytes;
  if (v === null) return new Uint8Array(0);
  if (Array.isArray(v)) {
    const pairs: Array<[string, string]> = [];
    for (const e of v) {
      const s = serializeValue(e);
      if (!s) return null;
      pairs.push([Buffer.from(s).toString("latin1"), ""]);
    }
    return serializePairs(pairs);
  }
  if (v instanceof Map || typeof v === "object") {
    const pairs: Array<[string, string]> = [];
    const entries = v instanceof Map ? [...v.entries()] : Object.entries(v as object);
    for (const [k, e] of entries) {
      const s = serializeValue(e);
      if (!s) return null;
      pairs.push([Buffer.from(String(k), "utf8").toString("latin1"), Buffer.from(s).toString("latin1")]);
    }
    return serializePairs(pairs);
  }
  return null;
}

function int64(v: bigint): Uint8Array {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(BigInt.asIntN(64, v));
  return b;
}

/** Navigates one path segment into a value (map key, message field, list index). */
function child(v: Value, seg: string): Value | typeof NOT_FOUND {
  if (v instanceof ProtoMessage) return seg in v.fields ? v.fields[seg] : NOT_FOUND;
  if (v instanceof Map) return v.has(seg) ? v.get(seg) : NOT_FOUND;
  if (Array.isArray(v)) {
    if (!/^\d+$/.test(seg)) return NOT_FOUND;
    const i = Number(seg);
    return i < v.length ? v[i] : NOT_FOUND;
  }
  if (v && typeof v === "object" && !(v instanceof Uint8Array) && !(v instanceof Duration) && !(v instanceof Timestamp) && !(v instanceof Double) && !(v instanceof Date)) {
    return Object.prototype.hasOwnProperty.call(v, seg) ? (v as Record<string, unknown>)[seg] : NOT_FOUND;
  }
  return NOT_FOUND;
}

// ---- protobuf encoding of the few messages served (xds.node) ----

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}
function protoString(field: number, s: string): number[] {
  if (!s) return [];
  const b = [...Buffer.from(s, "utf8")];
  return [(field << 3) | 2, ...varint(b.length), ...b];
}

/** envoy.config.core.v3.Node {id = 1, cluster = 2}. */
function nodeMessage(node: { id: string; cluster: string }): ProtoMessage {
  return new ProtoMessage(Uint8Array.from([...protoString(1, node.id), ...protoString(2, node.cluster)]), { id: node.id, cluster: node.cluster });
}

// ---- attribute resolution ----

function splitHostPort(addr: string): { host: string; port: number | undefined } {
  const m = /^\[?(.*?)\]?:(\d+)$/.exec(addr);
  if (!m) return { host: addr, port: undefined };
  return { host: m[1], port: Number(m[2]) };
}

function headersMap(h: HeaderMap | null): Map<string, Uint8Array> | typeof NOT_FOUND {
  if (!h) return NOT_FOUND;
  const m = new Map<string, Uint8Array>();
  for (const [k, v] of h.joined()) m.set(k, latin1(v));
  return m;
}

// Envoy's activation uses the filter's current header pointers, else the access-log copies (set only in
// on_log): once a header phase continued, header-derived attributes are absent (abi.md §6.1).
function reqHeaders(c: HttpFilterContext, _s: StreamState): HeaderMap | null {
  return c.requestHeaders ?? c.accessLog?.requestHeaders ?? null;
}
function respHeaders(c: HttpFilterContext, _s: StreamState): HeaderMap | null {
  return c.responseHeaders ?? c.accessLog?.responseHeaders ?? null;
}

function requestAttr(c: HttpFilterContext, s: StreamState, name: string): Value | typeof NOT_FOUND {
  const h = reqHeaders(c, s);
  const hv = (k: string): Value | typeof NOT_FOUND => {
    const v = h?.get(k);
    return v === undefined ? NOT_FOUND : latin1(v);
  };
  switch (name) {
    case "path": return hv(":path");
    case "url_path": {
      const p = h?.get(":path");
      if (p === undefined) return NOT_FOUND;
      const q = p.indexOf("?");
      return latin1(q < 0 ? p : p.slice(0, q));
    }
    case "query": {
      const p = h?.get(":path");
      if (p === undefined) return NOT_FOUND;
      const q = p.indexOf("?");
      return latin1(q < 0 ? "" : p.slice(q + 1));
    }
    case "host": return hv(":authority");
    case "scheme": return hv(":scheme");
    case "method": return hv(":method");
    case "referer": return hv("referer");
    case "useragent": return hv("user-agent");
    case "id": return hv("x-request-id");
    case "headers": return headersMap(h);
    case "headers_bytes": return h ? BigInt(h.byteSize()) : NOT_FOUND;
    case "time": return new Timestamp(s.startTimeNanos);
    case "protocol": return "HTTP/1.1";
    case "duration": {
      if (s.endMonoNanos === null) return NOT_FOUND;
      return new Duration(s.endMonoNanos - s.startMonoNanos);
    }
    case "size": {
      const cl = h?.get("content-length");
      if (cl !== undefined && /^\d+$/.test(cl)) return BigInt(cl);
      return s.complete ? BigInt(s.requestBodyBytes) : NOT_FOUND;
    }
    case "total_size":
      return s.complete ? BigInt(s.requestBodyBytes + (h ? h.byteSize() : 0)) : NOT_FOUND;
  }
  return NOT_FOUND;
}

function responseAttr(c: HttpFilterContext, s: StreamState, name: string): Value | typeof NOT_FOUND {
  const h = respHeaders(c, s);
  switch (name) {
    case "code": return s.responseCode === null ? NOT_FOUND : BigInt(s.responseCode);
    case "code_details": return s.responseCodeDetails ? s.responseCodeDetails : NOT_FOUND;
    case "flags": return 0n;
    case "grpc_status": {
      const g = s.responseTrailers?.get("grpc-status") ?? h?.get("grpc-status");
      return g === undefined ? NOT_FOUND : BigInt(Number(g));
    }
    case "headers": return headersMap(h);
    case "headers_bytes": return h ? BigInt(h.byteSize()) : NOT_FOUND;
    case "trailers": return headersMap(c.responseTrailers ?? c.accessLog?.responseTrailers ?? null);
    case "size": return s.complete ? BigInt(s.responseBodyBytes) : NOT_FOUND;
    case "total_size": return s.complete ? BigInt(s.responseBodyBytes + (h ? h.byteSize() : 0)) : NOT_FOUND;
  }
  return NOT_FOUND;
}

function addressAttr(props: Record<string, unknown>, prefix: string, name: string): Value | typeof NOT_FOUND {
  const addr = props[`${prefix}.address`];
  if (name === "address") return typeof addr === "string" ? addr : NOT_FOUND;
  if (name === "port") {
    if (typeof addr !== "string") return NOT_FOUND;
    const { port } = splitHostPort(addr);
    return port === undefined ? NOT_FOUND : BigInt(port);
  }
  return NOT_FOUND;
}

/** Resolves a path (segments) for context `c`; NOT_FOUND when Envoy has no value. */
function resolveProperty(vm: WasmVm, c: Context, segs: string[]): Value | typeof NOT_FOUND {
  const stream = c instanceof HttpFilterContext && c.cb ? c : null;
  const state = stream ? stream.cb!.streamInfo() : null;
  const top = segs[0];
  if (STREAM_ATTRS.has(top) && !stream) return NOT_FOUND;

  // Embedder-supplied attributes (the filter's own StreamInfo, then the stream's): the longest dotted
  // prefix present wins, then the rest of the path navigates into the value.
  if (stream) {
    const own = stream.info.properties;
    const shared = state!.properties;
    let key = "";
    let found = -1;
    let value: Value;
    for (let n = 1; n <= segs.length; n++) {
      key = n === 1 ? segs[0] : `${key}.${segs[n - 1]}`;
      if (own && hasOwn(own, key)) {
        found = n;
        value = own[key];
      } else if (hasOwn(shared, key)) {
        found = n;
        value = shared[key];
      }
    }
    if (found > 0) {
      let v: Value | typeof NOT_FOUND = value;
      for (let i = found; i < segs.length && v !== NOT_FOUND; i++) v = child(v, segs[i]);
      return v;
    }
  }
  const own = stream?.info.properties;
  const props: Record<string, unknown> = own ? { ...state!.properties, ...own } : state?.properties ?? {};

  let v: Value | typeof NOT_FOUND = NOT_FOUND;
  let used = 1;
  const plugin = vm.plugin;
  const route = stream && (top === "xds" || top === "route_name" || top === "cluster_name") ? stream.cb!.recordedRoute() : null;
  switch (top) {
    case "request":
      used = 2;
      v = segs.length < 2 ? NOT_FOUND : requestAttr(stream!, state!, segs[1]);
      break;
    case "response":
      used = 2;
      v = segs.length < 2 ? NOT_FOUND : responseAttr(stream!, state!, segs[1]);
      break;
    case "source":
    case "destination":
      used = 2;
      v = segs.length < 2 ? NOT_FOUND : addressAttr(props, top, segs[1]);
      break;
    case "connection":
      used = 2;
      if (segs[1] === "id") v = BigInt(Number(props["connection.id"] ?? 0));
      else if (segs[1] === "mtls") v = Boolean(props["connection.mtls"] ?? false);
      else v = NOT_FOUND;
      break;
    case "filter_state":
      v = state ? new Map(state.filterState) : NOT_FOUND;
      break;
    case "xds": {
      used = 2;
      const name = segs[1];
      if (name === "node") v = nodeMessage(vm.env.node);
      else if (name === "route_name") v = route ? route.name : NOT_FOUND;
      else if (name === "cluster_name") v = route?.cluster ?? NOT_FOUND;
      else if (name === "virtual_host_name") v = route?.virtualHost ?? NOT_FOUND;
      else v = NOT_FOUND;
      break;
    }
    case "plugin_name":
      v = c.kind === ContextKind.Vm ? NOT_FOUND : plugin.name;
      break;
    case "plugin_root_id":
      v = plugin.rootId;
      break;
    case "plugin_vm_id":
      v = plugin.vmId;
      break;
    case "connection_id":
      v = stream ? BigInt(Number(props["connection.id"] ?? 0)) : NOT_FOUND;
      break;
    case "route_name":
      v = plugin.legacyXdsAliases && route ? route.name : NOT_FOUND;
      break;
    case "cluster_name":
      v = plugin.legacyXdsAliases && route?.cluster ? route.cluster : NOT_FOUND;
      break;
    case "node":
      v = plugin.legacyXdsAliases ? nodeMessage(vm.env.node) : NOT_FOUND;
      break;
    default: {
      // Filter state set by proxy_set_property: key "wasm." + path (abi.md §6.4).
      const fs = state?.filterState.get(`wasm.${top}`);
      v = fs ?? NOT_FOUND;
    }
  }
  for (const s of segs.slice(used)) {
    if (v === NOT_FOUND) break;
    v = child(v, s);
  }
  return v;
}

function splitPath(raw: string): string[] {
  const segs = raw.split("\0");
  if (segs.length > 1 && segs[segs.length - 1] === "") segs.pop();
  return segs;
}

export function propertiesImports(vm: WasmVm) {
  const mem = vm.mem;
  const fns = {
    proxy_get_property(pathPtr: number, pathSize: number, retPtr: number, retSize: number): number {
      vm.checkCall("env.proxy_get_property");
      if (!mem.inBounds(pathPtr, pathSize)) return R.InvalidMemoryAccess;
      const segs = splitPath(mem.utf8(pathPtr, pathSize));
      const v = resolveProperty(vm, vm.ctx(), segs);
      if (v === NOT_FOUND || v === undefined) return R.NotFound;
      const bytes = serializeValue(v);
      if (!bytes) return R.SerializationFailure;
      return mem.copyOut(bytes, retPtr, retSize);
    },
    proxy_set_property(pathPtr: number, pathSize: number, valuePtr: number, valueSize: number): number {
      if (!mem.inBounds(pathPtr, pathSize) || !mem.inBounds(valuePtr, valueSize)) return R.InvalidMemoryAccess;
      const c = vm.ctx();
      if (!(c instanceof HttpFilterContext) || !c.cb) return R.NotFound;
      c.cb.streamInfo().filterState.set(`wasm.${mem.latin1(pathPtr, pathSize)}`, mem.bytes(valuePtr, valueSize));
      return R.Ok;
    },
  };
  return selfChecked(fns, "proxy_get_property");
}
