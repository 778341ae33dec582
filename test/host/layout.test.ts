// The shape of tools/host (issue 16 item 4): no import cycles between its modules and no file that has
// grown past one concern. Reads the sources as text; nothing is executed.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

const HOST = join(import.meta.dirname, "../../tools/host");
const MAX_LINES = 450;

function sources(): Map<string, string> {
  const m = new Map<string, string>();
  for (const f of readdirSync(HOST).sort()) if (f.endsWith(".ts")) m.set(f, readFileSync(join(HOST, f), "utf8"));
  return m;
}

/** The sibling modules `src` imports or re-exports from, type-only imports included (a type cycle is a cycle). */
function hostImports(src: string): string[] {
  const re = /^(?:import|export)\s+(?:type\s+)?(?:\{[^}]*\}|\*(?:\s+as\s+\w+)?|\w+(?:\s*,\s*\{[^}]*\})?)\s+from\s+"\.\/([\w-]+\.ts)"/gm;
  const inline = /\bimport\("\.\/([\w-]+\.ts)"\)/g;
  return [...src.matchAll(re), ...src.matchAll(inline)].map((m) => m[1]);
}

/** The modules of each import loop: Tarjan's strongly connected components with more than one module (or a self-import). */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

test("tools/host has no import cycle between its modules", () => {
  const src = sources();
  const graph = new Map([...src].map(([f, s]) => [f, hostImports(s).filter((d) => src.has(d))]));
  assert.deepEqual(cycles(graph), [], "modules that import each other (directly or around a loop)");
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
  assert.deepEqual(hostImports(src), ["x.ts", "y.ts", "z.ts", "w.ts", "v.ts", "t.ts"]);
  assert.deepEqual(cycles(new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]], ["d", ["a"]]])), [["a", "b", "c"]]);
});

test(`no tools/host module is over ${MAX_LINES} lines (split where a second concern lives inside)`, () => {
  const long = [...sources()].map(([f, s]) => [f, s.split("\n").length] as const).filter(([, n]) => n > MAX_LINES);
  assert.deepEqual(long, []);
});
