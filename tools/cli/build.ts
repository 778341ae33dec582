import { join, relative } from "node:path";
import { buildPlugins } from "../build/plugins.ts";
import { projectRoot } from "../paths.ts";
import { type Command } from "./args.ts";

const command: Command = {
  name: "build",
  summary: "Compile plugins/<name>/index.ts to dist/plugins/<name>.wasm (release) and <name>.debug.wasm.",
  usage: "build [name...] [--force] [--quiet]",
  description: [
    "Writes dist/plugins/manifest.json (name, file, bytes, sha256, root_id) and prints size and sha256.",
    "A compile error prints the compiler's message and exits non-zero.",
    "",
    "Without names, builds every plugin of the project (plugins/*/index.ts under the project root: --root, else the",
    "nearest package.json). A name that is not the project's own builds tollgate's shipped plugin of that name",
    "(cors, canary, rate-limit, auth, noop) into the project's dist/. A module without the proxy-wasm exports",
    "(export * from \"tollgate/assembly/exports-headers\") is refused here, not at load.",
  ].join("\n"),
  options: {
    force: { type: "boolean", description: "recompile even when no input changed", default: false },
    quiet: { type: "boolean", description: "print only errors", default: false },
  },
  async run(args) {
    const entries = await buildPlugins(args.positionals, { force: args.values.force === true });
    if (args.values.quiet) return 0;
    const w = Math.max(6, ...entries.map((e) => e.name.length));
    console.log(`${"plugin".padEnd(w)}  ${"bytes".padStart(7)}  sha256`);
    for (const e of entries) console.log(`${e.name.padEnd(w)}  ${String(e.bytes).padStart(7)}  ${e.sha256}`);
    console.log(`manifest: ${relative(process.cwd(), join(projectRoot(), "dist", "plugins", "manifest.json")) || "dist/plugins/manifest.json"}`);
    return 0;
  },
};
export default command;
