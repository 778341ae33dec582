// The import graph of a folder of modules, read as text (nothing executed), and its cycles: for the layout
// tests of tools/host, assembly/ and the plugins.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** The `.ts` files of `dir` (not recursive) by name → source. */
export function sources(dir: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const f of readdirSync(dir).sort()) if (f.endsWith(".ts")) m.set(f, readFileSync(join(dir, f), "utf8"));
  return m;
}

/**
 * The module specifiers `src` imports or re-exports from (type-only and bare `import "x"` included: a type
 * cycle is a cycle), as written: `./x.ts` (TypeScript) or `./x` (AssemblyScript).
 */
export function importSpecifiers(src: string): string[] {
  const re = /^(?:import|export)\s+(?:type\s+)?(?:(?:\{[^}]*\}|\*(?:\s+as\s+\w+)?|\w+(?:\s*,\s*\{[^}]*\})?)\s+from\s+)?"([^"]+)"/gm;
  const inline = /\bimport\("([^"]+)"\)/g;
  return [...src.matchAll(re), ...src.matchAll(inline)].map((m) => m[1]);
}

/** The sibling modules (file names in the same folder) `src` imports: `./x.ts` and `./x` both give `x.ts`. */
export function siblingImports(src: string): string[] {
  return importSpecifiers(src)
    .map((s) => /^\.\/([\w-]+)(?:\.ts)?$/.exec(s)?.[1])
    .filter((m): m is string => m !== undefined)
    .map((m) => `${m}.ts`);
}

/** The modules of each import loop: Tarjan's strongly connected components with more than one module (or a self-import). */
export function cycles(graph: Map<string, string[]>): string[][] {
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

/** The sibling-import graph of `dir`. */
export function siblingGraph(dir: string): Map<string, string[]> {
  const src = sources(dir);
  return new Map([...src].map(([f, s]) => [f, siblingImports(s).filter((d) => src.has(d))]));
}

/** Files of `dir` longer than `max` lines, with their line counts. */
export function longFiles(dir: string, max: number): Array<[string, number]> {
  return [...sources(dir)].map(([f, s]) => [f, s.split("\n").length] as [string, number]).filter(([, n]) => n > max);
}
