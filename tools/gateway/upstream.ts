// Clusters and the upstream HTTP/1.1 client: round-robin over STATIC / STRICT_DNS endpoints, keep-alive
// connection pools, connect_timeout, route timeout, and Envoy's router failure replies.
import { lookup } from "node:dns/promises";
import { Agent, request as httpRequest, type IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { Cluster, GrpcEndpoint, SocketAddress } from "./model.ts";

export type Pairs = Array<[string, string]>;

export interface UpstreamResponse {
  status: number;
  headers: Pairs; // lower-case names, no pseudo-headers, framing headers removed
  body: AsyncIterable<Uint8Array>;
  /** Envoy response code details, for logs and the host's `response.code_details`. */
  details: string;
  /** The endpoint that served it ("ip:port"), null for router-generated replies. */
  upstreamHost: string | null;
}

/** Router local replies, byte for byte what Envoy sends (text/plain body). */
export const ROUTER_REPLIES = {
  noHealthyUpstream: { status: 503, body: "no healthy upstream", details: "no_healthy_upstream" },
  // Envoy 1.40 (router.cc onUpstreamReset): the body names the reset reason only; the details also carry
  // the transport failure (`delayed_connect_error:_<strerror>`, spaces as '_'): see connectFailure().
  connectFailure: {
    status: 503,
    body: "upstream connect error or disconnect/reset before headers. reset reason: remote connection failure",
    details: "upstream_reset_before_response_started{remote_connection_failure}",
  },
  connectTimeout: {
    status: 503,
    body: "upstream connect error or disconnect/reset before headers. reset reason: connection timeout",
    details: "upstream_reset_before_response_started{connection_timeout}",
  },
  resetBeforeHeaders: {
    status: 503,
    body: "upstream connect error or disconnect/reset before headers. reset reason: connection termination",
    details: "upstream_reset_before_response_started{connection_termination}",
  },
  // Envoy 1.40 names a route timeout `response_timeout` (older releases: `upstream_response_timeout`).
  timeout: { status: 504, body: "upstream request timeout", details: "response_timeout" },
  clusterNotFound: { status: 503, body: "", details: "cluster_not_found" },
  routeNotFound: { status: 404, body: "", details: "route_not_found" },
} as const;

export type RouterReply = { readonly status: number; readonly body: string; readonly details: string };

// strerror() texts Envoy puts into the transport failure reason, by Node's errno code.
const STRERROR: Record<string, string> = {
  ECONNREFUSED: "Connection refused",
  ECONNRESET: "Connection reset by peer",
  EHOSTUNREACH: "No route to host",
  ENETUNREACH: "Network is unreachable",
  ETIMEDOUT: "Connection timed out",
  EADDRNOTAVAIL: "Cannot assign requested address",
};

/** The connect-failure reply for a socket error, with Envoy's transport failure reason in the details. */
export function connectFailure(err: { code?: string } | undefined): RouterReply {
  const reason = err?.code ? STRERROR[err.code] : undefined;
  if (!reason) return ROUTER_REPLIES.connectFailure;
  return {
    ...ROUTER_REPLIES.connectFailure,
    details: `upstream_reset_before_response_started{remote_connection_failure|delayed_connect_error:_${reason.replace(/ /g, "_")}}`,
  };
}

// Hop-by-hop and framing headers: Envoy's HTTP/1 codec consumes them; they never cross the proxy.
export const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "http2-settings"]);

async function* once(body: Uint8Array): AsyncIterable<Uint8Array> {
  if (body.length) yield body;
}

export function routerReply(r: RouterReply): UpstreamResponse {
  const body = new TextEncoder().encode(r.body);
  const headers: Pairs = body.length ? [["content-length", String(body.length)], ["content-type", "text/plain"]] : [];
  return { status: r.status, headers, body: once(body), details: r.details, upstreamHost: null };
}

class ClusterState {
  private next = 0;
  endpoints: SocketAddress[];
  readonly agent: Agent;

  constructor(readonly config: Cluster) {
    this.endpoints = config.type === "STATIC" ? config.endpoints : [];
    this.agent = new Agent({ keepAlive: true, maxSockets: 1024 });
  }

  /** STRICT_DNS: every resolved address of every endpoint is a host (Envoy re-resolves periodically). */
  async resolve(): Promise<void> {
    if (this.config.type !== "STRICT_DNS") return;
    const all: SocketAddress[] = [];
    for (const e of this.config.endpoints) {
      try {
        for (const a of await lookup(e.address, { all: true })) all.push({ address: a.address, port: e.port });
      } catch {
        // Unresolvable → no hosts for this endpoint; requests get "no healthy upstream", like Envoy.
      }
    }
    this.endpoints = all;
  }

