// Runs real Envoy on a bootstrap file: ENVOY_PATH, else `envoy` on PATH, else `func-e run` (which downloads
// Envoy on first use, pinned by ENVOY_VERSION). Waits for the admin /ready endpoint, streams Envoy's logs and
// stops it cleanly. Envoy runs in the caller's working directory, so relative Wasm paths resolve there.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { createInterface } from "node:readline";
import { ToolError } from "../errors.ts";

export type EnvoySource = "ENVOY_PATH" | "PATH" | "func-e";

export interface FoundEnvoy {
  source: EnvoySource;
  /** The executable to spawn (envoy binary or func-e). */
  path: string;
  /** Human-readable reason, used in the first output line. */
  reason: string;
}

/** Why no Envoy is usable (for `--engine auto`'s first line and `--engine envoy`'s error). */
export interface NoEnvoy {
  reason: string;
}

function executable(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** First executable `name` on PATH, or null. */
export function onPath(name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    if (executable(p)) return p;
  }
  return null;
}

/** Resolution order: ENVOY_PATH, `envoy` on PATH, `func-e` on PATH (the same order func-e itself honours ENVOY_PATH). */
export function findEnvoy(env: NodeJS.ProcessEnv = process.env): FoundEnvoy | NoEnvoy {
  const envPath = env.ENVOY_PATH;
  if (envPath) {
    if (executable(envPath)) return { source: "ENVOY_PATH", path: envPath, reason: `ENVOY_PATH=${envPath}` };
    return { reason: `ENVOY_PATH=${envPath} is not an executable file` };
  }
  const envoy = onPath("envoy", env);
  if (envoy) return { source: "PATH", path: envoy, reason: `envoy found on PATH at ${envoy}` };
  const funce = onPath("func-e", env);
  if (funce) {
    const v = env.ENVOY_VERSION ? `ENVOY_VERSION=${env.ENVOY_VERSION}` : "Envoy version chosen by func-e";
    return { source: "func-e", path: funce, reason: `func-e found on PATH at ${funce} (${v})` };
  }
  return { reason: "no ENVOY_PATH, no envoy and no func-e on PATH" };
}

export function isFound(f: FoundEnvoy | NoEnvoy): f is FoundEnvoy {
  return "path" in f;
}

/**
 * The Envoy binary itself (for `envoy --mode validate`, `--version`): the path found, or for func-e the binary
 * `func-e which` names (func-e downloads it first when it is not installed yet).
 */
export function envoyBinary(found: FoundEnvoy, env: NodeJS.ProcessEnv = process.env): string {
  if (found.source !== "func-e") return found.path;
  return execFileSync(found.path, ["which"], { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 300_000 }).trim();
}

/**
 * Null when func-e can name its Envoy binary within `timeoutMs` (`func-e which`, which downloads the version
 * if it is missing and the network allows), else why not, in one line.
 */
export function funceReady(found: FoundEnvoy, env: NodeJS.ProcessEnv = process.env, timeoutMs = 20_000): string | null {
  try {
    const bin = execFileSync(found.path, ["which"], { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: timeoutMs }).trim();
    return bin && executable(bin) ? null : `func-e which printed ${JSON.stringify(bin)}`;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    const line = (err.stderr ?? "").split("\n").map((l) => l.trim()).find((l) => l) ?? err.message.split("\n")[0];
    return NETWORK_FAILURE.test(line) ? `it cannot download one (${line})` : line;
  }
}

/**
 * findEnvoy, with a func-e that cannot hand over an Envoy now (offline, none installed) counted as no Envoy:
 * what `--engine auto` and the tests' Envoy legs use.
 */
export function findUsableEnvoy(env: NodeJS.ProcessEnv = process.env): FoundEnvoy | NoEnvoy {
  const found = findEnvoy(env);
  if (!isFound(found) || found.source !== "func-e") return found;
  const problem = funceReady(found, env);
  return problem ? { reason: `func-e found on PATH but it has no Envoy to run: ${problem} (install one with \`func-e use 1.40.0\` while online, or set ENVOY_PATH)` } : found;
}

/** The admin address the bootstrap itself configures, when any (else we ask Envoy for an ephemeral one). */
export interface LaunchPlan {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  adminAddressPath: string;
}

/**
 * argv for Envoy: `-c <file> --admin-address-path <tmp> --disable-hot-restart` (+ an ephemeral loopback admin
 * when the bootstrap has none, as func-e does); func-e gets `run` in front and inserts the admin itself.
 * Hot restart is off because `tollgate up` never hot-restarts, and with it on every Envoy claims the shared
 * memory and domain sockets of base id 0, so a second Envoy on the machine fails to start.
 */
export function planLaunch(found: FoundEnvoy, configFile: string, opts: { hasAdmin: boolean; runDir: string; extraArgs?: string[]; env?: NodeJS.ProcessEnv }): LaunchPlan {
  const adminAddressPath = join(opts.runDir, "admin-address.txt");
  const args = ["-c", configFile, "--admin-address-path", adminAddressPath, "--disable-hot-restart"];
  if (!opts.hasAdmin && found.source !== "func-e") {
    args.push("--config-yaml", "admin: {address: {socket_address: {address: '127.0.0.1', port_value: 0}}}");
  }
  args.push(...(opts.extraArgs ?? []));
  const env = { ...(opts.env ?? process.env) };
  if (found.source === "func-e") return { command: found.path, args: ["run", ...args], env, adminAddressPath };
  return { command: found.path, args, env, adminAddressPath };
}

