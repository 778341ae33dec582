// What a plugin costs at the ABI boundary, counted rather than timed: host calls by function, bytes the host
// copies out of guest memory and into it, the host's calls into the guest allocator, and the guest callbacks.
// These are the figures that decide a plugin's cost in Envoy (each host call is a V8→C++ transition, each
// copied value a malloc callback plus a memcpy), and they are exact and engine-independent: the ABI fixes
// which arguments are (pointer, size) inputs and which are (pointer*, size*) outputs, so the byte counts
// below are what any host must copy (abi.md §3–§9), not what this host happens to do.
//
// Off unless HostEnvOptions.profile is given: the unprofiled import table is untouched.

/** Per host function, the argument index of each guest input's size (the pointer is the argument before it). */
const INPUT_SIZES: Record<string, number[]> = {
  proxy_log: [2],
  proxy_get_property: [1],
  proxy_set_property: [1, 3],
  proxy_send_local_response: [2, 4, 6],
  proxy_get_shared_data: [1],
  proxy_set_shared_data: [1, 3],
  proxy_register_shared_queue: [1],
  proxy_resolve_shared_queue: [1, 3],
  proxy_enqueue_shared_queue: [2],
  proxy_get_header_map_value: [2],
  proxy_add_header_map_value: [2, 4],
  proxy_replace_header_map_value: [2, 4],
  proxy_remove_header_map_value: [2],
  proxy_set_header_map_pairs: [2],
  proxy_set_buffer_bytes: [4],
  proxy_http_call: [1, 3, 5, 7],
  proxy_grpc_call: [1, 3, 5, 7, 9],
  proxy_grpc_stream: [1, 3, 5, 7],
  proxy_grpc_send: [2],
  proxy_define_metric: [2],
  proxy_call_foreign_function: [1, 3],
};

/**
 * Per host function, the argument index of each size pointer it writes back for a value it copies into the
 * guest (the pointer to the returned pointer is the argument before it).
 */
const OUTPUT_SIZE_PTRS: Record<string, number[]> = {
  proxy_get_property: [3],
  proxy_get_shared_data: [3],
  proxy_dequeue_shared_queue: [2],
  proxy_get_header_map_value: [4],
  proxy_get_header_map_pairs: [2],
  proxy_get_buffer_bytes: [4],
  proxy_get_status: [2],
  proxy_call_foreign_function: [5],
  proxy_get_configuration: [1],
};

/** Counts for one host function. */
export interface CallCount {
  calls: number;
  bytesIn: number;
  bytesOut: number;
}

export class BoundaryProfile {
  readonly calls = new Map<string, CallCount>();
  /** Guest callbacks by export name (proxy_on_request_headers, …). */
  readonly callbacks = new Map<string, number>();
  /** Calls the host made into the guest allocator (one per value copied in). */
  mallocs = 0;

  /** Zeroes every count (the wrapped functions keep their entries). */
  reset(): void {
    for (const c of this.calls.values()) c.calls = c.bytesIn = c.bytesOut = 0;
    this.callbacks.clear();
    this.mallocs = 0;
  }

  callback(name: string): void {
    this.callbacks.set(name, (this.callbacks.get(name) ?? 0) + 1);
  }

  /** Totals, and every function's counts, divided by `requests`. */
  perRequest(requests: number): BoundarySummary {
    const n = Math.max(1, requests);
    const byFunction: Record<string, CallCount> = {};
    let calls = 0;
    let bytesIn = 0;
    let bytesOut = 0;
    for (const [name, c] of [...this.calls].sort((a, b) => b[1].calls - a[1].calls)) {
      if (c.calls === 0) continue;
      byFunction[name] = { calls: round(c.calls / n), bytesIn: round(c.bytesIn / n), bytesOut: round(c.bytesOut / n) };
      calls += c.calls;
      bytesIn += c.bytesIn;
      bytesOut += c.bytesOut;
    }
    let callbacks = 0;
    for (const v of this.callbacks.values()) callbacks += v;
    return {
      hostCalls: round(calls / n), bytesIn: round(bytesIn / n), bytesOut: round(bytesOut / n),
      mallocs: round(this.mallocs / n), callbacks: round(callbacks / n), byFunction,
      byCallback: Object.fromEntries([...this.callbacks].map(([k, v]) => [k, round(v / n)])),
    };
  }

  /**
   * `f` (host function `name` of a VM whose memory `mem()` returns) counted: the call, the guest bytes its
   * inputs name, and after it returns the sizes it wrote back through its output pointers.
   */
  wrap(name: string, f: (...args: number[]) => number, mem: () => DataView): (...args: number[]) => number {
    const short = name.startsWith("env.") ? name.slice(4) : name;
    const inputs = INPUT_SIZES[short] ?? [];
    const outputs = OUTPUT_SIZE_PTRS[short] ?? [];
    let c = this.calls.get(short);
    if (!c) this.calls.set(short, (c = { calls: 0, bytesIn: 0, bytesOut: 0 }));
    const count = c;
    return (...args: number[]): number => {
      count.calls++;
      for (const i of inputs) count.bytesIn += args[i] >>> 0;
      const r = f(...args);
      if (r === 0 && outputs.length > 0) {
        const dv = mem();
        for (const i of outputs) {
          const at = args[i] >>> 0;
          if (at + 4 <= dv.byteLength) count.bytesOut += dv.getUint32(at, true);
        }
      }
      return r;
    };
  }
}

export interface BoundarySummary {
  hostCalls: number;
  bytesIn: number;
  bytesOut: number;
  mallocs: number;
  callbacks: number;
  byFunction: Record<string, CallCount>;
  /** Guest callbacks per request by export name. */
  byCallback: Record<string, number>;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