  pick(): SocketAddress | null {
    if (this.endpoints.length === 0) return null;
    const e = this.endpoints[this.next % this.endpoints.length];
    this.next = (this.next + 1) % this.endpoints.length;
    return e;
  }
}

export interface ForwardRequest {
  method: string;
  path: string;
  authority: string;
  headers: Pairs; // without pseudo-headers
  body: Uint8Array | AsyncIterable<Uint8Array>;
  timeoutMs: number; // 0 = none
}

export class ClusterManager {
  private clusters = new Map<string, ClusterState>();
  private refresh: NodeJS.Timeout | null = null;

  constructor(configs: Map<string, Cluster>) {
    for (const [name, c] of configs) this.clusters.set(name, new ClusterState(c));
  }

  async start(): Promise<void> {
    await Promise.all([...this.clusters.values()].map((c) => c.resolve()));
    if ([...this.clusters.values()].some((c) => c.config.type === "STRICT_DNS")) {
      // Envoy's default dns_refresh_rate is 5s.
      this.refresh = setInterval(() => void Promise.all([...this.clusters.values()].map((c) => c.resolve())), 5000);
      this.refresh.unref();
    }
  }

  has(name: string): boolean {
    return this.clusters.has(name);
  }

  /** The cluster has at least one endpoint (resolved, for STRICT_DNS). */
  hasHosts(name: string): boolean {
    return (this.clusters.get(name)?.endpoints.length ?? 0) > 0;
  }

  /** The next endpoint of a cluster for a gRPC call (round robin with forwarded requests), or null. */
  grpcEndpoint(name: string): GrpcEndpoint | null {
    const c = this.clusters.get(name);
    const ep = c?.pick();
    if (!c || !ep) return null;
    return { address: ep.address, port: ep.port, connectTimeoutMs: c.config.connectTimeoutMs, http2: c.config.http2 };
  }

  close(): void {
    if (this.refresh) clearInterval(this.refresh);
    for (const c of this.clusters.values()) c.agent.destroy();
  }

