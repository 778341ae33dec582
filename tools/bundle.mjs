// Bundles the TypeScript CLI into lib/ with esbuild (run by `npm install` via prepare, and by npm scripts).
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
await build({
  entryPoints: [join(root, "tools/cli/main.ts")],
  outdir: join(root, "lib"),
  entryNames: "tollgate",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  sourcemap: "linked",
  logLevel: "warning",
});
