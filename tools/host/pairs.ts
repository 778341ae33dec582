// The serialized pairs format (abi.md §3.1): u32 N, N × (u32 key_len, u32 value_len), then each key and
// value NUL-terminated. Parsing is strict: anything malformed is an empty map.
import { MAX_PAIRS, MAX_PAIRS_BYTES } from "./abi.ts";
import type { HeaderList } from "./header-map.ts";

/** Buffer's latin1 fast paths (present on every Node Buffer; not in @types/node). */
type LatinBuffer = Buffer & { latin1Slice(start: number, end: number): string; latin1Write(s: string, offset: number, length: number): number };

/** Serialized size of `pairs` (strings are byte strings). */
export function pairsSize(pairs: ReadonlyArray<readonly [string, string]>): number {
  let n = 4;
  for (let i = 0; i < pairs.length; i++) n += 10 + pairs[i][0].length + pairs[i][1].length;
  return n;
}

/** Writes `pairs` at `p` in `buf` (a Buffer over guest memory or a fresh one). */
export function writePairs(buf: Buffer, p: number, pairs: ReadonlyArray<readonly [string, string]>): void {
  const n = pairs.length;
  buf.writeUInt32LE(n, p);
  let data = p + 4 + n * 8;
  for (let i = 0; i < n; i++) {
    const k = pairs[i][0];
    const v = pairs[i][1];
    buf.writeUInt32LE(k.length, p + 4 + i * 8);
    buf.writeUInt32LE(v.length, p + 8 + i * 8);
    data += (buf as LatinBuffer).latin1Write(k, data, k.length);
    buf[data++] = 0;
    data += (buf as LatinBuffer).latin1Write(v, data, v.length);
    buf[data++] = 0;
  }
}

export function serializePairs(pairs: ReadonlyArray<readonly [string, string]>): Buffer {
  const b = Buffer.alloc(pairsSize(pairs));
  writePairs(b, 0, pairs);
  return b;
}

/** Decodes guest bytes as byte strings (GuestMemory, memory.ts, with its decode caches). */
export interface PairDecoder {
  latin1(ptr: number, size: number): string;
  headerKey(ptr: number, size: number): string;
}

function u32(buf: Uint8Array, p: number): number {
  return (buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24)) >>> 0;
}

/**
 * cpp-host toPairs: malformed input (or > 1 MiB / > 1024 pairs) → empty list. With a decoder `dec` (guest
 * memory's GuestMemory), keys come back lower-cased, as every caller adds them to a header map.
 */
export function parsePairs(buf: Buffer, p: number, size: number, dec?: PairDecoder): HeaderList {
  const out: HeaderList = [];
  if (size < 4 || size > MAX_PAIRS_BYTES || p + size > buf.length) return out;
  const end = p + size;
  const n = u32(buf, p);
  if (n > MAX_PAIRS || 4 + n * 8 > size) return out;
  let data = p + 4 + n * 8;
  for (let i = 0; i < n; i++) {
    const kl = u32(buf, p + 4 + i * 8);
    const vl = u32(buf, p + 8 + i * 8);
    if (data + kl + 1 + vl + 1 > end) return [];
    if (buf[data + kl] !== 0 || buf[data + kl + 1 + vl] !== 0) return [];
    // Two call sites rather than a default decoder object: the guest-memory one stays monomorphic.
    if (dec) out.push([dec.headerKey(data, kl), dec.latin1(data + kl + 1, vl)]);
    else out.push([(buf as LatinBuffer).latin1Slice(data, data + kl), (buf as LatinBuffer).latin1Slice(data + kl + 1, data + kl + 1 + vl)]);
    data += kl + 1 + vl + 1;
  }
  if (data !== end) return [];
  return out;
}
