// plugins/rate-limit/rls.ts: the ShouldRateLimit protobuf, table-tested on hand-written wire bytes
// (rls.test.ts holds the same code against protobufjs on the compiled module).
import { CODE_OK, CODE_OVER_LIMIT, decodeRateLimitResponse, Descriptor, encodeRateLimitRequest, MAX_HEADERS, MAX_STATUSES, RlsResponse } from "../../plugins/rate-limit/rls";

function hex(buf: ArrayBuffer): string {
  let s = "";
  const p = changetype<usize>(buf);
  for (let i = 0; i < buf.byteLength; i++) {
    const b = load<u8>(p + <usize>i);
    s += "0123456789abcdef".charAt(b >> 4) + "0123456789abcdef".charAt(b & 15);
  }
  return s;
}

function bytes(h: string): ArrayBuffer {
  const buf = new ArrayBuffer(h.length >> 1);
  for (let i = 0; i < buf.byteLength; i++) {
    store<u8>(changetype<usize>(buf) + <usize>i, <u8>parseInt(h.substr(i << 1, 2), 16));
  }
  return buf;
}

function decode(h: string, out: RlsResponse): bool {
  const buf = bytes(h);
  return decodeRateLimitResponse(changetype<usize>(buf), buf.byteLength, out);
}

function one(key: string, value: string): Descriptor {
  const d = new Descriptor();
  d.keys.push(key);
  d.values.push(value);
  return d;
}

describe("encodeRateLimitRequest", () => {
  it("writes domain, descriptors with entries, hits_addend (fields 1, 2, 3)", () => {
    // 0a 01 "d" | 12 08 [0a 06 [0a 01 "k" 12 01 "v"]] | 18 01
    expect(hex(encodeRateLimitRequest("d", [one("k", "v")], 1, 1))).toBe("0a016412080a060a016b12017618" + "01");
  });
  it("leaves out proto3 defaults: empty strings, hits_addend 0", () => {
    expect(hex(encodeRateLimitRequest("", [one("k", "")], 1, 0))).toBe("12050a030a016b");
  });
  it("writes only the first `count` descriptors", () => {
    expect(hex(encodeRateLimitRequest("d", [one("a", "1"), one("b", "2")], 1, 0))).toBe("0a016412080a060a016112013" + "1");
  });
  it("uses multi-byte varints for lengths over 127 and large hits", () => {
    const v = "x".repeat(200);
    const h = hex(encodeRateLimitRequest("d", [one("k", v)], 1, 300));
    // descriptor length 209 = d1 01; entry length 206 = ce 01; value length 200 = c8 01; hits 300 = ac 02
    expect(h.startsWith("0a016412d1010ace010a016b12c801")).toBe(true);
    expect(h.endsWith("18ac02")).toBe(true);
  });
  it("encodes UTF-8", () => {
    expect(hex(encodeRateLimitRequest("é", [], 0, 0))).toBe("0a02c3a9");
  });
});

const r = new RlsResponse();

describe("decodeRateLimitResponse", () => {
  it("reads overall_code, a status with current_limit, limit_remaining and duration_until_reset", () => {
    // 08 02 | 12 10 [08 02 | 12 04 [08 0a 10 02] | 18 00 | 22 04 [08 2a 10 01]]
    expect(decode("080212100802120408" + "0a100218002204082a1001", r)).toBe(true);
    expect(r.overallCode).toBe(CODE_OVER_LIMIT);
    expect(r.statusCount).toBe(1);
    const s = r.statuses[0];
    expect(s.code).toBe(CODE_OVER_LIMIT);
    expect(s.hasLimit).toBe(true);
    expect(s.requestsPerUnit).toBe(10);
    expect(s.unit).toBe(2);
    expect(s.limitRemaining).toBe(0);
    expect(s.resetMs).toBe(<u64>42001);
  });
  it("reads response and request headers (value, else raw_value)", () => {
    // 08 01 | 1a 06 [0a 01 "a" 12 01 "b"] | 1a 06 [0a 01 "c" 1a 01 "d"] | 22 06 [0a 01 "e" 12 01 "f"]
    expect(decode("08011a060a016112016" + "21a060a01631a0164220" + "60a016512016" + "6", r)).toBe(true);
    expect(r.overallCode).toBe(CODE_OK);
    expect(r.responseHeaders.join("|")).toBe("a|b|c|d");
    expect(r.requestHeaders.join("|")).toBe("e|f");
  });
  it("clears the previous response", () => {
    expect(decode("", r)).toBe(true);
    expect(r.overallCode).toBe(0);
    expect(r.statusCount).toBe(0);
    expect(r.responseHeaders.length).toBe(0);
  });
  it("skips unknown fields of each wire type", () => {
    // f99 varint, f100 fixed64, f101 len, f102 group{f1 varint}, f104 fixed32, then 08 01
    expect(decode("b806" + "01" + "a106" + "0102030405060708" + "aa0601ff" + "b306" + "0805" + "b406" + "c506" + "09090909" + "0801", r)).toBe(true);
    expect(r.overallCode).toBe(CODE_OK);
  });
  it("keeps at most MAX_STATUSES statuses and MAX_HEADERS headers", () => {
    let h = "0801";
    for (let i = 0; i < MAX_STATUSES + 3; i++) h += "12020801";
    for (let i = 0; i < MAX_HEADERS + 3; i++) h += "1a060a016112016" + "2";
    expect(decode(h, r)).toBe(true);
    expect(r.statusCount).toBe(MAX_STATUSES);
    expect(r.responseHeaders.length).toBe(MAX_HEADERS * 2);
  });
  it("refuses malformed input", () => {
    const bad = [
      "08",                       // truncated varint value
      "0880808080808080808080" + "01", // 11-byte varint
      "1205",                     // length past the end
      "12ffffffff0f",             // length 2^32-1
      "0001",                     // field number 0
      "2e00",                     // wire type 6
      "cc06",                     // end-group without a start
      "b306c406",                 // group closed by another field
      "a10601",                   // truncated fixed64
      "12020a05",                 // nested length past the parent
    ];
    for (let i = 0; i < bad.length; i++) expect(decode(bad[i], r)).toBe(false, bad[i]);
  });
});
