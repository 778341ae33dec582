// Guest memory (abi.md §1.5): every read and write of a VM's linear memory, the byte-string decoding of
// what plugins pass in, copyToPointerSize through the guest allocator, and the decode caches that make
// the hot host calls cheap. The caches are an optimisation only: with them off (HostEnvOptions.hostCaches
// = false, or TOLLGATE_HOST_CACHES=off) every value is decoded afresh and results are identical — which
// test/host/memory-caches.test.ts checks on the real plugins, and which lets `tollgate bench` measure them.
import { R } from "./abi.ts";
import type { Clock } from "./clock.ts";
import { lowerKey, type ReadonlyHeaderList } from "./header-map.ts";
import { type PairDecoder, parsePairs } from "./pairs.ts";

/** The default of HostEnvOptions.hostCaches: on unless TOLLGATE_HOST_CACHES=off. */
export function hostCachesDefault(): boolean {
  return process.env.TOLLGATE_HOST_CACHES !== "off";
}

/** Node's Buffer has had these since its beginning; @types/node does not declare them. */
type FastBuffer = Buffer & {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
  latin1Write(s: string, offset: number, length: number): number;
};
if (typeof (Buffer.prototype as Partial<FastBuffer>).latin1Slice !== "function") {
  throw new Error("tools/host needs Buffer.prototype.latin1Slice (Node.js ≥ 18)");
}

/** Byte strings up to this length are written to guest memory from JS (with the caches on). */
const SHORT_WRITE = 28;

/** Slots of a decode cache (a power of two) and the longest byte string one holds. */
const CACHE_SLOTS = 256;
const CACHE_MAX_LEN = 64;
const NOT_CACHEABLE = -(CACHE_SLOTS + 1);

/** Slots of the serialized-pairs cache and the largest block it keeps. */
const PAIRS_SLOTS = 8;
const PAIRS_MAX_BYTES = 2048;

/** Views over one ArrayBuffer: guest memory, or a cache's copy of guest bytes. */
interface Views {
  readonly u8: Uint8Array;
  readonly u32: Uint32Array;
  readonly dv: DataView;
}

function views(capacity: number): Views {
  const u8 = new Uint8Array((capacity + 3) & ~3);
  return { u8, u32: new Uint32Array(u8.buffer), dv: new DataView(u8.buffer) };
}

/**
 * Guest bytes g[ptr, ptr+n) equal c[off, off+n): four bytes at a time, through Uint32Arrays when both
 * sides are 4-aligned (names, scratch blocks and builders' buffers are), else through DataViews — either
 * way far cheaper than comparing decoded strings.
 */
function equalBytes(g8: Uint8Array, g32: Uint32Array, gdv: DataView, ptr: number, c: Views, off: number, n: number): boolean {
  let i = 0;
  if (((ptr | off) & 3) === 0) {
    const gw = g32;
    const cw = c.u32;
    const p4 = ptr >>> 2;
    const o4 = off >>> 2;
    const n4 = n >>> 2;
    for (let j = 0; j < n4; j++) if (gw[p4 + j] !== cw[o4 + j]) return false;
    i = n4 << 2;
  } else {
    for (; i + 4 <= n; i += 4) if (gdv.getUint32(ptr + i, true) !== c.dv.getUint32(off + i, true)) return false;
  }
  for (; i < n; i++) if (g8[ptr + i] !== c.u8[off + i]) return false;
  return true;
}

/**
 * A direct-mapped cache of strings decoded from guest memory, keyed by (address, size) and validated
 * against a copy of the bytes: plugins pass the same pre-encoded header names (and many constant values)
 * from the same addresses on every request, and changed memory at a cached address never reads stale.
 */
class DecodeCache {
  private readonly ptrs = new Int32Array(CACHE_SLOTS).fill(-1);
  private readonly sizes = new Int32Array(CACHE_SLOTS);
  readonly strings: string[] = new Array<string>(CACHE_SLOTS).fill("");
  private readonly copy = views(CACHE_SLOTS * CACHE_MAX_LEN);

  /** The slot holding exactly these bytes (≥ 0); else -(slot + 1) to store into, or NOT_CACHEABLE. */
  find(g8: Uint8Array, g32: Uint32Array, gdv: DataView, ptr: number, size: number): number {
    if (size > CACHE_MAX_LEN) return NOT_CACHEABLE;
    const slot = (ptr ^ (ptr >>> 7) ^ size) & (CACHE_SLOTS - 1);
    if (this.ptrs[slot] !== ptr || this.sizes[slot] !== size) return -slot - 1;
    return equalBytes(g8, g32, gdv, ptr, this.copy, slot * CACHE_MAX_LEN, size) ? slot : -slot - 1;
  }

