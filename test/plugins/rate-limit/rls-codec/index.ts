// Test module for plugins/rate-limit/rls.ts (AssemblyScript): raw exports over linear memory, so
// rls.test.ts can hold the hand-written protobuf against protobufjs. The caller allocates input with
// alloc(); results land in the static OUT area.
// Debug builds route aborts to assembly's tollgate_abort (it logs through env.proxy_log, which the test
// provides, then traps).
import { decodeRateLimitResponse, Descriptor, encodeRateLimitRequest, RlsResponse } from "../../../../plugins/rate-limit/rls";

const OUT_SIZE: usize = 1 << 20;
const OUT: usize = memory.data(<i32>OUT_SIZE);
const response = new RlsResponse();

export function out(): usize { return OUT; }
export function alloc(n: usize): usize { return heap.alloc(n); }
export function free(p: usize): void { heap.free(p); }

class Cursor {
  constructor(public p: usize) {}
  u32(): u32 { const v = load<u32>(this.p); this.p += 4; return v; }
  str(): string { const n = this.u32(); const s = String.UTF8.decodeUnsafe(this.p, n, false); this.p += n; return s; }
}

/** Input: u32 domain length, domain, u32 hits_addend, u32 descriptor count, per descriptor u32 entry count and (u32 len, key, u32 len, value) per entry (little endian). */
export function t_encode(p: usize): i32 {
  const c = new Cursor(p);
  const domain = c.str();
  const hits = c.u32();
  const nd = <i32>c.u32();
  const ds = new Array<Descriptor>();
  for (let i = 0; i < nd; i++) {
    const d = new Descriptor();
    const ne = <i32>c.u32();
    for (let j = 0; j < ne; j++) {
      d.keys.push(c.str());
      d.values.push(c.str());
    }
    ds.push(d);
  }
  const buf = encodeRateLimitRequest(domain, ds, nd, hits);
  const n = buf.byteLength;
  if (<usize>n > OUT_SIZE) return -2;
  memory.copy(OUT, changetype<usize>(buf), <usize>n);
  return n;
}

let text = "";

function quote(s: string): string {
  let o = "\"";
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch == 0x22 || ch == 0x5c) o += "\\" + String.fromCharCode(ch);
    else if (ch < 0x20) o += "\\u00" + (ch < 16 ? "0" : "1") + "0123456789abcdef".charAt(ch & 15);
    else o += String.fromCharCode(ch);
  }
  return o + "\"";
}

function list(xs: string[]): string {
  const parts = new Array<string>();
  for (let i = 0; i < xs.length; i++) parts.push(quote(xs[i]));
  return "[" + parts.join(",") + "]";
}

/** Decodes n bytes at p; writes the result as JSON into OUT and returns its length, or -1 if malformed. */
export function t_decode(p: usize, n: i32): i32 {
  if (!decodeRateLimitResponse(p, n, response)) return -1;
  const r = response;
  text = "{\"overall\":" + r.overallCode.toString() + ",\"statuses\":[";
  for (let i = 0; i < r.statusCount; i++) {
    const s = r.statuses[i];
    if (i > 0) text += ",";
    text += "{\"code\":" + s.code.toString() + ",\"hasLimit\":" + (s.hasLimit ? "true" : "false") +
      ",\"requestsPerUnit\":" + s.requestsPerUnit.toString() + ",\"unit\":" + s.unit.toString() +
      ",\"limitRemaining\":" + s.limitRemaining.toString() + ",\"resetMs\":" + s.resetMs.toString() + "}";
  }
  text += "],\"responseHeaders\":" + list(r.responseHeaders) + ",\"requestHeaders\":" + list(r.requestHeaders) + "}";
  const buf = String.UTF8.encode(text, false);
  const m = buf.byteLength;
  if (<usize>m > OUT_SIZE) return -2;
  memory.copy(OUT, changetype<usize>(buf), <usize>m);
  return m;
}
