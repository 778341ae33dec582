// Release builds: the data section, packed. AssemblyScript lays static data out as objects with 20-byte
// headers and strings as UTF-16, so about two bytes in three of a plugin's data are zeros (every ASCII
// character carries one); Binaryen's memory packing only drops long zero runs, at ~6 bytes per extra
// segment. Here the whole static image becomes one segment holding a zero bitmap and the non-zero bytes,
// and a dozen instructions run before the module's own start function to put every byte back where the
// original segments had it. That makes a plugin ~15% smaller (rate-limit's data section: 9,282 → 4,546
// bytes); instantiation plus _initialize takes the same ~90 µs packed or not (rate-limit, measured).
//
// Format, for the image [first, end) of all original segments: groups of 8 bytes, each written as a mask
// byte (bit k set = byte k of the group is not zero) followed by the group's non-zero bytes.
//
// Where the packed bytes live: the segment is placed right after `end` (8-aligned), which is either
// static memory the module expects zero (AssemblyScript's zero-initialized statics, which memory packing
// left out of the segments) or the not yet initialized heap; the unpacker zeroes every packed byte as it
// reads it, so that memory is zero again — exactly as the original module found it — before the start
// function runs. Nothing else can run first: proxy-wasm hosts call `_initialize` before any other export
// (abi.md §1.5), and the module has no start section.
import binaryen from "binaryen";

export interface PackedData {
  wasm: Uint8Array;
  /** Data section payload before and after (bytes of segment data, not counting segment headers). */
  before: number;
  after: number;
}

/** The packed form of `image` (see the format above). */
export function packImage(image: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let g = 0; g < image.length; g += 8) {
    let mask = 0;
    const bytes: number[] = [];
    for (let k = 0; k < 8 && g + k < image.length; k++) {
      if (image[g + k] !== 0) {
        mask |= 1 << k;
        bytes.push(image[g + k]);
      }
    }
    out.push(mask, ...bytes);
  }
  return Uint8Array.from(out);
}

/** The inverse of packImage, for tests: `size` bytes of image. */
export function unpackImage(packed: Uint8Array, size: number): Uint8Array {
  const image = new Uint8Array(size);
  let s = 0;
  let mask = 0;
  for (let i = 0; i < size; i++) {
    if ((i & 7) === 0) mask = packed[s++];
    if (mask & 1) image[i] = packed[s++];
    mask >>>= 1;
  }
  return image;
}

/**
 * Packs the data section of a module that exports `_initialize`. Returns null, leaving the module as it
 * is, when the module does not fit the scheme (no data, passive segments, imported or shared memory, no
 * `_initialize() → ()`) or when packing would not make it smaller.
 */
export function packDataSection(wasm: Uint8Array): PackedData | null {
  const mod = binaryen.readBinary(wasm);
  try {
    mod.setFeatures(binaryen.Features.All);
    if (!mod.hasMemory() || mod.getNumMemorySegments() === 0) return null;
    const mem = mod.getMemoryInfo();
    if (mem.module || mem.shared || mem.is64) return null;
    const segments: Array<{ offset: number; data: Uint8Array }> = [];
    for (let i = 0; i < mod.getNumMemorySegments(); i++) {
      const s = mod.getMemorySegmentInfoByIndex(i) as unknown as { offset: number; data: ArrayBuffer; passive: boolean };
      if (s.passive || typeof s.offset !== "number") return null;
      segments.push({ offset: s.offset, data: new Uint8Array(s.data) });
    }
    const start = exportedFunction(mod, "_initialize");
    if (start === null) return null;
    const sig = binaryen.getFunctionInfo(mod.getFunction(start));
    if (sig.params !== binaryen.none || sig.results !== binaryen.none) return null;

    const first = Math.min(...segments.map((s) => s.offset));
    const end = Math.max(...segments.map((s) => s.offset + s.data.length));
    const image = new Uint8Array(end - first);
    for (const s of segments) image.set(s.data, s.offset - first);
    const packed = packImage(image);
    const before = segments.reduce((n, s) => n + s.data.length, 0);
    const at = (end + 7) & ~7;
    // The packed bytes must be in memory at instantiation: when they reach past the initial pages, the
    // module starts with the pages they need (the heap is given them on its first allocation anyway).
    const initial = Math.max(mem.initial, Math.ceil((at + packed.length) / 65536));
    if (mem.max !== undefined && initial > mem.max) return null;

    const name = "tollgate:unpack-data";
    mod.addFunction(name, binaryen.none, binaryen.none, [binaryen.i32, binaryen.i32, binaryen.i32], unpacker(mod, first, image.length, at, start));
    mod.removeExport("_initialize");
    mod.addFunctionExport(name, "_initialize");
    // No export name: the module's own memory export stays as it is.
    mod.setMemory(initial, mem.max ?? -1, null, [{ offset: mod.i32.const(at), data: packed, passive: false }], false, false, memoryName(mod));
    if (!mod.validate()) throw new Error("packing the data section produced an invalid module");
    // Binaryen's debug-info switch is global and the compiler sets it for debug builds, which may run
    // beside this one: a release module is emitted without a names section, whatever it says now.
    const debugInfo = binaryen.getDebugInfo();
    binaryen.setDebugInfo(false);
    let out: Uint8Array;
    try {
      out = mod.emitBinary();
    } finally {
      binaryen.setDebugInfo(debugInfo);
    }
    if (out.length >= wasm.length) return null;
    return { wasm: out, before, after: packed.length };
  } finally {
    mod.dispose();
  }
}

function exportedFunction(mod: binaryen.Module, external: string): string | null {
  for (let i = 0; i < mod.getNumExports(); i++) {
    const e = binaryen.getExportInfo(mod.getExportByIndex(i));
    if (e.name === external) return e.kind === binaryen.ExternalFunction ? e.value : null;
  }
  return null;
}

function memoryName(mod: binaryen.Module): string {
  for (let i = 0; i < mod.getNumExports(); i++) {
    const e = binaryen.getExportInfo(mod.getExportByIndex(i));
    if (e.kind === binaryen.ExternalMemory) return e.value;
  }
  return "0";
}

/**
 * for (i = 0, s = at; i < size; i++) { if (!(i & 7)) { m = mem[s]; mem[s++] = 0 }
 *   if (m & 1) { mem[first + i] = mem[s]; mem[s++] = 0 } m >>>= 1 }  then call start.
 */
function unpacker(mod: binaryen.Module, first: number, size: number, at: number, start: string): binaryen.ExpressionRef {
  const { i32 } = mod;
  const I = 0, S = 1, M = 2;
  const get = (l: number) => mod.local.get(l, binaryen.i32);
  const takeByte = (into: (v: binaryen.ExpressionRef) => binaryen.ExpressionRef) =>
    mod.block(null, [
      into(i32.load8_u(0, 1, get(S))),
      i32.store8(0, 1, get(S), i32.const(0)),
      mod.local.set(S, i32.add(get(S), i32.const(1))),
    ]);
  return mod.block(null, [
    mod.local.set(S, i32.const(at)),
    mod.loop("next", mod.block(null, [
      mod.if(i32.eqz(i32.and(get(I), i32.const(7))), takeByte((v) => mod.local.set(M, v))),
      mod.if(i32.and(get(M), i32.const(1)), takeByte((v) => i32.store8(first, 1, get(I), v))),
      mod.local.set(M, i32.shr_u(get(M), i32.const(1))),
      mod.local.set(I, i32.add(get(I), i32.const(1))),
      mod.br("next", i32.lt_u(get(I), i32.const(size))),
    ])),
    mod.call(start, [], binaryen.none),
  ]);
}
