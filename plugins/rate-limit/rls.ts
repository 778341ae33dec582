// envoy.service.ratelimit.v3 messages for ShouldRateLimit, hand-encoded (no protobuf runtime in the
// module). Field numbers: envoy/service/ratelimit/v3/rls.proto, envoy/extensions/common/ratelimit/v3/
// ratelimit.proto, envoy/config/core/v3/base.proto (HeaderValue), google/protobuf/duration.proto.
// Encoding is proto3-canonical (empty strings and zero numbers omitted, fields in number order), so it
// is byte-identical to protobufjs/protoc output. Decoding never traps: malformed input returns false.
import { decodeBytes } from "tollgate/assembly";

// @ts-ignore: decorator
@inline export const CODE_UNKNOWN: u32 = 0;
// @ts-ignore: decorator
@inline export const CODE_OK: u32 = 1;
// @ts-ignore: decorator
@inline export const CODE_OVER_LIMIT: u32 = 2;

/** Statuses and headers kept per response; more are skipped (still checked for well-formedness). */
// @ts-ignore: decorator
@inline export const MAX_STATUSES: i32 = 16;
// @ts-ignore: decorator
@inline export const MAX_HEADERS: i32 = 16;
/** Nesting of unknown groups a decoder follows before calling the input malformed. */
// @ts-ignore: decorator
@inline const MAX_GROUP_DEPTH: i32 = 8;

// Wire types.
// @ts-ignore: decorator
@inline const VARINT: u32 = 0;
// @ts-ignore: decorator
@inline const I64: u32 = 1;
// @ts-ignore: decorator
@inline const LEN: u32 = 2;
// @ts-ignore: decorator
@inline const SGROUP: u32 = 3;
// @ts-ignore: decorator
@inline const EGROUP: u32 = 4;
// @ts-ignore: decorator
@inline const I32: u32 = 5;

/** One RateLimitDescriptor: entries (key, value) in order. */
export class Descriptor {
  keys: string[] = [];
  values: string[] = [];
}

// ---------------------------------------------------------------------------------------- encoding

/** Bytes of a varint. */
function varintSize(v: u32): i32 {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** Bytes of field `tag` (< 16, one byte) holding a string; 0 for an empty string (proto3 omits it). */
function stringFieldSize(s: string): i32 {
  const n = String.UTF8.byteLength(s);
  return n == 0 ? 0 : 1 + varintSize(<u32>n) + n;
}

function writeVarint(p: usize, v: u32): usize {
  while (v >= 0x80) {
    store<u8>(p++, <u8>(v | 0x80));
    v >>= 7;
  }
  store<u8>(p++, <u8>v);
  return p;
}

function writeString(p: usize, tag: u8, s: string): usize {
  const n = String.UTF8.byteLength(s);
  if (n == 0) return p;
  store<u8>(p++, tag);
  p = writeVarint(p, <u32>n);
  return p + String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, p, false);
}

function entrySize(key: string, value: string): i32 {
  return stringFieldSize(key) + stringFieldSize(value);
}

function descriptorSize(d: Descriptor): i32 {
  let n = 0;
  const count = min(d.keys.length, d.values.length);
  for (let i = 0; i < count; i++) {
    const e = entrySize(unchecked(d.keys[i]), unchecked(d.values[i]));
    n += 1 + varintSize(<u32>e) + e;
  }
  return n;
}

/**
 * GrpcService{envoy_grpc = 1: EnvoyGrpc{cluster_name = 1}} (envoy/config/core/v3/grpc_service.proto): the
 * `upstream` of proxy_grpc_call that names `cluster` unambiguously (a bare name could parse as a GrpcService).
 */
export function encodeGrpcService(cluster: string): ArrayBuffer {
  const inner = stringFieldSize(cluster);
  const buf = new ArrayBuffer(1 + varintSize(<u32>inner) + inner);
  const p = changetype<usize>(buf);
  store<u8>(p, 0x0a);
  writeString(writeVarint(p + 1, <u32>inner), 0x0a, cluster);
  return buf;
}

