// Scenario runner: loads test/scenarios/*.yaml (format: README.md here), starts echo upstreams and
// `tollgate up` on a copy of the named envoy-configs file (ports rewritten to ephemeral loopback ones),
// sends each case over real HTTP and checks the answer. The same data runs on the embedded engine and on
// real Envoy; the engine is only a parameter.
import { readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { parse } from "yaml";
import { startGateway } from "../../tools/diff/gateway.ts";
import { foldRawHeaders } from "../helpers/http.ts";

export interface ScenarioRequest {
  method?: string;
  path: string;
  /** Sent as the Host header (default "localhost"). */
  authority?: string;
  headers?: Record<string, string | string[]> | Array<[string, string]>;
  body?: string;
}

export interface ScenarioExpect {
  status?: number;
  /** Response headers that must equal these values (names case-insensitive). */
  headers?: Record<string, string>;
  headers_present?: string[];
  headers_absent?: string[];
  body_contains?: string[];
  body_not_contains?: string[];
  body_equals?: string;
  /** Which echo upstream served it (its x-echo-upstream header); "none" = it never reached an upstream. */
  upstream?: string;
  /** Headers the upstream received (read from the echo JSON body). */
  upstream_headers?: Record<string, string>;
  upstream_headers_present?: string[];
  upstream_headers_absent?: string[];
  upstream_path?: string;
  upstream_body?: string;
}

export interface ScenarioCase {
  name: string;
  request: ScenarioRequest;
  expect: ScenarioExpect;
  /** Send the same request N times (each answer must meet `expect`), e.g. to spend a rate-limit budget. */
  repeat?: number;
}

export interface Scenario {
  file: string;
  /** The envoy-configs file it runs against, relative to the repository root. */
  config: string;
  /** Cluster name → "echo" (default: an echo upstream named after the cluster) or "down" (nothing listens). */
  upstreams?: Record<string, "echo" | "down">;
  /** Listener name to send to (default: the first listener). */
  listener?: string;
  cases: ScenarioCase[];
}

export interface Response {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export function loadScenario(file: string): Scenario {
  const doc = parse(readFileSync(file, "utf8")) as Omit<Scenario, "file">;
  if (!doc || typeof doc.config !== "string" || !Array.isArray(doc.cases)) throw new Error(`${file}: needs 'config' (an envoy-configs file) and 'cases'`);
  return { file, ...doc };
}

export interface RunningGateway {
  engine: "embedded" | "envoy";
  url: string;
  admin: string | null;
  output: string[];
  stop(): Promise<void>;
}

/** Starts upstreams + `tollgate up` for a scenario's config (tools/diff/gateway.ts); ports are ephemeral everywhere. */
export async function startScenarioGateway(s: Scenario, engine: "embedded" | "envoy", env: NodeJS.ProcessEnv = process.env): Promise<RunningGateway> {
  const gw = await startGateway({ config: s.config, engine, upstreams: s.upstreams, env });
  const name = s.listener ?? gw.firstListener;
  const url = gw.listeners.get(name);
  if (!url) {
    await gw.stop();
    throw new Error(`listener '${name}' not reported:\n${gw.output.join("\n")}`);
  }
  return { engine, url, admin: gw.admin, output: gw.output, stop: gw.stop };
}

const agent = new Agent({ keepAlive: true, maxSockets: 4 });

/** One HTTP/1.1 request over a keep-alive connection; headers as sent (Host = authority). */
export function send(base: string, r: ScenarioRequest): Promise<Response> {
  const u = new URL(base);
  const headers: string[] = ["host", r.authority ?? "localhost"];
  const list: Array<[string, string]> = Array.isArray(r.headers)
    ? r.headers
    : Object.entries(r.headers ?? {}).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x): [string, string] => [k, x]) : [[k, v] as [string, string]]));
  for (const [k, v] of list) headers.push(k, v);
  const body = r.body !== undefined ? Buffer.from(r.body) : null;
  if (body) headers.push("content-length", String(body.length));
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method: r.method ?? "GET", path: r.path, headers: headers as unknown as Record<string, string>, agent, setHost: false, timeout: 20_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const h = foldRawHeaders(res.rawHeaders);
        resolve({ status: res.statusCode ?? 0, headers: h, body: Buffer.concat(chunks).toString("utf8") });
      });
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`no answer to ${r.method ?? "GET"} ${r.path} within 20 s`)));
    req.on("error", reject);
    req.end(body ?? undefined);
  });
}

