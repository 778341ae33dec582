// `tollgate up --engine envoy|auto` end to end on real Envoy, found each way a user has it: ENVOY_PATH, `envoy`
// on PATH, and func-e (offline: its versions URL is a closed port, its data home holds the same binary). Each
// run checks the first line (which engine and why), the wait for admin /ready, Envoy's logs streamed, a
// listener answering, and that Ctrl-C (SIGINT to `tollgate up`) leaves no Envoy (or func-e) process behind.
// Outside CI these tests skip when no Envoy is installed; under CI=true they fail (requireEnvoy).
import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, test, type TestContext } from "node:test";
import { envoyBinary, findEnvoy, planLaunch } from "../../tools/envoy/launcher.ts";
import { repoRoot } from "../../tools/paths.ts";
import { requireEnvoy } from "../helpers/envoy.ts";
import { requireTool } from "../helpers/tools.ts";
import { closedPort } from "../../tools/diff/gateway.ts";

const tmp = mkdtempSync(join(tmpdir(), "tollgate-envoy-launcher-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** The real Envoy binary and its version (e.g. "1.40.0"), or null after a skip (outside CI). */
function realEnvoy(t: TestContext): { bin: string; version: string } | null {
  const found = requireEnvoy(t);
  if (!found) return null;
  const bin = envoyBinary(found);
  const out = execFileSync(bin, ["--version"], { encoding: "utf8" });
  const m = /version: [0-9a-f]+\/(\d+\.\d+\.\d+)\//.exec(out);
  assert.ok(m, `cannot read the version from: ${out}`);
  return { bin, version: m[1] };
}


const HCM = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
const ROUTER = '[{name: envoy.filters.http.router, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}]';

/**
 * A bootstrap with a listener "direct" answering 200 "served directly", no admin (tollgate adds an ephemeral
 * one). With `rdsWaitS`, a second listener takes its routes from an RDS server on a closed port with that
 * initial_fetch_timeout, so Envoy stays un-ready (admin /ready 503) for that long: `ready:` must wait for it.
 */
async function bootstrap(name: string, rdsWaitS = 0): Promise<string> {
  const lines = [
    "static_resources:",
    "  listeners:",
    "  - name: direct",
    "    address: {socket_address: {address: 127.0.0.1, port_value: 0}}",
    "    filter_chains:",
    "    - filters:",
    "      - name: envoy.filters.network.http_connection_manager",
    "        typed_config:",
    `          "@type": ${HCM}`,
    "          stat_prefix: direct",
    "          route_config: {virtual_hosts: [{name: v, domains: ['*'], routes: [{match: {prefix: /}, direct_response: {status: 200, body: {inline_string: served directly}}}]}]}",
    `          http_filters: ${ROUTER}`,
  ];
  if (rdsWaitS > 0) {
    lines.unshift("node: {id: tollgate-test, cluster: tollgate-test}");
    lines.push(
      "  - name: waits-for-rds",
      "    address: {socket_address: {address: 127.0.0.1, port_value: 0}}",
      "    filter_chains:",
      "    - filters:",
      "      - name: envoy.filters.network.http_connection_manager",
      "        typed_config:",
      `          "@type": ${HCM}`,
      "          stat_prefix: waits",
      "          rds:",
      "            route_config_name: never-served",
      "            config_source:",
      "              resource_api_version: V3",
      `              initial_fetch_timeout: ${rdsWaitS}s`,
      "              api_config_source: {api_type: GRPC, transport_api_version: V3, grpc_services: [{envoy_grpc: {cluster_name: rds}}]}",
      `          http_filters: ${ROUTER}`,
      "  clusters:",
      "  - name: rds",
      "    type: STATIC",
      "    connect_timeout: 0.25s",
      "    typed_extension_protocol_options:",
      "      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:",
      '        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
      "        explicit_http_config: {http2_protocol_options: {}}",
      `    load_assignment: {cluster_name: rds, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ${await closedPort()}}}}}]}]}`,
    );
  }
  const file = join(tmp, `${name}.yaml`);
  writeFileSync(file, lines.join("\n") + "\n");
  return file;
}

/** Processes whose command line mentions `needle` (the unique bootstrap path): pid → argv[0]. */
function processesWith(needle: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${d}/cmdline`, "utf8").split("\0");
    } catch {
      continue;
    }
    if (argv.some((a) => a.includes(needle))) out.set(Number(d), argv[0]);
  }
  return out;
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { timeout: 5000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error(`no answer from ${url}`)));
    req.on("error", reject);
    req.end();
  });
}

interface Up {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  /** ms since spawn at which each stdout / stderr line arrived. */
  stdoutAt: number[];
  stderrAt: number[];
  /** Resolves once `ready:` is printed (rejects if `tollgate up` exits first or after 60 s). */
  ready: Promise<void>;
  exited: Promise<number | null>;
  listener(name: string): string;
  admin(): string;
}

/** Starts `tollgate up <args>` from the repository root with exactly `env` (plus HOME). */
function up(args: string[], env: Record<string, string>): Up {
  const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot(), "tools/cli/main.ts"), "up", ...args], {
    cwd: repoRoot(),
    env: { HOME: process.env.HOME ?? tmp, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const t0 = Date.now();
  const u = { child, stdout: [] as string[], stderr: [] as string[], stdoutAt: [] as number[], stderrAt: [] as number[] } as Up;
  const lines = (stream: NodeJS.ReadableStream, into: string[], at: number[], onLine: (l: string) => void): void => {
    let buf = "";
    stream.on("data", (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split("\n");
      buf = parts.pop()!;
      for (const l of parts) {
        into.push(l);
        at.push(Date.now() - t0);
        onLine(l);
      }
    });
  };
  u.exited = new Promise((resolve) => child.on("exit", (code) => resolve(code)));
  u.ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`tollgate up not ready in 60 s:\n${u.stdout.join("\n")}\n${u.stderr.join("\n")}`));
    }, 60_000);
    lines(child.stdout!, u.stdout, u.stdoutAt, (l) => {
      if (l.startsWith("ready:")) {
        clearTimeout(timer);
        resolve();
      }
    });
    lines(child.stderr!, u.stderr, u.stderrAt, () => {});
    void u.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`tollgate up exited with ${code} before ready:\n${u.stdout.join("\n")}\n${u.stderr.join("\n")}`));
    });
  });
  u.ready.catch(() => {});
  u.listener = (name) => {
    const l = u.stdout.map((x) => new RegExp(`^listener ${name}: (http://\\S+)$`).exec(x)).find(Boolean);
    assert.ok(l, `no 'listener ${name}:' line in:\n${u.stdout.join("\n")}`);
    return l[1];
  };
  u.admin = () => {
    const a = u.stdout.map((x) => /^ready: Envoy admin (http:\/\/\S+)/.exec(x)).find(Boolean);
    assert.ok(a, u.stdout.join("\n"));
    return a[1];
  };
  return u;
}

/** Kills a run that a failed assertion left behind (bounded cleanup). */
function reap(u: Up): void {
  if (u.child.exitCode === null && u.child.signalCode === null) u.child.kill("SIGKILL");
}

/**
 * The checks every way of finding Envoy must pass once `tollgate up` is ready: the listener answers, admin
 * /ready says LIVE, Envoy's own log lines are streamed with an [envoy] prefix, `processes` are running; then
 * SIGINT (what Ctrl-C sends) stops `tollgate up` with exit 0 and none of those processes is left.
 */
async function serveThenCtrlC(u: Up, file: string, expectArgv0: Array<string | RegExp>): Promise<void> {
  await u.ready;
  assert.deepEqual(await get(`${u.listener("direct")}/x`), { status: 200, body: "served directly" });
  assert.deepEqual(await get(`${u.admin()}/ready`), { status: 200, body: "LIVE\n" });
  assert.ok(u.stderr.some((l) => /^\[envoy\] .*\[info\]\[main\].*starting main dispatch loop/.test(l)), `Envoy's log is streamed:\n${u.stderr.join("\n")}`);
  const running = processesWith(file);
  for (const want of expectArgv0) {
    assert.ok([...running.values()].some((a) => (typeof want === "string" ? a === want : want.test(a))), `a process ${want} runs ${file}: ${JSON.stringify([...running])}`);
  }
  u.child.kill("SIGINT");
  const code = await u.exited;
  assert.equal(code, 0, u.stderr.join("\n"));
  assert.ok(u.stdout.includes("stopping Envoy…"), u.stdout.join("\n"));
  const left = [...running.keys()].filter((pid) => processesWith(file).has(pid));
  assert.deepEqual(left, [], `still running after Ctrl-C: ${left.map((p) => `${p} ${running.get(p)}`).join(", ")}`);
}

test("findEnvoy order: ENVOY_PATH, then envoy on PATH, then func-e on PATH (links to the real binaries)", (t) => {
  const envoy = realEnvoy(t);
  if (!envoy) return;
  const funce = requireTool(t, "func-e", "npm run envoy:install");
  if (!funce) return;
  const dir = (name: string, bin: string, target: string): string => {
    const d = join(tmp, name);
    mkdirSync(d, { recursive: true });
    symlinkSync(target, join(d, bin));
    return d;
  };
  const withEnvoy = dir("order-envoy", "envoy", envoy.bin);
  const withFuncE = dir("order-funce", "func-e", funce);
  assert.deepEqual(findEnvoy({ ENVOY_PATH: envoy.bin, PATH: `${withEnvoy}:${withFuncE}` }), { source: "ENVOY_PATH", path: envoy.bin, reason: `ENVOY_PATH=${envoy.bin}` });
  assert.deepEqual(findEnvoy({ PATH: `${withFuncE}:${withEnvoy}` }), { source: "PATH", path: join(withEnvoy, "envoy"), reason: `envoy found on PATH at ${join(withEnvoy, "envoy")}` });
  assert.deepEqual(findEnvoy({ PATH: withFuncE, ENVOY_VERSION: "1.40.0" }), {
    source: "func-e",
    path: join(withFuncE, "func-e"),
    reason: `func-e found on PATH at ${join(withFuncE, "func-e")} (ENVOY_VERSION=1.40.0)`,
  });
  assert.deepEqual(findEnvoy({ PATH: join(tmp, "nothing-here") }), { reason: "no ENVOY_PATH, no envoy and no func-e on PATH" });
  assert.match((findEnvoy({ ENVOY_PATH: join(tmp, "missing") }) as { reason: string }).reason, /is not an executable file/);
});

test("planLaunch: -c, --admin-address-path and --disable-hot-restart (+ an ephemeral admin when the file has none); func-e gets `run` first", () => {
  const found = { source: "PATH" as const, path: "/x/envoy", reason: "" };
  assert.deepEqual(planLaunch(found, "a.yaml", { hasAdmin: true, runDir: "/r" }).args, ["-c", "a.yaml", "--admin-address-path", "/r/admin-address.txt", "--disable-hot-restart"]);
  assert.deepEqual(planLaunch(found, "a.yaml", { hasAdmin: false, runDir: "/r" }).args, [
    "-c", "a.yaml", "--admin-address-path", "/r/admin-address.txt", "--disable-hot-restart",
    "--config-yaml", "admin: {address: {socket_address: {address: '127.0.0.1', port_value: 0}}}",
  ]);
  const fe = planLaunch({ source: "func-e", path: "/x/func-e", reason: "" }, "a.yaml", { hasAdmin: false, runDir: "/r", env: { ENVOY_VERSION: "1.40.0" } });
  assert.deepEqual([fe.command, ...fe.args], ["/x/func-e", "run", "-c", "a.yaml", "--admin-address-path", "/r/admin-address.txt", "--disable-hot-restart"]);
  assert.equal(fe.env.ENVOY_VERSION, "1.40.0");
});

test("up --engine envoy with ENVOY_PATH: first line, waits for admin /ready (a 3 s RDS init), streams logs, Ctrl-C stops Envoy", async (t) => {
  const envoy = realEnvoy(t);
  if (!envoy) return;
  const file = await bootstrap("envoy-path", 3);
  const u = up([file, "--engine", "envoy"], { ENVOY_PATH: envoy.bin, PATH: join(tmp, "empty") });
  try {
    await u.ready;
    assert.equal(u.stdout[0], `engine: envoy — ENVOY_PATH=${envoy.bin} (--engine envoy)`);
    // Envoy's init waits for the RDS fetch to time out (3 s after its listeners load); only then do workers
    // start and /ready turn 200. Admin answers (503) the whole time, so an early `ready:` would show here.
    const readyAt = u.stdoutAt[u.stdout.findIndex((l) => l.startsWith("ready:"))];
    const firstEnvoyLineAt = u.stderrAt[u.stderr.findIndex((l) => l.startsWith("[envoy] "))];
    assert.ok(u.stderr.some((l) => /all dependencies initialized\. starting workers/.test(l)), `Envoy logged no 'starting workers':\n${u.stderr.join("\n")}`);
    assert.ok(readyAt - firstEnvoyLineAt >= 2800, `ready: printed ${readyAt - firstEnvoyLineAt} ms after Envoy's first log line, before its 3 s RDS init could end`);
    assert.ok(u.stderr.some((l) => /^\[envoy\] .*initial fetch timed out for type\.googleapis\.com\/envoy\.config\.route\.v3\.RouteConfiguration/.test(l)), `the RDS wait shows in Envoy's log:\n${u.stderr.join("\n")}`);
    assert.equal((await get(`${u.listener("waits-for-rds")}/`)).status, 404, "the RDS listener serves (no routes: 404) once ready");
    await serveThenCtrlC(u, file, [envoy.bin]);
  } finally {
    reap(u);
  }
});

test("up --engine auto with `envoy` on PATH (ENVOY_PATH unset): first line names it, Ctrl-C stops Envoy", async (t) => {
  const envoy = realEnvoy(t);
  if (!envoy) return;
  const dir = join(tmp, "path-envoy");
  mkdirSync(dir, { recursive: true });
  symlinkSync(envoy.bin, join(dir, "envoy"));
  const file = await bootstrap("on-path");
  const u = up([file], { PATH: dir });
  try {
    await u.ready;
    assert.equal(u.stdout[0], `engine: envoy — envoy found on PATH at ${join(dir, "envoy")} (--engine auto)`);
    await serveThenCtrlC(u, file, [join(dir, "envoy")]);
  } finally {
    reap(u);
  }
});

/** func-e alone on PATH with empty homes and its versions URL on a closed port: no Envoy, no download. */
async function emptyFuncE(funce: string, name: string): Promise<{ home: string; env: Record<string, string> }> {
  const home = join(tmp, name);
  const pathDir = join(home, "path");
  mkdirSync(pathDir, { recursive: true });
  symlinkSync(funce, join(pathDir, "func-e"));
  return {
    home,
    env: {
      PATH: pathDir,
      FUNC_E_DATA_HOME: join(home, "data"),
      FUNC_E_CONFIG_HOME: join(home, "config"),
      FUNC_E_STATE_HOME: join(home, "state"),
      FUNC_E_RUNTIME_DIR: join(home, "runtime"),
      ENVOY_VERSIONS_URL: `http://127.0.0.1:${await closedPort()}/envoy-versions.json`,
    },
  };
}

/** A func-e home whose data dir holds the real binary as envoy-versions/<version>; its versions URL is closed. */
async function funcEHome(name: string, envoy: { bin: string; version: string }, funce: string): Promise<Record<string, string>> {
  const { env } = await emptyFuncE(funce, name);
  const slot = join(env.FUNC_E_DATA_HOME, "envoy-versions", envoy.version, "bin", "envoy");
  mkdirSync(dirname(slot), { recursive: true });
  symlinkSync(envoy.bin, slot);
  return env;
}

test("up --engine auto through func-e (ENVOY_VERSION, no download: versions URL is a closed port): serves, Ctrl-C stops func-e and Envoy", async (t) => {
  const envoy = realEnvoy(t);
  if (!envoy) return;
  const funce = requireTool(t, "func-e", "npm run envoy:install");
  if (!funce) return;
  const env = { ...(await funcEHome("funce-version", envoy, funce)), ENVOY_VERSION: envoy.version };
  const file = await bootstrap("funce-version");
  const u = up([file], env);
  try {
    await u.ready;
    assert.equal(u.stdout[0], `engine: envoy — func-e found on PATH at ${join(env.PATH, "func-e")} (ENVOY_VERSION=${envoy.version}) (--engine auto)`);
    assert.ok(u.stdout.some((l) => l === `[envoy] ${envoy.version} is already downloaded`) || u.stderr.some((l) => l === `[envoy] ${envoy.version} is already downloaded`), "func-e used the installed binary");
    await serveThenCtrlC(u, file, [join(env.PATH, "func-e"), join(env.FUNC_E_DATA_HOME, "envoy-versions", envoy.version, "bin", "envoy")]);
  } finally {
    reap(u);
  }
});

test("up --engine envoy through func-e with the version chosen by `func-e use` (offline)", async (t) => {
  const envoy = realEnvoy(t);
  if (!envoy) return;
  const funce = requireTool(t, "func-e", "npm run envoy:install");
  if (!funce) return;
  const env = await funcEHome("funce-use", envoy, funce);
  const use = execFileSync(funce, ["use", envoy.version], { env: { HOME: tmp, ...env }, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  assert.match(use, new RegExp(`${envoy.version.replace(/\./g, "\\.")} is already downloaded`));
  const file = await bootstrap("funce-use");
  const u = up([file, "--engine", "envoy"], env);
  try {
    await u.ready;
    assert.match(u.stdout[0], /^engine: envoy — func-e found on PATH at .*func-e \(Envoy version chosen by func-e\) \(--engine envoy\)$/);
    await serveThenCtrlC(u, file, [join(env.PATH, "func-e")]);
  } finally {
    reap(u);
  }
});

test("several Envoys at once (no hot-restart clash): three `tollgate up` on one machine all serve", async (t) => {
  const envoy = realEnvoy(t);
  if (!envoy) return;
  const files = await Promise.all([0, 1, 2].map((i) => bootstrap(`many-${i}`)));
  const ups = files.map((f) => up([f, "--engine", "envoy"], { ENVOY_PATH: envoy.bin, PATH: join(tmp, "empty") }));
  try {
    await Promise.all(ups.map((u) => u.ready));
    const urls = new Set(ups.map((u) => u.listener("direct")));
    assert.equal(urls.size, 3, [...urls].join(", "));
    for (const u of ups) assert.deepEqual(await get(`${u.listener("direct")}/`), { status: 200, body: "served directly" });
    await Promise.all(ups.map((u, i) => serveThenCtrlC(u, files[i], [envoy.bin])));
  } finally {
    ups.forEach(reap);
  }
});

test("func-e with nothing installed and no network: a clear message, exit 1", async (t) => {
  const funce = requireTool(t, "func-e", "npm run envoy:install");
  if (!funce) return;
  const { home, env } = await emptyFuncE(funce, "funce-offline");
  const file = await bootstrap("funce-offline");
  const u = up([file, "--engine", "envoy"], { ...env, ENVOY_VERSION: "1.40.0" });
  try {
    assert.equal(await u.exited, 1);
    const err = u.stderr.join("\n");
    assert.match(err, /func-e could not download Envoy: it needs the internet on first use/);
    assert.match(err, /ENVOY_PATH/);
    assert.ok(!/\n\s+at /.test(err), "no stack trace");
    assert.ok(!existsSync(join(home, "data", "envoy-versions", "1.40.0", "bin", "envoy")));
  } finally {
    reap(u);
  }
});

test("up --engine auto with a func-e that has no Envoy and no network: the embedded engine serves, and the first line says why", async (t) => {
  const funce = requireTool(t, "func-e", "npm run envoy:install");
  if (!funce) return;
  const { home, env } = await emptyFuncE(funce, "funce-auto-offline");
  const file = await bootstrap("funce-auto-offline");
  const u = up([file], { ...env, PATH: `${env.PATH}:${dirname(process.execPath)}` });
  try {
    await u.ready;
    assert.match(u.stdout[0], /^engine: embedded — func-e found on PATH but it has no Envoy to run: .* \(--engine auto\)$/);
    const versions = join(home, "data", "envoy-versions");
    assert.deepEqual(existsSync(versions) ? readdirSync(versions) : [], [], "no Envoy version was downloaded");
  } finally {
    reap(u);
  }
});

test("an Envoy that rejects the bootstrap exits before ready: reported with its exit code and Envoy's own error", async (t) => {
  const envoy = realEnvoy(t);
  if (!envoy) return;
  const file = join(tmp, "bad.yaml");
  writeFileSync(file, "static_resources: {listeners: [], clusters: []}\nbogus_field: 1\n");
  const u = up([file, "--engine", "envoy"], { ENVOY_PATH: envoy.bin, PATH: join(tmp, "empty") });
  try {
    assert.equal(await u.exited, 1);
    const err = u.stderr.join("\n");
    assert.match(err, /envoy exited with code 1 before it was ready/);
    assert.match(err, /\[envoy\] .*bogus_field/);
  } finally {
    reap(u);
  }
});

test("--engine envoy without any Envoy fails with the reason; auto says why it picked embedded", async () => {
  const none = { PATH: join(tmp, "empty") };
  const r = up(["envoy-configs/demo.yaml", "--engine", "envoy"], none);
  assert.equal(await r.exited, 1);
  assert.match(r.stderr.join("\n"), /--engine envoy: no usable Envoy \(no ENVOY_PATH, no envoy and no func-e on PATH\)/);
  const bad = up(["envoy-configs/demo.yaml", "--engine", "envoy"], { ENVOY_PATH: join(tmp, "nope"), PATH: "" });
  assert.equal(await bad.exited, 1);
  assert.match(bad.stderr.join("\n"), /ENVOY_PATH=.*nope is not an executable file/);
  const missing = up(["does-not-exist.yaml"], none);
  assert.equal(await missing.exited, 1);
  assert.match(missing.stderr.join("\n"), /does-not-exist\.yaml: no such file/);
  // auto with nothing usable: the first line names the embedded engine and the reason; it serves until Ctrl-C.
  const file = await bootstrap("embedded");
  const auto = up([file], none);
  try {
    await auto.ready;
    assert.equal(auto.stdout[0], "engine: embedded — no ENVOY_PATH, no envoy and no func-e on PATH (--engine auto)");
    assert.deepEqual(await get(`${auto.listener("direct")}/`), { status: 200, body: "served directly" });
    auto.child.kill("SIGINT");
    assert.equal(await auto.exited, 0, auto.stderr.join("\n"));
  } finally {
    reap(auto);
  }
});
