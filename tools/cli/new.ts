// `tollgate new <name> [--template header|auth|empty]`: a plugin in the house shape, in the user's project.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { projectRoot, repoRoot } from "../paths.ts";
import { type Command, str } from "./args.ts";
import { CliError, UsageError } from "./errors.ts";

export const TEMPLATES = ["header", "auth", "empty"] as const;
export type Template = (typeof TEMPLATES)[number];

/** my-plugin → MyPlugin (the class names of the scaffold). */
export function className(name: string): string {
  return name.split(/[-_]/).filter(Boolean).map((p) => p[0].toUpperCase() + p.slice(1)).join("");
}

function filesUnder(dir: string, base = dir, out: string[] = []): string[] {
  for (const n of readdirSync(dir).sort()) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) filesUnder(p, base, out);
    else out.push(relative(base, p));
  }
  return out;
}

/** Writes the scaffold under `root`; returns the files written (relative). Refuses to overwrite anything. */
export function scaffold(root: string, name: string, template: Template): string[] {
  const dir = join(repoRoot(), "templates");
  const layers = [join(dir, "common"), join(dir, template)];
  const files = new Map<string, string>();
  for (const layer of layers) for (const f of filesUnder(layer)) files.set(f, join(layer, f));
  const meta = JSON.parse(readFileSync(files.get(join("plugins", "__NAME__", "plugin.json"))!, "utf8")) as { examples: Array<{ config: object }> };
  // The bootstrap carries the first example config as a single-quoted YAML string.
  const config = JSON.stringify(meta.examples[0]?.config ?? {}).replaceAll("__NAME__", name).replaceAll("'", "''");
  const subst = (s: string) => s.replaceAll("__NAME__", name).replaceAll("__CLASS__", className(name)).replaceAll("__CONFIG__", config);
  const out = [...files.keys()].map((f) => subst(f));
  const clash = out.filter((f) => existsSync(join(root, f)));
  if (existsSync(join(root, "plugins", name))) clash.unshift(join("plugins", name));
  if (clash.length) throw new CliError(`${clash[0]} already exists`, 1, `pick another name, or move ${clash[0]} away first`);
  for (const [f, src] of files) {
    const target = join(root, subst(f));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, subst(readFileSync(src, "utf8")));
  }
  return out.sort();
}

const command: Command = {
  name: "new",
  summary: "Scaffold plugins/<name>/ (index, config, decide, stream, constants, replies, plugin.json, README), a test and an Envoy bootstrap.",
  usage: "new <name> [--template header|auth|empty]",
  description: [
    "Writes into the project (the nearest package.json, or --root):",
    "  plugins/<name>/            the plugin in the house shape, importing tollgate/assembly",
    "  test/<name>.test.ts        its tests on the compiled .wasm through tollgate/testing (run: tollgate test)",
    "  envoy-configs/<name>.yaml  an Envoy bootstrap serving it on 127.0.0.1:10000 (run: tollgate up <file>)",
    "Templates: header (sets a response header), auth (API key check: 401/403 local replies), empty (passes",
    "everything through; the skeleton to start from). Nothing is overwritten.",
  ].join("\n"),
  options: {
    template: { type: "string", short: "t", description: "header | auth | empty", default: "header", valueName: "name" },
  },
  async run(args) {
    if (args.positionals.length !== 1) throw new UsageError("tollgate new needs one plugin name", "e.g. tollgate new my-plugin");
    const name = args.positionals[0];
    if (!/^[a-z][a-z0-9-]{0,62}$/.test(name) || name.endsWith("-")) {
      throw new UsageError(`plugin name '${name}' must be lower-case letters, digits and dashes, starting with a letter`, "it is the folder, root_id, .wasm and OCI repository name, e.g. my-plugin");
    }
    const template = str(args.values.template) ?? "header";
    if (!TEMPLATES.includes(template as Template)) throw new UsageError(`--template must be one of ${TEMPLATES.join(", ")}, got '${template}'`);
    const root = projectRoot();
    const files = scaffold(root, name, template as Template);
    const where = relative(process.cwd(), root);
    console.log(`created ${files.length} files${where ? ` in ${where}` : ""} (template ${template}):`);
    for (const f of files) console.log(`  ${f}`);
    console.log("");
    console.log("next:");
    console.log(`  npx tollgate build ${name}`);
    console.log("  npx tollgate test");
    console.log(`  npx tollgate up envoy-configs/${name}.yaml     # then: curl -i http://127.0.0.1:10000/`);
    return 0;
  },
};
export default command;