/**
 * RateLimitRequest{domain = 1, descriptors = 2 (entries = 1 {key = 1, value = 2}), hits_addend = 3} for
 * the first `count` descriptors. Returns a new buffer the caller owns (the host copies it on the call).
 */
export function encodeRateLimitRequest(domain: string, descriptors: Descriptor[], count: i32, hitsAddend: u32): ArrayBuffer {
  count = min(count, descriptors.length);
  let size = stringFieldSize(domain);
  for (let i = 0; i < count; i++) {
    const d = descriptorSize(unchecked(descriptors[i]));
    size += 1 + varintSize(<u32>d) + d;
  }
  if (hitsAddend != 0) size += 1 + varintSize(hitsAddend);
  const buf = new ArrayBuffer(size);
  let p = writeString(changetype<usize>(buf), 0x0a, domain);
  for (let i = 0; i < count; i++) {
    const d = unchecked(descriptors[i]);
    store<u8>(p++, 0x12);
    p = writeVarint(p, <u32>descriptorSize(d));
    const entries = min(d.keys.length, d.values.length);
    for (let j = 0; j < entries; j++) {
      const k = unchecked(d.keys[j]);
      const v = unchecked(d.values[j]);
      store<u8>(p++, 0x0a);
      p = writeVarint(p, <u32>entrySize(k, v));
      p = writeString(p, 0x0a, k);
      p = writeString(p, 0x12, v);
    }
  }
  if (hitsAddend != 0) {
    store<u8>(p++, 0x18);
    writeVarint(p, hitsAddend);
  }
  return buf;
}

// ---------------------------------------------------------------------------------------- decoding

/** RateLimitResponse.DescriptorStatus, flattened. */
export class RlsStatus {
  code: u32 = CODE_UNKNOWN;
  /** current_limit was present. */
  hasLimit: bool = false;
  requestsPerUnit: u32 = 0;
  /** RateLimitResponse.RateLimit.Unit: 0 unknown, 1 second, 2 minute, 3 hour, 4 day, 5 month, 6 year, 7 week. */
  unit: u32 = 0;
  limitRemaining: u32 = 0;
  /** duration_until_reset in ms, rounded up; 0 when absent or negative. */
  resetMs: u64 = 0;

  clear(): void {
    this.code = CODE_UNKNOWN;
    this.hasLimit = false;
    this.requestsPerUnit = 0;
    this.unit = 0;
    this.limitRemaining = 0;
    this.resetMs = 0;
  }
}

/** A decoded RateLimitResponse; reused across calls (decode clears it). */
export class RlsResponse {
  overallCode: u32 = CODE_UNKNOWN;
  /** statuses[0 .. statusCount) are this response's (at most MAX_STATUSES). */
  statuses: RlsStatus[] = [];
  statusCount: i32 = 0;
  /** response_headers_to_add / request_headers_to_add as name, value, name, value … (at most MAX_HEADERS each). */
  responseHeaders: string[] = [];
  requestHeaders: string[] = [];

  constructor() {
    for (let i = 0; i < MAX_STATUSES; i++) this.statuses.push(new RlsStatus());
  }

  clear(): void {
    this.overallCode = CODE_UNKNOWN;
    this.statusCount = 0;
    this.responseHeaders.length = 0;
    this.requestHeaders.length = 0;
  }
}

/** Where statuses beyond MAX_STATUSES are decoded (and dropped). */
const SPARE = new RlsStatus();

/** A cursor over [p, end); `bad` latches on the first malformed read. */
class Reader {
  p: usize = 0;
  end: usize = 0;
  bad: bool = false;

  /** A varint of at most 10 bytes (wider ones are malformed). */
  varint(): u64 {
    let v: u64 = 0;
    for (let shift: u64 = 0; shift < 70; shift += 7) {
      if (this.p >= this.end) break;
      const b = <u64>load<u8>(this.p++);
      v |= (b & 0x7f) << shift;
      if (b < 0x80) return v;
    }
    this.bad = true;
    return 0;
  }

