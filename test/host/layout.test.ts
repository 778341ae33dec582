// The shape of tools/host (issue 16 item 4): no import cycles between its modules and no file that has
// grown past one concern. Reads the sources as text; nothing is executed.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { cycles, longFiles, siblingGraph, siblingImports } from "../helpers/import-graph.ts";

const HOST = join(import.meta.dirname, "../../tools/host");
const MAX_LINES = 450;

test("tools/host has no import cycle between its modules", () => {
  assert.deepEqual(cycles(siblingGraph(HOST)), [], "modules that import each other (directly or around a loop)");
});

test("the import parser sees every kind of sibling import, and the cycle finder finds a loop (so the test can fail)", () => {
  const src = [
    `import { a, type B } from "./x.ts";`,
    `import type { C } from "./y.ts";`,
    `import { type D, type E } from "./z.ts";`,
    `export { f } from "./w.ts";`,
    `import * as ns from "./v.ts";`,
    `import { q } from "../elsewhere/u.ts";`,
    `let vms: Array<import("./t.ts").T>;`,
  ].join("\n");
  assert.deepEqual(siblingImports(src), ["x.ts", "y.ts", "z.ts", "w.ts", "v.ts", "t.ts"]);
  assert.deepEqual(cycles(new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]], ["d", ["a"]]])), [["a", "b", "c"]]);
});

test(`no tools/host module is over ${MAX_LINES} lines (split where a second concern lives inside)`, () => {
  assert.deepEqual(longFiles(HOST, MAX_LINES), []);
});
