// Where bucket state lives. The limiter talks only to BucketStore, so a cluster-wide backend can replace
// the process-local one. SharedDataStore keeps slots in proxy-wasm shared data (abi.md §7.1): one store
// per Envoy process and vm_id, shared by every worker's VM, updated with compare-and-swap.
//
// A remote backend (Envoy's RLS over gRPC, Redis over an http/gRPC callout) cannot answer inside the
// callback: it would implement the same load/store pair asynchronously (pause the stream, resume on the
// callout response) or take over the whole decision; the Verdict/Outcome types stay the same.
import { getSharedData, Result, setSharedData } from "../../assembly";
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
  // A request loads then stores the same slot: build its key string once.
  private lastRule: LimitRule | null = null;
  private lastSlot: u32 = 0;
  private lastKey: string = "";

  private key(rule: LimitRule, slot: u32): string {
    if (this.lastRule !== rule || this.lastSlot != slot) {
      this.lastRule = rule;
      this.lastSlot = slot;
      this.lastKey = rule.keyPrefix + slot.toString();
    }
    return this.lastKey;
  }

  load(rule: LimitRule, slot: u32, out: SlotState): void {
    const v = getSharedData(this.key(rule, slot));
    if (!v.found) {
      // Only if something outside this plugin removed it; the next store creates it again.
      out.fp = 0;
      out.tokens = 0;
      out.anchor = 0;
      out.cas = 0;
      return;
    }
    decodeSlot(v.value, out);
    out.cas = v.cas;
  }

  store(rule: LimitRule, slot: u32, s: SlotState): u32 {
    encodeSlot(s, this.buf);
    const r = setSharedData(this.key(rule, slot), this.buf, s.cas);
    if (r == Result.OK) return STORE_OK;
    if (r == Result.CAS_MISMATCH) return STORE_CONFLICT;
    return STORE_ERROR;
  }

  prepare(rule: LimitRule): void {
    const fresh = new SlotState();
    encodeSlot(fresh, this.buf);
    for (let i: u32 = 0; i < rule.slots; i++) {
      const key = rule.keyPrefix + i.toString();
      if (!getSharedData(key).found) setSharedData(key, this.buf, 0);
    }
  }
}
