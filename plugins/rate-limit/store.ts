// Where bucket state lives. The limiter talks only to BucketStore, so a cluster-wide backend can replace
// the process-local one. SharedDataStore keeps slots in proxy-wasm shared data (abi.md §7.1): one store
// per Envoy process and vm_id, shared by every worker's VM, updated with compare-and-swap.
//
// A remote backend (Envoy's RLS over gRPC, Redis over an http/gRPC callout) cannot answer inside the
// callback: it would implement the same load/store pair asynchronously (pause the stream, resume on the
// callout response) or take over the whole decision; the Verdict/Outcome types stay the same.
import { getSharedDataIntoEnc, Result, setSharedDataEnc, SharedRead, writeDecimal } from "tollgate/assembly";
import { SLOT_BYTES, SlotSet } from "./bucket";
import { LimitRule } from "./config";

// @ts-ignore: decorator
@inline export const STORE_OK: u32 = 0;
/** The slot changed since load(): reload and retry. */
// @ts-ignore: decorator
@inline export const STORE_CONFLICT: u32 = 1;
// @ts-ignore: decorator
@inline export const STORE_ERROR: u32 = 2;

export abstract class BucketStore {
  /** Loads set `set` of `rule` into `out` (with its version in out.cas); a missing set loads as fresh. */
  abstract load(rule: LimitRule, set: u32, out: SlotSet): void;
  /** Stores `s` if the set still has version s.cas. */
  abstract store(rule: LimitRule, set: u32, s: SlotSet): u32;
  /** Creates every set of `rule` that does not exist yet (at configure, before any request). */
  abstract prepare(rule: LimitRule): void;
}

/**
 * Shared data as the store. In ABI 0.2.1 a set on an absent key succeeds whatever CAS is passed, so
 * two workers creating the same key at once could both "win" and lose an update. prepare() therefore
 * creates all of a rule's sets at configure time; on the request path every set exists and every
 * write is a real compare-and-swap. That is also why the key space is bounded: at most `sets` keys
 * per rule, never one per client value. A set's ways share one value, so placing a new client in a
 * set (which may evict another) and charging it are one atomic update.
 */
export class SharedDataStore extends BucketStore {
  // A request loads then stores the same slot: its key bytes are built once, in a reused buffer.
  private keyBuf: ArrayBuffer = new ArrayBuffer(64);
  private keyLen: usize = 0;
  private read: SharedRead = new SharedRead();
  private lastRule: LimitRule | null = null;
  private lastSlot: u32 = 0;

  /** UTF-8 of `rule.keyPrefix + slot` at the returned address (length in keyLen). */
  private key(rule: LimitRule, slot: u32): usize {
    if (this.lastRule !== rule || this.lastSlot != slot) {
      const prefix = rule.keyPrefixBytes;
      const plen = <usize>prefix.byteLength;
      if (<usize>this.keyBuf.byteLength < plen + 10) this.keyBuf = new ArrayBuffer(<i32>(plen + 10));
      const p = changetype<usize>(this.keyBuf);
      memory.copy(p, changetype<usize>(prefix), plen);
      this.keyLen = plen + writeDecimal(p + plen, slot);
      this.lastRule = rule;
      this.lastSlot = slot;
    }
    return changetype<usize>(this.keyBuf);
  }

  load(rule: LimitRule, set: u32, out: SlotSet): void {
    const n = <i32>rule.ways * SLOT_BYTES;
    // One buffer per rule position, resized only when configs with other way counts alternate there.
    if (out.buf.byteLength != n) out.buf = new ArrayBuffer(n);
    out.ways = <i32>rule.ways;
    const read = getSharedDataIntoEnc(this.key(rule, set), this.keyLen, out.buf, this.read);
    // Missing (only if something outside this plugin removed it: the next store creates it again), or a
    // value of another size (foreign or corrupt): fresh slots.
    out.cas = read.cas;
    if (read.size != n) memory.fill(changetype<usize>(out.buf), 0, <usize>n);
  }

  store(rule: LimitRule, set: u32, s: SlotSet): u32 {
    const r = setSharedDataEnc(this.key(rule, set), this.keyLen, s.buf, s.cas);
    if (r == Result.OK) return STORE_OK;
    if (r == Result.CAS_MISMATCH) return STORE_CONFLICT;
    return STORE_ERROR;
  }

  prepare(rule: LimitRule): void {
    // All-zero slots: empty (fingerprint 0).
    const fresh = new ArrayBuffer(<i32>rule.ways * SLOT_BYTES);
    const probe = new ArrayBuffer(0);
    for (let i: u32 = 0; i < rule.sets; i++) {
      const k = this.key(rule, i);
      if (getSharedDataIntoEnc(k, this.keyLen, probe, this.read).size < 0) setSharedDataEnc(k, this.keyLen, fresh, 0);
    }
  }
}