  store(u8: Uint8Array, slot: number, ptr: number, size: number, s: string): void {
    this.ptrs[slot] = ptr;
    this.sizes[slot] = size;
    this.strings[slot] = s;
    // A loop, not copy.set(u8.subarray(…)): the subarray view would cost more than these few bytes.
    const copy = this.copy.u8;
    const off = slot * CACHE_MAX_LEN;
    for (let i = 0; i < size; i++) copy[off + i] = u8[ptr + i];
  }
}

/**
 * Parsed header pairs by guest address, validated against a copy of the block: plugins build a local
 * reply's headers in a buffer they reuse, and an identical block (same 401 challenge, same preflight
 * answer) parses to the same list. Callers only read the lists (ReadonlyHeaderList).
 */
class PairsCache {
  private readonly ptrs = new Int32Array(PAIRS_SLOTS).fill(-1);
  private readonly sizes = new Int32Array(PAIRS_SLOTS);
  private readonly copies: Views[] = Array.from({ length: PAIRS_SLOTS }, () => views(256));
  private readonly lists: ReadonlyHeaderList[] = Array.from({ length: PAIRS_SLOTS }, () => []);

  /** The list parsed from exactly these bytes at this address, or null. */
  find(g8: Uint8Array, g32: Uint32Array, gdv: DataView, ptr: number, size: number): ReadonlyHeaderList | null {
    if (size > PAIRS_MAX_BYTES) return null;
    const slot = (ptr ^ (ptr >>> 5) ^ size) & (PAIRS_SLOTS - 1);
    if (this.ptrs[slot] === ptr && this.sizes[slot] === size && equalBytes(g8, g32, gdv, ptr, this.copies[slot], 0, size)) return this.lists[slot];
    return null;
  }

  store(g8: Uint8Array, ptr: number, size: number, list: ReadonlyHeaderList): void {
    if (size > PAIRS_MAX_BYTES) return;
    const slot = (ptr ^ (ptr >>> 5) ^ size) & (PAIRS_SLOTS - 1);
    let copy = this.copies[slot];
    if (copy.u8.length < size) this.copies[slot] = copy = views(size);
    copy.u8.set(g8.subarray(ptr, ptr + size));
    this.ptrs[slot] = ptr;
    this.sizes[slot] = size;
    this.lists[slot] = list;
  }
}

/**
 * Up to 8 guest bytes as a byte string. String.fromCharCode with fixed arguments is several times
 * cheaper than latin1Slice's call into C++ for the short values plugins write most (numbers, tokens).
 */
function shortLatin1(u8: Uint8Array, p: number, n: number): string {
  const c = String.fromCharCode;
  switch (n) {
    case 0: return "";
    case 1: return c(u8[p]);
    case 2: return c(u8[p], u8[p + 1]);
    case 3: return c(u8[p], u8[p + 1], u8[p + 2]);
    case 4: return c(u8[p], u8[p + 1], u8[p + 2], u8[p + 3]);
    case 5: return c(u8[p], u8[p + 1], u8[p + 2], u8[p + 3], u8[p + 4]);
    case 6: return c(u8[p], u8[p + 1], u8[p + 2], u8[p + 3], u8[p + 4], u8[p + 5]);
    case 7: return c(u8[p], u8[p + 1], u8[p + 2], u8[p + 3], u8[p + 4], u8[p + 5], u8[p + 6]);
    default: return c(u8[p], u8[p + 1], u8[p + 2], u8[p + 3], u8[p + 4], u8[p + 5], u8[p + 6], u8[p + 7]);
  }
}

/**
 * The internalized copy of `s` (V8 internalizes property names). Header maps compare names with ===,
 * which for two internalized strings is a pointer comparison instead of a character loop.
 */
function internalized(s: string): string {
  for (const k in { [s]: 0 }) return k;
  return s;
}

/**
 * One VM's linear memory. Pointers and sizes arrive as the guest's i32s and are read as u32 here; every
 * reader of guest bytes checks bounds first (inBounds) or says that its caller did.
 */
