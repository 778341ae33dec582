// Header pairs in the ABI wire format (abi.md §3.1), for local replies and callouts.
import { encode } from "./header-map";

/**
 * Header pairs collected as pre-encoded buffers and serialized in the ABI wire format (abi.md §3.1:
 * count, (key length, value length) per pair, then each key and value NUL-terminated).
 * An instance can be reused: `reset()` keeps the arrays' capacity, and `sendLocalResponseEnc`
 * serializes into a block the builder keeps, so a builder reused per request allocates nothing and
 * hands the host the same address every time.
 */
export class PairsBuilder {
  private keys: ArrayBuffer[] = [];
  private values: ArrayBuffer[] = [];
  private out: ArrayBuffer = new ArrayBuffer(0);
  /** Size of the serialization in `out`, 0 when the pairs changed since (see serializeReused). */
  private written: usize = 0;

  reset(): void {
    this.keys.length = 0;
    this.values.length = 0;
    this.written = 0;
  }

  add(key: ArrayBuffer, value: ArrayBuffer): void {
    this.keys.push(key);
    this.values.push(value);
    this.written = 0;
  }

  /** Bytes the serialized pairs take. */
  size(): usize {
    if (this.written != 0) return this.written;
    const n = this.keys.length;
    let size: usize = 4 + <usize>n * 8;
    for (let i = 0; i < n; i++) size += <usize>unchecked(this.keys[i]).byteLength + <usize>unchecked(this.values[i]).byteLength + 2;
    return size;
  }

  /** A new buffer holding the serialized pairs. */
  serialize(): ArrayBuffer {
    const buf = new ArrayBuffer(<i32>this.size());
    this.writeTo(changetype<usize>(buf));
    return buf;
  }

  /**
   * The serialized pairs (`size` = size()) in this builder's own block, valid until its next use; returns
   * its address. A builder sent again unchanged (nothing added since) is not serialized again.
   */
  serializeReused(size: usize): usize {
    if (this.written == size) return changetype<usize>(this.out);
    if (<usize>this.out.byteLength < size) this.out = new ArrayBuffer(<i32>max<usize>(size, 256));
    const base = changetype<usize>(this.out);
    this.writeTo(base);
    this.written = size;
    return base;
  }

  private writeTo(base: usize): void {
    const n = this.keys.length;
    store<u32>(base, <u32>n);
    let data = base + 4 + <usize>n * 8;
    for (let i = 0; i < n; i++) {
      const k = unchecked(this.keys[i]);
      const v = unchecked(this.values[i]);
      store<u32>(base + 4 + <usize>i * 8, <u32>k.byteLength);
      store<u32>(base + 8 + <usize>i * 8, <u32>v.byteLength);
      memory.copy(data, changetype<usize>(k), <usize>k.byteLength);
      data += <usize>k.byteLength;
      store<u8>(data, 0);
      data += 1;
      memory.copy(data, changetype<usize>(v), <usize>v.byteLength);
      data += <usize>v.byteLength;
      store<u8>(data, 0);
      data += 1;
    }
  }
}

/** Serializes string pairs in the ABI wire format (abi.md §3.1). */
export function serializePairs(pairs: Array<string[]>): ArrayBuffer {
  const b = new PairsBuilder();
  for (let i = 0; i < pairs.length; i++) {
    const pair = pairs[i];
    b.add(encode(pair.length > 0 ? pair[0] : ""), encode(pair.length > 1 ? pair[1] : ""));
  }
  return b.serialize();
}
