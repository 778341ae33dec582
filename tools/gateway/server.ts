// The embedded engine: HTTP/1.1 listeners (keep-alive) → the wasm filter chain (tools/host HttpStream, with
// Envoy's filter manager semantics) → the router (route actions, clusters). One HostEnv per gateway (shared
// data, metrics, logs); each plugin runs N VMs, one per "worker", and every connection is pinned to one.
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { metricEntries, startAdmin } from "./admin.ts";
import { CODEC_REPLIES, codecRefusal, codecReply, DownstreamWriter, hasRequestBody, MAX_REQUEST_HEAD_BYTES, rawTransferEncodings, responseHead, unsupportedTransferEncoding } from "./codec.ts";
import type { GatewayConfig, HeaderToAdd, Listener, WasmFilter } from "./model.ts";
import { formatAddress, mutateRequestHeaders, plainIp } from "./forwarding.ts";
import { fromWire, type WireRequestHeaders } from "./request-headers.ts";
import { selectRoute, type SelectedRoute } from "./routes.ts";
import { ClusterManager, readAll, ROUTER_REPLIES, routerReply, type UpstreamResponse } from "./upstream.ts";
import { GrpcClient } from "./grpc-client.ts";
import { setGrpcTransport } from "../host/grpc-calls.ts";
import { HeaderMap } from "../host/header-map.ts";
import type { BoundaryProfile } from "../host/profile.ts";
import { HostEnv, type CalloutRequest, type CalloutResponse, type LogRecord } from "../host/env.ts";
import type { BodyBuffer, FilterCallbacks, HttpFilter, RouteInfo } from "../host/filter-api.ts";
import { HttpStream } from "../host/filter-manager.ts";
import { RbacHttpFilter } from "./rbac.ts";
import { Plugin, PluginLoadError } from "../host/plugin.ts";
import { DEFAULT_STATS_SETTINGS, statIncluded, type TypedStat } from "./prometheus.ts";

export interface GatewayOptions {
  /** VMs per plugin; connections are spread over them round-robin (default 2). */
  workers?: number;
  /** Plugin log lines (Envoy prints them as `wasm log <plugin>: …`). */
  onLog?: (r: LogRecord) => void;
  /** Draw for weighted_clusters (default Math.random). */
  random?: () => number;
  /** Listener/admin port overrides (tests bind port 0); keyed by listener name, "admin" for admin. */
  portOverride?: Record<string, number>;
  /** Count every plugin's boundary traffic (tools/host/profile.ts). */
  profile?: BoundaryProfile;
}

/** A plugin that failed to start or configure; `logLine` is the plugin's own critical/error log line. */
export class PluginStartError extends Error {
  constructor(readonly filter: WasmFilter, readonly phase: string, readonly logLine: string) {
    super(`${filter.path}: plugin '${filter.name || filter.rootId}' (${filter.filename}) failed to ${phase}: ${logLine}`);
    this.name = "PluginStartError";
  }
}

interface RunningListener {
  config: Listener;
  server: Server;
  port: number;
  plugins: Plugin[];
}

/** The route handle the filter chain carries; `selected` is ours, the rest is what the host reads. */
interface GatewayRoute extends RouteInfo {
  selected: SelectedRoute;
}

function counterAdd(stats: Map<string, number>, name: string, n = 1): void {
  stats.set(name, (stats.get(name) ?? 0) + n);
}

export class Gateway {
  readonly env: HostEnv;
  readonly listeners: RunningListener[] = [];
  adminPort: number | null = null;
  private admin: { close(): Promise<void> } | null = null;
  private readonly clusters: ClusterManager;
  /** proxy_grpc_call's transport: HTTP/2 to the cluster's endpoints. */
  private readonly grpc: GrpcClient;
  private readonly stats = new Map<string, number>();
  private readonly workers: number;
  private readonly random: () => number;
  private connections = 0;

  private constructor(readonly config: GatewayConfig, private readonly opts: GatewayOptions) {
    this.workers = Math.max(1, opts.workers ?? 2);
    this.random = opts.random ?? Math.random;
    this.clusters = new ClusterManager(config.clusters);
    this.env = new HostEnv({
      onLog: opts.onLog,
      callouts: (req) => this.callout(req),
      clusterExists: (name) => this.clusters.has(name),
      clusterHasHosts: (name) => this.clusters.hasHosts(name),
      node: config.node,
      profile: opts.profile,
    });
    // A long-running gateway keeps only recent plugin logs in memory (they are printed as they come).
    this.env.maxLogs = 1000;
    this.grpc = new GrpcClient((name) => this.clusters.grpcEndpoint(name));
    setGrpcTransport(this.env, (req, signal) => this.grpc.call(req, signal));
  }

