// The release build's data-section packing (tools/build/pack-data.ts): the packed form round-trips, and a
// packed plugin starts with exactly the memory the compiler's module starts with.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { compileAssemblyScript } from "../../tools/build/compile.ts";
import { packDataSection, packImage, unpackImage } from "../../tools/build/pack-data.ts";
import { readModuleInfo } from "../../tools/host/link.ts";
import { pluginWasm, repoRoot } from "../../tools/paths.ts";

test("packImage/unpackImage round-trip: empty, partial groups, all-zero, dense and UTF-16-like images", () => {
  const images: Uint8Array[] = [new Uint8Array(0), Uint8Array.of(7), new Uint8Array(9), Uint8Array.from({ length: 17 }, (_, i) => i + 1)];
  const utf16 = Buffer.from("Access-Control-Allow-Origin: rate-limit.rules[0].limit", "utf16le");
  images.push(utf16);
  let seed = 12345;
  for (let n = 0; n < 50; n++) {
    const img = new Uint8Array(n * 13 + 1);
    for (let i = 0; i < img.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      img[i] = seed % 3 === 0 ? seed >>> 24 : 0;
    }
    images.push(img);
  }
  for (const img of images) {
    const packed = packImage(img);
    assert.equal(packed.length, Math.ceil(img.length / 8) + img.filter((b) => b !== 0).length, "one mask byte per group + the non-zero bytes");
    assert.deepEqual(unpackImage(packed, img.length), new Uint8Array(img));
  }
  // The point of it: UTF-16 of ASCII text packs to ~5/8 of its size.
  assert.ok(packImage(utf16).length < utf16.length * 0.7);
});

/** Linear memory after instantiation (imports answer 0) and `_initialize`. */
function memoryAfterStart(wasm: Uint8Array): Uint8Array {
  const mod = new WebAssembly.Module(wasm);
  const imports: Record<string, Record<string, () => number>> = {};
  for (const i of WebAssembly.Module.imports(mod)) (imports[i.module] ??= {})[i.name] = () => 0;
  const inst = new WebAssembly.Instance(mod, imports);
  (inst.exports._initialize as () => void)();
  return new Uint8Array((inst.exports.memory as WebAssembly.Memory).buffer);
}

test("a packed plugin is the compiler's module with its data packed, and starts with the same memory", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tollgate-pack-"));
  try {
    for (const name of ["rate-limit", "noop"]) {
      const plain = join(dir, `${name}.wasm`);
      await compileAssemblyScript(join(repoRoot(), "plugins", name, "index.ts"), plain, "release", true, false);
      const original = readFileSync(plain);
      const packed = packDataSection(original);
      assert.ok(packed, `${name}: packing applies`);
      assert.deepEqual(Buffer.from(packed.wasm), readFileSync(pluginWasm(name)), `${name}: dist holds the packed compiler output (run \`tollgate build\`)`);
      assert.ok(packed.wasm.length < original.length, `${name}: smaller (${original.length} → ${packed.wasm.length} bytes)`);
      assert.equal(readModuleInfo(packed.wasm).exports.filter((e) => e.name === "_initialize").length, 1, "one _initialize export");
      const a = memoryAfterStart(original);
      const b = memoryAfterStart(packed.wasm);
      assert.equal(b.length, a.length, `${name}: same initial memory`);
      // Every byte: the static data put back, the packed bytes' scratch zeroed, the start function's writes alike.
      assert.ok(Buffer.from(a).equals(Buffer.from(b)), `${name}: memory after _initialize differs at byte ${a.findIndex((x, i) => x !== b[i])}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("modules that do not fit the scheme are left alone", () => {
  // No memory at all / memory without data: nothing to pack.
  const empty = Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00);
  assert.equal(packDataSection(empty), null);
  const memOnly = Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x05, 0x03, 0x01, 0x00, 0x01);
  assert.equal(packDataSection(memOnly), null);
  // Data but no `_initialize` to run the unpacker from.
  const noStart = Uint8Array.of(...memOnly, 0x0b, 0x0a, 0x01, 0x00, 0x41, 0x10, 0x0b, 0x04, 0x61, 0x62, 0x63, 0x64);
  assert.ok(new WebAssembly.Module(noStart), "the fixture is a valid module");
  assert.equal(packDataSection(noStart), null);
});
