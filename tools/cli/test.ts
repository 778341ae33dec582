// `tollgate test`: builds the project's plugins, then runs its tests with node's test runner once per build
// (release, debug), TypeScript through tsx, as tollgate tests its own plugins.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { buildPlugins } from "../build/plugins.ts";
import { projectRoot } from "../paths.ts";
import { type Command, str } from "./args.ts";
import { CliError, UsageError } from "./errors.ts";

const TEST_FILE = /\.test\.(ts|mts|js|mjs)$/;

/** Test files under test/ and plugins/ of the project (node_modules, dist and dot-folders skipped). */
export function findTests(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const n of readdirSync(dir).sort()) {
      if (n.startsWith(".") || n === "node_modules" || n === "dist") continue;
      const p = join(dir, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (TEST_FILE.test(n)) out.push(p);
    }
  };
  for (const d of ["test", "plugins"]) if (existsSync(join(root, d))) walk(join(root, d));
  return out;
}

function run(files: string[], build: "release" | "debug", root: string, extra: string[]): Promise<number> {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  const args = ["--import", tsx, "--test", ...extra, ...files];
  // NODE_TEST_CONTEXT (set when this runs under another node --test) would switch the child's reporter to the
  // parent's internal protocol: the user always gets the readable report.
  const env: NodeJS.ProcessEnv = { ...process.env, TOLLGATE_WASM_BUILD: build, TOLLGATE_ROOT: root };
  delete env.NODE_TEST_CONTEXT;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: "inherit", env });
    child.on("error", reject);
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const command: Command = {
  name: "test",
  summary: "Build the project's plugins and run its tests (node --test) against the release and the debug build.",
  usage: "test [file...] [--build release|debug|both] [--no-build]",
  description: [
    "Test files: the given ones, else every *.test.{ts,mts,js,mjs} under test/ and plugins/ of the project.",
    "Each run sets TOLLGATE_WASM_BUILD (release, then debug); pluginWasm(name) from tollgate/testing returns the",
    "matching dist/plugins/<name>[.debug].wasm, so one test file covers both builds.",
  ].join("\n"),
  options: {
    build: { type: "string", description: "release | debug | both", default: "both", valueName: "which" },
    "no-build": { type: "boolean", description: "do not build the plugins first", default: false },
    "test-name-pattern": { type: "string", description: "only tests whose name matches (node --test-name-pattern)", valueName: "regex" },
  },
  async run(args) {
    const which = str(args.values.build) ?? "both";
    if (!["release", "debug", "both"].includes(which)) throw new UsageError(`--build must be release, debug or both, got '${which}'`);
    const root = projectRoot();
    const files = args.positionals.length ? args.positionals.map((f) => join(process.cwd(), f)) : findTests(root);
    for (const f of files) if (!existsSync(f)) throw new UsageError(`${relative(process.cwd(), f)}: no such test file`);
    if (!files.length) throw new CliError("no test files (*.test.ts under test/ or plugins/)", 1, "write one, or scaffold a plugin with its test: tollgate new <name>");
    if (args.values["no-build"] !== true) {
      for (const e of await buildPlugins([])) console.log(`built ${e.name} (${e.bytes} bytes)`);
    }
    const extra = str(args.values["test-name-pattern"]) ? [`--test-name-pattern=${str(args.values["test-name-pattern"])}`] : [];
    const builds = which === "both" ? (["release", "debug"] as const) : [which as "release" | "debug"];
    const failed: string[] = [];
    for (const b of builds) {
      console.log(`# tollgate test: ${b} build`);
      if ((await run(files, b, root, extra)) !== 0) failed.push(b);
    }
    if (failed.length) throw new CliError(`tests failed on the ${failed.join(" and ")} build${failed.length > 1 ? "s" : ""}`);
    console.log(`# tollgate test: passed on ${builds.join(" and ")}`);
    return 0;
  },
};
export default command;
