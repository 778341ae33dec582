// `tollgate up --engine envoy|auto`: which binary runs and with which argv/env. Real Envoy cannot exist here,
// so these tests use a FAKE envoy (and a FAKE func-e): a small Node script written by the test that records
// its argv and ENVOY_VERSION, serves admin /ready on the --admin-address-path it was given, and exits on
// SIGTERM. Nothing here claims an Envoy run happened.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { findEnvoy, planLaunch } from "../../tools/envoy/launcher.ts";
import { repoRoot } from "../../tools/paths.ts";

const tmp = mkdtempSync(join(tmpdir(), "tollgate-fake-envoy-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

const FAKE = `#!${process.execPath}
// FAKE envoy for tollgate's launcher tests — not Envoy. Records argv, serves admin /ready.
const fs = require("node:fs");
const http = require("node:http");
const args = process.argv.slice(2);
fs.writeFileSync(process.env.FAKE_ENVOY_RECORD, JSON.stringify({ args, envoyVersion: process.env.ENVOY_VERSION ?? null, cwd: process.cwd() }));
if (process.env.FAKE_ENVOY_MODE === "offline") {
  console.error("error: couldn't read latest version from https://archive.tetratelabs.io/envoy/envoy-versions.json: Get \\"https://archive.tetratelabs.io/envoy/envoy-versions.json\\": dial tcp: lookup archive.tetratelabs.io: no such host");
  process.exit(1);
}
if (process.env.FAKE_ENVOY_MODE === "crash") {
  console.error("[critical][main] error initializing configuration 'x.yaml': fake failure");
  process.exit(1);
}
const i = args.indexOf("--admin-address-path");
const server = http.createServer((req, res) => res.end(req.url === "/ready" ? "LIVE\\n" : "?"));
server.listen(0, "127.0.0.1", () => {
  fs.writeFileSync(args[i + 1], "127.0.0.1:" + server.address().port);
  console.log("[info][main] fake envoy started");
});
process.on("SIGTERM", () => { console.log("[warning][main] caught SIGTERM"); server.close(); process.exit(0); });
// Never outlive the tollgate that started it (e.g. when a test kills it hard).
const parent = process.ppid;
setInterval(() => { if (process.ppid !== parent) process.exit(1); }, 500).unref();
`;

function fakeBin(dirName: string, binName: string): string {
  const dir = join(tmp, dirName);
  mkdirSync(dir, { recursive: true });
  const p = join(dir, binName);
  writeFileSync(p, FAKE);
  chmodSync(p, 0o755);
  return p;
}

interface Run {
  code: number | null;
  stdout: string[];
  stderr: string;
  record: { args: string[]; envoyVersion: string | null; cwd: string } | null;
}

/** Runs `tollgate up` with env; once "ready:" is printed, sends SIGTERM (the Ctrl-C path). Bounded to 30 s. */
function up(args: string[], env: Record<string, string>): Promise<Run> {
  const record = join(tmp, `record-${Math.random().toString(36).slice(2)}.json`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot(), "tools/cli/main.ts"), "up", ...args], {
      cwd: repoRoot(),
      env: { HOME: process.env.HOME ?? tmp, FAKE_ENVOY_RECORD: record, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const stdout: string[] = [];
    let stderr = "";
    let buf = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`timed out; stdout: ${stdout.join("\n")}; stderr: ${stderr}`));
    }, 30_000);
    child.stdout.on("data", (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split("\n");
      buf = lines.pop()!;
      for (const l of lines) {
        stdout.push(l);
        if (l.startsWith("ready:")) child.kill("SIGTERM");
      }
    });
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (buf) stdout.push(buf);
      resolve({ code, stdout, stderr, record: existsSync(record) ? JSON.parse(readFileSync(record, "utf8")) : null });
    });
  });
}

test("findEnvoy order: ENVOY_PATH, then envoy on PATH, then func-e on PATH", () => {
  const envoy = fakeBin("order-path", "envoy");
  const funce = fakeBin("order-funce", "func-e");
  const explicit = fakeBin("order-explicit", "my-envoy");
  assert.deepEqual(findEnvoy({ ENVOY_PATH: explicit, PATH: `${join(tmp, "order-path")}:${join(tmp, "order-funce")}` }), { source: "ENVOY_PATH", path: explicit, reason: `ENVOY_PATH=${explicit}` });
  assert.equal((findEnvoy({ PATH: `${join(tmp, "order-funce")}:${join(tmp, "order-path")}` }) as { path: string }).path, envoy);
  assert.equal((findEnvoy({ PATH: join(tmp, "order-funce") }) as { path: string }).path, funce);
  assert.deepEqual(findEnvoy({ PATH: join(tmp, "nothing-here") }), { reason: "no ENVOY_PATH, no envoy and no func-e on PATH" });
  assert.match((findEnvoy({ ENVOY_PATH: join(tmp, "missing") }) as { reason: string }).reason, /is not an executable file/);
});

test("planLaunch: envoy gets -c and --admin-address-path (+ ephemeral admin when the file has none); func-e gets `run` first", () => {
  const found = { source: "PATH" as const, path: "/x/envoy", reason: "" };
  assert.deepEqual(planLaunch(found, "a.yaml", { hasAdmin: true, runDir: "/r" }).args, ["-c", "a.yaml", "--admin-address-path", "/r/admin-address.txt"]);
  assert.deepEqual(planLaunch(found, "a.yaml", { hasAdmin: false, runDir: "/r" }).args, [
    "-c", "a.yaml", "--admin-address-path", "/r/admin-address.txt",
    "--config-yaml", "admin: {address: {socket_address: {address: '127.0.0.1', port_value: 0}}}",
  ]);
  const fe = planLaunch({ source: "func-e", path: "/x/func-e", reason: "" }, "a.yaml", { hasAdmin: false, runDir: "/r", env: { ENVOY_VERSION: "1.33.2" } });
  assert.deepEqual([fe.command, ...fe.args], ["/x/func-e", "run", "-c", "a.yaml", "--admin-address-path", "/r/admin-address.txt"]);
  assert.equal(fe.env.ENVOY_VERSION, "1.33.2");
});