export class GuestMemory implements PairDecoder {
  // Views re-created whenever memory.buffer changes (growth detaches it).
  private ab: ArrayBuffer | null = null;
  private u8!: Uint8Array;
  private u32!: Uint32Array;
  private dv!: DataView;
  private buf!: FastBuffer;
  private readonly values: DecodeCache | null;
  /** Same, for header names, holding the lower-cased, internalized name (Envoy's LowerCaseString). */
  private readonly keys: DecodeCache | null;
  private readonly pairsCache: PairsCache | null;

  private memory: WebAssembly.Memory | null = null;

  /**
   * `malloc` is the guest allocator as the VM calls it (under the allocator's restrictions). The host
   * functions hold this object from before the instance exists; attach() gives it the instance's memory.
   */
  constructor(private readonly malloc: (size: number) => number, readonly caches: boolean) {
    this.values = caches ? new DecodeCache() : null;
    this.keys = caches ? new DecodeCache() : null;
    this.pairsCache = caches ? new PairsCache() : null;
  }

  attach(memory: WebAssembly.Memory): void {
    this.memory = memory;
  }

  private refresh(): void {
    // Growing memory detaches the old ArrayBuffer, which zeroes our views' length: checking that is far
    // cheaper than the memory.buffer getter on every host call.
    if (this.ab !== null && this.u8.length !== 0) return;
    const b = this.memory!.buffer;
    if (b !== this.ab) {
      this.ab = b;
      this.u8 = new Uint8Array(b);
      this.u32 = new Uint32Array(b);
      this.buf = Buffer.from(b) as FastBuffer;
      this.dv = new DataView(b);
    }
  }

  /** [ptr, ptr+size) lies inside guest memory (and the views are current). */
  inBounds(ptr: number, size: number): boolean {
    this.refresh();
    return (ptr >>> 0) + (size >>> 0) <= this.u8.length;
  }

  // ---- reads (the caller checked bounds) ----

  /** Guest bytes as a byte string (latin1: one char per byte). */
  latin1(ptr: number, size: number): string {
    const p = ptr >>> 0;
    const n = size >>> 0;
    return this.values ? this.decodeCached(this.values, p, n, false) : this.buf.latin1Slice(p, p + n);
  }

  /** A header name, lower-cased. */
  headerKey(ptr: number, size: number): string {
    const p = ptr >>> 0;
    const n = size >>> 0;
    return this.keys ? this.decodeCached(this.keys, p, n, true) : lowerKey(this.buf.latin1Slice(p, p + n));
  }

  private decodeCached(c: DecodeCache, ptr: number, size: number, lower: boolean): string {
    const slot = c.find(this.u8, this.u32, this.dv, ptr, size);
    if (slot >= 0) return c.strings[slot];
    const raw = size <= 8 ? shortLatin1(this.u8, ptr, size) : this.buf.latin1Slice(ptr, ptr + size);
    const s = lower ? internalized(lowerKey(raw)) : raw;
    if (slot !== NOT_CACHEABLE) c.store(this.u8, -slot - 1, ptr, size, s);
    return s;
  }

  /** Serialized header pairs (abi.md §3.1), parsed with lower-case keys; read-only (it may be cached). */
  pairs(ptr: number, size: number): ReadonlyHeaderList {
    const p = ptr >>> 0;
    const n = size >>> 0;
    const c = this.pairsCache;
    if (!c) return parsePairs(this.buf, p, n, this);
    const hit = c.find(this.u8, this.u32, this.dv, p, n);
    if (hit) return hit;
    const list = parsePairs(this.buf, p, n, this);
    c.store(this.u8, p, n, list);
    return list;
  }

  /** Serialized header pairs as a fresh list the caller may change. */
  pairsCopy(ptr: number, size: number): Array<[string, string]> {
    return parsePairs(this.buf, ptr >>> 0, size >>> 0, this);
  }

  utf8(ptr: number, size: number): string {
    return this.buf.utf8Slice(ptr >>> 0, (ptr >>> 0) + (size >>> 0));
  }

  /** A copy of guest bytes. */
  bytes(ptr: number, size: number): Uint8Array {
    return this.u8.slice(ptr >>> 0, (ptr >>> 0) + (size >>> 0));
  }

  /** Guest bytes in place (no copy): valid until the guest runs or memory grows. */
  view(ptr: number, size: number): Uint8Array {
    return this.u8.subarray(ptr >>> 0, (ptr >>> 0) + (size >>> 0));
  }

  /** The whole memory as bytes (after inBounds), for readers that index it themselves (shared data). */
  raw(): Uint8Array {
    return this.u8;
  }

