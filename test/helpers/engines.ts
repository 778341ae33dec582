// Both engines, one test: starts the same Envoy bootstrap (YAML text or object) on the embedded engine
// (in-process Gateway) or on real Envoy, and gives a test the same handle for either: listener ports,
// admin /stats, the plugins' log lines. Tests loop over ENGINES and skip nothing under CI=true (Envoy is
// required there: requireEnvoy in envoy.ts).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseEnvoyYaml, stringifyEnvoyYaml } from "../../tools/envoy/yaml.ts";
import { envoyListeners, launchEnvoy, type FoundEnvoy, type RunningEnvoy } from "../../tools/envoy/launcher.ts";
import { parseBootstrap } from "../../tools/gateway/config.ts";
import { Gateway } from "../../tools/gateway/server.ts";
import { repoRoot } from "../../tools/paths.ts";

export const ENGINES = ["embedded", "envoy"] as const;
export type Engine = (typeof ENGINES)[number];

export interface EngineHandle {
  engine: Engine;
  /** The bound port of a listener, by name. */
  port(listener: string): number;
  adminPort: number;
  /** Admin /stats as name → value (wasm custom metrics under the names the plugin defined). */
  stats(): Promise<Map<string, string>>;
  counter(name: string): Promise<number>;
  /**
   * Wasm messages in order, without the engine's prefix: what plugins logged (proxy_log) and the host's
   * own wasm lines (a VM failure: `Function: proxy_on_request_headers failed: …`).
   */
  logs(): string[];
  /** Every output line (Envoy's log; the embedded engine's plugin logs), for assertion messages. */
  output(): string[];
  stop(): Promise<void>;
}

function getText(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on("timeout", () => req.destroy(new Error(`admin ${path}: timeout`)));
    req.on("error", reject);
    req.end();
  });
}

function parseStats(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const i = line.indexOf(": ");
    if (i > 0) out.set(line.slice(0, i), line.slice(i + 2));
  }
  return out;
}

// Envoy prints a plugin's proxy_log as `… [wasm] [source/extensions/common/wasm/context.cc:NNN] wasm log
// <plugin name> <root id> <vm id>: <message>`, and its own wasm lines as `… [wasm] [<file>:NNN] <message>`.
const ENVOY_WASM_LINE = /\]\[wasm\] \[[^\]]+\] (?:wasm log [^:]*: )?(.*)$/;

export interface StartOptions {
  /** Worker threads: the embedded engine's workers, Envoy's --concurrency (default 1). */
  concurrency?: number;
  /** Log level for Envoy (default info, so plugin logs at info and above are printed). */
  logLevel?: string;
}

/** Starts `bootstrap` on `engine`; wasm paths resolve from the repository root on both. */
export async function startEngine(engine: Engine, bootstrap: string | object, envoy: FoundEnvoy | null, opts: StartOptions = {}): Promise<EngineHandle> {
  // Read and written as Envoy reads YAML, so both engines get the same values (a plain `on` is a bool to both).
  const doc = typeof bootstrap === "string" ? parseEnvoyYaml(bootstrap) : bootstrap;
  const concurrency = opts.concurrency ?? 1;
  if (engine === "embedded") {
    const logs: string[] = [];
    const lines: string[] = [];
    const gw = await Gateway.start(parseBootstrap(doc as Record<string, unknown>, "test.yaml", repoRoot()), {
      workers: concurrency,
      onLog: (r) => {
        logs.push(r.message);
        lines.push(r.source === "plugin" ? r.line : r.message);
      },
    });
    const adminPort = gw.adminPort!;
    const stats = async () => parseStats((await getText(adminPort, "/stats")).body);
    return {
      engine,
      port: (name) => {
        const l = gw.listeners.find((x) => x.config.name === name);
        if (!l) throw new Error(`no listener ${name}`);
        return l.port;
      },
      adminPort,
      stats,
      counter: async (name) => Number((await stats()).get(name) ?? 0),
      logs: () => logs.slice(),
      output: () => lines.slice(),
      stop: () => gw.close(),
    };
  }
  if (!envoy) throw new Error("startEngine('envoy') needs the Envoy from requireEnvoy(t)");
  const dir = mkdtempSync(join(tmpdir(), "tollgate-engine-"));
  const file = join(dir, "bootstrap.yaml");
  writeFileSync(file, stringifyEnvoyYaml(doc));
  const lines: string[] = [];
  let running: RunningEnvoy;
  try {
    running = await launchEnvoy(envoy, file, {
      hasAdmin: Boolean((doc as { admin?: unknown }).admin),
      cwd: repoRoot(),
      onLine: (l) => lines.push(l),
      extraArgs: ["--concurrency", String(concurrency), "-l", opts.logLevel ?? "info"],
      env: { ...process.env, ENVOY_VERSION: process.env.ENVOY_VERSION ?? "1.40.0" },
      readyTimeoutMs: 60_000,
    });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${(e as Error).message}\n${lines.slice(-40).join("\n")}`);
  }
  const adminPort = Number(new URL(running.adminUrl).port);
  // Listener name → bound port, from the admin (listeners on port 0 get an ephemeral port).
  const ports = new Map((await envoyListeners(running.adminUrl)).map((l) => [l.name, Number(new URL(l.url).port)]));
  const stats = async () => parseStats((await getText(adminPort, "/stats")).body);
  return {
    engine,
    port: (name) => {
      const p = ports.get(name);
      if (p === undefined) throw new Error(`no listener ${name} (Envoy has ${[...ports.keys()].join(", ")})`);
      return p;
    },
    adminPort,
    stats,
    counter: async (name) => Number((await stats()).get(name) ?? 0),
    logs: () => lines.flatMap((l) => {
      const m = ENVOY_WASM_LINE.exec(l);
      return m ? [m[1]] : [];
    }),
    output: () => lines.slice(),
    stop: async () => {
      await running.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