  /** A length prefix that fits in what is left; returns the end of the delimited bytes. */
  len(): usize {
    const n = this.varint();
    if (this.bad || n > <u64>(this.end - this.p)) {
      this.bad = true;
      return this.p;
    }
    return this.p + <usize>n;
  }

  /** Skips a field of wire type `wt` whose tag was just read; groups nest at most MAX_GROUP_DEPTH deep. */
  skip(wt: u32, field: u32, depth: i32): void {
    if (wt == VARINT) {
      this.varint();
    } else if (wt == I64 || wt == I32) {
      const n: usize = wt == I64 ? 8 : 4;
      if (this.end - this.p < n) this.bad = true;
      else this.p += n;
    } else if (wt == LEN) {
      this.p = this.len();
    } else if (wt == SGROUP && depth < MAX_GROUP_DEPTH) {
      while (!this.bad) {
        if (this.p >= this.end) { this.bad = true; return; }
        const tag = this.varint();
        const f = <u32>(tag >> 3);
        const w = <u32>tag & 7;
        if (this.bad || f == 0 || tag > 0xffffffff) { this.bad = true; return; }
        if (w == EGROUP) {
          if (f != field) this.bad = true;
          return;
        }
        this.skip(w, f, depth + 1);
      }
    } else {
      this.bad = true;
    }
  }

  /** Next tag in [p, end), or 0 at the end or when malformed (then `bad` is set). */
  tag(end: usize): u32 {
    if (this.p >= end) return 0;
    const saved = this.end;
    this.end = end;
    const t = this.varint();
    this.end = saved;
    if (this.bad || t > 0xffffffff || (t >> 3) == 0) {
      this.bad = true;
      return 0;
    }
    return <u32>t;
  }

  /** Skips the field of `tag`, within [p, end). */
  skipIn(tag: u32, end: usize): void {
    const saved = this.end;
    this.end = end;
    this.skip(tag & 7, tag >> 3, 0);
    this.end = saved;
  }

  varintIn(end: usize): u64 {
    const saved = this.end;
    this.end = end;
    const v = this.varint();
    this.end = saved;
    return v;
  }

  lenIn(end: usize): usize {
    const saved = this.end;
    this.end = end;
    const e = this.len();
    this.end = saved;
    return e;
  }
}

/**
 * Decodes a RateLimitResponse of `len` bytes at `ptr` into `out`. Unknown fields (and known fields with
 * an unexpected wire type, as protobuf parsers treat them) are skipped; raw_body, dynamic_metadata and
 * quota are ignored. Returns false on malformed input (truncation, oversize lengths, bad tags).
 */
export function decodeRateLimitResponse(ptr: usize, len: i32, out: RlsResponse): bool {
  out.clear();
  if (len < 0) return false;
  const r = new Reader();
  r.p = ptr;
  r.end = ptr + <usize>len;
  const end = r.end;
  while (!r.bad) {
    const tag = r.tag(end);
    if (tag == 0) break;
    if (tag == (1 << 3 | VARINT)) {
      out.overallCode = <u32>r.varintIn(end);
    } else if (tag == (2 << 3 | LEN)) {
      const e = r.lenIn(end);
      if (r.bad) break;
      if (out.statusCount < MAX_STATUSES) {
        const st = unchecked(out.statuses[out.statusCount++]);
        st.clear();
        decodeStatus(r, e, st);
      } else {
        // Beyond the bound: still walked, so a malformed tail is caught.
        decodeStatus(r, e, SPARE);
      }
    } else if (tag == (3 << 3 | LEN) || tag == (4 << 3 | LEN)) {
      const e = r.lenIn(end);
      if (r.bad) break;
      decodeHeader(r, e, tag == (3 << 3 | LEN) ? out.responseHeaders : out.requestHeaders);
    } else {
      r.skipIn(tag, end);
    }
  }
  return !r.bad;
}

