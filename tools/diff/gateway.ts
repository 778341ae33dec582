// Starts a gateway the way a user does — `tollgate up <bootstrap> --engine X` — on a copy of an
// envoy-configs file whose listener and admin ports are rewritten to ephemeral loopback ones and whose
// clusters point at `tollgate echo` upstreams (or at a closed port). Shared by the scenario runner
// (test/scenarios) and the differential harness (tools/diff), so both engines start from one bootstrap.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseEnvoyYaml, stringifyEnvoyYaml } from "../envoy/yaml.ts";
import { compileAssemblyScript } from "../build/compile.ts";
import { startEcho, type EchoServer } from "../demo/echo.ts";
import { pluginDir, pluginWasm, repoRoot } from "../paths.ts";

export type Engine = "embedded" | "envoy";

export interface GatewayStartOptions {
  /** The envoy-configs file, relative to the repository root. */
  config: string;
  engine: Engine;
  /** Cluster name → "echo" (default: an echo upstream named after the cluster) or "down" (nothing listens). */
  upstreams?: Record<string, "echo" | "down">;
  env?: NodeJS.ProcessEnv;
  /** Edits the parsed bootstrap before it is written (after the port rewrite). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  edit?: (doc: any) => void;
}

export interface RunningGateway {
  engine: Engine;
  /** Listener name → base URL (http://127.0.0.1:port). */
  listeners: Map<string, string>;
  /** The first listener's name in the bootstrap. */
  firstListener: string;
  admin: string | null;
  output: string[];
  stop(): Promise<void>;
}

/** A free loopback port nobody listens on (for "down" upstreams). */
export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Builds the plugins a bootstrap loads from dist/plugins/ (cached by input hash), so runs use current code. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function buildReferencedPlugins(doc: any): Promise<void> {
  const files = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        if (k === "filename" && typeof x === "string") files.add(x);
        else walk(x);
      }
    }
  };
  walk(doc);
  for (const f of files) {
    const m = /^dist\/plugins\/([a-z0-9-]+?)(\.debug)?\.wasm$/.exec(f);
    if (!m) continue;
    const debug = m[2] !== undefined;
    await compileAssemblyScript(join(pluginDir(m[1]), "index.ts"), pluginWasm(m[1], debug), debug ? "debug" : "release");
  }
}

/**
 * Rewrites a parsed bootstrap in place for a local run: every listener and the admin on an ephemeral loopback
 * port, every cluster at one endpoint — an echo upstream named after the cluster, started here, or (mode
 * "down") a closed port. Returns the echo upstreams by cluster name; the caller closes them.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function localizeBootstrap(doc: any, upstreams?: Record<string, "echo" | "down">): Promise<Map<string, EchoServer>> {
  const echoes = new Map<string, EchoServer>();
  try {
    for (const c of doc.static_resources?.clusters ?? []) {
      const mode = upstreams?.[c.name] ?? "echo";
      let port: number;
      if (mode === "down") port = await closedPort();
      else {
        const e = await startEcho({ name: c.name });
        echoes.set(c.name, e);
        port = e.port;
      }
      c.load_assignment = { cluster_name: c.name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: port } } } }] }] };
    }
  } catch (e) {
    await Promise.all([...echoes.values()].map((x) => x.close()));
    throw e;
  }
  for (const l of doc.static_resources?.listeners ?? []) l.address = { socket_address: { address: "127.0.0.1", port_value: 0 } };
  doc.admin = { address: { socket_address: { address: "127.0.0.1", port_value: 0 } } };
  return echoes;
}

/** Starts echo upstreams + `tollgate up` for a config; every port is ephemeral (port 0). */
export async function startGateway(o: GatewayStartOptions): Promise<RunningGateway> {
  const root = repoRoot();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const doc = parseEnvoyYaml(readFileSync(join(root, o.config), "utf8")) as any;
  await buildReferencedPlugins(doc);
  const echoes: EchoServer[] = [];
  const tmp = mkdtempSync(join(tmpdir(), "tollgate-gw-"));
  let child: ChildProcess | null = null;
  const cleanup = async (): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child!.once("exit", r));
      child.kill("SIGTERM");
      const t = setTimeout(() => child!.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(t);
    }
    await Promise.all(echoes.map((e) => e.close()));
    rmSync(tmp, { recursive: true, force: true });
  };
  try {
    for (const e of (await localizeBootstrap(doc, o.upstreams)).values()) echoes.push(e);
    o.edit?.(doc);
    const file = join(tmp, "bootstrap.yaml");
    // Written so Envoy reads back what was parsed (a string `on` stays a string): tools/envoy/yaml.ts.
    writeFileSync(file, stringifyEnvoyYaml(doc));
    const { listeners, admin, output } = await spawnUp(file, o.engine, o.env, (c) => (child = c));
    return { engine: o.engine, listeners, firstListener: doc.static_resources.listeners[0].name, admin, output, stop: cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

/** A `tollgate up` that printed `ready:`: each listener's base URL as it printed them (both engines do). */
export interface UpProcess {
  child: ChildProcess;
  listeners: Map<string, string>;
  admin: string | null;
  output: string[];
}

/**
 * Runs `tollgate up <file> --engine <engine>` in the repository root (wasm paths stay relative, as with
 * `npm start`) and resolves once it is ready; `track` gets the child at once, so the caller can stop it
 * whatever happens. Rejects with the output when it exits first or is not ready in 60 s.
 */
export async function spawnUp(file: string, engine: Engine, env?: NodeJS.ProcessEnv, track?: (c: ChildProcess) => void): Promise<UpProcess> {
  const root = repoRoot();
  const child = spawn(process.execPath, ["--import", "tsx", join(root, "tools/cli/main.ts"), "up", file, "--engine", engine], {
    cwd: root,
    env: env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  track?.(child);
  const output: string[] = [];
  const listeners = new Map<string, string>();
  let admin: string | null = null;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tollgate up did not become ready in 60 s:\n${output.join("\n")}`)), 60_000);
    let buf = "";
    child.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split("\n");
      buf = lines.pop()!;
      for (const line of lines) {
        output.push(line);
        const m = /^listener (\S+): (http:\/\/\S+)$/.exec(line);
        if (m) listeners.set(m[1], m[2]);
        const a = /^admin: (http:\/\/\S+)/.exec(line) ?? /^ready: Envoy admin (http:\/\/\S+)/.exec(line);
        if (a) admin = a[1];
        if (line.startsWith("ready:")) {
          clearTimeout(timer);
          resolve();
        }
      }
    });
    child.stderr!.on("data", (d: Buffer) => output.push(...d.toString().trimEnd().split("\n")));
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`tollgate up exited with ${code}:\n${output.join("\n")}`));
    });
  });
  return { child, listeners, admin, output };
}
