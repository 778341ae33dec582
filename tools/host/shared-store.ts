// The shared data and shared queue stores (abi.md §7): one process-wide store per HostEnv, partitioned by
// vm_id, shared by every VM (worker) and plugin with that vm_id. CAS values come from one store-wide
// counter. The host functions over them are in shared-data.ts.
import { R } from "./abi.ts";
import { HostUsageError } from "./traps.ts";

/** The VM that registered a queue, as the store sees it (a WasmVm). */
export interface QueueOwner {
  readonly failed: boolean;
  readonly env: { post(fn: () => void): void };
  onQueueReady(rootContextId: number, token: number): void;
}

export interface SharedEntry { value: Uint8Array; cas: number }

/** What a shared-data test hook sees, right after the operation completed. */
export interface SharedDataAccess {
  op: "get" | "set";
  vmId: string;
  key: string;
  /** The VM's worker index (-1 = the main-thread canary VM). */
  worker: number;
  plugin: string;
  /** WasmResult of the operation (0 Ok, 1 NotFound, 8 CasMismatch). */
  result: number;
  /** get: the CAS returned; set: the CAS passed in. */
  cas: number;
  value: Uint8Array | null;
}

/** Bytes per record: cas, key length, value length, key hash (4 × u32), then key and value when they fit. */
const RECORD = 128;
const RECORD_WORDS = RECORD / 4;
const RECORD_INLINE = RECORD - 16;

/** FNV-1a over bytes (keys are byte strings: latin1 for the string API). */
function fnv1a(b: Uint8Array, p: number, n: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ b[p + i], 0x01000193);
  return h >>> 0;
}

/**
 * One vm_id's entries, keyed by the key's bytes: the host call looks a key up straight from guest memory
 * (no string decoded, hashed and compared) in an open-addressing table of record numbers, and a record
 * keeps CAS, lengths, key and value (when they fit in 112 bytes: counters, buckets, tokens) in one
 * 128-byte slot of a single slab. A rate limiter over 10,000 clients reads a different cold record on every
 * request; this touches one table slot and one record. Longer keys/values are kept beside the slab. ABI
 * 0.2.1 cannot delete a key, so records are only ever added (insertion order = keys() order).
 */
class VmEntries {
  count = 0;
  private slab = new Uint8Array(RECORD * 16);
  private words = new Uint32Array(this.slab.buffer);
  /** Open addressing, linear probing: record number + 1, 0 = empty; at most half full. */
  private table = new Int32Array(32);
  private readonly largeKey: Array<Uint8Array | undefined> = [];
  private readonly largeValue: Array<Uint8Array | undefined> = [];

