// The CLI's one exit point (STYLE.md rule 9): library errors become a message, a fix and an exit code in
// tools/cli/index.ts; anything else is reported as a tollgate bug with where to report it and the stack.
// `--version` is package.json's version.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ToolError } from "../../tools/errors.ts";
import { CompileError } from "../../tools/build/compile.ts";
import { CliError, UsageError } from "../../tools/cli/errors.ts";
import { internalError, reportError } from "../../tools/cli/index.ts";
import { bugReportUrl } from "../../tools/cli/package-info.ts";
import { GenError, GenInputError, GenOutputError, IngressError } from "../../tools/k8s/errors.ts";
import { PluginMetaError, PluginNotBuiltError, UnknownPluginError } from "../../tools/plugins/errors.ts";
import { repoRoot } from "../../tools/paths.ts";

const root = repoRoot();
const tmp = mkdtempSync(join(tmpdir(), "tollgate-cli-errors-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** The source entry (tsx) and the bundle users run (bin/tollgate.js → lib/). */
function cli(args: string[], bundled = false) {
  const argv = bundled ? [join(root, "bin/tollgate.js"), ...args] : ["--import", "tsx", join(root, "tools/cli/main.ts"), ...args];
  const r = spawnSync(process.execPath, argv, { cwd: root, encoding: "utf8", timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Runs `fn` with console.error captured. */
function captured(fn: () => number): { code: number; err: string } {
  const lines: string[] = [];
  const orig = console.error;
  console.error = (...a: unknown[]) => void lines.push(a.map(String).join(" "));
  try {
    return { code: fn(), err: lines.join("\n") };
  } finally {
    console.error = orig;
  }
}

const STACK_FRAME = /^\s+at .+[(:]\d+/m;

describe("reportError: each library error → message, fix, exit code; no stack", () => {
  const cases: Array<[string, ToolError, number]> = [
    ["UnknownPluginError", new UnknownPluginError("nope", "plugins/nope/index.ts", ["cors", "noop"]), 2],
    ["GenError", new GenError("--listen 'x' must be host:port", "e.g. --listen 127.0.0.1:8080"), 2],
    ["UsageError", new UsageError("expected a kind", "e.g. tollgate gen wasmplugin cors"), 2],
    ["CliError with its own code", new CliError("Envoy exited with code 3", 3, "see the log"), 3],
    ["PluginMetaError", new PluginMetaError("plugins/x/plugin.json", "priority", "must be an int32, got 1.5"), 1],
    ["PluginNotBuiltError", new PluginNotBuiltError("dist/plugins/x.wasm", "x"), 1],
    ["CompileError", new CompileError("compiling plugins/x/index.ts (release) failed:\nERROR TS2304", "fix the error above"), 1],
    ["GenInputError", new GenInputError("no networking.k8s.io/v1 Ingress in a.yaml", "pass the files that hold the Ingresses"), 1],
    ["GenOutputError", new GenOutputError("the generated envoy output does not validate", "this is a tollgate bug"), 1],
    ["IngressError", new IngressError("a.yaml", "spec.rules[0]", "is not a mapping", "fix the YAML"), 1],
  ];
  for (const [name, e, code] of cases) {
    test(name, () => {
      const r = captured(() => reportError(e));
      assert.equal(r.code, code);
      assert.equal(r.err, `error: ${e.message}\n  fix: ${e.hint}`);
      assert.doesNotMatch(r.err, STACK_FRAME);
      assert.doesNotMatch(r.err, /tollgate bug: /);
    });
  }
  test("error names are the class names (what a stack or a log shows)", () => {
    assert.equal(new UnknownPluginError("a", "b", []).name, "UnknownPluginError");
    assert.equal(new UsageError("m").name, "UsageError");
    assert.equal(new IngressError("f", "x", "p", "fix").name, "IngressError");
  });
});

describe("an unexpected error is a tollgate bug", () => {
  test("says so, says how to report it, prints the stack; exit 70", () => {
    const boom = new TypeError("boom");
    const r = captured(() => reportError(boom));
    assert.equal(r.code, 70);
    assert.match(r.err, /^error: internal error, this is a tollgate bug: TypeError: boom$/m);
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    if (pkg.bugs || pkg.repository) assert.match(r.err, /report it at https?:\/\/\S+ with the command you ran and this stack trace/);
    else assert.match(r.err, /report it with the command you ran and this stack trace to the tollgate maintainers/);
    assert.match(r.err, STACK_FRAME);
    assert.ok(r.err.includes(boom.stack!), "the whole stack");
  });
  test("a thrown non-Error is printed as it is", () => {
    const r = captured(() => internalError("just a string"));
    assert.equal(r.code, 70);
    assert.match(r.err, /tollgate bug: just a string$/m);
  });
  test("where to report: bugs, else a GitHub repository's issues, else none", () => {
    const table: Array<[object, string | undefined]> = [
      [{ bugs: { url: "https://example.org/tollgate/issues" } }, "https://example.org/tollgate/issues"],
      [{ bugs: "https://example.org/bugs" }, "https://example.org/bugs"],
      [{ repository: { type: "git", url: "git+https://github.com/acme/tollgate.git" } }, "https://github.com/acme/tollgate/issues"],
      [{ repository: "github:acme/tollgate" }, "https://github.com/acme/tollgate/issues"],
      [{ repository: "acme/tollgate" }, "https://github.com/acme/tollgate/issues"],
      [{ repository: "https://gitlab.com/acme/tollgate" }, undefined],
      [{}, undefined],
    ];
    for (const [pkg, want] of table) assert.equal(bugReportUrl({ name: "tollgate", ...pkg }), want, JSON.stringify(pkg));
  });
});

describe("through the CLI", () => {
  test("--version / -v print package.json's version, from the sources and from the bundle", () => {
    const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    assert.match(version, /^\d+\.\d+\.\d+/);
    for (const bundled of [false, true]) {
      for (const flag of ["--version", "-v"]) {
        const r = cli([flag], bundled);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, `${version}\n`);
      }
    }
  });
  test("an unknown plugin is a usage error (2) with the known plugins as the fix", () => {
    for (const args of [["build", "no-such-plugin"], ["gen", "wasmplugin", "no-such-plugin"]]) {
      const r = cli(args);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^error: no plugin named 'no-such-plugin' \(plugins\/no-such-plugin\/(index\.ts|plugin\.json) does not exist\)\n {2}fix: one of: .*\bcors\b/);
      assert.doesNotMatch(r.stderr, STACK_FRAME);
    }
  });
  test("a generator's flag error is a usage error (2)", () => {
    const r = cli(["gen", "envoy", "noop", "--upstream", "nowhere"]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr, "error: --upstream 'nowhere' must be host:port\n  fix: e.g. --upstream 127.0.0.1:8080\n");
  });
  test("input with nothing to generate from exits 1 with the fix", () => {
    const f = join(tmp, "no-ingress.yaml");
    writeFileSync(f, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n");
    const r = cli(["gen", "from-ingress", f, "--target", "envoy"]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /error: no networking\.k8s\.io\/v1 Ingress in .*no-ingress\.yaml\n {2}fix: pass the files that hold the Ingresses/);
  });
  test("an Ingress the translator cannot read exits 1 naming the file and field", () => {
    const f = join(tmp, "bad.yaml");
    writeFileSync(f, "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: a\n");
    const r = cli(["gen", "from-ingress", f, "--target", "envoy"]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^error: .*bad\.yaml: document 1: cannot parse: /);
    assert.match(r.stderr, /^ {2}fix: fix the YAML syntax$/m);
  });
  test("a plugin that is not built: exit 1, the fix is the build command", () => {
    const r = cli(["push", "no-such-plugin", "localhost:5000/x:1"]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr, "error: dist/plugins/no-such-plugin.wasm does not exist\n  fix: run 'tollgate build no-such-plugin' first\n");
  });
});
