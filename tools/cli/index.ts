// The tollgate CLI entry: the one place that maps errors to messages and exit codes.
import { ToolError } from "../errors.ts";
import { GenError } from "../k8s/errors.ts";
import { setProjectRoot } from "../paths.ts";
import { UnknownPluginError } from "../plugins/errors.ts";
import { formatHelp, parseCommandArgs, type Command } from "./args.ts";
import { CliError } from "./errors.ts";
import { bugReportUrl, ownPackage } from "./package-info.ts";

/** Verbs, lazily imported so `tollgate --help` loads nothing heavy. */
const commands: Record<string, { summary: string; load: () => Promise<{ default: Command }> }> = {
  new: { summary: "scaffold a plugin, its test and an Envoy bootstrap in your project", load: () => import("./new.ts") },
  build: { summary: "compile plugins to dist/plugins/<name>.wasm", load: () => import("./build.ts") },
  test: { summary: "build, then run the project's plugin tests on the release and debug builds", load: () => import("./test.ts") },
  validate: { summary: "check a plugin config: schema + the plugin's own on_configure", load: () => import("./validate.ts") },
  gen: { summary: "generate Istio / Higress / Envoy manifests", load: () => import("./gen/index.ts") },
  push: { summary: "push a plugin as an Istio-loadable OCI image", load: () => import("./push.ts") },
  up: { summary: "run an Envoy bootstrap on Envoy (func-e) or the embedded engine", load: () => import("./up.ts") },
  start: { summary: "build, start the demo upstreams and the demo gateway", load: () => import("./start.ts") },
  echo: { summary: "run an upstream that answers with the request it got, as JSON", load: () => import("./echo.ts") },
  bench: { summary: "measure per-request cost, sizes and memory growth", load: () => import("./bench.ts") },
  docs: { summary: "regenerate the README config tables from plugin.json (--check: fail on drift)", load: () => import("./docs.ts") },
};

function mainHelp(): string {
  const width = Math.max(...Object.keys(commands).map((k) => k.length)) + 2;
  return [
    "tollgate — write, test and ship Envoy proxy-wasm plugins",
    "",
    "Usage: tollgate <command> [options]",
    "",
    "Commands:",
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`),
    "",
    "Run 'tollgate <command> --help' for a command's options.",
    "",
    "Every command works on the project it runs in: plugins/ and dist/ under the nearest package.json",
    "(its \"tollgate\": {\"root\": \"<dir>\"} field moves it; --root <dir> overrides both).",
  ].join("\n");
}

/** Library errors that mean the command line itself is wrong (a flag, a plugin name): exit 2 like UsageError. */
const USAGE_ERRORS = [UnknownPluginError, GenError];

/**
 * The one place errors become messages and exit codes: a ToolError (thrown by a command or by a library module
 * under tools/) prints its message and fix, no stack — exit 2 for usage mistakes, 1 for the rest, or a
 * CliError's own code. Anything else is a tollgate bug (internalError).
 */
export function reportError(e: unknown): number {
  if (!(e instanceof ToolError)) return internalError(e);
  console.error(`error: ${e.message}`);
  if (e.hint) console.error(`  fix: ${e.hint}`);
  if (e instanceof CliError) return e.exitCode;
  return USAGE_ERRORS.some((c) => e instanceof c) ? 2 : 1;
}

/**
 * Anything that is not a ToolError is a tollgate bug, never the user's input (bad input always ends in a
 * ToolError naming the file, field and fix): say so, say where to report it, and print the stack the report needs.
 */
export function internalError(e: unknown): number {
  const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  console.error(`error: internal error, this is a tollgate bug: ${msg}`);
  let url: string | undefined;
  try {
    url = bugReportUrl();
  } catch {
    url = undefined; // no package.json to read: still report the bug itself
  }
  console.error(url ? `  report it at ${url} with the command you ran and this stack trace:` : "  report it with the command you ran and this stack trace to the tollgate maintainers:");
  console.error(e instanceof Error && e.stack ? e.stack : String(e));
  return 70;
}

/** `--root <dir>` (anywhere on the line, every command): the project root instead of the nearest package.json. */
function takeRoot(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--root" && i + 1 < argv.length) setProjectRoot(argv[++i]);
    else if (a.startsWith("--root=")) setProjectRoot(a.slice("--root=".length));
    else out.push(a);
  }
  return out;
}

export async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = takeRoot(argv);
  if (!verb || verb === "--help" || verb === "-h" || verb === "help") {
    console.log(mainHelp());
    return 0;
  }
  if (verb === "--version" || verb === "-v") {
    console.log(ownPackage().version);
    return 0;
  }
  const entry = commands[verb];
  if (!entry) {
    console.error(`error: unknown command '${verb}'\n\n${mainHelp()}`);
    return 2;
  }
  try {
    const cmd = (await entry.load()).default;
    if (rest.includes("--help") || rest.includes("-h")) {
      console.log(formatHelp(cmd));
      return 0;
    }
    const code = await cmd.run(parseCommandArgs(cmd, rest));
    return typeof code === "number" ? code : 0;
  } catch (e) {
    return reportError(e);
  }
}
