// Where bucket state lives. The limiter talks only to BucketStore, so a cluster-wide backend can replace
// the process-local one. SharedDataStore keeps slots in proxy-wasm shared data (abi.md §7.1): one store
// per Envoy process and vm_id, shared by every worker's VM, updated with compare-and-swap.
//
// A remote backend (Envoy's RLS over gRPC, Redis over an http/gRPC callout) cannot answer inside the
// callback: it would implement the same load/store pair asynchronously (pause the stream, resume on the
// callout response) or take over the whole decision; the Verdict/Outcome types stay the same.
import { getSharedDataInto, lastSharedCas, Result, setSharedDataAt, writeDecimal } from "../../assembly";
import { decodeSlot, encodeSlot, SLOT_BYTES, SlotState } from "./bucket";
import { LimitRule } from "./config";

// @ts-ignore: decorator
@inline export const STORE_OK: u32 = 0;
/** The slot changed since load(): reload and retry. */
// @ts-ignore: decorator
@inline export const STORE_CONFLICT: u32 = 1;
// @ts-ignore: decorator
@inline export const STORE_ERROR: u32 = 2;

export abstract class BucketStore {
  /** Loads slot `slot` of `rule` into `out` (with its version in out.cas); a missing slot loads as fresh. */
  abstract load(rule: LimitRule, slot: u32, out: SlotState): void;
  /** Stores `s` if the slot still has version s.cas. */
  abstract store(rule: LimitRule, slot: u32, s: SlotState): u32;
  /** Creates every slot of `rule` that does not exist yet (at configure, before any request). */
  abstract prepare(rule: LimitRule): void;
}

/**
 * Shared data as the store. In ABI 0.2.1 a set on an absent key succeeds whatever CAS is passed, so
 * two workers creating the same key at once could both "win" and lose an update. prepare() therefore
 * creates all of a rule's slots at configure time; on the request path every slot exists and every
 * write is a real compare-and-swap. That is also why the key space is bounded: at most `slots` keys
 * per rule, never one per client value.
 */
export class SharedDataStore extends BucketStore {
  private buf: ArrayBuffer = new ArrayBuffer(SLOT_BYTES);
  private readBuf: ArrayBuffer = new ArrayBuffer(SLOT_BYTES);
  // A request loads then stores the same slot: its key bytes are built once, in a reused buffer.
  private keyBuf: ArrayBuffer = new ArrayBuffer(64);
  private keyLen: usize = 0;
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

  load(rule: LimitRule, slot: u32, out: SlotState): void {
    const size = getSharedDataInto(this.key(rule, slot), this.keyLen, this.readBuf);
    if (size < 0) {
      // Only if something outside this plugin removed it; the next store creates it again.
      out.fp = 0;
      out.tokens = 0;
      out.anchor = 0;
      out.cas = 0;
      return;
    }
    decodeSlot(this.readBuf, size, out);
    out.cas = lastSharedCas();
  }

  store(rule: LimitRule, slot: u32, s: SlotState): u32 {
    encodeSlot(s, this.buf);
    const r = setSharedDataAt(this.key(rule, slot), this.keyLen, this.buf, s.cas);
    if (r == Result.OK) return STORE_OK;
    if (r == Result.CAS_MISMATCH) return STORE_CONFLICT;
    return STORE_ERROR;
  }

  prepare(rule: LimitRule): void {
    const fresh = new SlotState();
    encodeSlot(fresh, this.buf);
    for (let i: u32 = 0; i < rule.slots; i++) {
      const k = this.key(rule, i);
      if (getSharedDataInto(k, this.keyLen, this.readBuf) < 0) setSharedDataAt(k, this.keyLen, this.buf, 0);
    }
  }
}
