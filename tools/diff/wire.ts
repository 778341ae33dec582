// A minimal HTTP/1.1 client over a raw socket, so the differential harness can send requests Node's own
// client refuses (odd header names, bytes, HTTP/1.0, no Host) and read the response exactly as it
// arrives: the status line, header names in their wire case and order, repeats, and the body framing.
import { connect, type Socket } from "node:net";

export type Pairs = Array<[string, string]>;

export interface WireRequest {
  method: string;
  target: string;
  /** "HTTP/1.1" unless a case says otherwise. */
  version?: string;
  /** Sent in this order, names and values as latin1 bytes (Host included here when wanted). */
  headers: Pairs;
  body?: Buffer;
}

export interface WireResponse {
  status: number;
  /** The reason phrase after the status code. */
  reason: string;
  version: string;
  /** Header names as sent (case kept), in order, repeats kept. */
  headers: Pairs;
  body: Buffer;
  /** How the body was framed: "length", "chunked", "close" (read to EOF) or "none" (no body allowed). */
  framing: "length" | "chunked" | "close" | "none";
  /** Interim 1xx responses seen before the final one (their status codes). */
  interim: number[];
  /** The server closed the connection after this response. */
  closed: boolean;
}

export function encodeRequest(r: WireRequest): Buffer {
  let head = `${r.method} ${r.target} ${r.version ?? "HTTP/1.1"}\r\n`;
  for (const [k, v] of r.headers) head += `${k}: ${v}\r\n`;
  head += "\r\n";
  return Buffer.concat([Buffer.from(head, "latin1"), r.body ?? Buffer.alloc(0)]);
}

class Incomplete extends Error {}

/**
 * Parses one response from `buf` at offset 0. Returns the response and the bytes it used, or throws
 * Incomplete when more bytes are needed; `eof` says the peer closed (a close-delimited body is complete).
 */
function parseResponse(buf: Buffer, method: string, eof: boolean): { res: WireResponse; used: number } {
  const interim: number[] = [];
  let off = 0;
  for (;;) {
    const end = buf.indexOf("\r\n\r\n", off, "latin1");
    if (end < 0) throw new Incomplete();
    const lines = buf.subarray(off, end).toString("latin1").split("\r\n");
    const m = /^(HTTP\/\d\.\d) (\d{3})(?: (.*))?$/.exec(lines[0]);
    if (!m) throw new Error(`bad status line ${JSON.stringify(lines[0])}`);
    const status = Number(m[2]);
    const headers: Pairs = [];
    for (const l of lines.slice(1)) {
      const i = l.indexOf(":");
      headers.push([l.slice(0, i), l.slice(i + 1).replace(/^[ \t]+|[ \t]+$/g, "")]);
    }
    off = end + 4;
    if (status >= 100 && status < 200 && status !== 101) {
      interim.push(status);
      continue;
    }
    const get = (n: string): string | undefined => headers.find(([k]) => k.toLowerCase() === n)?.[1];
    const closeHdr = (get("connection") ?? "").toLowerCase().includes("close") || m[1] === "HTTP/1.0";
    const base = { status, reason: m[3] ?? "", version: m[1], headers, interim };
    if (method === "HEAD" || status === 204 || status === 304 || status === 101) {
      return { res: { ...base, body: Buffer.alloc(0), framing: "none", closed: closeHdr }, used: off };
    }
    const te = get("transfer-encoding");
    if (te && te.toLowerCase().includes("chunked")) {
      const parts: Buffer[] = [];
      let p = off;
      for (;;) {
        const le = buf.indexOf("\r\n", p, "latin1");
        if (le < 0) throw new Incomplete();
        const size = parseInt(buf.subarray(p, le).toString("latin1").split(";")[0], 16);
        if (Number.isNaN(size)) throw new Error("bad chunk size");
        p = le + 2;
        if (size === 0) {
          // Trailers (if any) end with an empty line.
          const te2 = buf.indexOf("\r\n\r\n", p - 2, "latin1");
          if (te2 < 0) throw new Incomplete();
          p = te2 + 4;
          break;
        }
        if (buf.length < p + size + 2) throw new Incomplete();
        parts.push(buf.subarray(p, p + size));
        p += size + 2;
      }
      return { res: { ...base, body: Buffer.concat(parts), framing: "chunked", closed: closeHdr }, used: p };
    }
    const cl = get("content-length");
    if (cl !== undefined) {
      const n = Number(cl);
      if (buf.length < off + n) throw new Incomplete();
      return { res: { ...base, body: Buffer.from(buf.subarray(off, off + n)), framing: "length", closed: closeHdr }, used: off + n };
    }
    if (!eof) throw new Incomplete();
    return { res: { ...base, body: Buffer.from(buf.subarray(off)), framing: "close", closed: true }, used: buf.length };
  }
}

/** One keep-alive connection used for one request at a time; reconnects after the server closed it. */
export class WireClient {
  private socket: Socket | null = null;
  private buf = Buffer.alloc(0);
  private eof = false;
  private waiter: (() => void) | null = null;

  constructor(private readonly host: string, private readonly port: number, private readonly timeoutMs = 20_000) {}

  private async open(): Promise<Socket> {
    if (this.socket && !this.eof && !this.socket.destroyed) return this.socket;
    this.socket?.destroy();
    this.buf = Buffer.alloc(0);
    this.eof = false;
    const s = connect({ host: this.host, port: this.port });
    s.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      s.once("connect", resolve);
      s.once("error", reject);
    });
    // Events of a connection already replaced (closed after a response) must not touch the new one.
    s.on("data", (d: Buffer) => {
      if (this.socket !== s) return;
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      this.waiter?.();
    });
    const ended = (): void => {
      if (this.socket !== s) return;
      this.eof = true;
      this.waiter?.();
    };
    s.on("end", ended);
    s.on("close", ended);
    s.on("error", ended);
    this.socket = s;
    return s;
  }

  /** Sends one request and reads its response; a connection closed before a whole response is an error. */
  async send(r: WireRequest): Promise<WireResponse> {
    const s = await this.open();
    this.buf = Buffer.alloc(0);
    s.write(encodeRequest(r));
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      try {
        const { res } = parseResponse(this.buf, r.method, this.eof);
        if (res.closed || this.eof) {
          res.closed = true;
          this.close();
        }
        return res;
      } catch (e) {
        if (!(e instanceof Incomplete)) {
          this.close();
          throw e;
        }
        if (this.eof) {
          this.close();
          throw new Error(this.buf.length ? "connection closed mid-response" : "connection closed without a response");
        }
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        this.close();
        throw new Error(`no response within ${this.timeoutMs} ms`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          this.waiter = null;
          resolve();
        };
      });
    }
  }

  close(): void {
    this.socket?.destroy();
    this.socket = null;
    this.eof = false;
    this.buf = Buffer.alloc(0);
  }
}
