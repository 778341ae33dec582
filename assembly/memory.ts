// Memory the host and the guest pass values through: the out-parameters of host calls and the allocator
// the host uses for the values it returns (abi.md §1.5).

/** Two u32 out-parameters (pointer, size) that every "ret_*" host call writes; static, never freed. */
export const RET_PTR: usize = memory.data(16);
export const RET_SIZE: usize = RET_PTR + 4;
/** A u64 out-parameter (time, metric value, cas, token). */
export const RET_U64: usize = RET_PTR + 8;

/**
 * Values the host returns (header values, properties, shared data) are short-lived: the guest copies each
 * into GC memory before its next host call. The first one that fits lands in a static scratch block instead
 * of the heap, which saves an allocator round trip on most host calls; `release` frees either kind. A
 * result that is never released only keeps the scratch busy (later values use the heap), never corrupts.
 */
// @ts-ignore: decorator
@inline const SCRATCH_SIZE: usize = 1024;
const SCRATCH: usize = memory.data(<i32>SCRATCH_SIZE, 16);
let scratchBusy = false;

/**
 * Bytes the host has handed the guest (header values, paths, bodies) since the last collection. What a
 * stream allocates grows with what it reads, so this is the measure of its garbage that the collection
 * policy (dispatch.ts) uses to collect early after large requests.
 */
let hostBytes: usize = 0;

/** The host allocates returned values through this (the module's `malloc` export). */
export function malloc(size: usize): usize {
  hostBytes += size;
  if (!scratchBusy && size <= SCRATCH_SIZE) {
    scratchBusy = true;
    return SCRATCH;
  }
  return heap.alloc(size);
}

/** Frees a host-allocated result (scratch or heap). */
export function release(ptr: usize): void {
  if (ptr == SCRATCH) scratchBusy = false;
  else heap.free(ptr);
}

/** Bytes the host allocated since the last call, which starts the count again. */
export function takeHostBytes(): usize {
  const n = hostBytes;
  hostBytes = 0;
  return n;
}

/** Bytes the host allocated since the last takeHostBytes(). */
export function hostBytesSinceTake(): usize {
  return hostBytes;
}
