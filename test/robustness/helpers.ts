// Shared pieces of the robustness suite: fixture builds, Envoy bootstrap YAML text written by the tests,
// an HTTP client that reports resets instead of throwing.
import { request, type IncomingHttpHeaders } from "node:http";
import { join } from "node:path";
import { parseEnvoyYaml } from "../../tools/envoy/yaml.ts";
import { compileAssemblyScript } from "../../tools/build/compile.ts";
import { parseBootstrap } from "../../tools/gateway/config.ts";
import { Gateway, type GatewayOptions } from "../../tools/gateway/server.ts";
import { repoRoot } from "../../tools/paths.ts";
export { closedPort } from "../../tools/diff/gateway.ts";

/** Compiles test/fixtures/<dir>/index.ts into dist/fixtures/<dir>.wasm (release, cached by input hash). */
export async function fixtureWasm(dir: string): Promise<string> {
  const out = join(repoRoot(), "dist", "fixtures", `${dir}.wasm`);
  await compileAssemblyScript(join(repoRoot(), "test", "fixtures", dir, "index.ts"), out, "release");
  return out;
}

export interface WasmFilterYaml {
  name: string;
  rootId: string;
  vmId: string;
  file: string;
  failOpen?: boolean;
  /** Envoy's failure_policy (FAIL_CLOSED | FAIL_OPEN | FAIL_RELOAD) and FAIL_RELOAD's backoff base interval. */
  failurePolicy?: string;
  reloadBaseInterval?: string;
  configuration?: string;
}

/** One envoy.filters.http.wasm entry, as it would appear in an Envoy bootstrap. */
export function wasmFilterYaml(f: WasmFilterYaml, indent: string): string {
  const lines = [
    `- name: ${f.name}`,
    `  typed_config:`,
    `    "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm`,
    `    config:`,
    `      name: ${f.name}`,
    `      root_id: ${f.rootId}`,
    ...(f.failOpen === undefined ? [] : [`      fail_open: ${f.failOpen}`]),
    ...(f.failurePolicy === undefined ? [] : [`      failure_policy: ${f.failurePolicy}`]),
    ...(f.reloadBaseInterval === undefined ? [] : [`      reload_config: { backoff: { base_interval: ${f.reloadBaseInterval} } }`]),
    ...(f.configuration === undefined
      ? []
      : [`      configuration:`, `        "@type": type.googleapis.com/google.protobuf.StringValue`, `        value: ${JSON.stringify(f.configuration)}`]),
    `      vm_config:`,
    `        vm_id: ${f.vmId}`,
    `        runtime: envoy.wasm.runtime.v8`,
    `        code: { local: { filename: ${JSON.stringify(f.file)} } }`,
  ];
  return lines.map((l) => indent + l).join("\n");
}

export interface ListenerYaml {
  name: string;
  filters: WasmFilterYaml[];
  cluster: string;
  /** Route timeout (Envoy duration), default Envoy's 15s. */
  timeout?: string;
}

/** A complete bootstrap: one listener per entry (port 0), admin on port 0, one STATIC cluster per name → port. */
export function bootstrapYaml(listeners: ListenerYaml[], clusters: Record<string, number>): string {
  const ls = listeners.map((l) => `  - name: ${l.name}
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ${l.name}
          route_config:
            name: ${l.name}-routes
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: ${l.cluster}${l.timeout ? `, timeout: ${l.timeout}` : ""} }
          http_filters:
${l.filters.map((f) => wasmFilterYaml(f, "          ")).join("\n")}
          - name: envoy.filters.http.router
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }`);
  const cs = Object.entries(clusters).map(([name, port]) => `  - name: ${name}
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: ${name}
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${port} } } }`);
  return `admin:
  address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
static_resources:
  listeners:
${ls.join("\n")}
  clusters:
${cs.join("\n")}
`;
}

/** Starts the embedded gateway on a bootstrap given as YAML text (wasm paths as written, resolved from the repo root). */
export function startGateway(yaml: string, opts: GatewayOptions = {}): Promise<Gateway> {
  return Gateway.start(parseBootstrap(parseEnvoyYaml(yaml), "robustness.yaml", repoRoot()), opts);
}

export function listenerPort(gw: Gateway, name: string): number {
  const l = gw.listeners.find((x) => x.config.name === name);
  if (!l) throw new Error(`no listener ${name}`);
  return l.port;
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The connection was reset/closed before the response completed (status is then what arrived, or 0). */
  error: string | null;
}

/** One request on a fresh connection (so each one is pinned anew: connection n → worker (n-1) % workers). */
export function send(port: number, path: string, headers: Record<string, string> = {}, body?: string): Promise<Reply> {
  return new Promise((resolve) => {
    const h: Record<string, string> = { ...headers, connection: "close" };
    if (body !== undefined) h["content-length"] = String(Buffer.byteLength(body));
    let status = 0;
    let got: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    let settled = false;
    const done = (error: string | null) => {
      if (settled) return;
      settled = true;
      resolve({ status, headers: got, body: Buffer.concat(chunks).toString(), error });
    };
    const req = request({ host: "127.0.0.1", port, path, method: body === undefined ? "GET" : "POST", headers: h, timeout: 20_000 }, (res) => {
      status = res.statusCode ?? 0;
      got = res.headers;
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => done(res.complete ? null : "incomplete response"));
      res.on("error", (e) => done(e.message));
      res.on("aborted", () => done("aborted"));
    });
    req.on("timeout", () => req.destroy(new Error("client timeout")));
    req.on("error", (e) => done(e.message));
    req.end(body);
  });
}

/** Polls until `fn` holds (bounded): stream completion is asynchronous to the client seeing the reset. */
export async function eventually(fn: () => Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for: ${what}`);
}
