// Every built plugin module links in Envoy: it exports proxy_abi_version_0_2_1 and imports only env.proxy_*
// host functions and the WASI functions Envoy provides (abi.md §1.2, §1.6, §13), each with Envoy's exact
// signature; exported callbacks have the signatures Envoy looks up (§1.3).
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { linkCheck } from "../../tools/host/plugin.ts";
import { formatType, readModuleInfo, sameType } from "../../tools/host/link.ts";
import { callbackSignatures, hostSignatures, WASI_MODULES } from "../../tools/host/signatures.ts";
import { repoRoot } from "../../tools/paths.ts";

const dir = join(repoRoot(), "dist", "plugins");
const modules = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".wasm")).sort() : [];

test("dist/plugins holds built modules (run `tollgate build` first)", () => {
  assert.ok(modules.includes("noop.wasm"), `no noop.wasm in ${dir}`);
});

const host = hostSignatures("0_2_1");
const callbacks = callbackSignatures("0_2_1");

for (const file of modules) {
  test(`${file}: ABI 0.2.1 marker, Envoy imports only, Envoy callback signatures`, () => {
    const bytes = readFileSync(join(dir, file));
    const info = readModuleInfo(bytes);
    const marker = info.exports.find((e) => e.name === "proxy_abi_version_0_2_1");
    assert.ok(marker && marker.kind === "function", "exports function proxy_abi_version_0_2_1");
    assert.ok(!info.exports.some((e) => /^proxy_abi_version_0_(1_0|2_0)$/.test(e.name)), "no other ABI marker");
    for (const imp of info.imports) {
      const where = `${imp.module}.${imp.name}`;
      assert.equal(imp.kind, "function", `${where} is a function import (Envoy rejects imported globals)`);
      if (imp.module === "env") {
        assert.match(imp.name, /^proxy_/, `${where}: env imports must be proxy_* host functions (e.g. no env.abort — build with abort routing)`);
      } else {
        assert.ok((WASI_MODULES as readonly string[]).includes(imp.module), `${where}: only env and WASI modules are provided`);
      }
      const want = host.get(imp.module)?.get(imp.name);
      assert.ok(want, `${where} is not a host function Envoy registers for ABI 0.2.1`);
      assert.ok(sameType(imp.type!, want), `${where}: module wants ${formatType(imp.type!)}, Envoy provides ${formatType(want)}`);
    }
    for (const e of info.exports) {
      const want = callbacks.get(e.name);
      if (want && e.kind === "function") assert.ok(sameType(e.type!, want), `export ${e.name}: ${formatType(e.type!)} but Envoy calls ${formatType(want)}`);
    }
    assert.ok(info.exports.some((e) => e.name === "malloc" || e.name === "proxy_on_memory_allocate"), "exports an allocator");
    assert.ok(info.exports.some((e) => e.name === "memory" && e.kind === "memory"), "exports memory");
    assert.equal(linkCheck(bytes), "0_2_1");
  });
}