  /**
   * Sends a request to a cluster. Never throws for upstream trouble before response headers: those become
   * Envoy's router replies. After headers, a reset or timeout surfaces as an error from the body iterator.
   */
  async forward(clusterName: string, req: ForwardRequest, signal?: AbortSignal): Promise<UpstreamResponse> {
    const cluster = this.clusters.get(clusterName);
    if (!cluster) return routerReply(ROUTER_REPLIES.clusterNotFound);
    const ep = cluster.pick();
    if (!ep) return routerReply(ROUTER_REPLIES.noHealthyUpstream);
    const started = Date.now();
    return new Promise<UpstreamResponse>((resolve, reject) => {
      let settled = false;
      let lateTimeout = false; // the route timeout fired while the response body was arriving
      let connectTimer: NodeJS.Timeout | null = null;
      let routeTimer: NodeJS.Timeout | null = null;
      const finish = (r: UpstreamResponse | Error): void => {
        if (settled) return;
        settled = true;
        if (connectTimer) clearTimeout(connectTimer);
        // The route timer keeps running only while an upstream response body is being read.
        if (routeTimer && (r instanceof Error || r.upstreamHost === null)) clearTimeout(routeTimer);
        if (r instanceof Error || r.upstreamHost === null) signal?.removeEventListener("abort", onAbort);
        if (r instanceof Error) reject(r);
        else resolve(r);
      };
      // A flat list keeps every repeated header as its own line, in order (Node's object form would join
      // repeated cookies with "; ", which Envoy does not do).
      const headers: string[] = ["host", req.authority];
      for (const [k, v] of req.headers) {
        // Envoy forwards `te: trailers` (the only TE value an upstream may get); other hop-by-hop headers stop here.
        if (k === "te" ? v === "trailers" : k !== "host" && !HOP_BY_HOP.has(k)) headers.push(k, v);
      }
      const out = httpRequest({
        host: ep.address,
        port: ep.port,
        method: req.method,
        path: req.path,
        headers: headers as unknown as Record<string, string>, // node accepts a flat [k, v, …] list
        agent: cluster.agent,
        setHost: false,
        maxHeaderSize: 60 * 1024,
      });
      // Envoy sends no `connection` header to an HTTP/1.1 upstream (keep-alive is HTTP/1.1's default). Node
      // renders a flat header list at once and adds `Connection: keep-alive` for a keep-alive agent; its
      // capitalised name cannot collide with a forwarded header (all lower-case), so it is cut from the head.
      const head = (out as unknown as { _header?: string })._header;
      if (typeof head === "string") (out as unknown as { _header: string })._header = head.replace("\r\nConnection: keep-alive\r\n", "\r\n");
      const fail = (reply: RouterReply): void => {
        out.destroy();
        finish(routerReply(reply));
      };
      let responseDone = false;
      // Envoy's route timeout starts once the downstream request is complete: at once for a buffered
      // body, after the last chunk for a streamed one.
      const armRouteTimer = (): void => {
        if (req.timeoutMs <= 0 || routeTimer || responseDone) return;
        routeTimer = setTimeout(() => {
          if (!settled) fail(ROUTER_REPLIES.timeout);
          else {
            lateTimeout = true;
            out.destroy(new Error("upstream request timeout"));
          }
        }, req.timeoutMs);
      };
      if (req.body instanceof Uint8Array) armRouteTimer();
      const onAbort = (): void => {
        out.destroy(new Error("downstream reset"));
        finish(new Error("downstream reset"));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      out.on("socket", (socket) => {
        if (!socket.connecting) return; // reused keep-alive connection
        connectTimer = setTimeout(() => fail(ROUTER_REPLIES.connectTimeout), cluster.config.connectTimeoutMs);
        socket.once("connect", () => {
          if (connectTimer) clearTimeout(connectTimer);
          connectTimer = null;
        });
      });
      let connected = false;
      let upstreamSocket: (Socket & { tollgateFailed?: boolean }) | null = null;
      out.on("socket", (s) => {
        upstreamSocket = s;
        watchSocket(s);
        if (!s.connecting) connected = true;
        else s.once("connect", () => (connected = true));
      });
      out.on("error", (e: Error & { code?: string }) => {
        if (settled) return;
        fail(connected ? ROUTER_REPLIES.resetBeforeHeaders : connectFailure(e));
      });
      out.on("response", (res: IncomingMessage) => {
        const pairs: Pairs = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          const k = res.rawHeaders[i].toLowerCase();
          if (!HOP_BY_HOP.has(k)) pairs.push([k, res.rawHeaders[i + 1]]);
        }
        pairs.push(["x-envoy-upstream-service-time", String(Date.now() - started)]);
        const body = (async function* (): AsyncIterable<Uint8Array> {
          // Errors carry Envoy's response code details for the downstream reset (filter-manager reads `details`).
          // An upstream that closes before the body it announced is complete is a codec protocol error in
          // Envoy 1.40 (`{protocol_error}`, seen live); a reset socket is a connection termination.
          const late = (): Error =>
            lateTimeout
              ? Object.assign(new Error("upstream request timeout"), { details: ROUTER_REPLIES.timeout.details })
              : Object.assign(new Error("upstream reset after response started"), {
                  details: `upstream_reset_after_response_started{${upstreamSocket?.tollgateFailed ? "connection_termination" : "protocol_error"}}`,
                });
          try {
            try {
              for await (const chunk of res) yield chunk as Uint8Array;
            } catch {
              throw late();
            }
            if (!res.complete) throw late();
          } finally {
            responseDone = true;
            if (routeTimer) clearTimeout(routeTimer);
            signal?.removeEventListener("abort", onAbort);
          }
        })();
        finish({ status: res.statusCode ?? 502, headers: pairs, body, details: "via_upstream", upstreamHost: `${ep.address}:${ep.port}` });
      });
      const write = async (): Promise<void> => {
        if (req.body instanceof Uint8Array) {
          out.end(req.body.length ? req.body : undefined);
          return;
        }
        for await (const chunk of req.body) if (!out.write(chunk)) await new Promise((r) => out.once("drain", r));
        out.end();
        armRouteTimer();
      };
      write().catch((e: Error) => {
        out.destroy(e);
        finish(e);
      });
    });
  }
}

/**
 * Marks a pooled upstream socket that failed (an RST), rather than closed early. One listener per socket for
 * its life: a per-request listener would pile up on a keep-alive connection.
 */
function watchSocket(s: Socket & { tollgateFailed?: boolean; tollgateWatched?: boolean }): void {
  if (s.tollgateWatched) return;
  s.tollgateWatched = true;
  s.once("error", () => (s.tollgateFailed = true));
}

/** Reads a whole body iterator (for http_call responses and tests). */
export async function readAll(body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const c of body) {
    parts.push(c);
    n += c.length;
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
