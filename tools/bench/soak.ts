// `tollgate bench --soak`: a bounded load on the embedded gateway serving envoy-configs/demo.yaml (every
// plugin in the chain, 2 worker VMs each) over loopback, with autocannon and the upstream in a child
// process, so the process measured is the gateway alone. A mix of requests: plain, CORS simple and preflight,
// authenticated / rejected on the secure host, a hot rate-limit key (429s), canary tags. Records Node heap
// (after a full GC) and RSS after the warm-up and at the end, the plugins' linear memory, and whether every
// stream context was released. Figures, not pass/fail; the short test in test/robustness asserts only
// what holds on any machine.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runInNewContext } from "node:vm";
import { setFlagsFromString } from "node:v8";
import { parse } from "yaml";
import { parseBootstrap } from "../gateway/config.ts";
import { Gateway } from "../gateway/server.ts";
import { repoRoot } from "../paths.ts";

// The upstream and the load generator live in a child process, so the figures (RSS especially) are the
// gateway's alone. IPC: child → {port}; parent → {run: options} → child → {result}; parent → "stop".
const HELPER = `
const http = require("node:http");
const autocannon = require("autocannon");
const body = '{"ok":true}';
const s = http.createServer((req, res) => { req.resume(); req.on("end", () => res.writeHead(200, { "content-type": "application/json", "content-length": body.length }).end(body)); });
s.keepAliveTimeout = 60000;
s.listen(0, "127.0.0.1", () => process.send({ port: s.address().port }));
process.on("message", async (m) => {
  if (m === "stop") { s.closeAllConnections(); s.close(() => process.exit(0)); return; }
  const r = await autocannon(m.run);
  const statuses = {};
  for (const [k, v] of Object.entries(r.statusCodeStats || {})) statuses[k] = v.count;
  process.send({ result: { total: r["1xx"] + r["2xx"] + r["3xx"] + r["4xx"] + r["5xx"], statuses, errors: r.errors, timeouts: r.timeouts, rps: Math.round(r.requests.average) } });
});
process.on("disconnect", () => process.exit(0));
`;

interface LoadResult {
  total: number;
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  rps: number;
}

class Helper {
  private constructor(private readonly child: ChildProcess, readonly port: number) {}

  static async start(): Promise<Helper> {
    const child = spawn(process.execPath, ["-e", HELPER], { cwd: repoRoot(), stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const port = await new Promise<number>((resolve, reject) => {
      child.once("message", (m: { port: number }) => resolve(m.port));
      child.once("error", reject);
      child.once("exit", (code) => reject(new Error(`the load-generator process exited (${code}) before it was ready`)));
    });
    return new Helper(child, port);
  }

  load(url: string, seconds: number, connections: number): Promise<LoadResult> {
    const requests = SOAK_REQUESTS.map((q) => (q.method === "POST" ? { ...q, body: '{"item":"soak"}' } : q));
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`the load-generator process exited (${code})`));
      this.child.once("exit", onExit);
      this.child.once("message", (m: { result: LoadResult }) => {
        this.child.off("exit", onExit);
        resolve(m.result);
      });
      this.child.send({ run: { url, duration: seconds, connections, pipelining: 1, timeout: 10, requests } });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once("exit", r));
    this.child.send("stop");
    const timer = setTimeout(() => this.child.kill(), 5000);
    await exited;
    clearTimeout(timer);
  }
}

const basic = (s: string) => `Basic ${Buffer.from(s).toString("base64")}`;

/** The request mix each connection cycles through (autocannon `requests`). */
export const SOAK_REQUESTS: Array<{ method: string; path: string; headers: Record<string, string> }> = [
  { method: "GET", path: "/api/items", headers: {} },
  { method: "GET", path: "/api/items?page=2", headers: { origin: "https://app.example.com" } },
  { method: "OPTIONS", path: "/api/items", headers: { origin: "https://app.example.com", "access-control-request-method": "PUT", "access-control-request-headers": "content-type" } },
  { method: "OPTIONS", path: "/api/items", headers: { origin: "https://evil.example.net", "access-control-request-method": "PUT" } },
  { method: "GET", path: "/private", headers: { host: "secure.example.com", "x-api-key": "alice-demo-key" } },
  { method: "GET", path: "/private", headers: { host: "secure.example.com", authorization: basic("bob:bob-password") } },
  { method: "GET", path: "/private", headers: { host: "secure.example.com", "x-api-key": "wrong" } },
  { method: "GET", path: "/private", headers: { host: "secure.example.com" } },
  { method: "GET", path: "/limited", headers: { "x-client-id": "soak-hot-key" } },
  { method: "GET", path: "/tagged", headers: { "x-user-id": "user-42" } },
  { method: "GET", path: "/tagged", headers: { "x-beta": "true", cookie: "canary_pin=v2" } },
  { method: "POST", path: "/upload", headers: { "content-type": "application/json" } },
];

export interface SoakOptions {
  /** Measured load after the warm-up (default 60). */
  seconds?: number;
  /** Warm-up load before the first sample (default 10). */
  warmupSeconds?: number;
  connections?: number;
  log?: (line: string) => void;
}