  /** The record holding key src[p, p + n) (whose fnv1a is `h`), or -1. */
  find(src: Uint8Array, p: number, n: number, h = fnv1a(src, p, n)): number {
    const table = this.table;
    const mask = table.length - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const r = table[i] - 1;
      if (r < 0) return -1;
      if (this.words[r * RECORD_WORDS + 3] === h && this.keyEquals(r, src, p, n)) return r;
    }
  }

  private keyEquals(r: number, src: Uint8Array, p: number, n: number): boolean {
    const w = r * RECORD_WORDS;
    if (this.words[w + 1] !== n) return false;
    const big = this.largeKey[r];
    const k = big ?? this.slab;
    const off = big ? 0 : r * RECORD + 16;
    for (let i = 0; i < n; i++) if (k[off + i] !== src[p + i]) return false;
    return true;
  }

  /** A new record for key src[p, p + n) (fnv1a `h`), which find() did not find (CAS 0, empty value). */
  add(src: Uint8Array, p: number, n: number, h: number): number {
    const r = this.count++;
    if (r * RECORD + RECORD > this.slab.length) {
      const grown = new Uint8Array(this.slab.length * 2);
      grown.set(this.slab);
      this.slab = grown;
      this.words = new Uint32Array(grown.buffer);
    }
    const w = r * RECORD_WORDS;
    this.words[w] = 0;
    this.words[w + 1] = n;
    this.words[w + 2] = 0;
    this.words[w + 3] = h;
    if (n > RECORD_INLINE) this.largeKey[r] = src.slice(p, p + n);
    else this.slab.set(src.subarray(p, p + n), r * RECORD + 16);
    if (this.count * 2 > this.table.length) this.rehash(this.table.length * 2);
    else this.insert(this.table, r, h);
    return r;
  }

  private insert(table: Int32Array, r: number, h: number): void {
    const mask = table.length - 1;
    let i = h & mask;
    while (table[i] !== 0) i = (i + 1) & mask;
    table[i] = r + 1;
  }

  private rehash(size: number): void {
    const table = new Int32Array(size);
    for (let r = 0; r < this.count; r++) this.insert(table, r, this.words[r * RECORD_WORDS + 3]);
    this.table = table;
  }

  cas(r: number): number {
    return this.words[r * RECORD_WORDS];
  }

  length(r: number): number {
    return this.words[r * RECORD_WORDS + 2];
  }

  /** Copies record r's value to dst[at…]. */
  readInto(r: number, dst: Uint8Array, at: number): void {
    const big = this.largeValue[r];
    if (big) {
      dst.set(big, at);
      return;
    }
    const len = this.length(r);
    const slab = this.slab;
    const off = this.valueOffset(r);
    for (let i = 0; i < len; i++) dst[at + i] = slab[off + i];
  }

  value(r: number): Uint8Array {
    const v = new Uint8Array(this.length(r));
    this.readInto(r, v, 0);
    return v;
  }

  key(r: number): string {
    const n = this.words[r * RECORD_WORDS + 1];
    const big = this.largeKey[r];
    return Buffer.from(big ?? this.slab.subarray(r * RECORD + 16, r * RECORD + 16 + n)).toString("latin1");
  }

  /** Record r := (src[off, off + len), cas), in place when it fits. */
  write(r: number, src: Uint8Array, off: number, len: number, cas: number): void {
    const w = r * RECORD_WORDS;
    this.words[w] = cas;
    this.words[w + 2] = len;
    if (this.largeKey[r] || this.words[w + 1] + len > RECORD_INLINE) {
      const cur = this.largeValue[r];
      if (cur && cur.length === len) cur.set(src.subarray(off, off + len));
      else this.largeValue[r] = src.slice(off, off + len);
      return;
    }
    this.largeValue[r] = undefined;
    const slab = this.slab;
    const at = this.valueOffset(r);
    for (let i = 0; i < len; i++) slab[at + i] = src[off + i];
  }

  private valueOffset(r: number): number {
    return r * RECORD + 16 + this.words[r * RECORD_WORDS + 1];
  }
}

const latin1Bytes = (key: string): Buffer => Buffer.from(key, "latin1");

export class SharedData {
  private readonly byVm = new Map<string, VmEntries>();
  private nextCas = 1;
  private readonly refs = new Map<string, number>();
  /**
   * Test hook, called synchronously inside proxy_get_shared_data / proxy_set_shared_data after the
   * operation (the calling VM is suspended in its host call). The hook may drive ANOTHER worker's VM
   * (e.g. `t.stream(1).requestHeaders(...)`) to produce any interleaving; driving the same VM throws.
   */
  onAccess: ((ev: SharedDataAccess) => void) | null = null;

  /** A copy of the entry (for tests and tools; the host call reads it in place through `of`). */
  get(vmId: string, key: string): SharedEntry | undefined {
    const m = this.byVm.get(vmId);
    if (!m) return undefined;
    const k = latin1Bytes(key);
    const r = m.find(k, 0, k.length);
    return r >= 0 ? { value: m.value(r), cas: m.cas(r) } : undefined;
  }

  /** The entries of a vm_id, if it has any. */
  of(vmId: string): VmEntries | undefined {
    return this.byVm.get(vmId);
  }

  /** Envoy's set: CasMismatch when the key exists, cas ≠ 0 and cas ≠ stored; new CAS from the global counter. */
  set(vmId: string, key: string, value: Uint8Array, cas: number): number {
    const k = latin1Bytes(key);
    return this.setFrom(vmId, k, 0, k.length, value, 0, value.length, cas);
  }

