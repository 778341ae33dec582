// A real Prometheus (Debian's package) scraping the admin /stats/prometheus of the engines under test, on
// loopback, with a 1 s scrape interval; for the tests that query its HTTP API.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closedPort as freePort } from "../../tools/diff/gateway.ts";

export interface PrometheusTarget {
  /** The engine's admin port. */
  adminPort: number;
  /** The `engine` label its series get. */
  engine: string;
}

export interface Prometheus {
  /** An instant query: the HTTP status and body of /api/v1/query (connection errors reject: not listening yet). */
  query(expr: string): Promise<{ status: number; body: string }>;
  /** The series of an instant query as (labels, value); empty unless the query answered 200. */
  series(expr: string): Promise<Array<{ metric: Record<string, string>; value: string }>>;
  /** False once the process exited. */
  running(): boolean;
  /** What it printed (the tail goes into assertion messages). */
  output(): string;
  /** Stops it (SIGTERM, SIGKILL after 10 s) and removes its data directory. */
  stop(): Promise<void>;
}

export async function startPrometheus(binary: string, targets: PrometheusTarget[]): Promise<Prometheus> {
  const dir = mkdtempSync(join(tmpdir(), "tollgate-prometheus-"));
  const port = await freePort();
  writeFileSync(join(dir, "prometheus.yml"), [
    "global: { scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s }",
    "scrape_configs:",
    "- job_name: tollgate",
    "  metrics_path: /stats/prometheus",
    "  static_configs:",
    ...targets.flatMap((t) => [`  - targets: ["127.0.0.1:${t.adminPort}"]`, `    labels: { engine: ${t.engine} }`]),
    "",
  ].join("\n"));
  const out: string[] = [];
  const child = spawn(binary, [`--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`, "--log.level=warn"], { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.on("data", (c: Buffer) => out.push(c.toString()));
  child.stderr.on("data", (c: Buffer) => out.push(c.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const query = (expr: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      request({ host: "127.0.0.1", port, path: `/api/v1/query?query=${encodeURIComponent(expr)}`, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      }).on("error", reject).end();
    });
  return {
    query,
    async series(expr) {
      const r = await query(expr);
      if (r.status !== 200) return [];
      const body = JSON.parse(r.body) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
      return body.data.result.map((x) => ({ metric: x.metric, value: x.value[1] }));
    },
    running: () => child.exitCode === null,
    output: () => out.join(""),
    async stop() {
      child.kill("SIGTERM");
      const killTimer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(killTimer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