  /** Loads every plugin (all VMs started and configured), then opens the listeners and the admin. */
  static async start(config: GatewayConfig, opts: GatewayOptions = {}): Promise<Gateway> {
    const gw = new Gateway(config, opts);
    try {
      await gw.clusters.start();
      for (const l of config.listeners) {
        const plugins: Plugin[] = [];
        gw.listeners.push({ config: l, server: null as unknown as Server, port: 0, plugins });
        for (const f of l.filters) plugins.push(await gw.loadPlugin(f));
        // Envoy creates the rbac filter's counters with the filter (shown at 0 before any request).
        if (l.rbac.length) for (const n of ["allowed", "denied", "shadow_allowed", "shadow_denied"]) counterAdd(gw.stats, `http.${l.statPrefix}.rbac.${n}`, 0);
      }
      for (const rl of gw.listeners) {
        const port = opts.portOverride?.[rl.config.name] ?? rl.config.address.port;
        rl.server = await gw.listen(rl, port);
        rl.port = (rl.server.address() as AddressInfo).port;
      }
      if (config.admin) {
        // stats_config's matcher hides what Envoy would not create; its extractors shape /stats/prometheus.
        const settings = config.stats ?? DEFAULT_STATS_SETTINGS;
        const admin = await startAdmin(config.admin.address, opts.portOverride?.admin ?? config.admin.port, {
          stats: () => new Map([...gw.allStats()].filter(([k]) => statIncluded(k, settings))),
          typedStats: () => gw.typedStats().filter((s) => statIncluded(s.name, settings)),
          statsSettings: settings,
        });
        gw.admin = admin;
        gw.adminPort = admin.port;
      }
    } catch (e) {
      await gw.close();
      throw e;
    }
    return gw;
  }

  private async loadPlugin(f: WasmFilter): Promise<Plugin> {
    try {
      return await Plugin.load(this.env, {
        wasm: f.wasmFile,
        name: f.name,
        rootId: f.rootId,
        vmId: f.vmId,
        vmConfig: f.vmConfig,
        configuration: f.configuration,
        failOpen: f.failOpen,
        failurePolicy: f.failurePolicy,
        reloadBackoffMs: f.reloadBackoffMs,
        workers: this.workers,
        allowOnHeadersStopIteration: f.allowOnHeadersStopIteration,
      });
    } catch (e) {
      if (e instanceof PluginLoadError) {
        const logs = [...(e.logs ?? [])].reverse();
        // The plugin's own words first: its last critical/error line (e.g. `'max_age' must be a non-negative integer`).
        const line = logs.find((r) => r.source === "plugin" && r.level >= 4) ?? logs.find((r) => r.source === "plugin" && r.level >= 3);
        throw new PluginStartError(f, e.phase, line ? line.line : e.message);
      }
      const err = e as NodeJS.ErrnoException;
      if (err.code === "ENOENT") throw new PluginStartError(f, "load", `cannot read the Wasm file ${f.wasmFile} (code.local.filename '${f.filename}' is resolved against the working directory, like Envoy)`);
      throw e;
    }
  }

  private allStats(): Map<string, number | string> {
    const out = new Map<string, number | string>(this.stats);
    for (const [k, v] of metricEntries(this.env)) out.set(k, v);
    // Envoy's per-plugin VM reload counters (`wasm.<plugin name>.vm_reload_*`), for every wasm filter.
    for (const l of this.listeners) for (const p of l.plugins) for (const [k, v] of Object.entries(p.reloadStats)) out.set(`wasm.${p.name}.${k}`, v);
    return out;
  }

