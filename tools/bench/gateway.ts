// Embedded gateway throughput: requests/s for a small GET through (a) no wasm filters, (b) the noop plugin,
// (c) every plugin in envoy-configs/demo.yaml, measured in one run with autocannon over loopback, time-bounded.
// The ratios (b)/(a) and (c)/(a) are the figures that hold on a noisy machine; absolute req/s do not.
// The upstream and the load generator run in worker threads so the gateway's thread is the one measured.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { parse } from "yaml";
import { parseBootstrap } from "../gateway/config.ts";
import { Gateway } from "../gateway/server.ts";
import { repoRoot } from "../paths.ts";
import type { BenchContext } from "./context.ts";

const UPSTREAM = `
const http = require("node:http");
const { parentPort } = require("node:worker_threads");
const body = '{"ok":true}';
const s = http.createServer((req, res) => { req.resume(); req.on("end", () => res.writeHead(200, { "content-type": "application/json", "content-length": body.length }).end(body)); });
s.keepAliveTimeout = 60000;
s.listen(0, "127.0.0.1", () => parentPort.postMessage(s.address().port));
parentPort.on("message", (m) => { if (m === "stop") { s.closeAllConnections(); s.close(() => process.exit(0)); } });
`;

export interface GatewayBenchOptions {
  /** 1-second rounds per variant, interleaved (default 3). */
  seconds?: number;
  connections?: number;
  log?: (line: string) => void;
}

interface Variant {
  name: "none" | "noop" | "all";
  filters: unknown[];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = any;

function hcmOf(doc: Doc): Doc {
  return doc.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
}

async function loadgen(url: string, seconds: number, connections: number): Promise<{ rps: number; non2xx: number; errors: number; total: number }> {
  const name = "autocannon"; // untyped package: import by name to keep the type checker out of it
  const { default: autocannon } = (await import(name)) as { default: (o: object) => Promise<Record<string, unknown>> };
  const r = (await autocannon({ url, duration: seconds, connections, pipelining: 1, workers: 1 })) as {
    requests: { average: number; total?: number };
    non2xx: number;
    errors: number;
    "2xx": number;
  };
  return { rps: Math.round(r.requests.average), non2xx: r.non2xx, errors: r.errors, total: r["2xx"] + r.non2xx };
}

/** Runs the three variants; returns {reqPerSec, ratios, plugins, …} for `tollgate bench --json` under "gateway". */
export async function benchGateway(opts: GatewayBenchOptions = {}): Promise<Record<string, unknown>> {
  const seconds = opts.seconds ?? 3;
  const connections = opts.connections ?? 10;
  const root = repoRoot();
  const demo: Doc = parse(readFileSync(join(root, "envoy-configs", "demo.yaml"), "utf8"));
  const noopDoc: Doc = parse(readFileSync(join(root, "envoy-configs", "noop.yaml"), "utf8"));
  const demoFilters: Doc[] = hcmOf(demo).http_filters;
  const router = demoFilters[demoFilters.length - 1];
  const noopFilter = hcmOf(noopDoc).http_filters.find((f: Doc) => f.typed_config?.config?.root_id === "noop");
  const plugins = demoFilters.slice(0, -1).map((f: Doc) => f.typed_config?.config?.root_id ?? f.name);
  const variants: Variant[] = [
    { name: "none", filters: [router] },
    { name: "noop", filters: [noopFilter, router] },
    { name: "all", filters: demoFilters },
  ];

  const upstream = new Worker(UPSTREAM, { eval: true });
  const upstreamPort = await new Promise<number>((resolve, reject) => {
    upstream.once("message", resolve);
    upstream.once("error", reject);
  });
  const results: Record<string, { rps: number; non2xx: number; errors: number; total: number }> = {};
  const gateways: Gateway[] = [];
  try {
    for (const v of variants) {
      const doc: Doc = structuredClone(demo);
      delete doc.admin;
      doc.static_resources.listeners[0].address = { socket_address: { address: "127.0.0.1", port_value: 0 } };
      hcmOf(doc).http_filters = v.filters;
      // Every request takes the default route; both clusters point at the bench upstream.
      for (const c of doc.static_resources.clusters) {
        c.load_assignment.endpoints = [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: upstreamPort } } } }] }];
      }
      gateways.push(await Gateway.start(parseBootstrap(doc, `demo.yaml (${v.name})`, root), { workers: 2 }));
    }
    const urls = gateways.map((g) => `http://127.0.0.1:${g.listeners[0].port}/bench`);
    for (const url of urls) await loadgen(url, 1, connections); // warm-up: JIT, connection pools
    // Interleaved 1 s rounds (none, noop, all, none, …): machine noise hits all three alike; median per variant.
    const rounds: Array<Array<{ rps: number; non2xx: number; errors: number; total: number }>> = variants.map(() => []);
    for (let r = 0; r < seconds; r++) {
      for (let i = 0; i < variants.length; i++) rounds[i].push(await loadgen(urls[i], 1, connections));
    }
    variants.forEach((v, i) => {
      const byRps = [...rounds[i]].sort((a, b) => a.rps - b.rps);
      const sum = (k: "non2xx" | "errors" | "total") => rounds[i].reduce((n, x) => n + x[k], 0);
      results[v.name] = { rps: byRps[Math.floor(byRps.length / 2)].rps, non2xx: sum("non2xx"), errors: sum("errors"), total: sum("total") };
      opts.log?.(`gateway ${v.name}: median ${results[v.name].rps} req/s over ${seconds} rounds (${results[v.name].non2xx} non-2xx, ${results[v.name].errors} errors)`);
    });
  } finally {
    await Promise.all(gateways.map((g) => g.close()));
    upstream.postMessage("stop");
    await new Promise((r) => upstream.once("exit", r));
  }
  const ratio = (x: number): number => Math.round((x / results.none.rps) * 1000) / 1000;
  return {
    method: `autocannon (worker thread), ${connections} connections, ${seconds} interleaved 1 s rounds per variant (median) after a 1 s warm-up, GET /bench, 2 worker VMs per plugin`,
    reqPerSec: { none: results.none.rps, noop: results.noop.rps, all: results.all.rps },
    ratios: { noopVsNone: ratio(results.noop.rps), allVsNone: ratio(results.all.rps) },
    plugins,
    non2xx: { none: results.none.non2xx, noop: results.noop.non2xx, all: results.all.non2xx },
    errors: { none: results.none.errors, noop: results.noop.errors, all: results.all.errors },
  };
}

/** The bench-registry entry point (tools/bench/index.ts): 3 rounds per variant, 10 with --full. */
export async function bench(ctx: Pick<BenchContext, "full" | "log">): Promise<Record<string, unknown>> {
  return benchGateway({ seconds: ctx.full ? 10 : 3, log: (l) => ctx.log(l) });
}
