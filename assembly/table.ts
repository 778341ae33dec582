// The one hashed string table of the library: configure-time duplicate checks (consumers, keys, users,
// issuers, tags, values) and the request-time lookups built from them. Every plugin that needs one uses
// this class, so a module holds one non-generic implementation instead of a Map/Set instantiation (and
// std's xxhash of strings) per key and value type.

/**
 * FNV-1a (32-bit) over a string's UTF-16 code units (equal strings ⇔ equal units), the high half folded
 * into the low one: slots come from the low bits, which FNV's multiply alone derives from low input bits only.
 */
function hashUnits(s: string): u32 {
  let h: u32 = 0x811c9dc5;
  const p = changetype<usize>(s);
  const end = p + (<usize>s.length << 1);
  for (let q = p; q < end; q += 2) h = (h ^ <u32>load<u16>(q)) * 0x01000193;
  return h ^ (h >> 16);
}

/**
 * Strings to non-negative i32 values (an index into the caller's own array, or 0 when used as a set):
 * open addressing with linear probing, at most half full, so a lookup is one hash of the key (linear
 * in its length) plus a probe run bounded by the table's configured contents, whatever the key.
 */
export class StringTable {
  private keys: StaticArray<string | null> = new StaticArray<string | null>(8);
  private values: StaticArray<i32> = new StaticArray<i32>(8);
  private count: i32 = 0;

  /** Number of keys. */
  get size(): i32 {
    return this.count;
  }

  /** The value stored for `key`, or -1 when it is absent. */
  get(key: string): i32 {
    const slot = this.slotOf(key);
    return unchecked(this.keys[slot]) === null ? -1 : unchecked(this.values[slot]);
  }

  /** Whether `key` is present. */
  has(key: string): bool {
    return unchecked(this.keys[this.slotOf(key)]) !== null;
  }

  /** Adds key → value (value >= 0) unless `key` is present: returns -1 when added, else the value already stored. */
  add(key: string, value: i32): i32 {
    let slot = this.slotOf(key);
    if (unchecked(this.keys[slot]) !== null) return unchecked(this.values[slot]);
    if ((this.count + 1) << 1 > this.keys.length) {
      this.grow();
      slot = this.slotOf(key);
    }
    unchecked((this.keys[slot] = key));
    unchecked((this.values[slot] = value));
    this.count++;
    return -1;
  }

  /** The slot holding `key`, else the empty slot where it belongs (there is always one: the table is at most half full). */
  private slotOf(key: string): i32 {
    const keys = this.keys;
    const mask = keys.length - 1;
    let i = <i32>hashUnits(key) & mask;
    while (true) {
      const k = unchecked(keys[i]);
      if (k === null || k == key) return i;
      i = (i + 1) & mask;
    }
    return i;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    const cap = oldKeys.length << 1;
    this.keys = new StaticArray<string | null>(cap);
    this.values = new StaticArray<i32>(cap);
    for (let i = 0; i < oldKeys.length; i++) {
      const k = unchecked(oldKeys[i]);
      if (k !== null) {
        const slot = this.slotOf(k);
        unchecked((this.keys[slot] = k));
        unchecked((this.values[slot] = unchecked(oldValues[i])));
      }
    }
  }
}