test("up --engine envoy with ENVOY_PATH (FAKE envoy): first line names it, argv recorded, SIGTERM stops it cleanly", async () => {
  const bin = fakeBin("explicit", "fake-envoy");
  const r = await up(["envoy-configs/demo.yaml", "--engine", "envoy"], { ENVOY_PATH: bin, PATH: join(tmp, "empty") });
  assert.equal(r.stdout[0], `engine: envoy — ENVOY_PATH=${bin} (--engine envoy)`);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.record!.args.slice(0, 3), ["-c", "envoy-configs/demo.yaml", "--admin-address-path"]);
  assert.equal(r.record!.args.length, 4, "demo.yaml has an admin address: no injected admin");
  assert.equal(r.record!.cwd, repoRoot(), "Envoy runs in the working directory, so relative Wasm paths resolve there");
  assert.ok(r.stdout.some((l) => l === "[envoy] [info][main] fake envoy started"), "Envoy's output is streamed");
  assert.ok(r.stdout.some((l) => /^ready: Envoy admin http:\/\/127\.0\.0\.1:\d+/.test(l)));
});

test("up --engine auto prefers envoy on PATH (FAKE envoy)", async () => {
  fakeBin("onpath", "envoy");
  const r = await up(["envoy-configs/noop.yaml"], { PATH: join(tmp, "onpath") });
  assert.equal(r.stdout[0], `engine: envoy — envoy found on PATH at ${join(tmp, "onpath", "envoy")} (--engine auto)`);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.record!.args[0], "-c");
});

test("up falls back to func-e (FAKE func-e): `func-e run -c <file>`, ENVOY_VERSION passed through", async () => {
  fakeBin("funce", "func-e");
  const r = await up(["envoy-configs/demo.yaml", "--engine", "envoy"], { PATH: join(tmp, "funce"), ENVOY_VERSION: "1.33.2" });
  assert.match(r.stdout[0], /^engine: envoy — func-e found on PATH at .*func-e \(ENVOY_VERSION=1\.33\.2\) \(--engine envoy\)$/);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.record!.args.slice(0, 3), ["run", "-c", "envoy-configs/demo.yaml"]);
  assert.equal(r.record!.envoyVersion, "1.33.2");
});

test("func-e without network (FAKE func-e printing func-e's download error): a clear message, exit 1", async () => {
  fakeBin("offline", "func-e");
  const r = await up(["envoy-configs/demo.yaml", "--engine", "envoy"], { PATH: join(tmp, "offline"), FAKE_ENVOY_MODE: "offline" });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /func-e could not download Envoy: it needs the internet on first use/);
  assert.match(r.stderr, /ENVOY_PATH/);
  assert.ok(!/\n\s+at /.test(r.stderr), "no stack trace");
});

test("an Envoy that exits before ready (FAKE envoy) is reported with its exit code", async () => {
  const bin = fakeBin("crash", "envoy");
  const r = await up(["envoy-configs/demo.yaml", "--engine", "envoy"], { ENVOY_PATH: bin, FAKE_ENVOY_MODE: "crash", PATH: "" });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /envoy exited with code 1 before it was ready/);
  assert.match(r.stderr, /\[envoy\] \[critical\]\[main\] error initializing configuration/);
});

test("--engine envoy without any Envoy fails with the reason; auto says why it picked embedded", async () => {
  const r = await up(["envoy-configs/demo.yaml", "--engine", "envoy"], { PATH: join(tmp, "empty") });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--engine envoy: no usable Envoy \(no ENVOY_PATH, no envoy and no func-e on PATH\)/);
  const bad = await up(["envoy-configs/demo.yaml", "--engine", "envoy"], { ENVOY_PATH: join(tmp, "nope"), PATH: "" });
  assert.match(bad.stderr, /ENVOY_PATH=.*nope is not an executable file/);
  const missing = await up(["does-not-exist.yaml"], { PATH: join(tmp, "empty") });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /does-not-exist\.yaml: no such file/);
  // auto with nothing usable: the first line names the embedded engine and the reason; it serves until SIGTERM.
  const file = join(tmp, "direct.yaml");
  writeFileSync(file, [
    "static_resources:",
    "  listeners:",
    "  - name: l",
    "    address: {socket_address: {address: 127.0.0.1, port_value: 0}}",
    "    filter_chains:",
    "    - filters:",
    "      - name: envoy.filters.network.http_connection_manager",
    "        typed_config:",
    '          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
    "          stat_prefix: l",
    "          route_config: {virtual_hosts: [{name: v, domains: ['*'], routes: [{match: {prefix: /}, direct_response: {status: 200}}]}]}",
    '          http_filters: [{name: envoy.filters.http.router, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}]',
  ].join("\n"));
  const auto = await up([file], { PATH: join(tmp, "empty") });
  assert.equal(auto.stdout[0], "engine: embedded — no ENVOY_PATH, no envoy and no func-e on PATH (--engine auto)");
  assert.ok(auto.stdout.some((l) => /^listener l: http:\/\/127\.0\.0\.1:\d+$/.test(l)), auto.stdout.join("\n"));
  assert.equal(auto.code, 0, auto.stderr);
});
