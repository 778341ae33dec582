// The embedded engine's gRPC client for proxy_grpc_call (tools/host/grpc-calls.ts): unary calls over HTTP/2 to a
// cluster's endpoint, one connection per endpoint reused across calls, as Envoy's async gRPC client sends them
// and reports their end (Envoy 1.40 source/common/grpc/async_client_impl.cc):
// - request: POST /<service>/<method>, :authority = the cluster name, content-type application/grpc,
//   te: trailers, grpc-timeout (also 0m), the plugin's metadata (-bin values base64-encoded), one frame
//   (flag 0, 4-byte big-endian length, message);
// - end: grpc-status 0 with a message → the last message; anything else → a status and Envoy's "enhanced"
//   message: grpc-message, then the response code details in braces ("via_upstream" for the server's own
//   answer), just the details when there is no grpc-message. A non-200 HTTP status without grpc-status maps
//   through httpToGrpcStatus; a compressed frame or bad framing is INTERNAL; a body without trailers UNKNOWN;
//   grpc-status 0 without a message INTERNAL.
// - failures before an answer are the router's local replies turned into trailers-only gRPC answers:
//   14 + "<router body>{<details>}" (connection refused, connect timeout, reset before headers).
import { connect as h2connect, constants as H2, type ClientHttp2Session, type IncomingHttpHeaders } from "node:http2";
import { connect as tcpConnect, type Socket } from "node:net";
import type { GrpcCallRequest, GrpcCallResult } from "../host/grpc-calls.ts";
import type { GrpcEndpoint } from "./model.ts";
import { connectFailure, ROUTER_REPLIES, type RouterReply } from "./upstream.ts";

const UNAVAILABLE = 14;
const INTERNAL = 13;
const UNKNOWN = 2;

/** Envoy's enhancedGrpcMessage: message{details}, or whichever of the two is not empty. */
export function enhancedMessage(message: string, details: string): string {
  if (!message) return details;
  if (!details) return message;
  return `${message}{${details}}`;
}

/** A router local reply as the gRPC async client sees it: trailers-only, grpc-status from the HTTP status. */
function routerFailure(r: RouterReply): GrpcCallResult {
  return { status: httpToGrpcStatus(r.status), message: enhancedMessage(r.body, r.details) };
}

/** Envoy's Grpc::Utility::httpToGrpcStatus (grpc's http-grpc-status-mapping.md). */
export function httpToGrpcStatus(http: number): number {
  switch (http) {
    case 400: return INTERNAL;
    case 401: return 16;
    case 403: return 7;
    case 404: return 12;
    case 429: case 502: case 503: case 504: return UNAVAILABLE;
    default: return UNKNOWN;
  }
}

/** Envoy's Grpc::Common::toGrpcTimeout: at most 8 digits, in ms, then S, M, H. */
export function grpcTimeout(ms: number): string {
  let v = ms;
  const units = ["m", "S", "M", "H"];
  const div = [1000, 60, 60];
  let u = 0;
  while (v >= 1e8 && u < 3) {
    v = Math.floor(v / div[u]);
    u++;
  }
  return `${Math.min(v, 99999999)}${units[u]}`;
}

/** Reset before the response started, as the router reports it (Envoy: upstream_reset_before_response_started). */
const PROTOCOL_ERROR: RouterReply = {
  status: 503,
  body: "upstream connect error or disconnect/reset before headers. reset reason: protocol error",
  details: "upstream_reset_before_response_started{protocol_error}",
};

export class GrpcClient {
  private readonly sessions = new Map<string, Promise<ClientHttp2Session>>();
  private closed = false;

  constructor(private readonly endpointOf: (cluster: string) => GrpcEndpoint | null) {}

  /** One unary call; never rejects (every failure is a gRPC status, as Envoy delivers it). */
  async call(req: GrpcCallRequest, signal: AbortSignal): Promise<GrpcCallResult> {
    const ep = this.endpointOf(req.cluster);
    if (!ep) return routerFailure(ROUTER_REPLIES.noHealthyUpstream);
    // gRPC servers speak HTTP/2 only: Envoy sends HTTP/1.1 to a cluster without http2_protocol_options and
    // the server's answer is not HTTP/1 (seen on 1.40 against envoyproxy/ratelimit: protocol error).
    if (!ep.http2) return routerFailure(PROTOCOL_ERROR);
    let session: ClientHttp2Session;
    try {
      session = await this.session(ep);
    } catch (e) {
      const err = e as { code?: string };
      return routerFailure(err.code === "ETIMEDOUT_CONNECT" ? ROUTER_REPLIES.connectTimeout : connectFailure(err));
    }
    if (signal.aborted) return { status: 1, message: "" };
    return this.exchange(session, req, signal);
  }

  close(): void {
    this.closed = true;
    for (const s of this.sessions.values()) s.then((x) => x.destroy(), () => {});
    this.sessions.clear();
  }

