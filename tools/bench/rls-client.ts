// The rate limit service's own round trip for `tollgate bench --envoy`'s rate-limit-global scenario: paced
// ShouldRateLimit calls from the bench process over one HTTP/2 connection (the embedded engine's gRPC client,
// tools/gateway/grpc-client.ts), with the request the plugin sends — domain, one descriptor
// {per-client: client-<n>}, hits_addend 1 — paced as wrk's latency window is (2 callers, each pausing 1 ms
// between calls), so the two figures are taken at the same rate and can be set side by side.
import { GrpcClient } from "../gateway/grpc-client.ts";

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}
function field(tag: number, bytes: Uint8Array | number[]): number[] {
  return [(tag << 3) | 2, ...varint(bytes.length), ...bytes];
}
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** envoy.service.ratelimit.v3.RateLimitRequest: domain (1), descriptors (2: entries (1: key 1, value 2)), hits_addend (3). */
export function rateLimitRequest(domain: string, entries: Array<[string, string]>, hits = 1): Uint8Array {
  const descriptor = entries.flatMap(([k, v]) => field(1, [...field(1, utf8(k)), ...field(2, utf8(v))]));
  return Uint8Array.from([...field(1, utf8(domain)), ...field(2, descriptor), 0x18, ...varint(hits)]);
}

/** RateLimitResponse.overall_code (field 1): 1 OK, 2 OVER_LIMIT; 0 when absent. */
export function overallCode(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const key = bytes[i++];
    let v = 0;
    let shift = 0;
    const readVarint = () => {
      v = 0;
      shift = 0;
      for (;;) {
        const b = bytes[i++];
        v |= (b & 0x7f) << shift;
        if (!(b & 0x80) || i >= bytes.length) break;
        shift += 7;
      }
      return v;
    };
    const wire = key & 7;
    if (key >> 3 === 1 && wire === 0) return readVarint();
    if (wire === 0) readVarint();
    else if (wire === 2) i += readVarint();
    else if (wire === 5) i += 4;
    else if (wire === 1) i += 8;
    else return 0;
  }
  return 0;
}

export interface RoundTrip {
  p50Us: number;
  p99Us: number;
  /** Calls per second reached. */
  rps: number;
  calls: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export class RlsProbe {
  private readonly client: GrpcClient;
  private n = 0;

  constructor(port: number, private readonly domain: string) {
    this.client = new GrpcClient(() => ({ address: "127.0.0.1", port, connectTimeoutMs: 1000, http2: true }));
  }

  /** One call; resolves with its µs, throws when the service does not answer OK. */
  async call(): Promise<number> {
    const message = rateLimitRequest(this.domain, [["per-client", `client-${this.n++ % 100}`]]);
    const t0 = process.hrtime.bigint();
    const r = await this.client.call(
      { cluster: "rls", service: "envoy.service.ratelimit.v3.RateLimitService", method: "ShouldRateLimit", initialMetadata: [], message, timeoutMs: 1000, plugin: "bench", worker: 0, token: this.n },
      new AbortController().signal,
    );
    const us = Number(process.hrtime.bigint() - t0) / 1000;
    if (r.status !== 0) throw new Error(`ShouldRateLimit: gRPC status ${r.status} ${"message" in r ? r.message : ""}`);
    const code = overallCode((r as { response: Uint8Array }).response);
    if (code !== 1) throw new Error(`ShouldRateLimit answered overall_code ${code}, not OK (1)`);
    return us;
  }

  /** `seconds` of paced calls: 2 callers, each pausing 1 ms between calls (wrk's latency window). */
  async paced(seconds: number): Promise<RoundTrip> {
    const times: number[] = [];
    const t0 = Date.now();
    const end = t0 + seconds * 1000;
    const caller = async () => {
      while (Date.now() < end) {
        times.push(await this.call());
        await sleep(1);
      }
    };
    await Promise.all([caller(), caller()]);
    const elapsed = (Date.now() - t0) / 1000;
    times.sort((a, b) => a - b);
    return { p50Us: Math.round(percentile(times, 50)), p99Us: Math.round(percentile(times, 99)), rps: Math.round(times.length / elapsed), calls: times.length };
  }

  close(): void {
    this.client.close();
  }
}
