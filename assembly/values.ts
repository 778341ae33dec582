// Reading what the host returned: its (pointer, size) results decoded into GC strings or copied into
// buffers, the host allocation released at once. Decoding never loses bytes (see decodeBytes).
import { release, RET_PTR, RET_SIZE } from "./memory";

/**
 * Reads a host-allocated (ptr, size) result as a string and releases the host allocation. Valid UTF-8
 * decodes as UTF-8; anything else decodes byte-for-byte (latin1), so distinct byte strings never read
 * as the same string (a lossy U+FFFD decode would let `key\xff` equal `key\x80`).
 */
export function takeString(): string {
  const ptr = load<u32>(RET_PTR);
  const size = load<u32>(RET_SIZE);
  if (ptr == 0) return "";
  const s = size == 0 ? "" : decodeBytes(<usize>ptr, <usize>size);
  release(<usize>ptr);
  return s;
}

/**
 * UTF-8 when the bytes are valid UTF-8 (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF),
 * else latin1 (one char per byte). One pass: ASCII is widened as it is checked, other sequences are
 * validated and decoded together; the first invalid byte switches the whole value to latin1.
 */
export function decodeBytes(ptr: usize, size: usize): string {
  // UTF-16 never needs more units than UTF-8 has bytes: `size` units always fit.
  const out = __new(size << 1, idof<string>());
  const j = decodeInto(ptr, size, out);
  return changetype<string>(j == size ? out : __renew(out, j << 1));
}

/** decodeBytes into `out` (room for `size` UTF-16 units), for callers that compare instead of keeping: returns the units written. */
export function decodeInto(ptr: usize, size: usize, out: usize): usize {
  let i: usize = 0;
  let j: usize = 0;
  while (i < size) {
    const c = <u32>load<u8>(ptr + i);
    if (c < 0x80) {
      store<u16>(out + (j++ << 1), <u16>c);
      i++;
      continue;
    }
    let n: usize = 0;
    let min: u32 = 0;
    let cp: u32 = 0;
    if ((c & 0xe0) == 0xc0) { n = 1; min = 0x80; cp = c & 0x1f; }
    else if ((c & 0xf0) == 0xe0) { n = 2; min = 0x800; cp = c & 0x0f; }
    else if ((c & 0xf8) == 0xf0) { n = 3; min = 0x10000; cp = c & 0x07; }
    else return latin1Into(out, ptr, size);
    if (i + n >= size) return latin1Into(out, ptr, size);
    for (let k: usize = 1; k <= n; k++) {
      const d = <u32>load<u8>(ptr + i + k);
      if ((d & 0xc0) != 0x80) return latin1Into(out, ptr, size);
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return latin1Into(out, ptr, size);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      store<u16>(out + (j++ << 1), <u16>(0xd800 | (cp >> 10)));
      store<u16>(out + (j++ << 1), <u16>(0xdc00 | (cp & 0x3ff)));
    } else {
      store<u16>(out + (j++ << 1), <u16>cp);
    }
    i += n + 1;
  }
  return j;
}

/**
 * Whether the `n` bytes at `a` and `b` are equal. One out-of-line loop for every byte comparison of the
 * library (std's memory.compare is inlined at each use, ~170 bytes a time).
 */
export function bytesEqual(a: usize, b: usize, n: usize): bool {
  for (; n >= 8; n -= 8, a += 8, b += 8) if (load<u64>(a) != load<u64>(b)) return false;
  for (; n > 0; n--, a++, b++) if (load<u8>(a) != load<u8>(b)) return false;
  return true;
}

/** Fills the `size` units at `out` with the bytes at `ptr`, one char per byte; returns `size`. */
function latin1Into(out: usize, ptr: usize, size: usize): usize {
  for (let k: usize = 0; k < size; k++) store<u16>(out + (k << 1), <u16>load<u8>(ptr + k));
  return size;
}

// Header values repeat from request to request (:method, :authority, the browser app's Origin, a
// route's Accept): the last value read at each call site is kept with a copy of its bytes, and a value
// with the same bytes is returned as the same (immutable) string — no decoding, nothing allocated, less
// for the collector. Validation is by content, so a slot shared by two call sites only costs misses.
// @ts-ignore: decorator
@inline const VALUE_SLOTS: usize = 16;
// @ts-ignore: decorator
@lazy const valueKeys = new StaticArray<usize>(<i32>VALUE_SLOTS);
// @ts-ignore: decorator
@lazy const valueLengths = new StaticArray<usize>(<i32>VALUE_SLOTS);
/** Copies of the values' bytes, grown as needed (never shrunk: values of one header have similar sizes). */
// @ts-ignore: decorator
@lazy const valueBytes = new StaticArray<ArrayBuffer | null>(<i32>VALUE_SLOTS);
// @ts-ignore: decorator
@lazy const valueStrings = new StaticArray<string | null>(<i32>VALUE_SLOTS);

/**
 * takeString() through the value cache; `site` tells call sites apart (a header name's address and the
 * map type) so that each keeps its last value.
 */
export function takeStringCached(site: usize): string {
  const ptr = <usize>load<u32>(RET_PTR);
  const size = <usize>load<u32>(RET_SIZE);
  if (ptr == 0) return "";
  const slot = <i32>(((site >> 4) ^ (site & 15) * 5) & (VALUE_SLOTS - 1));
  let bytes = unchecked(valueBytes[slot]);
  if (unchecked(valueKeys[slot]) == site && unchecked(valueLengths[slot]) == size && bytes !== null && bytesEqual(ptr, changetype<usize>(bytes), size)) {
    release(ptr);
    return unchecked(valueStrings[slot])!;
  }
  const s = size == 0 ? "" : decodeBytes(ptr, size);
  if (bytes === null || <usize>bytes.byteLength < size) {
    bytes = new ArrayBuffer(<i32>max<usize>(size, 64));
    unchecked((valueBytes[slot] = bytes));
  }
  memory.copy(changetype<usize>(bytes), ptr, size);
  unchecked((valueLengths[slot] = size));
  unchecked((valueKeys[slot] = site));
  unchecked((valueStrings[slot] = s));
  release(ptr);
  return s;
}

/** Reads a host-allocated (ptr, size) result as bytes and releases the host allocation. */
export function takeBytes(): ArrayBuffer {
  const ptr = load<u32>(RET_PTR);
  const size = load<u32>(RET_SIZE);
  const out = new ArrayBuffer(<i32>size);
  if (ptr == 0) return out;
  memory.copy(changetype<usize>(out), <usize>ptr, <usize>size);
  release(<usize>ptr);
  return out;
}