/** DescriptorStatus{code = 1, current_limit = 2, limit_remaining = 3, duration_until_reset = 4, quota = 5}. */
function decodeStatus(r: Reader, end: usize, st: RlsStatus): void {
  while (!r.bad) {
    const tag = r.tag(end);
    if (tag == 0) break;
    if (tag == (1 << 3 | VARINT)) {
      st.code = <u32>r.varintIn(end);
    } else if (tag == (2 << 3 | LEN)) {
      const e = r.lenIn(end);
      st.hasLimit = true;
      decodeLimit(r, e, st);
    } else if (tag == (3 << 3 | VARINT)) {
      st.limitRemaining = <u32>r.varintIn(end);
    } else if (tag == (4 << 3 | LEN)) {
      const e = r.lenIn(end);
      decodeDuration(r, e, st);
    } else {
      r.skipIn(tag, end);
    }
  }
  if (!r.bad && r.p != end) r.bad = true;
}

/** RateLimit{requests_per_unit = 1, unit = 2, name = 3, unit_multiplier = 4}: the first two are kept. */
function decodeLimit(r: Reader, end: usize, st: RlsStatus): void {
  while (!r.bad) {
    const tag = r.tag(end);
    if (tag == 0) break;
    if (tag == (1 << 3 | VARINT)) st.requestsPerUnit = <u32>r.varintIn(end);
    else if (tag == (2 << 3 | VARINT)) st.unit = <u32>r.varintIn(end);
    else r.skipIn(tag, end);
  }
  if (!r.bad && r.p != end) r.bad = true;
}

/** Duration{seconds = 1 (int64), nanos = 2 (int32)} → whole ms rounded up, 0 if negative, capped at 1e8 s. */
function decodeDuration(r: Reader, end: usize, st: RlsStatus): void {
  let seconds: i64 = 0;
  let nanos: i32 = 0;
  while (!r.bad) {
    const tag = r.tag(end);
    if (tag == 0) break;
    if (tag == (1 << 3 | VARINT)) seconds = <i64>r.varintIn(end);
    else if (tag == (2 << 3 | VARINT)) nanos = <i32>r.varintIn(end);
    else r.skipIn(tag, end);
  }
  if (!r.bad && r.p != end) r.bad = true;
  if (seconds < 0) {
    st.resetMs = 0;
    return;
  }
  if (seconds > 100000000) seconds = 100000000;
  const ms = seconds * 1000 + (nanos > 0 ? (<i64>nanos + 999999) / 1000000 : nanos / 1000000);
  st.resetMs = ms > 0 ? <u64>ms : 0;
}

/**
 * HeaderValue{key = 1, value = 2, raw_value = 3}: value, else raw_value (Envoy sets one of them). Decoded as
 * UTF-8, or byte for byte where not valid UTF-8 (assembly decodeBytes).
 */
function decodeHeader(r: Reader, end: usize, out: string[]): void {
  let keyP: usize = 0, keyN: usize = 0, valP: usize = 0, valN: usize = 0, rawP: usize = 0, rawN: usize = 0;
  while (!r.bad) {
    const tag = r.tag(end);
    if (tag == 0) break;
    if (tag == (1 << 3 | LEN) || tag == (2 << 3 | LEN) || tag == (3 << 3 | LEN)) {
      const e = r.lenIn(end);
      if (r.bad) break;
      const f = tag >> 3;
      if (f == 1) { keyP = r.p; keyN = e - r.p; }
      else if (f == 2) { valP = r.p; valN = e - r.p; }
      else { rawP = r.p; rawN = e - r.p; }
      r.p = e;
    } else {
      r.skipIn(tag, end);
    }
  }
  if (!r.bad && r.p != end) r.bad = true;
  if (r.bad || keyN == 0 || out.length >= MAX_HEADERS << 1) return;
  out.push(decodeBytes(keyP, keyN));
  out.push(valN > 0 || rawN == 0 ? decodeBytes(valP, valN) : decodeBytes(rawP, rawN));
}
