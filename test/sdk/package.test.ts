// tollgate as a package (issue 18): `npm pack`, installed into a fresh project under the OS temp directory, and
// the README's "Write your own plugin" steps followed literally — npm init, npm install -D tollgate (the
// tarball), tollgate new, build, test, up on the embedded engine AND on real Envoy answering a request — then
// the deploy block (validate, gen wasmplugin), the other templates, the shipped plugins by name, a module
// without the ABI exports refused at build, and gen refusing a config the plugin's on_configure rejects.
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { get } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join, sep } from "node:path";
import { after, before, test } from "node:test";
import { repoRoot } from "../../tools/paths.ts";
import { requireEnvoy } from "../helpers/envoy.ts";

const root = repoRoot();
const work = mkdtempSync(join(tmpdir(), "tollgate-sdk-"));
after(() => rmSync(work, { recursive: true, force: true }));

/** The shell blocks of the README section "Write your own plugin", in order. */
function readmeBlocks(): string[][] {
  const text = readFileSync(join(root, "README.md"), "utf8");
  const start = text.indexOf("## Write your own plugin");
  assert.ok(start >= 0, "README.md has a 'Write your own plugin' section");
  const section = text.slice(start, text.indexOf("\n## ", start + 1));
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1].split("\n").map((l) => l.trim()).filter(Boolean));
}

/** A line without its trailing `# comment`. */
const command = (line: string) => line.replace(/\s+#.*$/, "").trim();

// No TOLLGATE_ROOT / TOLLGATE_WASM_BUILD from the outer run: the project is found as a user's would be.
// The user's npm, not this repository's node_modules/.bin: `npm test` puts that first on PATH, and a dependency
// of as-pect installs npm 6 there (no --pack-destination, no npx --yes), which a new user never runs.
const PATH = (process.env.PATH ?? "").split(delimiter).filter((d) => !d.split(sep).join("/").includes("node_modules/.bin")).join(delimiter);
const env = { ...process.env, PATH, TOLLGATE_ROOT: "", TOLLGATE_WASM_BUILD: "", npm_config_yes: "true", npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false" };
delete env.TOLLGATE_ROOT;
delete env.TOLLGATE_WASM_BUILD;
delete env.NODE_TEST_CONTEXT; // the project's own `node --test` must report as it would for a user

function sh(cmd: string, cwd: string, timeout = 150_000): { code: number; out: string; err: string } {
  const r = spawnSync("sh", ["-c", cmd], { cwd, env, encoding: "utf8", timeout });
  return { code: r.status ?? -1, out: r.stdout ?? "", err: `${r.stderr ?? ""}${r.error ? String(r.error) : ""}` };
}

function ok(cmd: string, cwd: string): string {
  const r = sh(cmd, cwd);
  assert.equal(r.code, 0, `${cmd} exited ${r.code}\n${r.out}\n${r.err}`);
  return r.out;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

function httpGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: 10_000, headers }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url}: timeout`)));
    req.on("error", reject);
  });
}

/**
 * Runs `npx tollgate up <file> --engine <engine>` (its own process group), waits for "ready", calls `probe`, and
 * stops it with SIGTERM (SIGKILL after 15 s); everything it started goes with it.
 */
async function serve(cwd: string, file: string, engine: "embedded" | "envoy", probe: () => Promise<void>): Promise<string> {
  const child = spawn("sh", ["-c", `exec npx tollgate up ${file} --engine ${engine}`], { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (c) => (out += c));
  child.stderr.on("data", (c) => (out += c));
  const exited = new Promise<number>((resolve) => child.on("exit", (code) => resolve(code ?? -1)));
  const stop = async () => {
    try {
      process.kill(-child.pid!, "SIGTERM");
    } catch {
      return; // already gone
    }
    const t = setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // gone
      }
    }, 15_000);
    await exited;
    clearTimeout(t);
  };
  try {
    const deadline = Date.now() + 90_000;
    while (!/^ready:/m.test(out)) {
      if (child.exitCode !== null) throw new Error(`tollgate up exited ${child.exitCode} before ready:\n${out}`);
      if (Date.now() > deadline) throw new Error(`tollgate up not ready in 90 s:\n${out}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await probe();
  } finally {
    await stop();
  }
  return out;
}

let tarball = "";
let project = "";
let upFile = "";
let curl: { url: string; header?: [string, string] } | null = null;