/** Problems with a response against its expectation (empty = pass). */
export function check(res: Response, e: ScenarioExpect): string[] {
  const p: string[] = [];
  if (e.status !== undefined && res.status !== e.status) p.push(`status ${res.status}, expected ${e.status}`);
  for (const [k, v] of Object.entries(e.headers ?? {})) {
    const got = res.headers[k.toLowerCase()];
    if (got !== String(v)) p.push(`header ${k}: ${JSON.stringify(got)}, expected ${JSON.stringify(String(v))}`);
  }
  for (const k of e.headers_present ?? []) if (res.headers[k.toLowerCase()] === undefined) p.push(`header ${k} missing`);
  for (const k of e.headers_absent ?? []) if (res.headers[k.toLowerCase()] !== undefined) p.push(`header ${k} present (${res.headers[k.toLowerCase()]}), expected absent`);
  for (const s of e.body_contains ?? []) if (!res.body.includes(s)) p.push(`body lacks ${JSON.stringify(s)}`);
  for (const s of e.body_not_contains ?? []) if (res.body.includes(s)) p.push(`body contains ${JSON.stringify(s)}`);
  if (e.body_equals !== undefined && res.body !== e.body_equals) p.push(`body ${JSON.stringify(res.body.slice(0, 200))}, expected ${JSON.stringify(e.body_equals)}`);
  if (e.upstream !== undefined) {
    const got = res.headers["x-echo-upstream"] ?? "none";
    if (got !== e.upstream) p.push(`served by upstream ${got}, expected ${e.upstream}`);
  }
  const needsEcho = e.upstream_headers || e.upstream_headers_present || e.upstream_headers_absent || e.upstream_path !== undefined || e.upstream_body !== undefined;
  if (needsEcho) {
    let echo: { path: string; body: string; headers: Record<string, string | string[]> } | null = null;
    try {
      echo = res.headers["x-echo-upstream"] ? JSON.parse(res.body) : null;
    } catch {
      echo = null;
    }
    if (!echo) p.push("the request did not reach an echo upstream, so its upstream view cannot be checked");
    else {
      const uh = (k: string): string | undefined => {
        const v = echo!.headers[k.toLowerCase()];
        return Array.isArray(v) ? v.join(",") : v;
      };
      for (const [k, v] of Object.entries(e.upstream_headers ?? {})) if (uh(k) !== String(v)) p.push(`upstream saw ${k}: ${JSON.stringify(uh(k))}, expected ${JSON.stringify(String(v))}`);
      for (const k of e.upstream_headers_present ?? []) if (uh(k) === undefined) p.push(`upstream did not get header ${k}`);
      for (const k of e.upstream_headers_absent ?? []) if (uh(k) !== undefined) p.push(`upstream got header ${k}: ${uh(k)}, expected absent`);
      if (e.upstream_path !== undefined && echo.path !== e.upstream_path) p.push(`upstream path ${echo.path}, expected ${e.upstream_path}`);
      if (e.upstream_body !== undefined && echo.body !== e.upstream_body) p.push(`upstream body ${JSON.stringify(echo.body)}, expected ${JSON.stringify(e.upstream_body)}`);
    }
  }
  return p;
}

/** Runs every case in order against a started gateway; returns one line per failed case. */
export async function runCases(gw: RunningGateway, s: Scenario): Promise<string[]> {
  const failures: string[] = [];
  for (const c of s.cases) {
    const n = c.repeat ?? 1;
    for (let i = 0; i < n; i++) {
      let res: Response;
      try {
        res = await send(gw.url, c.request);
      } catch (e) {
        failures.push(`${c.name}${n > 1 ? ` (#${i + 1})` : ""}: ${(e as Error).message}`);
        break;
      }
      const p = check(res, c.expect);
      if (p.length) {
        failures.push(`${c.name}${n > 1 ? ` (#${i + 1})` : ""}: ${p.join("; ")}`);
        break;
      }
    }
  }
  return failures;
}
