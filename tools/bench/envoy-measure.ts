// What `tollgate bench --envoy` measures with: a process's CPU time and RSS from /proc, wrk driven by a generated
// Lua script (one JSON summary line), and a plain HTTP sender for the functional checks.
import { execFile, execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { request } from "node:http";
import { promisify } from "node:util";
import type { RequestShape, Send } from "./envoy-setup.ts";

const run = promisify(execFile);

let ticks = 0;
function clockTicks(): number {
  if (!ticks) {
    try {
      ticks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/** utime + stime of a process, µs (/proc/<pid>/stat fields 14 and 15; the comm field may hold spaces). */
export function processCpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(f[11]) + Number(f[12])) * 1e6) / clockTicks();
}

/** Resident set size, KiB (/proc/<pid>/status VmRSS). */
export function processRssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : 0;
}

const luaString = (s: string): string => JSON.stringify(s); // JSON string escapes are valid Lua escapes for ASCII

/** A wrk script sending `shape`; `delayMs` paces each connection; done() prints one JSON line. */
export function wrkScript(shape: RequestShape, delayMs = 0): string {
  // "Host" exactly: wrk adds its own Host (the URL's) unless the table has that key, and a second Host header
  // would send some requests to another virtual host than the scenario's.
  const name = (k: string): string => (k.toLowerCase() === "host" ? "Host" : k);
  const headers = Object.entries(shape.headers).map(([k, v]) => `  [${luaString(name(k))}] = ${luaString(v)},`).join("\n");
  const lines = [`local headers = {\n${headers}\n}`];
  const vary = Object.entries(shape.vary ?? {});
  if (vary.length) {
    vary.forEach(([, v], i) => {
      if ("values" in v) lines.push(`local values${i} = {\n${v.values.map((x) => `  ${luaString(x)},`).join("\n")}\n}`);
    });
    lines.push("local n = 0", "request = function()", "  n = n + 1");
    vary.forEach(([h, v], i) => {
      lines.push("values" in v ? `  headers[${luaString(h)}] = values${i}[(n % ${v.values.length}) + 1]` : `  headers[${luaString(h)}] = ${luaString(v.prefix)} .. (n % ${v.count})`);
    });
    lines.push(`  return wrk.format(${luaString(shape.method)}, ${luaString(shape.path)}, headers, nil)`, "end");
  } else {
    lines.push(`wrk.method = ${luaString(shape.method)}`, `wrk.path = ${luaString(shape.path)}`, "wrk.headers = headers");
  }
  if (delayMs > 0) lines.push(`delay = function() return ${delayMs} end`);
  lines.push(
    "done = function(summary, latency, requests)",
    "  local e = summary.errors",
    '  io.write(string.format(\'TOLLGATE_WRK {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%d,"p99":%d}\\n\',',
    "    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout, latency:percentile(50), latency:percentile(99)))",
    "end",
  );
  return lines.join("\n") + "\n";
}

export interface WrkResult {
  requests: number;
  duration_us: number;
  connect: number;
  read: number;
  write: number;
  status: number;
  timeout: number;
  p50: number;
  p99: number;
}

export async function wrk(url: string, script: string, seconds: number, connections: number, pinCore: number | null): Promise<WrkResult> {
  const args = ["-t1", `-c${connections}`, `-d${seconds}s`, "--timeout", "5s", "-s", script, url];
  let { stdout } = pinCore === null ? await run("wrk", args) : await run("taskset", ["-c", String(pinCore), "wrk", ...args]);
  // A shared machine can stall a short window completely; one retry, then the scenario fails.
  if (/"requests":0,/.test(stdout)) ({ stdout } = pinCore === null ? await run("wrk", args) : await run("taskset", ["-c", String(pinCore), "wrk", ...args]));
  const line = stdout.split("\n").find((l) => l.startsWith("TOLLGATE_WRK "));
  if (!line) throw new Error(`wrk printed no summary: ${stdout.slice(-400)}`);
  const r = JSON.parse(line.slice("TOLLGATE_WRK ".length)) as WrkResult;
  const errors = r.connect + r.read + r.write + r.status + r.timeout;
  if (errors) throw new Error(`wrk saw errors (${JSON.stringify(r)}): the target answered non-2xx/3xx or dropped connections`);
  if (r.requests === 0) throw new Error("wrk completed no request");
  return r;
}

/** Sends one request to `base` (functional checks before a scenario is measured). */
export function sender(base: string): Send {
  return (r) =>
    new Promise((resolve, reject) => {
      const u = new URL(r.path ?? "/api/v1/items?page=2", base);
      const req = request(u, { method: r.method ?? "GET", headers: r.headers ?? {}, timeout: 5000, agent: false }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on("timeout", () => req.destroy(new Error("timed out")));
      req.on("error", reject);
      req.end();
    });
}