before(() => {
  // prepack bundles lib/ (and the test API's declarations) exactly as a publish would.
  const out = execFileSync("npm", ["pack", "--pack-destination", work, "--json"], { cwd: root, env, encoding: "utf8", timeout: 180_000, stdio: ["ignore", "pipe", "inherit"] });
  const info = JSON.parse(out.slice(out.indexOf("["))) as Array<{ filename: string; files: Array<{ path: string }> }>;
  tarball = join(work, info[0].filename);
  assert.ok(existsSync(tarball), tarball);
  const paths = info[0].files.map((f) => f.path);
  for (const must of ["bin/tollgate.js", "lib/tollgate.js", "lib/testing.js", "lib/types/testing/index.d.ts", "assembly/index.ts", "assembly/exports.ts", "assembly/crypto/index.ts", "templates/common/plugins/__NAME__/index.ts", "plugins/cors/index.ts", "asconfig.json"]) {
    assert.ok(paths.includes(must), `the package holds ${must}`);
  }
  assert.ok(!paths.some((p) => p.startsWith("test/") || p.startsWith("tools/cli/") || p.startsWith("dist/")), "no tests, sources of the CLI or build outputs in the package");
});

test("README 'Write your own plugin', followed literally: empty directory → installed → new → build → test", { timeout: 600_000 }, () => {
  const [steps] = readmeBlocks();
  let cwd = work;
  for (const line of steps) {
    const cmd = command(line);
    let m: RegExpExecArray | null;
    if ((m = /^mkdir (\S+) && cd (\S+)$/.exec(cmd))) {
      assert.equal(m[1], m[2]);
      cwd = join(work, m[1]);
      mkdirSync(cwd);
      project = cwd;
    } else if (/^npm (install|i) -D tollgate$/.test(cmd)) {
      // The package is not on the registry: the tarball stands in for it. Its dependencies come from the
      // registry (the local npm cache first).
      ok(`npm install -D ${JSON.stringify(tarball)} --prefer-offline`, cwd);
    } else if ((m = /^npx tollgate up (\S+)$/.exec(cmd))) {
      upFile = m[1];
    } else if ((m = /^curl -i (\S+)$/.exec(cmd))) {
      const h = /#\s*([a-z0-9-]+): (\S+)/.exec(line);
      curl = { url: m[1], header: h ? [h[1], h[2]] : undefined };
    } else {
      const out = ok(cmd, cwd);
      if (cmd.startsWith("npx tollgate new ")) assert.match(out, /next:\n {2}npx tollgate build \S+\n {2}npx tollgate test\n {2}npx tollgate up envoy-configs\//);
      if (cmd === "npx tollgate test") assert.match(out, /passed on release and debug/);
    }
  }
  assert.ok(project && upFile && curl, "the steps create a project, serve it and request it");
  const pkg = JSON.parse(readFileSync(join(project, "package.json"), "utf8")) as { devDependencies?: Record<string, string> };
  assert.ok(pkg.devDependencies?.tollgate, "tollgate is a devDependency of the project");
  assert.ok(existsSync(join(project, "dist", "plugins", "my-plugin.wasm")) && existsSync(join(project, "dist", "plugins", "my-plugin.debug.wasm")), "the project's own dist/");
  assert.ok(!existsSync(join(project, "node_modules", "tollgate", "dist")), "nothing written into the installed package");
});

for (const engine of ["embedded", "envoy"] as const) {
  test(`README: the scaffolded plugin serves on ${engine === "envoy" ? "real Envoy" : "the embedded engine"} and answers the curl`, { timeout: 180_000 }, async (t) => {
    assert.ok(project && upFile && curl, "the steps test ran");
    if (engine === "envoy" && !requireEnvoy(t)) return;
    // The README's file, on free ports (other tests may hold 10000 / 9901).
    const [listen, admin] = [await freePort(), await freePort()];
    const text = readFileSync(join(project, upFile), "utf8");
    assert.match(text, /port_value: 10000/);
    const file = `envoy-configs/up-${engine}.yaml`;
    writeFileSync(join(project, file), text.replace("port_value: 10000", `port_value: ${listen}`).replace("port_value: 9901", `port_value: ${admin}`));
    const url = curl!.url.replace(":10000", `:${listen}`);
    const out = await serve(project, file, engine, async () => {
      const res = await httpGet(url);
      assert.equal(res.status, 200, res.body);
      assert.match(res.body, /hello from behind my-plugin/);
      if (curl!.header) assert.equal(res.headers[curl!.header[0]], curl!.header[1]);
    });
    assert.match(out, new RegExp(`^engine: ${engine}`, "m"), "the first line names the engine");
  });
}

test("README deploy block: validate accepts the config, gen wasmplugin prints a WasmPlugin (push and kubectl left out)", { timeout: 120_000 }, () => {
  assert.ok(project, "the steps test ran");
  const [, deploy] = readmeBlocks();
  for (const line of deploy) {
    const cmd = command(line).replace(/\s*\|\s*kubectl apply -f -$/, "");
    if (cmd.startsWith("npx tollgate push ")) continue; // needs a registry: test/tools/push.test.ts covers push
    const out = ok(cmd, project);
    if (cmd.startsWith("npx tollgate gen wasmplugin")) {
      assert.match(out, /^kind: WasmPlugin$/m);
      assert.match(out, /^ {4}header: x-hello$/m);
    }
  }
});

test("gen refuses a config the plugin's own on_configure rejects, with the plugin's message, printing nothing", { timeout: 120_000 }, () => {
  writeFileSync(join(project, "framing.json"), JSON.stringify({ header: "content-length", value: "0" }));
  const r = sh("npx tollgate gen wasmplugin my-plugin --config framing.json --url oci://ghcr.io/acme/my-plugin:0.1.0 --selector app=a", project);
  assert.equal(r.code, 1, r.err);
  assert.equal(r.out, "");
  assert.match(r.err, /the my-plugin plugin rejects this config/);
  assert.match(r.err, /'header' cannot be "content-length": a framing header/);
});

test("the other templates build and pass their tests; tollgate test runs every project test on both builds", { timeout: 300_000 }, () => {
  ok("npx tollgate new key-check --template auth", project);
  ok("npx tollgate new skeleton --template empty", project);
  const r = sh("npx tollgate test", project, 300_000);
  assert.equal(r.code, 0, `${r.out}\n${r.err}`);
  for (const n of ["my-plugin", "key-check", "skeleton"]) assert.ok(existsSync(join(project, "dist", "plugins", `${n}.debug.wasm`)), n);
  // node --test prints one summary per run: three files, twice.
  assert.equal([...r.out.matchAll(/^# fail 0$/gm)].length, 2, r.out);
  assert.match(r.out, /passed on release and debug/);
  // The scaffolded READMEs' config tables come from each plugin.json.
  ok("npx tollgate docs", project);
  assert.match(readFileSync(join(project, "plugins", "key-check", "README.md"), "utf8"), /\| `keys` \|/);
  ok("npx tollgate docs --check", project);
});

for (const engine of ["embedded", "envoy"] as const) {
  test(`the auth and empty templates' bootstraps serve unchanged (but for the ports) on ${engine === "envoy" ? "real Envoy" : "the embedded engine"}`, { timeout: 240_000 }, async (t) => {
    assert.ok(existsSync(join(project, "envoy-configs", "key-check.yaml")), "the templates test ran");
    if (engine === "envoy" && !requireEnvoy(t)) return;
    const cases: Array<[string, Array<[Record<string, string>, number]>]> = [
      ["key-check", [[{}, 401], [{ "x-api-key": "not-the-key-0123456789" }, 403], [{ "x-api-key": "change-me-0123456789abcdef" }, 200]]],
      ["skeleton", [[{}, 200]]],
    ];
    for (const [name, probes] of cases) {
      const [listen, admin] = [await freePort(), await freePort()];
      const file = `envoy-configs/${name}-${engine}.yaml`;
      writeFileSync(join(project, file), readFileSync(join(project, "envoy-configs", `${name}.yaml`), "utf8").replace("port_value: 10000", `port_value: ${listen}`).replace("port_value: 9901", `port_value: ${admin}`));
      await serve(project, file, engine, async () => {
        for (const [headers, status] of probes) {
          const res = await httpGet(`http://127.0.0.1:${listen}/`, headers);
          assert.equal(res.status, status, `${name} ${JSON.stringify(headers)}: ${res.body}`);
        }
      });
    }
  });
}

test("a shipped plugin by name builds into the project's dist/; a module without the ABI exports is refused at build", { timeout: 180_000 }, () => {
  ok("npx tollgate build cors", project);
  assert.ok(existsSync(join(project, "dist", "plugins", "cors.wasm")));
  const manifest = JSON.parse(readFileSync(join(project, "dist", "plugins", "manifest.json"), "utf8")) as { plugins: Array<{ name: string }> };
  assert.deepEqual(manifest.plugins.map((p) => p.name).filter((n) => n === "cors" || n === "my-plugin"), ["cors", "my-plugin"]);

  const bare = join(project, "plugins", "bare");
  mkdirSync(bare);
  for (const f of readdirSync(join(project, "plugins", "my-plugin"))) writeFileSync(join(bare, f), readFileSync(join(project, "plugins", "my-plugin", f), "utf8").replaceAll("my-plugin", "bare").replaceAll("MyPlugin", "Bare"));
  const index = readFileSync(join(bare, "index.ts"), "utf8");
  writeFileSync(join(bare, "index.ts"), index.replace(/^export \* from "tollgate\/assembly\/exports-headers";\n/m, ""));
  const r = sh("npx tollgate build bare", project);
  rmSync(bare, { recursive: true, force: true });
  assert.equal(r.code, 1, r.out);
  assert.match(r.err, /without proxy_abi_version_0_2_1, proxy_on_context_create, malloc: Envoy would refuse it at load/);
  assert.match(r.err, /fix: add `export \* from "tollgate\/assembly\/exports-headers";` \(or "tollgate\/assembly\/exports" for every callback\) to plugins\/bare\/index\.ts/);
  assert.ok(!existsSync(join(project, "dist", "plugins", "bare.wasm")), "no module written");
});