export interface MemorySample {
  atSeconds: number;
  heapUsedMB: number;
  rssMB: number;
  externalMB: number;
  wasmPages: number;
  /** The same pages by plugin (all its worker VMs). */
  wasmPagesByPlugin: Record<string, number>;
}

export interface SoakReport {
  method: string;
  requests: number;
  reqPerSec: number;
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  afterWarmup: MemorySample;
  end: MemorySample;
  samples: MemorySample[];
  growth: { heapUsedMB: number; rssMB: number; wasmPages: number };
  /** Stream contexts still alive in any VM once the load stopped (must be 0: each got on_log/on_done/on_delete). */
  liveStreamContexts: number;
  failedVms: number;
  plugins: string[];
}

/** A full GC, so heap figures compare retained memory rather than garbage (flag set at runtime). */
function gcFunction(): () => void {
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}

const MB = 1024 * 1024;
const mb = (n: number) => Math.round((n / MB) * 10) / 10;

export async function runSoak(opts: SoakOptions = {}): Promise<SoakReport> {
  const seconds = opts.seconds ?? 60;
  const warmup = opts.warmupSeconds ?? 10;
  const connections = opts.connections ?? 100;
  const log = opts.log ?? (() => {});
  const gc = gcFunction();
  const root = repoRoot();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const doc: any = parse(readFileSync(join(root, "envoy-configs", "demo.yaml"), "utf8"));
  delete doc.admin;
  doc.static_resources.listeners[0].address = { socket_address: { address: "127.0.0.1", port_value: 0 } };

  const helper = await Helper.start();
  const upstreamPort = helper.port;
  const loadgen = (url: string, s: number, c: number) => helper.load(url, s, c);
  for (const c of doc.static_resources.clusters) {
    c.load_assignment.endpoints = [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: upstreamPort } } } }] }];
  }
  let gw: Gateway | null = null;
  try {
    gw = await Gateway.start(parseBootstrap(doc, "demo.yaml (soak)", root), { workers: 2 });
    const g = gw;
    const vms = g.listeners.flatMap((l) => l.plugins.flatMap((p) => p.vms));
    const url = `http://127.0.0.1:${g.listeners[0].port}`;
    const t0 = Date.now();
    const sample = (): MemorySample => {
      gc();
      const m = process.memoryUsage();
      return {
        atSeconds: Math.round((Date.now() - t0) / 1000),
        heapUsedMB: mb(m.heapUsed),
        rssMB: mb(m.rss),
        externalMB: mb(m.external),
        wasmPages: vms.reduce((n, vm) => n + vm.memory.buffer.byteLength / 65536, 0),
        wasmPagesByPlugin: vms.reduce<Record<string, number>>((o, vm) => {
          o[vm.plugin.name] = (o[vm.plugin.name] ?? 0) + vm.memory.buffer.byteLength / 65536;
          return o;
        }, {}),
      };
    };
    log(`soak: warm-up ${warmup} s, ${connections} connections …`);
    await loadgen(url, warmup, connections);
    const afterWarmup = sample();
    log(`soak: after warm-up heap ${afterWarmup.heapUsedMB} MB, rss ${afterWarmup.rssMB} MB, wasm ${afterWarmup.wasmPages} pages`);
    // The measured load in slices, sampling between them (a GC between slices only, never under load).
    const slices = Math.max(1, Math.round(seconds / 10));
    const samples: MemorySample[] = [afterWarmup];
    let total = 0;
    let errors = 0;
    let timeouts = 0;
    let rpsSum = 0;
    const statuses: Record<string, number> = {};
    for (let i = 0; i < slices; i++) {
      const r = await loadgen(url, seconds / slices, connections);
      total += r.total;
      errors += r.errors;
      timeouts += r.timeouts;
      rpsSum += r.rps;
      for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
      const s = sample();
      samples.push(s);
      log(`soak: ${s.atSeconds} s: ${total} requests, heap ${s.heapUsedMB} MB, rss ${s.rssMB} MB, wasm ${s.wasmPages} pages ${JSON.stringify(s.wasmPagesByPlugin)}`);
    }
    const end = samples[samples.length - 1];
    // Streams finish asynchronously after the last response; give them a moment.
    await new Promise((r) => setTimeout(r, 200));
    const live = vms.reduce((n, vm) => n + vm.streams().length, 0);
    return {
      method: `embedded gateway, envoy-configs/demo.yaml (all plugins, 2 worker VMs each), autocannon and the upstream in a child process: ${connections} connections, ${warmup} s warm-up then ${seconds} s in ${slices} slices cycling ${SOAK_REQUESTS.length} requests; heap after a full GC`,
      requests: total,
      reqPerSec: Math.round(rpsSum / slices),
      statuses,
      errors,
      timeouts,
      afterWarmup,
      end,
      samples,
      growth: {
        heapUsedMB: Math.round((end.heapUsedMB - afterWarmup.heapUsedMB) * 10) / 10,
        rssMB: Math.round((end.rssMB - afterWarmup.rssMB) * 10) / 10,
        wasmPages: end.wasmPages - afterWarmup.wasmPages,
      },
      liveStreamContexts: live,
      failedVms: vms.filter((vm) => vm.failed).length,
      plugins: g.listeners[0].plugins.map((p) => p.name),
    };
  } finally {
    await gw?.close();
    await helper.stop();
  }
}
