// The shape of the AssemblyScript library and the plugins (issue 16 item 3): no import cycles in
// assembly/, plugins reach the library only through its front door, and every plugin has the house's
// files (plugins/README.md). Reads the sources as text; nothing is compiled.
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { cycles, importSpecifiers, siblingGraph, siblingImports, sources } from "../helpers/import-graph.ts";

const ROOT = join(import.meta.dirname, "../..");
const ASSEMBLY = join(ROOT, "assembly");
const PLUGINS = join(ROOT, "plugins");
/** The files of the house shape; noop, the benchmark floor, has only index.ts. */
const HOUSE = ["index.ts", "config.ts", "decide.ts", "request.ts", "stream.ts", "replies.ts", "constants.ts", "decide.spec.ts", "plugin.json", "README.md"];
/** What a plugin may import from the library. */
const FRONT_DOORS = new Set(["tollgate/assembly", "tollgate/assembly/exports", "tollgate/assembly/exports-headers", "tollgate/assembly/exports-request-body", "tollgate/assembly/crypto"]);

const pluginNames = (): string[] => readdirSync(PLUGINS, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();

test("assembly/ and assembly/crypto/ have no import cycle", () => {
  assert.deepEqual(cycles(siblingGraph(ASSEMBLY)), []);
  assert.deepEqual(cycles(siblingGraph(join(ASSEMBLY, "crypto"))), []);
});

test("plugins import the library only through its front door, as users do (tollgate/assembly)", () => {
  const behind: string[] = [];
  for (const name of pluginNames()) {
    for (const [file, src] of sources(join(PLUGINS, name))) {
      for (const spec of importSpecifiers(src)) {
        if ((spec.includes("assembly") || spec.startsWith("tollgate")) && !FRONT_DOORS.has(spec)) behind.push(`plugins/${name}/${file}: "${spec}"`);
      }
    }
  }
  assert.deepEqual(behind, []);
});

test("every plugin has the house's files (noop: index.ts only)", () => {
  const missing: string[] = [];
  for (const name of pluginNames()) {
    const want = name === "noop" ? ["index.ts", "plugin.json", "README.md"] : HOUSE;
    for (const f of want) if (!existsSync(join(PLUGINS, name, f))) missing.push(`plugins/${name}/${f}`);
  }
  assert.deepEqual(missing, []);
});

test("index.ts only registers: it imports the exports, the library, constants and stream.ts", () => {
  const extra: string[] = [];
  for (const name of pluginNames()) {
    for (const spec of importSpecifiers(sources(join(PLUGINS, name)).get("index.ts") ?? "")) {
      if (!FRONT_DOORS.has(spec) && spec !== "./constants" && spec !== "./stream") extra.push(`plugins/${name}/index.ts: "${spec}"`);
    }
  }
  assert.deepEqual(extra, []);
});

test("decide.ts calls no host function (pure over its request view)", () => {
  const HOST_CALLS = /\b(get|add|replace|remove)Header\w*\(|\bsendLocalResponse|\blocalReply\(|\bhttpCall|\bgrpcCall|\bgetProperty\(|\bnowMillis\(|\bnowNanos\(|\brandomU32\(|\bincrementMetric\(|\bdefineMetric\(|\blog\(/;
  const impure: string[] = [];
  for (const name of pluginNames()) {
    const text = sources(join(PLUGINS, name)).get("decide.ts");
    if (text === undefined) continue;
    const src = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, ""); // code only, not comments
    if (HOST_CALLS.test(src)) impure.push(`plugins/${name}/decide.ts: ${HOST_CALLS.exec(src)![0]}`);
  }
  assert.deepEqual(impure, []);
});

test("the import reader sees AssemblyScript and TypeScript imports, and the cycle finder finds a loop", () => {
  const src = [`import { a } from "./x";`, `import "./log";`, `export * from "./y";`, `import { b } from "./z.ts";`, `import { c } from "../../assembly";`].join("\n");
  assert.deepEqual(siblingImports(src), ["x.ts", "log.ts", "y.ts", "z.ts"]);
  assert.deepEqual(cycles(new Map([["a", ["b"]], ["b", ["a"]]])), [["a", "b"]]);
});
