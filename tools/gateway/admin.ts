// The admin listener, as much of Envoy's as tollgate uses: GET /ready (200 "LIVE"), GET /stats (text
// "name: value" lines, sorted, wasm metrics as `wasmcustom.<name>` as Envoy prints them),
// GET /stats?format=json, GET /stats/prometheus (Envoy's exposition format: prometheus.ts), and the command
// list on anything else (404, like Envoy).
import { createServer, type Server } from "node:http";
import type { HostEnv } from "../host/env.ts";
import type { AddressInfo } from "node:net";
import { prometheusText, type StatsSettings, type TypedStat } from "./prometheus.ts";
import { compileRe2, Re2SyntaxError, type Re2 } from "./re2.ts";

export interface AdminSource {
  /** Current stats as name → value (counters and gauges). */
  stats(): Map<string, number | string>;
  /** Counters and gauges with their type, for /stats/prometheus. */
  typedStats(): TypedStat[];
  /** stats_config's tag extractors for /stats/prometheus (default: Envoy's). */
  statsSettings?: StatsSettings;
}

const COMMANDS = [
  "/ready: print server state, return 200 if LIVE, otherwise return 503",
  "/stats: print server stats",
  "/stats/prometheus: print server stats in prometheus format",
];

export async function startAdmin(address: string, port: number, source: AdminSource): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://admin");
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { "content-type": "text/plain" }).end("Method Not Allowed\n");
      return;
    }
    if (url.pathname === "/ready") {
      res.writeHead(200, { "content-type": "text/plain; charset=UTF-8" }).end("LIVE\n");
      return;
    }
    if (url.pathname === "/stats/prometheus") {
      res.writeHead(200, { "content-type": "text/plain; charset=UTF-8" }).end(prometheusText(source.typedStats(), source.statsSettings));
      return;
    }
    if (url.pathname === "/stats") {
      // Envoy compiles the filter with RE2 and answers 400 "Invalid re2 regex: <RE2's message>" when RE2
      // refuses it; a linear-time matcher, so no filter a client sends can stall the engine.
      const filter = url.searchParams.get("filter");
      let re: Re2 | null = null;
      try {
        re = filter ? compileRe2(filter) : null;
      } catch (e) {
        if (!(e instanceof Re2SyntaxError)) throw e;
        res.writeHead(400, { "content-type": "text/plain; charset=UTF-8" }).end(`Invalid re2 regex: ${e.message}`);
        return;
      }
      const entries = [...source.stats()].filter(([k]) => !re || re.test(k)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      if (url.searchParams.get("format") === "json") {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ stats: entries.map(([name, value]) => ({ name, value })) }, null, 1) + "\n");
      } else {
        res.writeHead(200, { "content-type": "text/plain; charset=UTF-8" }).end(entries.map(([k, v]) => `${k}: ${v}\n`).join(""));
      }
      return;
    }
    res.writeHead(404, { "content-type": "text/plain; charset=UTF-8" }).end(`invalid path. admin commands are:\n${COMMANDS.map((c) => `  ${c}\n`).join("")}`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, address, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Wasm metrics as Envoy 1.40's /stats prints them: under `wasmcustom.<name>` (only /stats/prometheus strips a
 * custom stat namespace); histograms as percentiles.
 */
export function metricEntries(env: HostEnv): Array<[string, number | string]> {
  return env.metrics.all().map((m): [string, number | string] => {
    if (m.kind !== "histogram") return [m.statName, m.value];
    if (m.samples.length === 0) return [m.statName, "No recorded values"];
    const sorted = [...m.samples].sort((a, b) => a - b);
    const q = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
    return [m.statName, [0, 25, 50, 75, 90, 95, 99, 100].map((p) => `P${p}(${q(p)},${q(p)})`).join(" ")];
  });
}