  /**
   * Counters and gauges with their types, for /stats/prometheus. Histograms are left out: the host keeps only
   * a bounded ring of recent samples, not the cumulative buckets and sum Envoy exports.
   */
  private typedStats(): TypedStat[] {
    const out: TypedStat[] = [...this.stats].map(([name, value]) => ({ name, type: "counter", value }));
    for (const m of this.env.metrics.all()) if (m.kind !== "histogram") out.push({ name: m.statName, type: m.kind, value: m.value });
    for (const l of this.listeners) for (const p of l.plugins) for (const [k, v] of Object.entries(p.reloadStats)) out.push({ name: `wasm.${p.name}.${k}`, type: "counter", value: v });
    return out;
  }

  private listen(rl: RunningListener, port: number): Promise<Server> {
    // Envoy's default max_request_headers_kb is 60 (Node's default is 16 KiB).
    const server = createServer({ keepAlive: true, requireHostHeader: false, maxHeaderSize: 60 * 1024 }, (req, res) => {
      void this.handle(rl, req, res);
    });
    // Envoy forwards any other `Expect` value instead of answering 417 (Node's default without this listener).
    server.on("checkExpectation", (req: IncomingMessage, res: ServerResponse) => {
      void this.handle(rl, req, res);
    });
    // Envoy's HTTP connection manager closes idle downstream connections after 1 h (common_http_protocol_options.idle_timeout).
    server.keepAliveTimeout = 3_600_000;
    // Requests Node's parser refuses are refused as Envoy's HTTP/1 codec refuses them (sendProtocolError):
    // its reply format, 431 for headers over max_request_headers_kb, 400 for everything else.
    server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
      if (socket.destroyed || !socket.writable) return;
      // Envoy's parser takes any token as a method and judges it after the head, so an oversize head with a
      // method Node's parser does not know is a 431 there (a bad request line, e.g. a control byte in the
      // path, is a 400 at once on both).
      const raw = (err as { rawPacket?: Buffer }).rawPacket;
      const headEnd = raw ? raw.indexOf("\r\n\r\n") : -1;
      const tokenMethod = raw !== undefined && /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ /.test(raw.subarray(0, 64).toString("latin1"));
      const tooLarge =
        err.code === "HPE_HEADER_OVERFLOW" ||
        (err.code === "HPE_INVALID_METHOD" && tokenMethod && (headEnd < 0 ? raw!.length : headEnd) > MAX_REQUEST_HEAD_BYTES);
      // Node refuses Transfer-Encoding lists Envoy answers 501 (`chunked, identity`, a repeated header).
      const te = raw && err.code === "HPE_INVALID_TRANSFER_ENCODING" ? rawTransferEncodings(raw.subarray(0, headEnd < 0 ? raw.length : headEnd).toString("latin1")) : [];
      socket.end(codecReply(tooLarge ? CODEC_REPLIES.headersTooLarge : unsupportedTransferEncoding(te) ? CODEC_REPLIES.transferEncoding : CODEC_REPLIES.badRequest));
    });
    // CONNECT without an upgrade/connect route: Envoy's router finds no route (404); Node would drop the socket.
    server.on("connect", (_req: IncomingMessage, socket: Socket) => {
      socket.end(codecReply(CODEC_REPLIES.connectNoRoute));
    });
    server.on("connection", (socket: Socket & { tollgateWorker?: number; tollgateId?: number }) => {
      // Each connection is pinned to one worker, as Envoy pins it to the worker thread that accepted it.
      socket.tollgateId = ++this.connections;
      socket.tollgateWorker = (socket.tollgateId - 1) % this.workers;
      // Envoy's listener stats, in total and per worker thread, named by the listener's configured address
      // (Envoy 1.40 prints `listener.127.0.0.1_0.` for a listener on port 0, not the port it bound).
      const addr = rl.config.address;
      const prefix = `listener.${addr.address}_${addr.port}.`;
      counterAdd(this.stats, `${prefix}downstream_cx_total`);
      counterAdd(this.stats, `${prefix}worker_${socket.tollgateWorker}.downstream_cx_total`);
    });
    return new Promise((resolve, reject) => {
      server.once("error", (e: NodeJS.ErrnoException) =>
        reject(e.code === "EADDRINUSE" ? new Error(`listener '${rl.config.name}': address ${rl.config.address.address}:${port} is already in use`) : e),
      );
      server.listen(port, rl.config.address.address, () => resolve(server));
    });
  }

  private async handle(rl: RunningListener, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const socket = req.socket as Socket & { tollgateWorker?: number; tollgateId?: number };
    const worker = socket.tollgateWorker ?? 0;
    const prefix = `http.${rl.config.statPrefix}.`;
    // What Envoy's HTTP/1 codec passes on: inline headers joined, hop-by-hop gone (request-headers.ts).
    const wire = fromWire(req.rawHeaders);
    const refusal = codecRefusal(req, wire);
    if (refusal) {
      if (refusal !== CODEC_REPLIES.badRequest && refusal !== CODEC_REPLIES.headersTooLarge) counterAdd(this.stats, prefix + "downstream_rq_total");
      res.socket?.end(codecReply(refusal));
      return;
    }
    counterAdd(this.stats, prefix + "downstream_rq_total");
    let authority = wire.authority;
    let path = req.url ?? "/";
    const abs = /^https?:\/\/([^/?#]*)(.*)$/i.exec(path);
    // A target that is neither origin-form nor absolute-form (`OPTIONS *`) gets the connection manager's 404
    // before any filter runs; the connection stays open (seen on Envoy 1.40).
    if (!abs && !path.startsWith("/")) {
      this.write(req, res, 404, [], new Uint8Array(0));
      return;
    }
    // Absolute-form targets (`GET http://host/p`): Envoy's codec takes :authority and :path from the URL.
    if (abs) {
      authority = abs[1];
      path = abs[2] === "" ? "/" : abs[2];
    }
    const headers: Array<[string, string]> = [
      [":authority", authority],
      [":path", path],
      [":method", req.method ?? "GET"],
      [":scheme", "http"],
    ];
    for (const h of wire.headers) headers.push(h);
    // The HTTP connection manager's own mutations before any filter runs: XFF / x-forwarded-proto,
    // internal-header sanitising, the downstream address filters see and :scheme (forwarding.ts).
    const fwd = mutateRequestHeaders(headers, socket.remoteAddress ?? "", socket.remotePort ?? 0, rl.config.forwarding);
    headers[3] = [":scheme", fwd.scheme];
    // An empty client x-request-id is replaced like a missing one (Envoy 1.34+).
    const rid = headers.findIndex(([k]) => k === "x-request-id");
    if (rid < 0) headers.push(["x-request-id", randomUUID()]);
    else if (headers[rid][1] === "") headers[rid][1] = randomUUID();
    const hasBody = hasRequestBody(req);
    const properties: Record<string, unknown> = {
      "source.address": fwd.remoteAddress,
      "source.port": fwd.remotePort,
      "destination.address": formatAddress(socket.localAddress ?? "", socket.localPort ?? 0),
      "destination.port": socket.localPort,
      "connection.id": socket.tollgateId,
      "request.protocol": `HTTP/${req.httpVersion}`,
      "xds.listener_direction": 0,
      "xds.filter_chain_name": "",
    };
    // One weighted_clusters draw per stream: Envoy derives it from the stream id, so a route re-resolved
    // after a filter cleared the route cache picks the same cluster of the same weighted route.
    const draw = this.random();
    const streamDraw = (): number => draw;
    const writer = new DownstreamWriter(req, res);
    const filters: HttpFilter[] = [writer, ...rl.plugins.map((p) => p.createFilter(worker))];
    // Native rbac filters sit between the wasm filters where the bootstrap lists them (after the writer).
    const peer = plainIp(socket.remoteAddress ?? "");
    const addresses = { remote: fwd.remoteAddress.replace(/^\[(.*)\]:\d+$|:\d+$/, "$1") || peer, direct: peer };
    for (const f of [...rl.config.rbac].reverse()) {
      filters.splice(1 + f.position, 0, new RbacHttpFilter(f, addresses, (cb) => (cb.route() as GatewayRoute | null)?.selected.route.rbac, (n) => counterAdd(this.stats, `${prefix}rbac.${n}`)));
    }
    const stream: HttpStream = new HttpStream(
      filters,
      async (up, signal) => {
        const r = await this.router(up, signal, req.headers["content-length"]);
        // Router-generated replies keep Envoy's response code details (response.code_details in on_log).
        if (r.details !== "via_upstream") stream.info.responseCodeDetails = r.details;
        return r;
      },
      { resolveRoute: (h: HeaderMap) => this.resolveRoute(rl, h, streamDraw), properties, streamRequestBody: true },
    );
    res.on("close", () => {
      if (!res.writableFinished && !stream.finished) stream.abort("downstream_remote_disconnect");
    });
    try {
      const result = await stream.run({ headers, body: hasBody ? (req as AsyncIterable<Uint8Array>) : undefined });
      if (result.reset) {
        // Envoy resets the downstream stream: for HTTP/1.1 that closes the connection (mid-body if started).
        counterAdd(this.stats, prefix + "downstream_rq_tx_reset");
        res.destroy();
        return;
      }
      counterAdd(this.stats, `${prefix}downstream_rq_${Math.floor(result.status / 100)}xx`);
      // Streamed by the writer, unless the filter manager sent a reply straight to the codec.
      if (!writer.headersSent) this.write(req, res, result.status, result.headers, result.body);
      else if (!writer.ended) res.end();
    } catch {
      // A reset stream (filter resetStream, upstream reset after headers): drop the connection like Envoy.
      counterAdd(this.stats, prefix + "downstream_rq_rx_reset");
      res.destroy();
    }
  }

  private resolveRoute(rl: RunningListener, h: HeaderMap, draw: () => number): GatewayRoute | null {
    const selected = selectRoute(rl.config.virtualHosts, h, draw);
    if (!selected) return null;
    const info: GatewayRoute = { name: selected.route.name, virtualHost: selected.virtualHost.name, selected };
    if (selected.cluster) info.cluster = selected.cluster;
    return info;
  }

  /** The terminal filter (envoy.filters.http.router): direct responses, router replies, or the upstream. */
  private async router(
    req: { headers: HeaderMap; body: Uint8Array; bodyStream?: AsyncIterable<Uint8Array>; trailers?: HeaderMap; route: RouteInfo | null },
    signal: AbortSignal,
    /** The downstream's own Content-Length, which frames a body that streams through unbuffered. */
    downstreamLength?: string,
  ): Promise<{ headers: Array<[string, string]>; body: Uint8Array | AsyncIterable<Uint8Array>; details: string }> {
    const route = (req.route as GatewayRoute | null)?.selected ?? null;
    const toStream = (r: UpstreamResponse): { headers: Array<[string, string]>; body: AsyncIterable<Uint8Array>; details: string } => ({
      headers: [[":status", String(r.status)], ...r.headers],
      body: r.body,
      details: r.details,
    });
    if (!route) return toStream(routerReply(ROUTER_REPLIES.routeNotFound));
    const action = route.route.action;
    if (action.kind === "direct") {
      const body = new TextEncoder().encode(action.body ?? "");
      const headers: Array<[string, string]> = [[":status", String(action.status)]];
      if (body.length) headers.push(["content-length", String(body.length)], ["content-type", "text/plain"]);
      return { headers, body, details: "direct_response" };
    }
    if (!route.cluster || !this.clusters.has(route.cluster)) return toStream(routerReply(ROUTER_REPLIES.clusterNotFound));
    const out = new HeaderMap("request", req.headers.entries);
    applyHeadersToAdd(out, route.clusterHeadersToAdd);
    applyHeadersToAdd(out, route.route.headersToAdd);
    if (action.timeoutMs > 0) out.set("x-envoy-expected-rq-timeout-ms", String(action.timeoutMs));
    // A streamed body keeps the downstream's content-length (or goes chunked without one) whatever a filter
    // wrote into that header: the bytes that follow are the client's, so a rewritten length would let them
    // be read as a second request on the pooled upstream connection. A buffered one is sent with its exact length.
    if (req.bodyStream) {
      if (downstreamLength !== undefined) out.set("content-length", downstreamLength);
      else out.remove("content-length");
    } else if (req.body.length) out.set("content-length", String(req.body.length));
    // A body-less request goes upstream with `content-length: 0` (not chunked), except for the methods
    // Envoy's HTTP/1 request encoder sends without one (verified on 1.40: GET, HEAD, DELETE, TRACE).
    else if (!req.bodyStream && !out.has("content-length") && !NO_BODY_METHODS.has(out.get(":method") ?? "GET")) out.set("content-length", "0");
    const pairs: Array<[string, string]> = [];
    for (const [k, v] of out.entries) if (k[0] !== ":") pairs.push([k, v]);
    counterAdd(this.stats, `cluster.${route.cluster}.upstream_rq_total`);
    const r = await this.clusters.forward(
      route.cluster,
      { method: out.get(":method") ?? "GET", path: out.get(":path") ?? "/", authority: out.get(":authority") ?? "", headers: pairs, body: req.bodyStream ?? req.body, timeoutMs: action.timeoutMs },
      signal,
    );
    if (r.details === ROUTER_REPLIES.timeout.details) counterAdd(this.stats, `cluster.${route.cluster}.upstream_rq_timeout`);
    if (r.details === ROUTER_REPLIES.noHealthyUpstream.details) counterAdd(this.stats, `cluster.${route.cluster}.upstream_cx_none_healthy`);
    if (r.details.startsWith("upstream_reset_before_response_started")) counterAdd(this.stats, `cluster.${route.cluster}.upstream_cx_connect_fail`);
    return toStream(r);
  }

  /** proxy_http_call: to a named cluster; timeouts and connect failures arrive as 504/503 responses, as in Envoy. */
  private async callout(req: CalloutRequest): Promise<CalloutResponse> {
    if (!this.clusters.has(req.cluster)) return { failure: "no_cluster" };
    const h = new HeaderMap("request", req.headers);
    const pairs: Array<[string, string]> = [];
    for (const [k, v] of h.entries) if (k[0] !== ":" && k !== "content-length") pairs.push([k, v]);
    // Envoy's async client (seen on 1.40): the request is internal and carries its timeout; the body's
    // length is sent, and a body-less call has content-length: 0 as the router does for the same method.
    pairs.push(["x-envoy-internal", "true"]);
    if (req.timeoutMs > 0) pairs.push(["x-envoy-expected-rq-timeout-ms", String(req.timeoutMs)]);
    if (req.body.length || !NO_BODY_METHODS.has(h.get(":method") ?? "GET")) pairs.push(["content-length", String(req.body.length)]);
    try {
      const r = await this.clusters.forward(req.cluster, {
        method: h.get(":method") ?? "GET",
        path: h.get(":path") ?? "/",
        authority: h.get(":authority") ?? h.get("host") ?? "",
        headers: pairs,
        body: req.body,
        timeoutMs: req.timeoutMs,
      });
      const body = await readAll(r.body);
      return { headers: [[":status", String(r.status)], ...r.headers], body };
    } catch {
      return { failure: "reset" };
    }
  }

  private write(req: IncomingMessage, res: ServerResponse, status: number, headers: Array<[string, string]>, body: Uint8Array): void {
    const flat = responseHead(headers.filter(([k]) => k !== "content-length"), res);
    const bodyless = req.method === "HEAD" || status === 204 || status === 304 || (status >= 100 && status < 200);
    // The body is complete here, so the length is exact even when a filter rewrote it.
    if (!bodyless || req.method === "HEAD") {
      const cl = headers.find(([k]) => k === "content-length");
      flat.push("content-length", req.method === "HEAD" && cl ? cl[1] : String(body.length));
    }
    res.writeHead(status, flat as unknown as Record<string, string>);
    res.end(bodyless ? undefined : body);
  }

  async close(): Promise<void> {
    await Promise.all(
      this.listeners
        .filter((l) => l.server)
        .map(
          (l) =>
            new Promise<void>((resolve) => {
              l.server.closeAllConnections();
              l.server.close(() => resolve());
            }),
        ),
    );
    await this.admin?.close();
    this.clusters.close();
    this.grpc.close();
    for (const l of this.listeners) for (const p of l.plugins) p.close();
  }
}

// Methods whose body-less requests go upstream without `content-length: 0` (Envoy 1.40, seen live).
const NO_BODY_METHODS = new Set(["GET", "HEAD", "DELETE", "TRACE", "CONNECT"]);

function applyHeadersToAdd(h: HeaderMap, list: HeaderToAdd[]): void {
  for (const a of list) {
    if (a.value === "" && !a.keepEmpty) continue;
    const exists = h.has(a.key);
    switch (a.action) {
      case "APPEND_IF_EXISTS_OR_ADD":
        h.add(a.key, a.value);
        break;
      case "ADD_IF_ABSENT":
        if (!exists) h.add(a.key, a.value);
        break;
      case "OVERWRITE_IF_EXISTS_OR_ADD":
        h.set(a.key, a.value);
        break;
      case "OVERWRITE_IF_EXISTS":
        if (exists) h.set(a.key, a.value);
        break;
    }
  }
}