// What func-e prints when it cannot reach archive.tetratelabs.io (Go net errors, HTTP failures).
const NETWORK_FAILURE = /(no such host|dial tcp|i\/o timeout|network is unreachable|connection refused|could not (download|read)|couldn't (download|get)|error (downloading|getting)|envoy-versions\.json|tls handshake|TLS handshake|temporary failure in name resolution)/i;

export class EnvoyLaunchError extends ToolError {
  constructor(message: string, readonly hint: string, readonly output: string[]) {
    super(message, hint);
  }
}

export interface RunningEnvoy {
  child: ChildProcess;
  adminUrl: string;
  /** Resolves with the exit code when Envoy exits. */
  exited: Promise<number>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number>;
}

function getReady(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url + "/ready", { timeout: 1000 }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", () => resolve(0));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

/** The listeners a running Envoy serves, with the address each one bound (admin /listeners?format=json). */
export function envoyListeners(adminUrl: string): Promise<Array<{ name: string; url: string }>> {
  return new Promise((resolve) => {
    const req = request(adminUrl + "/listeners?format=json", { timeout: 5000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => {
        try {
          const out: Array<{ name: string; url: string }> = [];
          for (const l of JSON.parse(body).listener_statuses ?? []) {
            const sa = l.local_address?.socket_address;
            if (sa) out.push({ name: l.name, url: `http://${sa.address.includes(":") ? `[${sa.address}]` : sa.address}:${sa.port_value}` });
          }
          resolve(out);
        } catch {
          resolve([]);
        }
      });
    });
    req.on("error", () => resolve([]));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

/**
 * Spawns Envoy (or func-e), streams each output line to `onLine`, and resolves once admin /ready answers
 * 200. Rejects with EnvoyLaunchError if it exits first or `readyTimeoutMs` passes; the message says when
 * func-e failed for lack of network.
 */
export async function launchEnvoy(
  found: FoundEnvoy,
  configFile: string,
  opts: {
    hasAdmin: boolean;
    onLine: (line: string, stream: "stdout" | "stderr") => void;
    readyTimeoutMs?: number;
    env?: NodeJS.ProcessEnv;
    extraArgs?: string[];
    cwd?: string;
    /** Aborting while waiting for ready stops Envoy and resolves (the caller sees signal.aborted). */
    signal?: AbortSignal;
  },
): Promise<RunningEnvoy> {
  const runDir = mkdtempSync(join(tmpdir(), "tollgate-envoy-"));
  const plan = planLaunch(found, configFile, { hasAdmin: opts.hasAdmin, runDir, extraArgs: opts.extraArgs, env: opts.env });
  const child = spawn(plan.command, plan.args, { env: plan.env, cwd: opts.cwd, stdio: ["ignore", "pipe", "pipe"] });
  const tail: string[] = [];
  const remember = (line: string): void => {
    tail.push(line);
    if (tail.length > 40) tail.shift();
  };
  createInterface({ input: child.stdout! }).on("line", (l) => (remember(l), opts.onLine(l, "stdout")));
  createInterface({ input: child.stderr! }).on("line", (l) => (remember(l), opts.onLine(l, "stderr")));
  let exitCode: number | null = null;
  let spawnError: Error | null = null;
  const exited = new Promise<number>((resolve) => {
    child.on("error", (e) => {
      spawnError = e;
      exitCode = 127;
      resolve(127);
    });
    child.on("exit", (code, signal) => {
      exitCode = code ?? (signal ? 128 : 1);
      resolve(exitCode);
    });
  }).finally(() => rmSync(runDir, { recursive: true, force: true }));
  const stop = async (graceMs = 10_000): Promise<number> => {
    if (exitCode === null) {
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), graceMs);
      const code = await exited;
      clearTimeout(t);
      return code;
    }
    return exited;
  };
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 120_000);
  const who = found.source === "func-e" ? "func-e" : "envoy";
  while (true) {
    if (opts.signal?.aborted && exitCode === null) {
      await stop();
      return { child, adminUrl: "", exited, stop };
    }
    if (exitCode !== null) {
      // Give the line readers a moment to flush the last output.
      await new Promise((r) => setTimeout(r, 50));
      const output = tail.slice();
      if (spawnError) throw new EnvoyLaunchError(`cannot run ${plan.command}: ${(spawnError as Error).message}`, "check ENVOY_PATH / PATH", output);
      if (found.source === "func-e" && output.some((l) => NETWORK_FAILURE.test(l))) {
        throw new EnvoyLaunchError(
          "func-e could not download Envoy: it needs the internet on first use (it fetches envoy-versions.json and the Envoy tarball)",
          "run func-e once with network access (pin the version with ENVOY_VERSION=<x.y.z>), or set ENVOY_PATH to an Envoy binary, or use --engine embedded",
          output,
        );
      }
      throw new EnvoyLaunchError(`${who} exited with code ${exitCode} before it was ready`, "read Envoy's output above; validate the file with --engine embedded", output);
    }
    if (existsSync(plan.adminAddressPath)) {
      const addr = readFileSync(plan.adminAddressPath, "utf8").trim();
      if (addr) {
        const url = `http://${addr}`;
        if ((await getReady(url)) === 200) return { child, adminUrl: url, exited, stop };
      }
    }
    if (Date.now() > deadline) {
      await stop(2000);
      throw new EnvoyLaunchError(`${who} did not become ready (admin /ready) within ${Math.round((opts.readyTimeoutMs ?? 120_000) / 1000)}s`, "read Envoy's output above", tail.slice());
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
