// Envoy's rate limit service as local processes: a private redis-server and envoyproxy/ratelimit (the
// reference `envoy.service.ratelimit.v3.RateLimitService` server) on free 127.0.0.1 ports, with the given
// service config YAML in a temp runtime directory. The one implementation behind the black-box tests
// (test/helpers/ratelimit-service.ts) and `tollgate bench --envoy`'s global rate limit scenario. The service
// can be stopped and started again on the same ports (the "service down" cases); stop() ends both processes
// and removes the temp dirs.
//
// Binaries: RATELIMIT_PATH / REDIS_SERVER_PATH (what tools/ratelimit/install-ratelimit.sh exports), else
// `ratelimit` / `redis-server` on PATH, else the install script's cache slot.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { createConnection, createServer } from "node:net";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { onPath } from "../envoy/launcher.ts";
import { repoRoot } from "../paths.ts";

export const RATELIMIT_INSTALL =
  'eval "$(tools/ratelimit/install-ratelimit.sh)" (builds envoyproxy/ratelimit with go install) and apt-get install redis-server';

const READY_MS = 30_000;

/** The pinned build's cache slot, read from the install script (the one place the pin lives). */
function cachedRatelimit(): string | null {
  const script = readFileSync(join(repoRoot(), "tools/ratelimit/install-ratelimit.sh"), "utf8");
  const pin = /^RATELIMIT_PIN=(\S+)$/m.exec(script)?.[1];
  if (!pin) return null;
  const cache = process.env.TOLLGATE_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "tollgate");
  const bin = join(cache, `ratelimit-${pin.slice(pin.lastIndexOf("-") + 1)}`, "bin", "ratelimit");
  return existsSync(bin) ? bin : null;
}

export interface RateLimitBinaries {
  ratelimit: string;
  redis: string;
}

/** Where the two binaries are, or why not. */
export function findRateLimitBinaries(): RateLimitBinaries | { missing: string } {
  const ratelimit = process.env.RATELIMIT_PATH || onPath("ratelimit") || cachedRatelimit();
  const redis = process.env.REDIS_SERVER_PATH || onPath("redis-server");
  if (!ratelimit) return { missing: "envoyproxy/ratelimit is not installed" };
  if (!redis) return { missing: "redis-server is not installed" };
  return { ratelimit, redis };
}

export interface RateLimitService {
  /** gRPC (ShouldRateLimit), the HTTP port (/healthcheck, /json) and the debug port (/rlconfig). */
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly debugPort: number;
  readonly redisPort: number;
  /** `127.0.0.1:<grpcPort>`: what `tollgate gen envoy --rls-address` takes. */
  readonly address: string;
  /** The running processes' pids (Redis, and the service when up): for pinning them to a core. */
  readonly pids: number[];
  /** Whether the service process is up (false between stopService and startService). */
  readonly running: boolean;
  /** Kills the service (Redis keeps its counters); gRPC calls to it then fail to connect. */
  stopService(): Promise<void>;
  /** Starts the service again on the same ports and waits until it serves the config. */
  startService(): Promise<void>;
  /**
   * Freezes the service (SIGSTOP): connections are still accepted by the kernel but nothing answers, so calls
   * run into their timeouts. resume() (SIGCONT) lets it go on.
   */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Empties Redis: every counter starts again. */
  flush(): Promise<void>;
  /** The service's and Redis's output lines, for assertion messages. */
  output(): string[];
  stop(): Promise<void>;
}

export interface RateLimitServiceOptions {
  /** The service config: one YAML text, or file name → YAML text (one domain per file). */
  config: string | Record<string, string>;
  /** LOG_LEVEL of the service (default warn). */
  logLevel?: string;
}

/** `n` distinct free ports: every listener stays open until all are picked (closed one by one, the OS may hand out the same port twice). */
async function freePorts(n: number): Promise<number[]> {
  const servers = Array.from({ length: n }, () => createServer());
  for (const s of servers) await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
  return ports;
}

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, timeout: 2000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

/** One Redis command in inline form; resolves with the first reply line. */
function redisCommand(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ host: "127.0.0.1", port });
    let buf = "";
    const timer = setTimeout(() => sock.destroy(new Error(`redis ${command}: timeout`)), 2000);
    sock.on("connect", () => sock.write(command + "\r\n"));
    sock.on("data", (d) => {
      buf += d.toString();
      const i = buf.indexOf("\r\n");
      if (i >= 0) {
        clearTimeout(timer);
        sock.end();
        resolve(buf.slice(0, i));
      }
    });
    sock.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `ready` every 50 ms until it is true, the process exits, or READY_MS passes. */
