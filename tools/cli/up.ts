import { existsSync, readFileSync } from "node:fs";
import { parseEnvoyYaml } from "../envoy/yaml.ts";
import type { Command, ParsedArgs } from "./args.ts";
import { list, str } from "./args.ts";
import { CliError, UsageError } from "./errors.ts";

export type Engine = "auto" | "envoy" | "embedded";

export interface UpOptions {
  file: string;
  engine: Engine;
  workers: number;
  /** Output (the first line names the engine and why). */
  print?: (line: string) => void;
  printErr?: (line: string) => void;
  /** Called once the gateway serves (listener URLs, admin URL). */
  onReady?: (info: { engine: "envoy" | "embedded"; listeners: Array<{ name: string; url: string }>; admin: string | null }) => void;
  /** Stops the gateway when aborted; default: SIGINT / SIGTERM. */
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

/**
 * The stop signal: the caller's, or SIGINT/SIGTERM — installed before anything starts, so a Ctrl-C during
 * start-up still stops a child Envoy instead of orphaning it.
 */
function stopSignal(signal?: AbortSignal): { signal: AbortSignal; dispose(): void } {
  if (signal) return { signal, dispose: () => {} };
  const ac = new AbortController();
  const stop = (): void => ac.abort();
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  return {
    signal: ac.signal,
    dispose: () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
    },
  };
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

const LEVELS = ["trace", "debug", "info", "warning", "error", "critical"];

/** Runs `tollgate up`; resolves with the exit code when stopped. Throws a ToolError (CliError, EnvoyLaunchError, …) on start failures. */
export async function runUp(o: UpOptions): Promise<number> {
  const print = o.print ?? ((l: string) => console.log(l));
  const printErr = o.printErr ?? ((l: string) => console.error(l));
  if (!existsSync(o.file)) {
    throw new CliError(`${o.file}: no such file`, 1, "pass an Envoy bootstrap YAML, e.g. tollgate up envoy-configs/demo.yaml (paths are relative to the working directory)");
  }
  const { findEnvoy, findUsableEnvoy, isFound } = await import("../envoy/launcher.ts");
  // --engine auto takes func-e only when it can hand over an Envoy now: offline, with no version installed,
  // it cannot, and the demo must still start (on the embedded engine, saying why). --engine envoy tries it.
  const env = o.env ?? process.env;
  const found = o.engine === "embedded" ? null : o.engine === "auto" ? findUsableEnvoy(env) : findEnvoy(env);
  if (o.engine === "envoy" && found && !isFound(found)) {
    throw new CliError(`--engine envoy: no usable Envoy (${found.reason})`, 1, "set ENVOY_PATH to an Envoy binary, put envoy or func-e on PATH, or use --engine embedded");
  }
  const stop = stopSignal(o.signal);
  try {
    if (found && isFound(found)) {
      print(`engine: envoy — ${found.reason} (--engine ${o.engine})`);
      if (env.ENVOY_VERSION && found.source !== "func-e") print(`note: ENVOY_VERSION=${env.ENVOY_VERSION} only selects func-e's download; ${found.path} runs as it is`);
      return await runEnvoy(o, found, print, printErr, stop.signal);
    }
    print(o.engine === "embedded" ? "engine: embedded — requested with --engine embedded" : `engine: embedded — ${found && !isFound(found) ? found.reason : "no Envoy"} (--engine auto)`);
    return await runEmbedded(o, print, printErr, stop.signal);
  } finally {
    stop.dispose();
  }
}

async function runEnvoy(o: UpOptions, found: import("../envoy/launcher.ts").FoundEnvoy, print: (l: string) => void, printErr: (l: string) => void, signal: AbortSignal): Promise<number> {
  const { launchEnvoy, envoyListeners } = await import("../envoy/launcher.ts");
  let doc: Record<string, unknown> = {};
  try {
    doc = (parseEnvoyYaml(readFileSync(o.file, "utf8")) ?? {}) as Record<string, unknown>;
  } catch (e) {
    throw new CliError(`${o.file}: invalid YAML: ${(e as Error).message}`);
  }
  const envoy = await launchEnvoy(found, o.file, {
    hasAdmin: Boolean((doc.admin as Record<string, unknown> | undefined)?.address),
    onLine: (line, stream) => (stream === "stderr" ? printErr(`[envoy] ${line}`) : print(`[envoy] ${line}`)),
    env: o.env,
    signal,
  });
  if (!signal.aborted) {
    // The same lines the embedded engine prints, so a user (and a test) finds the listeners either way.
    const listeners = await envoyListeners(envoy.adminUrl);
    for (const l of listeners) print(`listener ${l.name}: ${l.url}`);
    print(`admin: ${envoy.adminUrl} (/ready, /stats)`);
    print(`ready: Envoy admin ${envoy.adminUrl} (Ctrl-C stops Envoy)`);
    o.onReady?.({ engine: "envoy", listeners, admin: envoy.adminUrl });
  }
  const stopped = aborted(signal).then(() => "stop" as const);
  const which = await Promise.race([stopped, envoy.exited.then(() => "exit" as const)]);
  if (which === "exit") {
    const code = await envoy.exited;
    throw new CliError(`Envoy exited with code ${code}`, code || 1);
  }
  print("stopping Envoy…");
  const code = await envoy.stop();
  // SIGTERM is the clean stop we asked for.
  return code === 0 || code === 143 || code === 128 ? 0 : code;
}

async function runEmbedded(o: UpOptions, print: (l: string) => void, printErr: (l: string) => void, signal: AbortSignal): Promise<number> {
  const { loadBootstrap, BootstrapError } = await import("../gateway/config.ts");
  const { Gateway, PluginStartError } = await import("../gateway/server.ts");
  let config;
  try {
    config = loadBootstrap(o.file);
  } catch (e) {
    if (e instanceof BootstrapError) {
      throw new CliError(`${o.file} cannot be served:\n${e.problems.map((p) => `  ${p}`).join("\n")}`, 1, "fix the fields above, or run the file on real Envoy with --engine envoy");
    }
    throw e;
  }
  let gw;
  try {
    gw = await Gateway.start(config, {
      workers: o.workers,
      onLog: (r) => printErr(`[${r.levelName ?? LEVELS[r.level] ?? r.level}][wasm] ${r.line}`),
    });
  } catch (e) {
    if (e instanceof PluginStartError) throw new CliError(`${o.file}: ${e.message}`, 1, e.phase === "load" ? "build the plugins first: tollgate build (or npm run build)" : "fix the plugin configuration (check it with: tollgate validate <plugin> <config>)");
    if (e instanceof Error && /already in use/.test(e.message)) throw new CliError(`${o.file}: ${e.message}`, 1, "stop the other process, or change the port in the file");
    throw e;
  }
  const listeners = gw.listeners.map((l) => ({ name: l.config.name, url: `http://${l.config.address.address}:${l.port}` }));
  for (const l of listeners) print(`listener ${l.name}: ${l.url}`);
  const admin = gw.adminPort !== null && config.admin ? `http://${config.admin.address}:${gw.adminPort}` : null;
  if (admin) print(`admin: ${admin} (/ready, /stats)`);
  print(`ready: ${config.listeners.reduce((n, l) => n + l.filters.length, 0)} wasm filter(s), ${o.workers} worker VM(s) each (Ctrl-C stops)`);
  o.onReady?.({ engine: "embedded", listeners, admin });
  await aborted(signal);
  print("stopping the embedded engine…");
  await gw.close();
  return 0;
}

export interface IngressUpOptions extends Omit<UpOptions, "file"> {
  files: string[];
  /** <service>=host:port entries. */
  upstreams: string[];
  listen: string;
}

/**
 * `tollgate up --ingress`: translates the Ingresses to a bootstrap (target envoy), starts an echo upstream per
 * backend without --upstream, and serves the bootstrap on the chosen engine; everything stops together.
 */
export async function runIngressUp(o: IngressUpOptions): Promise<number> {
  const print = o.print ?? ((l: string) => console.log(l));
  const printErr = o.printErr ?? ((l: string) => console.error(l));
  const { fromIngress } = await import("../k8s/from-ingress.ts");
  const { parseHostPort } = await import("../k8s/generate.ts");
  const { startEcho } = await import("../demo/echo.ts");
  const { stringifyEnvoyYaml } = await import("../envoy/yaml.ts");
  const { pluginWasm } = await import("../paths.ts");
  const { mkdtempSync, rmSync, writeFileSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { dirname, join } = await import("node:path");
  const upstreams: Record<string, string> = {};
  for (const u of o.upstreams) {
    const i = u.indexOf("=");
    if (i <= 0) throw new UsageError(`--upstream '${u}' must be <service>=host:port`, "e.g. --upstream users=127.0.0.1:8080");
    upstreams[u.slice(0, i)] = u.slice(i + 1);
  }
  // Port 0 takes any free port (the listener line says which).
  const listen = /:0$/.test(o.listen) ? { ...parseHostPort(o.listen.replace(/:0$/, ":1"), "--listen"), port: 0 } : parseHostPort(o.listen, "--listen");
  const common = { files: o.files, target: "envoy" as const, listen, admin: { host: "127.0.0.1", port: 0 }, wasmDir: dirname(pluginWasm("noop")) };
  // First pass: which clusters need an echo upstream (and every translation note, printed once).
  const first = await fromIngress({ ...common, upstreams });
  for (const l of first.notes) printErr(l);
  const echoes = [];
  const dir = mkdtempSync(join(tmpdir(), "tollgate-ingress-"));
  try {
    for (const name of first.echoClusters) {
      const e = await startEcho({ name });
      echoes.push(e);
      upstreams[name] = `127.0.0.1:${e.port}`;
    }
    const r = await fromIngress({ ...common, upstreams });
    for (const [name, a] of r.clusters) print(`upstream ${name}: ${first.echoClusters.includes(name) ? "echo " : ""}http://${a.host}:${a.port}`);
    const file = join(dir, "ingress-envoy.yaml");
    writeFileSync(file, stringifyEnvoyYaml(r.docs[0], { lineWidth: 0 }));
    return await runUp({ ...o, file });
  } finally {
    await Promise.all(echoes.map((e) => e.close()));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** --engine / --workers, shared with `tollgate start`. */
export const ENGINE_OPTIONS: Command["options"] = {
  engine: { type: "string", short: "e", description: "auto | envoy | embedded (see tollgate up --help)", default: "auto", valueName: "engine" },
  workers: { type: "string", short: "w", description: "embedded engine: VMs per plugin (connections are pinned to one)", default: "2", valueName: "n" },
};

/** ENGINE_OPTIONS' values, checked (up and start). */
export function engineArgs(values: ParsedArgs["values"]): { engine: Engine; workers: number } {
  const engine = str(values.engine) ?? "auto";
  if (!["auto", "envoy", "embedded"].includes(engine)) throw new UsageError(`--engine must be auto, envoy or embedded, got '${engine}'`);
  const workers = Number(str(values.workers) ?? "2");
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new UsageError(`--workers must be an integer 1-64, got '${str(values.workers)}'`);
  return { engine: engine as Engine, workers };
}

const command: Command = {
  name: "up",
  summary: "Run an Envoy bootstrap YAML on real Envoy (ENVOY_PATH / envoy / func-e) or on the embedded engine.",
  usage: "up [envoy.yaml] [--engine auto|envoy|embedded] [--workers <n>] | up --ingress <ingress.yaml> [--upstream <service>=host:port]",
  description: [
    "The file defaults to envoy-configs/demo.yaml. The first output line says which engine serves and why.",
    "",
    "Engines:",
    "  envoy     real Envoy: $ENVOY_PATH if set, else `envoy` on PATH, else `func-e run -c <file>`",
    "            (func-e downloads Envoy on first use — it needs the internet then; pin the version",
    "            with ENVOY_VERSION=<x.y.z>). `npm run envoy:install` installs Envoy 1.40.0 (the tested",
    "            version) and func-e set up to run it offline. Waits for the admin /ready endpoint,",
    "            prints each listener's address, streams Envoy's logs, stops Envoy cleanly on Ctrl-C /",
    "            SIGTERM. Envoy runs with --disable-hot-restart, so several can run side by side.",
    "  embedded  tollgate's Node engine (tools/gateway over tools/host) serves the same file. It",
    "            implements a subset of Envoy; any other field is rejected with its YAML path.",
    "  auto      envoy when one of the three is usable, else embedded.",
    "",
    "Wasm paths (vm_config.code.local.filename) resolve relative to the working directory, as Envoy",
    "resolves them: run from the directory the paths are written for (the repository root for",
    "envoy-configs/*.yaml).",
    "",
    "--ingress: translates Kubernetes Ingress files as 'tollgate gen from-ingress --target envoy' does",
    "(every annotation not translated is listed), starts an echo upstream named after each backend",
    "Service that has no --upstream (its replies say which backend answered), and serves the result.",
  ].join("\n"),
  options: {
    ...ENGINE_OPTIONS,
    ingress: { type: "string", multiple: true, description: "serve these Kubernetes Ingress files instead of a bootstrap (repeatable)", valueName: "file" },
    upstream: { type: "string", multiple: true, description: "--ingress: <service>=host:port for a backend (default: an echo upstream per service)", valueName: "svc=host:port" },
    listen: { type: "string", description: "--ingress: listener address (port 0: any free port)", default: "127.0.0.1:10000", valueName: "host:port" },
  },
  async run(args) {
    if (args.positionals.length > 1) throw new UsageError(`expected one bootstrap file, got ${args.positionals.length}`);
    const { engine, workers } = engineArgs(args.values);
    const ingress = list(args.values.ingress);
    if (ingress.length) {
      if (args.positionals.length) throw new UsageError("pass either a bootstrap file or --ingress, not both");
      return runIngressUp({ files: ingress, upstreams: list(args.values.upstream), listen: str(args.values.listen)!, engine, workers });
    }
    if (list(args.values.upstream).length) throw new UsageError("--upstream is for --ingress", "a bootstrap file names its clusters' addresses itself");
    return runUp({ file: args.positionals[0] ?? "envoy-configs/demo.yaml", engine, workers });
  },
};
export default command;