  private session(ep: GrpcEndpoint): Promise<ClientHttp2Session> {
    const key = `${ep.address}:${ep.port}`;
    const have = this.sessions.get(key);
    if (have) return have;
    const p = new Promise<ClientHttp2Session>((resolve, reject) => {
      let timer: NodeJS.Timeout | null = null;
      const host = ep.address.includes(":") ? `[${ep.address}]` : ep.address;
      const session = h2connect(`http://${host}:${ep.port}`, {
        createConnection: () => {
          const sock: Socket = tcpConnect({ host: ep.address, port: ep.port });
          sock.setNoDelay(true);
          timer = setTimeout(() => sock.destroy(Object.assign(new Error("connect timeout"), { code: "ETIMEDOUT_CONNECT" })), ep.connectTimeoutMs);
          sock.once("connect", () => {
            if (timer) clearTimeout(timer);
            timer = null;
          });
          return sock;
        },
      });
      const forget = () => {
        if (this.sessions.get(key) === p) this.sessions.delete(key);
      };
      session.once("connect", () => resolve(session));
      session.once("error", (e) => {
        if (timer) clearTimeout(timer);
        forget();
        reject(e);
      });
      session.once("close", forget);
      session.once("goaway", forget);
      // Idle connections must not keep the process alive.
      session.unref();
    });
    this.sessions.set(key, p);
    p.catch(() => {});
    return p;
  }

  private exchange(session: ClientHttp2Session, req: GrpcCallRequest, signal: AbortSignal): Promise<GrpcCallResult> {
    return new Promise((resolve) => {
      const headers: Record<string, string | string[]> = {
        [H2.HTTP2_HEADER_METHOD]: "POST",
        [H2.HTTP2_HEADER_SCHEME]: "http",
        [H2.HTTP2_HEADER_PATH]: `/${req.service}/${req.method}`,
        [H2.HTTP2_HEADER_AUTHORITY]: req.cluster,
        "content-type": "application/grpc",
        te: "trailers",
        "grpc-timeout": grpcTimeout(req.timeoutMs),
        // Envoy's async client marks its requests internal and tells the upstream its timeout (as for http calls).
        "x-envoy-internal": "true",
      };
      if (req.timeoutMs > 0) headers["x-envoy-expected-rq-timeout-ms"] = String(req.timeoutMs);
      for (const [k, v] of req.initialMetadata) {
        if (k.startsWith(":")) continue;
        const value = k.endsWith("-bin") ? Buffer.from(v, "latin1").toString("base64") : v;
        const prev = headers[k];
        headers[k] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
      }
      const frame = Buffer.alloc(5 + req.message.length);
      frame.writeUInt8(0, 0);
      frame.writeUInt32BE(req.message.length, 1);
      frame.set(req.message, 5);

      let settled = false;
      const done = (r: GrpcCallResult) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener("abort", onAbort);
        resolve(r);
      };
      let stream: ReturnType<ClientHttp2Session["request"]>;
      try {
        stream = session.request(headers, { endStream: false });
      } catch {
        done(routerFailure(ROUTER_REPLIES.resetBeforeHeaders));
        return;
      }
      const onAbort = () => {
        stream.close(H2.NGHTTP2_CANCEL);
        done({ status: 1, message: "" });
      };
      signal.addEventListener("abort", onAbort);
      stream.end(frame);

      let responseHeaders: IncomingHttpHeaders | null = null;
      let trailers: IncomingHttpHeaders | null = null;
      const chunks: Buffer[] = [];
      stream.on("response", (h) => {
        responseHeaders = h;
      });
      stream.on("trailers", (t) => {
        trailers = t;
      });
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("error", () => {});
      stream.on("close", () => {
        if (!responseHeaders) {
          done(routerFailure(ROUTER_REPLIES.resetBeforeHeaders));
          return;
        }
        done(this.finish(responseHeaders, trailers, Buffer.concat(chunks), stream.rstCode));
      });
    });
  }

  /** The call's end from the response, as AsyncStreamImpl / AsyncRequestImpl decide it. */
  private finish(h: IncomingHttpHeaders, t: IncomingHttpHeaders | null, body: Buffer, rst: number | undefined): GrpcCallResult {
    const details = "via_upstream";
    const str = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
    const statusOf = (m: IncomingHttpHeaders) => {
      const s = str(m["grpc-status"]);
      return s !== undefined && /^\d+$/.test(s) ? Number(s) : undefined;
    };
    const http = Number(h[H2.HTTP2_HEADER_STATUS] ?? 0);
    const trailersOnly = t === null && body.length === 0;
    if (http !== 200) {
      const g = statusOf(h);
      if (trailersOnly && g !== undefined) return this.result(g, str(h["grpc-message"]) ?? "", details, null);
      return { status: httpToGrpcStatus(http), message: details };
    }
    if (trailersOnly && rst === H2.NGHTTP2_NO_ERROR) {
      // Trailers-only: the status is in the headers.
      return this.result(statusOf(h) ?? UNKNOWN, str(h["grpc-message"]) ?? "", details, null);
    }
    // Frames: flag byte, 4-byte length, message; the last complete message is the response.
    let last: Uint8Array | null = null;
    let p = 0;
    while (p < body.length) {
      if (p + 5 > body.length) return { status: INTERNAL, message: details };
      const flag = body[p];
      const len = body.readUInt32BE(p + 1);
      if (p + 5 + len > body.length) return { status: INTERNAL, message: details };
      if (len > 0 && flag !== 0) return { status: INTERNAL, message: details };
      last = body.subarray(p + 5, p + 5 + len);
      p += 5 + len;
    }
    if (t === null) {
      // The body ended without trailers (or the stream was reset after the response started).
      return { status: rst === H2.NGHTTP2_NO_ERROR ? UNKNOWN : INTERNAL, message: details };
    }
    return this.result(statusOf(t) ?? UNKNOWN, str(t["grpc-message"]) ?? "", details, last);
  }

  private result(status: number, grpcMessage: string, details: string, message: Uint8Array | null): GrpcCallResult {
    if (status !== 0) return { status, message: enhancedMessage(grpcMessage, details) };
    if (message === null) return { status: INTERNAL, message: details };
    return { status: 0, response: new Uint8Array(message) };
  }
}