async function waitFor(what: string, child: ChildProcess, ready: () => Promise<boolean>, lines: string[]): Promise<void> {
  const deadline = Date.now() + READY_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${lines.slice(-30).join("\n")}`);
    }
    if (await ready().catch(() => false)) return;
    await sleep(50);
  }
  throw new Error(`${what} not ready within ${READY_MS} ms:\n${lines.slice(-30).join("\n")}`);
}

function stopChild(child: ChildProcess | null): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  child.kill("SIGCONT"); // a paused service would not act on SIGTERM
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), 3000);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** Children still running when the test process exits are killed (a failed test must not leak them). */
const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of live) c.kill("SIGKILL");
});

function track(child: ChildProcess, lines: string[], tag: string): ChildProcess {
  live.add(child);
  child.once("exit", () => live.delete(child));
  const onData = (d: Buffer) => {
    for (const l of d.toString().split("\n")) if (l) lines.push(`[${tag}] ${l}`);
    if (lines.length > 5000) lines.splice(0, lines.length - 4000);
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  return child;
}

/**
 * Starts Redis and the rate limit service with `opts.config` from `bins` (findRateLimitBinaries); throws when
 * either is not ready within 30 s. Call stop() when done (the processes are also killed at process exit).
 */
export async function startRateLimitService(bins: RateLimitBinaries, opts: RateLimitServiceOptions): Promise<RateLimitService> {
  const dir = mkdtempSync(join(tmpdir(), "tollgate-rls-"));
  const lines: string[] = [];
  const files = typeof opts.config === "string" ? { "config.yaml": opts.config } : opts.config;
  // RUNTIME_ROOT/RUNTIME_SUBDIRECTORY/config/*.yaml is where the service reads its file config.
  const configDir = join(dir, "runtime", "ratelimit", "config");
  mkdirSync(configDir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(configDir, name), text);
  const domains = Object.values(files).flatMap((text) => {
    const m = /^domain:\s*["']?([^"'\s#]+)/m.exec(text);
    return m ? [m[1]] : [];
  });

  const [redisPort, grpcPort, httpPort, debugPort] = await freePorts(4);
  let redis: ChildProcess | null = null;
  let service: ChildProcess | null = null;
  try {
    redis = track(
      spawn(bins.redis, ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
        "--dir", dir, "--protected-mode", "no", "--daemonize", "no"], { stdio: ["ignore", "pipe", "pipe"] }),
      lines, "redis");
    await waitFor("redis-server", redis, async () => (await redisCommand(redisPort, "PING")) === "+PONG", lines);
  } catch (e) {
    await stopChild(redis);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }

  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOST: "127.0.0.1",
    PORT: String(httpPort),
    GRPC_HOST: "127.0.0.1",
    GRPC_PORT: String(grpcPort),
    DEBUG_HOST: "127.0.0.1",
    DEBUG_PORT: String(debugPort),
    USE_STATSD: "false",
    LOG_LEVEL: opts.logLevel ?? "warn",
    BACKEND_TYPE: "redis",
    REDIS_SOCKET_TYPE: "tcp",
    REDIS_URL: `127.0.0.1:${redisPort}`,
    RUNTIME_ROOT: join(dir, "runtime"),
    RUNTIME_SUBDIRECTORY: "ratelimit",
    RUNTIME_WATCH_ROOT: "false",
    RUNTIME_IGNOREDOTFILES: "true",
    // Counters must not expire early within a test's window.
    EXPIRATION_JITTER_MAX_SECONDS: "0",
  };
  const startService = async () => {
    service = track(spawn(bins.ratelimit, [], { env, stdio: ["ignore", "pipe", "pipe"] }), lines, "ratelimit");
    const s = service;
    await waitFor("envoyproxy/ratelimit", s, async () => {
      if ((await get(httpPort, "/healthcheck")).status !== 200) return false;
      const cfg = (await get(debugPort, "/rlconfig")).body;
      return domains.every((d) => cfg.includes(`${d}.`));
    }, lines);
  };
  try {
    await startService();
  } catch (e) {
    await stopChild(service);
    await stopChild(redis);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  let stopped = false;
  return {
    grpcPort,
    httpPort,
    debugPort,
    redisPort,
    address: `127.0.0.1:${grpcPort}`,
    get pids() {
      return [redis, service as ChildProcess | null].flatMap((c) => (c?.pid && c.exitCode === null ? [c.pid] : []));
    },
    get running() {
      const s = service as ChildProcess | null;
      return s !== null && s.exitCode === null && s.signalCode === null;
    },
    async stopService() {
      await stopChild(service);
      service = null;
    },
    async startService() {
      if (stopped) throw new Error("the rate limit service helper was stopped");
      if (this.running) return;
      await startService();
    },
    async pause() {
      const s = service as ChildProcess | null;
      if (!s || !s.pid || !s.kill("SIGSTOP")) throw new Error("the rate limit service is not running");
      // Returns once the kernel shows the process stopped (state T in /proc/<pid>/stat), so nothing answers.
      for (let i = 0; i < 100; i++) {
        const stat = readFileSync(`/proc/${s.pid}/stat`, "utf8");
        if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("T")) return;
        await sleep(10);
      }
      throw new Error("the rate limit service did not stop on SIGSTOP within 1 s");
    },
    async resume() {
      const s = service as ChildProcess | null;
      if (!s || !s.kill("SIGCONT")) throw new Error("the rate limit service is not running");
    },
    async flush() {
      const r = await redisCommand(redisPort, "FLUSHALL");
      if (r !== "+OK") throw new Error(`redis FLUSHALL: ${r}`);
    },
    output: () => lines.slice(),
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopChild(service);
      await stopChild(redis);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
