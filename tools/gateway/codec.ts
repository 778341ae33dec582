// Envoy's HTTP/1 codec and connection manager at the edge of the embedded engine: the requests they refuse
// before any filter runs (with the exact replies Envoy 1.40 sends), and the response as the codec writes it
// downstream (DownstreamWriter, the first filter of every chain).
import type { IncomingMessage, ServerResponse } from "node:http";
import type { HeaderMap } from "../host/header-map.ts";
import type { BodyBuffer, FilterCallbacks, HttpFilter } from "../host/filter-api.ts";
import type { WireRequestHeaders } from "./request-headers.ts";
import { HOP_BY_HOP } from "./upstream.ts";

/**
 * Response headers as Envoy's HTTP/1 codec writes them: lower-case names only (Node adds none of its own:
 * no `Date`, `Connection: keep-alive` or `Keep-Alive: timeout=…`), no pseudo/hop-by-hop headers, a `date`
 * unless the response has one, `server: envoy`, and `connection: close` only when the connection closes.
 */
export function responseHead(headers: Iterable<readonly [string, string]>, res: ServerResponse): string[] {
  const flat: string[] = [];
  let date = false;
  for (const [k, v] of headers) {
    if (k[0] === ":" || HOP_BY_HOP.has(k) || k === "server") continue;
    if (k === "date") date = true;
    flat.push(k, v);
  }
  res.sendDate = false;
  // A response that ends before the request body was read (a local reply at request headers): Envoy's
  // HTTP/1 codec closes the connection rather than drain the rest of the request.
  const req = res.req as IncomingMessage | undefined;
  if (req && !req.complete && res.shouldKeepAlive && hasRequestBody(req)) res.shouldKeepAlive = false;
  // The connection manager adds date after the encoder filters when the upstream (or reply) has none.
  if (!date) flat.push("date", new Date().toUTCString());
  // Envoy overwrites the server header (server_header_transformation OVERWRITE).
  flat.push("server", "envoy");
  if (res.shouldKeepAlive) res.removeHeader("connection");
  else flat.push("connection", "close");
  return flat;
}

/** Methods Envoy's HTTP/1 codec (BalsaParser, http-parser's list) accepts; any other token is a 400 at the codec. */
const ENVOY_METHODS = new Set([
  "DELETE", "GET", "HEAD", "POST", "PUT", "CONNECT", "OPTIONS", "TRACE", "COPY", "LOCK", "MKCOL", "MOVE", "PROPFIND",
  "PROPPATCH", "SEARCH", "UNLOCK", "BIND", "REBIND", "UNBIND", "ACL", "REPORT", "MKACTIVITY", "CHECKOUT", "MERGE",
  "NOTIFY", "SUBSCRIBE", "UNSUBSCRIBE", "PATCH", "PURGE", "MKCALENDAR", "LINK", "UNLINK", "SOURCE",
]);

export function hasRequestBody(req: IncomingMessage): boolean {
  const cl = req.headers["content-length"];
  return cl !== undefined ? cl !== "0" : req.headers["transfer-encoding"] !== undefined;
}

/** The request head as it came on the wire, in bytes: request line, header lines, blank line. */
function headBytes(req: IncomingMessage): number {
  let n = (req.method ?? "").length + 1 + (req.url ?? "").length + 1 + 8 + 2 + 2;
  for (let i = 0; i < req.rawHeaders.length; i += 2) n += req.rawHeaders[i].length + 2 + req.rawHeaders[i + 1].length + 2;
  return n;
}

/** Envoy's max_request_headers_kb default (60): a longer request head is a 431 at the codec. */
export const MAX_REQUEST_HEAD_BYTES = 60 * 1024;

/** Envoy's max_request_headers_count default (HttpProtocolOptions): more headers → 431 at the codec. */
const MAX_REQUEST_HEADERS = 100;

export interface CodecReply {
  status: number;
  reason: string;
  /** Reply body (text/plain), or "" for the connection manager's empty-bodied replies. */
  body: string;
}

/**
 * Replies Envoy sends before any filter runs, verified on Envoy 1.40: the codec's protocol errors
 * (codec_impl.cc sendProtocolError: the reason phrase as a text/plain body) and the connection manager's
 * local replies for requests it refuses (conn_manager_impl.cc: missing_host_header, upgrade_failed).
 */
export const CODEC_REPLIES = {
  badRequest: { status: 400, reason: "Bad Request", body: "Bad Request" },
  headersTooLarge: { status: 431, reason: "Request Header Fields Too Large", body: "Request Header Fields Too Large" },
  http10: { status: 426, reason: "Upgrade Required", body: "Upgrade Required" },
  missingHost: { status: 400, reason: "Bad Request", body: "" },
  upgradeFailed: { status: 403, reason: "Forbidden", body: "" },
  fragmentInPath: { status: 400, reason: "Bad Request", body: "" },
  /** CONNECT without a connect route. */
  connectNoRoute: { status: 404, reason: "Not Found", body: "" },
  transferEncoding: { status: 501, reason: "Not Implemented", body: "Not Implemented" },
} as const satisfies Record<string, CodecReply>;

/**
 * Envoy's HTTP/1 codec implements one transfer coding, a lone `chunked` (case and surrounding space aside):
 * any other Transfer-Encoding value, a list, or a repeated header is 501 (seen on 1.40).
 */
export function unsupportedTransferEncoding(values: string[]): boolean {
  return values.length > 1 || (values.length === 1 && values[0].trim().toLowerCase() !== "chunked");
}

