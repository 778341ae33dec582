// Shared data and shared queues (abi.md §7): one process-wide store per HostEnv, partitioned by vm_id,
// shared by every VM (worker) and plugin with that vm_id. CAS values come from one store-wide counter.
import { R } from "./abi.ts";
import { HostUsageError } from "./traps.ts";
import type { WasmVm } from "./vm.ts";

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

export class SharedData {
  private readonly byVm = new Map<string, Map<string, SharedEntry>>();
  private nextCas = 1;
  private readonly refs = new Map<string, number>();
  /**
   * Test hook, called synchronously inside proxy_get_shared_data / proxy_set_shared_data after the
   * operation (the calling VM is suspended in its host call). The hook may drive ANOTHER worker's VM
   * (e.g. `t.stream(1).requestHeaders(...)`) to produce any interleaving; driving the same VM throws.
   */
  onAccess: ((ev: SharedDataAccess) => void) | null = null;

  get(vmId: string, key: string): SharedEntry | undefined {
    return this.byVm.get(vmId)?.get(key);
  }

  /** Envoy's set: CasMismatch when the key exists, cas ≠ 0 and cas ≠ stored; new CAS from the global counter. */
  set(vmId: string, key: string, value: Uint8Array, cas: number): number {
    return this.setFrom(vmId, key, value, 0, value.length, cas);
  }

  /**
   * set() with the value taken from guest memory `src[off, off + len)`. Each request of a rate limiter
   * rewrites a value of the same size: that is done in place, without a new entry or buffer (values are
   * copied out on every get, so nothing outside the store holds an entry's bytes).
   */
  setFrom(vmId: string, key: string, src: Uint8Array, off: number, len: number, cas: number): number {
    let m = this.byVm.get(vmId);
    if (!m) this.byVm.set(vmId, (m = new Map()));
    const cur = m.get(key);
    if (cur && cas !== 0 && cas !== cur.cas) return R.CasMismatch;
    const next = this.nextCas;
    this.nextCas = next >= 0xffffffff ? 1 : next + 1;
    if (cur && cur.value.length === len) {
      const v = cur.value;
      if (len > 64) v.set(src.subarray(off, off + len));
      else for (let i = 0; i < len; i++) v[i] = src[off + i];
      cur.cas = next;
    } else {
      m.set(key, { value: src.slice(off, off + len), cas: next });
    }
    return R.Ok;
  }

  keys(vmId: string): string[] {
    return [...(this.byVm.get(vmId)?.keys() ?? [])];
  }

  /** Test helper: a copy of all entries of a vm_id. */
  entries(vmId: string): Map<string, SharedEntry> {
    const out = new Map<string, SharedEntry>();
    for (const [k, e] of this.byVm.get(vmId) ?? []) out.set(k, { value: e.value.slice(), cas: e.cas });
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
  vm: WasmVm | null;
  rootContextId: number;
}

export class SharedQueues {
  private readonly byKey = new Map<string, Queue>();
  private readonly byToken = new Map<number, Queue>();
  private nextToken = 1;

  register(vmId: string, name: string, vm: WasmVm, rootContextId: number): number {
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

  size(token: number): number {
    return this.byToken.get(token)?.items.length ?? 0;
  }

  tokenOf(vmId: string, name: string): number | undefined {
    return this.byKey.get(`${vmId}\0${name}`)?.token;
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

/** proxy_*_shared_data and proxy_*_shared_queue (abi.md §7). */
export function sharedDataImports(vm: WasmVm) {
  const env = vm.env;
  return {
    proxy_get_shared_data(keyPtr: number, keySize: number, retPtr: number, retSize: number, retCas: number): number {
      if (!vm.inBounds(keyPtr, keySize)) return R.InvalidMemoryAccess;
      const key = vm.latin1(keyPtr, keySize);
      const vmId = vm.plugin.vmId;
      const e = env.sharedData.get(vmId, key);
      let result: number;
      if (!e) {
        result = R.NotFound;
      } else {
        result = vm.copyOutBytes(e.value, retPtr, retSize);
        if (result === R.Ok && !vm.setU32(retCas, e.cas)) result = R.InvalidMemoryAccess;
      }
      if (env.sharedData.onAccess) {
        env.sharedData.fire({ op: "get", vmId, key, worker: vm.worker, plugin: vm.plugin.name, result, cas: e?.cas ?? 0, value: e ? e.value.slice() : null });
      }
      return result;
    },
    proxy_set_shared_data(keyPtr: number, keySize: number, valuePtr: number, valueSize: number, cas: number): number {
      if (!vm.inBounds(keyPtr, keySize) || !vm.inBounds(valuePtr, valueSize)) return R.InvalidMemoryAccess;
      const key = vm.latin1(keyPtr, keySize);
      const vmId = vm.plugin.vmId;
      const result = env.sharedData.setFrom(vmId, key, vm.u8, valuePtr >>> 0, valueSize >>> 0, cas >>> 0);
      if (env.sharedData.onAccess) {
        env.sharedData.fire({ op: "set", vmId, key, worker: vm.worker, plugin: vm.plugin.name, result, cas: cas >>> 0, value: vm.bytes(valuePtr, valueSize) });
      }
      return result;
    },
    proxy_register_shared_queue(namePtr: number, nameSize: number, retToken: number): number {
      if (!vm.inBounds(namePtr, nameSize)) return R.InvalidMemoryAccess;
      const root = vm.rootOfCurrent();
      const token = env.queues.register(vm.plugin.vmId, vm.latin1(namePtr, nameSize), vm, root ? root.id : 0);
      return vm.setU32(retToken, token) ? R.Ok : R.InvalidMemoryAccess;
    },
    proxy_resolve_shared_queue(vmIdPtr: number, vmIdSize: number, namePtr: number, nameSize: number, retToken: number): number {
      if (!vm.inBounds(vmIdPtr, vmIdSize) || !vm.inBounds(namePtr, nameSize)) return R.InvalidMemoryAccess;
      const vmId = vmIdSize === 0 ? vm.plugin.vmId : vm.latin1(vmIdPtr, vmIdSize);
      const token = env.queues.resolve(vmId, vm.latin1(namePtr, nameSize));
      if (token === undefined) return R.NotFound;
      return vm.setU32(retToken, token) ? R.Ok : R.InvalidMemoryAccess;
    },
    proxy_dequeue_shared_queue(token: number, retPtr: number, retSize: number): number {
      const r = env.queues.dequeue(token >>> 0);
      if (r.result !== R.Ok) return r.result;
      return vm.copyOut(r.value!, retPtr, retSize);
    },
    proxy_enqueue_shared_queue(token: number, valuePtr: number, valueSize: number): number {
      if (!vm.inBounds(valuePtr, valueSize)) return R.InvalidMemoryAccess;
      return env.queues.enqueue(token >>> 0, vm.bytes(valuePtr, valueSize));
    },
  };
}
