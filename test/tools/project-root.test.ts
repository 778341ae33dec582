// Which project a command works on (issue 18 item 2): the nearest package.json above the working directory, moved
// by its "tollgate": {"root": "<dir>"} field, or --root; plugins/ and dist/ are that project's, and names the
// project lacks resolve to tollgate's shipped plugins.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, test } from "node:test";
import { repoRoot } from "../../tools/paths.ts";

const root = repoRoot();
// Resolved here: `--import tsx` would resolve from the project's folder, which has no node_modules.
const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const tmp = mkdtempSync(join(tmpdir(), "tollgate-project-root-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[], cwd: string) {
  const env = { ...process.env };
  delete env.TOLLGATE_ROOT;
  const r = spawnSync(process.execPath, ["--import", tsx, join(root, "tools/cli/main.ts"), ...args], { cwd, env, encoding: "utf8", timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

test("package.json's tollgate.root: new and build from a subdirectory use <root>/plugins and <root>/dist", { timeout: 180_000 }, () => {
  const proj = join(tmp, "moved");
  mkdirSync(join(proj, "src", "deep"), { recursive: true });
  writeFileSync(join(proj, "package.json"), JSON.stringify({ name: "moved", private: true, tollgate: { root: "gw" } }));
  const made = cli(["new", "edge", "--template", "empty"], join(proj, "src", "deep"));
  assert.equal(made.code, 0, made.err);
  assert.ok(existsSync(join(proj, "gw", "plugins", "edge", "index.ts")));
  assert.ok(existsSync(join(proj, "gw", "test", "edge.test.ts")));
  assert.match(readFileSync(join(proj, "gw", "plugins", "edge", "index.ts"), "utf8"), /export \* from "tollgate\/assembly\/exports-headers";/);
  const again = cli(["new", "edge"], proj);
  assert.equal(again.code, 1);
  assert.match(again.err, /plugins\/edge already exists/);
  const built = cli(["build"], join(proj, "src"));
  assert.equal(built.code, 0, built.err);
  assert.match(built.out, /^edge\s+\d+\s+[0-9a-f]{64}$/m);
  assert.ok(existsSync(join(proj, "gw", "dist", "plugins", "edge.wasm")) && existsSync(join(proj, "gw", "dist", "plugins", "edge.debug.wasm")));
  assert.ok(!existsSync(join(root, "dist", "plugins", "edge.wasm")), "nothing written into tollgate's own dist/");
});

test("--root overrides the package.json; an unknown name lists the project's and the shipped plugins", { timeout: 180_000 }, () => {
  const other = join(tmp, "other");
  mkdirSync(other);
  const made = cli(["new", "solo", "--template", "empty", "--root", other], tmp);
  assert.equal(made.code, 0, made.err);
  assert.ok(existsSync(join(other, "plugins", "solo", "plugin.json")));
  const unknown = cli(["build", "nope", "--root", other], tmp);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /no plugin named 'nope'/);
  assert.match(unknown.err, /one of: .*cors.*solo/);
  const bad = cli(["new", "Bad_Name"], tmp);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /must be lower-case letters, digits and dashes/);
});