/** The Transfer-Encoding values of a raw request head (lines named exactly `transfer-encoding:`). */
export function rawTransferEncodings(head: string): string[] {
  const out: string[] = [];
  for (const line of head.split(/\r?\n/)) {
    const m = /^transfer-encoding:(.*)$/i.exec(line);
    if (m) out.push(m[1]);
  }
  return out;
}

/** The whole reply on the wire; the connection closes after it, as Envoy closes it. */
export function codecReply(r: CodecReply): string {
  const date = new Date().toUTCString();
  if (r.body === "") return `HTTP/1.1 ${r.status} ${r.reason}\r\ndate: ${date}\r\nserver: envoy\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`;
  return `HTTP/1.1 ${r.status} ${r.reason}\r\ncontent-length: ${Buffer.byteLength(r.body)}\r\ncontent-type: text/plain\r\ndate: ${date}\r\nserver: envoy\r\nconnection: close\r\n\r\n${r.body}`;
}

/** Characters of a valid :authority (RFC 3986 host[:port] and userinfo bytes), as Envoy's codec checks it. */
const AUTHORITY = /^[A-Za-z0-9\-._~!$&'()*+,;=:@\[\]%]*$/;

/** The refusal Envoy gives this request before the filter chain, or null when it is served. */
export function codecRefusal(req: IncomingMessage, wire: WireRequestHeaders): CodecReply | null {
  if (!ENVOY_METHODS.has(req.method ?? "")) return CODEC_REPLIES.badRequest;
  if (req.rawHeaders.length / 2 > MAX_REQUEST_HEADERS || headBytes(req) > MAX_REQUEST_HEAD_BYTES) return CODEC_REPLIES.headersTooLarge;
  if (req.httpVersion === "1.0" || req.httpVersion === "0.9") return CODEC_REPLIES.http10;
  if (unsupportedTransferEncoding(wire.transferEncodings)) return CODEC_REPLIES.transferEncoding;
  // Repeated Host lines become one :authority joined with "," (request-headers.ts), checked as a whole.
  if (wire.authority !== "" && !AUTHORITY.test(wire.authority)) return CODEC_REPLIES.badRequest;
  // A fragment in the request target is refused by the connection manager (http_reject_path_with_fragment).
  if ((req.url ?? "").includes("#")) return CODEC_REPLIES.fragmentInPath;
  const absolute = /^https?:\/\//i.test(req.url ?? "");
  if (req.headers.host === undefined && !absolute) return CODEC_REPLIES.missingHost;
  // An Upgrade request with no upgrade_configs on the connection manager (the supported subset has none).
  // (`Upgrade: h2c` is not one: Envoy's HTTP/1 codec strips it and serves the request as plain HTTP/1.1.)
  const upgrade = req.headers.upgrade;
  if (upgrade !== undefined && upgrade.toLowerCase() !== "h2c" && /\bupgrade\b/i.test(String(req.headers.connection ?? ""))) return CODEC_REPLIES.upgradeFailed;
  return null;
}

/**
 * The codec side of the chain: a pass-through filter placed first, so it is the LAST encoder and sees the
 * response exactly as it leaves the filter chain. It writes headers and body chunks downstream as they
 * arrive (streaming); replies the filter manager sends straight to the codec are written from the result.
 */
export class DownstreamWriter implements HttpFilter {
  headersSent = false;
  ended = false;
  status = 0;

  constructor(private readonly req: IncomingMessage, private readonly res: ServerResponse) {}

  private bodyless(): boolean {
    return this.req.method === "HEAD" || this.status === 204 || this.status === 304 || (this.status >= 100 && this.status < 200);
  }

  // Envoy's Continue is 0 for headers, data and trailers.
  setCallbacks(_cb: FilterCallbacks): void {}
  decodeHeaders(_h: HeaderMap, _end: boolean): number { return 0; }
  decodeData(_b: BodyBuffer, _end: boolean): number { return 0; }
  decodeTrailers(_t: HeaderMap): number { return 0; }

  encodeHeaders(h: HeaderMap, end: boolean): number {
    if (this.res.destroyed) return 0;
    this.status = Number(h.get(":status")) || 502;
    const head = responseHead(h.entries, this.res);
    // A headers-only response carries its length, as Envoy's codec writes it (no chunked framing); a body of
    // unknown length goes chunked, the header named in lower case as Envoy's codec writes it.
    if (end && !this.bodyless() && !h.has("content-length")) head.push("content-length", "0");
    else if (!end && !this.bodyless() && !h.has("content-length")) head.push("transfer-encoding", "chunked");
    // A HEAD response without a length is announced as chunked (and sent without a body), as Envoy's HTTP/1
    // codec writes it (seen on 1.40: a body-less local reply to HEAD).
    else if (this.req.method === "HEAD" && this.status >= 200 && this.status !== 204 && this.status !== 304 && !h.has("content-length")) head.push("transfer-encoding", "chunked");
    this.res.writeHead(this.status, head as unknown as Record<string, string>);
    this.headersSent = true;
    if (end) this.finish();
    return 0;
  }

  encodeData(b: BodyBuffer, end: boolean): number {
    if (this.res.destroyed) return 0;
    if (b.length && !this.bodyless()) this.res.write(b.bytes());
    if (end) this.finish();
    return 0;
  }

  encodeTrailers(_t: HeaderMap): number {
    // Envoy's HTTP/1 codec drops response trailers unless enable_trailers is set (not in the subset).
    this.finish();
    return 0;
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.res.end();
  }

  onLog(): void {}
  onDestroy(): void {}
}