  /** set() with key and value taken from memory (guest memory for the host call), written in place. */
  setFrom(vmId: string, keySrc: Uint8Array, keyOff: number, keyLen: number, src: Uint8Array, off: number, len: number, cas: number): number {
    let m = this.byVm.get(vmId);
    if (!m) this.byVm.set(vmId, (m = new VmEntries()));
    const h = fnv1a(keySrc, keyOff, keyLen);
    const existing = m.find(keySrc, keyOff, keyLen, h);
    if (existing >= 0 && cas !== 0 && cas !== m.cas(existing)) return R.CasMismatch;
    const next = this.nextCas;
    this.nextCas = next >= 0xffffffff ? 1 : next + 1;
    m.write(existing >= 0 ? existing : m.add(keySrc, keyOff, keyLen, h), src, off, len, next);
    return R.Ok;
  }

  keys(vmId: string): string[] {
    const m = this.byVm.get(vmId);
    return m ? Array.from({ length: m.count }, (_, r) => m.key(r)) : [];
  }

  /** Test helper: a copy of all entries of a vm_id. */
  entries(vmId: string): Map<string, SharedEntry> {
    const out = new Map<string, SharedEntry>();
    const m = this.byVm.get(vmId);
    if (m) for (let r = 0; r < m.count; r++) out.set(m.key(r), { value: m.value(r), cas: m.cas(r) });
    return out;
  }

  /** A VM holding vm_id started / ended; data (and queues) go with the last one (abi.md §7.1). */
  retain(vmId: string): void {
    this.refs.set(vmId, (this.refs.get(vmId) ?? 0) + 1);
  }
  release(vmId: string, queues?: SharedQueues): void {
    const n = (this.refs.get(vmId) ?? 1) - 1;
    if (n > 0) {
      this.refs.set(vmId, n);
      return;
    }
    this.refs.delete(vmId);
    this.byVm.delete(vmId);
    queues?.deleteByVmId(vmId);
  }

  fire(ev: SharedDataAccess): void {
    const hook = this.onAccess;
    if (!hook) return;
    try {
      hook(ev);
    } catch (e) {
      throw e instanceof HostUsageError ? e : new HostUsageError(`sharedData.onAccess hook threw: ${(e as Error)?.message ?? e}`, e);
    }
  }
}

interface Queue {
  token: number;
  vmId: string;
  name: string;
  items: Uint8Array[];
  /** Registration: the root context to notify (abi.md §7.2). */
  vm: QueueOwner | null;
  rootContextId: number;
}

export class SharedQueues {
  private readonly byKey = new Map<string, Queue>();
  private readonly byToken = new Map<number, Queue>();
  private nextToken = 1;

  register(vmId: string, name: string, vm: QueueOwner, rootContextId: number): number {
    const key = `${vmId}\0${name}`;
    let q = this.byKey.get(key);
    if (!q) {
      q = { token: this.nextToken++, vmId, name, items: [], vm, rootContextId };
      this.byKey.set(key, q);
      this.byToken.set(q.token, q);
    }
    q.vm = vm;
    q.rootContextId = rootContextId;
    return q.token;
  }

  resolve(vmId: string, name: string): number | undefined {
    const q = this.byKey.get(`${vmId}\0${name}`);
    if (!q || (q.vm && q.vm.failed)) return undefined;
    return q.token;
  }

  enqueue(token: number, value: Uint8Array): number {
    const q = this.byToken.get(token);
    if (!q) return R.NotFound;
    q.items.push(value.slice());
    const vm = q.vm;
    const root = q.rootContextId;
    // One post per enqueue to the registering VM's dispatcher (abi.md §7.2).
    if (vm) vm.env.post(() => vm.onQueueReady(root, token));
    return R.Ok;
  }

  dequeue(token: number): { result: number; value?: Uint8Array } {
    const q = this.byToken.get(token);
    if (!q) return { result: R.NotFound };
    const v = q.items.shift();
    if (!v) return { result: R.Empty };
    return { result: R.Ok, value: v };
  }

  deleteByVmId(vmId: string): void {
    for (const [k, q] of this.byKey) {
      if (q.vmId === vmId) {
        this.byKey.delete(k);
        this.byToken.delete(q.token);
      }
    }
  }
}
