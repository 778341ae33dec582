// Bundles the TypeScript CLI (lib/tollgate.js) and the test API users import as `tollgate/testing` (lib/testing.js)
// into lib/ with esbuild (run by `npm install` via prepare, and by npm scripts). `--pack` (prepack) also writes
// the test API's type declarations (lib/types/) and removes files of earlier bundles, so the package holds only
// this bundle.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { dirname, join, relative } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pack = process.argv.includes("--pack");
const lib = join(root, "lib");
const result = await build({
  entryPoints: { tollgate: join(root, "tools/cli/main.ts"), testing: join(root, "tools/testing/index.ts") },
  outdir: lib,
  entryNames: "[name]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  sourcemap: "linked",
  logLevel: "warning",
  metafile: pack,
});

if (pack) {
  const keep = new Set(Object.keys(result.metafile.outputs).map((f) => join(root, f)));
  for (const f of readdirSync(lib)) {
    const p = join(lib, f);
    if (statSync(p).isFile() && !keep.has(p)) rmSync(p);
  }
  // Declarations of tollgate/testing and what it re-exports; relative `.ts` specifiers become `.js` so the
  // .d.ts files resolve each other under every moduleResolution a user may pick.
  const types = join(lib, "types");
  rmSync(types, { recursive: true, force: true });
  const tsc = join(dirname(createRequire(import.meta.url).resolve("typescript/package.json")), "bin", "tsc");
  execFileSync(process.execPath, [tsc, "--declaration", "--emitDeclarationOnly", "--allowImportingTsExtensions", "--module", "nodenext",
    "--target", "es2022", "--skipLibCheck", "--types", "node", "--rootDir", join(root, "tools"), "--outDir", types, join(root, "tools/testing/index.ts")], { stdio: "inherit" });
  const walk = (d) => readdirSync(d).forEach((n) => {
    const p = join(d, n);
    if (statSync(p).isDirectory()) return walk(p);
    writeFileSync(p, readFileSync(p, "utf8").replace(/(from\s+|import\()(["'])(\.{1,2}\/[^"']+)\.ts\2/g, "$1$2$3.js$2"));
  });
  walk(types);
  if (!existsSync(join(types, "testing", "index.d.ts"))) throw new Error(`no declarations in ${relative(root, types)}`);
}