  getU32(ptr: number): number {
    return this.dv.getUint32(ptr >>> 0, true);
  }

  // ---- writes ----

  setU32(ptr: number, v: number): boolean {
    if (!this.inBounds(ptr, 4)) return false;
    this.dv.setUint32(ptr >>> 0, v >>> 0, true);
    return true;
  }

  setU64(ptr: number, v: bigint): boolean {
    if (!this.inBounds(ptr, 8)) return false;
    this.dv.setBigUint64(ptr >>> 0, BigInt.asUintN(64, v), true);
    return true;
  }

  /** The clock's wall time as a u64 at `ptr` (bounds checked by the caller). */
  writeNow(clock: Clock, ptr: number): void {
    clock.writeNowNanos(this.dv, ptr >>> 0);
  }

  /** Copies `data` to [ptr, ptr+data.length) (bounds checked by the caller). */
  write(ptr: number, data: Uint8Array): void {
    this.u8.set(data, ptr >>> 0);
  }

  /** Zeroes [ptr, ptr+size) (bounds checked by the caller). */
  clear(ptr: number, size: number): void {
    this.u8.fill(0, ptr >>> 0, (ptr >>> 0) + (size >>> 0));
  }

  /**
   * copyToPointerSize: empty → writes 0/0 without allocating; else malloc(size), copy, write ptr and size.
   * `data` is bytes or a byte string (latin1).
   */
  copyOut(data: Uint8Array | string, ptrPtr: number, sizePtr: number): number {
    return typeof data === "string" ? this.copyOutString(data, ptrPtr, sizePtr) : this.copyOutBytes(data, ptrPtr, sizePtr);
  }

  /** copyOut of a byte string (header values: the hot path, kept monomorphic). */
  copyOutString(data: string, ptrPtr: number, sizePtr: number): number {
    const len = data.length;
    const p = this.reserveOut(len, ptrPtr, sizePtr);
    if (p <= 0) return p === 0 ? R.Ok : -p;
    if (len > SHORT_WRITE || !this.caches) this.buf.latin1Write(data, p, len);
    else {
      // Short values (most header values) are cheaper to store from JS than through a C++ call.
      const u8 = this.u8;
      for (let i = 0; i < len; i++) u8[p + i] = data.charCodeAt(i);
    }
    return this.setOut(p, len, ptrPtr, sizePtr);
  }

  copyOutBytes(data: Uint8Array, ptrPtr: number, sizePtr: number): number {
    const len = data.length;
    const p = this.reserveOut(len, ptrPtr, sizePtr);
    if (p <= 0) return p === 0 ? R.Ok : -p;
    const u8 = this.u8;
    if (len > SHORT_WRITE || !this.caches) u8.set(data, p);
    else for (let i = 0; i < len; i++) u8[p + i] = data[i];
    return this.setOut(p, len, ptrPtr, sizePtr);
  }

  /** Like copyOut for a value serialized straight into guest memory by `write(buf, offset)`. */
  copyOutWith(len: number, ptrPtr: number, sizePtr: number, write: (buf: Buffer, p: number) => void): number {
    const p = this.reserveOut(len, ptrPtr, sizePtr);
    if (p <= 0) return p === 0 ? R.Ok : -p;
    write(this.buf, p);
    return this.setOut(p, len, ptrPtr, sizePtr);
  }

  /**
   * The shared part of copyToPointerSize: checks the out-pointers and allocates `len` guest bytes.
   * Returns the guest address; 0 for an empty value (0/0 already written); -result on failure.
   */
  private reserveOut(len: number, ptrPtr: number, sizePtr: number): number {
    this.refresh();
    const end = this.u8.length;
    if ((ptrPtr >>> 0) + 4 > end || (sizePtr >>> 0) + 4 > end) return -R.InvalidMemoryAccess;
    if (len === 0) {
      this.setOut(0, 0, ptrPtr, sizePtr);
      return 0;
    }
    const p = this.malloc(len) >>> 0;
    if (p === 0 || !this.inBounds(p, len)) return -R.InvalidMemoryAccess;
    return p;
  }

  /** The end of copyToPointerSize: the value's address and size into the guest's out-pointers. */
  private setOut(p: number, len: number, ptrPtr: number, sizePtr: number): number {
    this.dv.setUint32(ptrPtr >>> 0, p, true);
    this.dv.setUint32(sizePtr >>> 0, len, true);
    return R.Ok;
  }
}
