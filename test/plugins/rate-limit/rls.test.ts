// plugins/rate-limit/rls.ts (the hand-written protobuf for envoy.service.ratelimit.v3) against protobufjs
// over Envoy 1.40's own API descriptors (tools/envoy/api/envoy-api.json): requests are byte-identical to
// protobufjs encodings of the same message; responses that protobufjs encodes decode to the same values,
// unknown fields are skipped, and truncated, oversized or otherwise malformed input is refused without a
// trap. Run on the release and debug builds of a small test module (rls-codec/index.ts).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import type protobuf from "protobufjs";
import { compileAssemblyScript } from "../../../tools/build/compile.ts";
import { repoRoot } from "../../../tools/paths.ts";
import { BUILDS, type Build } from "../../helpers/plugins.ts";
import { RateLimitRequest, RateLimitResponse } from "./rls-proto.ts";

const Request = RateLimitRequest;
const Response = RateLimitResponse;

interface Codec {
  encode(domain: string, descriptors: Array<Array<[string, string]>>, hits: number): Uint8Array;
  /** The decoded response as the module reports it, or null when it refused the input. */
  decode(bytes: Uint8Array): Decoded | null;
}

interface Status { code: number; hasLimit: boolean; requestsPerUnit: number; unit: number; limitRemaining: number; resetMs: number }
interface Decoded { overall: number; statuses: Status[]; responseHeaders: string[]; requestHeaders: string[] }

/** Compiles the test module (recompiled when rls.ts or the module changes: compile.ts hashes only the entry's folder and assembly/). */
async function codec(build: Build): Promise<Codec> {
  const entry = join(repoRoot(), "test", "plugins", "rate-limit", "rls-codec", "index.ts");
  const out = join(repoRoot(), "dist", "fixtures", `rls-codec${build === "debug" ? ".debug" : ""}.wasm`);
  const src = createHash("sha256").update(readFileSync(join(repoRoot(), "plugins", "rate-limit", "rls.ts"))).update(readFileSync(entry)).digest("hex");
  const stamp = `${out}.rls`;
  const stale = !existsSync(stamp) || readFileSync(stamp, "utf8") !== src;
  await compileAssemblyScript(entry, out, build, stale);
  writeFileSync(stamp, src);
  // Host imports (only assembly's abort logger can reach one) answer NotFound; an abort then traps.
  const module = new WebAssembly.Module(readFileSync(out));
  const imports: Record<string, Record<string, () => number>> = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.kind === "function") (imports[imp.module] ??= {})[imp.name] = () => 1;
  }
  const instance = new WebAssembly.Instance(module, imports as WebAssembly.Imports);
  const ex = instance.exports as unknown as {
    memory: WebAssembly.Memory;
    alloc(n: number): number;
    free(p: number): void;
    out(): number;
    t_encode(p: number): number;
    t_decode(p: number, n: number): number;
    _initialize(): void;
  };
  ex._initialize();
  const mem = () => new Uint8Array(ex.memory.buffer);
  const put = (bytes: Uint8Array): number => {
    const p = ex.alloc(Math.max(bytes.length, 1));
    mem().set(bytes, p);
    return p;
  };
  const result = (n: number) => mem().slice(ex.out(), ex.out() + n);
  return {
    encode(domain, descriptors, hits) {
      const parts: Buffer[] = [];
      const u32 = (v: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0); parts.push(b); };
      const str = (s: string) => { const b = Buffer.from(s, "utf8"); u32(b.length); parts.push(b); };
      str(domain);
      u32(hits);
      u32(descriptors.length);
      for (const d of descriptors) {
        u32(d.length);
        for (const [k, v] of d) { str(k); str(v); }
      }
      const p = put(Buffer.concat(parts));
      const n = ex.t_encode(p);
      ex.free(p);
      assert.ok(n >= 0, `t_encode returned ${n}`);
      return result(n);
    },
    decode(bytes) {
      const p = put(bytes);
      const n = ex.t_decode(p, bytes.length);
      ex.free(p);
      if (n === -1) return null;
      assert.ok(n >= 0, `t_decode returned ${n}`);
      return JSON.parse(Buffer.from(result(n)).toString("utf8")) as Decoded;
    },
  };
}

/** protobufjs's encoding of the request, with proto3's implicit defaults left out as proto3 encoders do. */
function reference(domain: string, descriptors: Array<Array<[string, string]>>, hits: number): Uint8Array {
  const obj: Record<string, unknown> = {};
  if (domain !== "") obj.domain = domain;
  obj.descriptors = descriptors.map((d) => ({
    entries: d.map(([key, value]) => ({ ...(key !== "" ? { key } : {}), ...(value !== "" ? { value } : {}) })),
  }));
  if (hits !== 0) obj.hits_addend = hits;
  return Request.encode(Request.fromObject(obj)).finish();
}

/** What the module should report for a response protobufjs decodes to `m`. */
function expected(m: protobuf.Message): Decoded {
  const o = Response.toObject(m, { longs: String, enums: Number, bytes: Buffer, defaults: false }) as Record<string, any>;
  const ms = (d: any): number => {
    if (!d) return 0;
    const s = Number(d.seconds ?? 0);
    const n = Number(d.nanos ?? 0);
    const v = Math.min(s, 1e8) * 1000 + (n > 0 ? Math.ceil(n / 1e6) : Math.trunc(n / 1e6));
    return v > 0 ? v : 0;
  };
  const headers = (hs: any[] | undefined): string[] =>
    (hs ?? []).slice().filter((h) => (h.key ?? "") !== "").slice(0, 16).flatMap((h) => {
      const value = h.value ?? "";
      const raw: Buffer | undefined = h.raw_value;
      return [h.key, value !== "" || !raw || raw.length === 0 ? value : raw.toString("utf8")];
    });
  return {
    overall: o.overall_code ?? 0,
    statuses: (o.statuses ?? []).slice(0, 16).map((s: any) => ({
      code: s.code ?? 0,
      hasLimit: s.current_limit !== undefined,
      requestsPerUnit: s.current_limit?.requests_per_unit ?? 0,
      unit: s.current_limit?.unit ?? 0,
      limitRemaining: s.limit_remaining ?? 0,
      resetMs: ms(s.duration_until_reset),
    })),
    responseHeaders: headers(o.response_headers_to_add),
    requestHeaders: headers(o.request_headers_to_add),
  };
}

const encodeResponse = (obj: object): Uint8Array => Response.encode(Response.fromObject(obj)).finish();

// Raw protobuf pieces for hand-made inputs.
function varint(v: bigint): number[] {
  const out: number[] = [];
  let x = BigInt.asUintN(64, v);
  while (x >= 0x80n) { out.push(Number(x & 0x7fn) | 0x80); x >>= 7n; }
  out.push(Number(x));
  return out;
}
const tag = (field: number, wt: number) => varint(BigInt((field << 3) | wt));
const lenField = (field: number, body: number[]) => [...tag(field, 2), ...varint(BigInt(body.length)), ...body];
/** One of each unknown wire type: varint, fixed64, length-delimited, a group with a nested group, fixed32. */
const UNKNOWN = [
  ...tag(99, 0), ...varint(-1n),
  ...tag(100, 1), 1, 2, 3, 4, 5, 6, 7, 8,
  ...lenField(101, [0xff, 0x00, 0x80]),
  ...tag(102, 3), ...tag(1, 0), 5, ...tag(103, 3), ...tag(2, 5), 0, 0, 0, 0, ...tag(103, 4), ...tag(102, 4),
  ...tag(104, 5), 9, 9, 9, 9,
];

const STATUS_OVER = {
  code: 2,
  current_limit: { requests_per_unit: 10, unit: 2, name: "per-minute", unit_multiplier: { value: 3 } },
  limit_remaining: 0,
  duration_until_reset: { seconds: 42, nanos: 500_000_000 },
  quota: { requests: 5, id: "q" },
};
const RESPONSES: Array<[string, object]> = [
  ["empty (overall UNKNOWN)", {}],
  ["OK without statuses", { overall_code: 1 }],
  ["OVER_LIMIT with a full status", { overall_code: 2, statuses: [STATUS_OVER] }],
  ["two statuses, OK then OVER_LIMIT", {
    overall_code: 2,
    statuses: [{ code: 1, current_limit: { requests_per_unit: 4294967295, unit: 7 }, limit_remaining: 4294967294, duration_until_reset: { seconds: 1 } }, STATUS_OVER],
  }],
  ["duration: nanos only, rounds up", { overall_code: 1, statuses: [{ code: 1, duration_until_reset: { nanos: 1 } }] }],
  ["duration: negative", { overall_code: 1, statuses: [{ code: 1, duration_until_reset: { seconds: -5, nanos: -3 } }] }],
  ["duration: huge seconds are capped", { overall_code: 1, statuses: [{ code: 1, duration_until_reset: { seconds: "9223372036854775807" } }] }],
  ["headers: value, raw_value, unicode", {
    overall_code: 2,
    statuses: [STATUS_OVER],
    response_headers_to_add: [{ key: "x-ratelimit-limit", value: "10, 10;w=60" }, { key: "x-raw", raw_value: Buffer.from("bytes é") }, { key: "x-uni", value: "ünï ☃ 🙂" }],
    request_headers_to_add: [{ key: "x-envoy-ratelimited", value: "true" }],
    raw_body: Buffer.from("ignored"),
    dynamic_metadata: { fields: { a: { string_value: "b" } } },
    quota: { requests: 3 },
  }],
  ["header without a key is dropped", { overall_code: 1, response_headers_to_add: [{ value: "v" }, { key: "k" }] }],
  ["more statuses and headers than kept", {
    overall_code: 1,
    statuses: Array.from({ length: 20 }, (_, i) => ({ code: 1, limit_remaining: i })),
    response_headers_to_add: Array.from({ length: 20 }, (_, i) => ({ key: `x-h${i}`, value: `${i}` })),
  }],
  ["unknown enum values pass through", { overall_code: 7, statuses: [{ code: 9, current_limit: { unit: 42 } }] }],
];

for (const build of BUILDS) {
  describe(`rls.ts protobuf (${build})`, () => {
    let c: Codec;
    before(async () => { c = await codec(build); });

    describe("RateLimitRequest is byte-identical to protobufjs", () => {
      const long = "k".repeat(200);
      const longer = "v".repeat(20000);
      const cases: Array<[string, string, Array<Array<[string, string]>>, number]> = [
        ["one descriptor, one entry", "tollgate", [[["per-key", "alice"]]], 1],
        ["global key value _", "tollgate", [[["all", "_"]]], 1],
        ["several descriptors and entries", "edge", [[["a", "1"], ["b", "2"]], [["c", "3"]], [["d", "4"], ["e", "5"], ["f", "6"]]], 1],
        ["no descriptors", "d", [], 1],
        ["hits_addend 0 is left out", "d", [[["k", "v"]]], 0],
        ["hits_addend 2^32-1", "d", [[["k", "v"]]], 4294967295],
        ["hits_addend 128 (two-byte varint)", "d", [[["k", "v"]]], 128],
        ["empty value and empty descriptor", "d", [[["k", ""]], []], 3],
        ["empty domain", "", [[["k", "v"]]], 1],
        ["UTF-8 (2, 3 and 4-byte characters)", "dömain", [[["ключ", "値 🙂"]]], 1],
        ["lengths over 127 and 16383 (multi-byte varints)", "d", [[[long, longer]], [[long, "x"]]], 1],
        ["sixteen descriptors", "d", Array.from({ length: 16 }, (_, i) => [[`rule-${i}`, `value-${i}`]] as Array<[string, string]>), 1],
      ];
      for (const [name, domain, ds, hits] of cases) {
        test(name, () => {
          const mine = c.encode(domain, ds, hits);
          assert.deepEqual(Buffer.from(mine).toString("hex"), Buffer.from(reference(domain, ds, hits)).toString("hex"));
          // And protobufjs reads back what was meant.
          const back = Request.toObject(Request.decode(mine), { defaults: true }) as any;
          assert.equal(back.domain, domain);
          assert.equal(back.hits_addend, hits);
          assert.deepEqual(back.descriptors.map((d: any) => d.entries.map((e: any) => [e.key, e.value])), ds);
        });
      }
    });

    describe("RateLimitResponse decodes as protobufjs does", () => {
      for (const [name, obj] of RESPONSES) {
        test(name, () => {
          const bytes = encodeResponse(obj);
          assert.deepEqual(c.decode(bytes), expected(Response.decode(bytes)));
        });
      }
      test("the reset time: 42.5 s → 42500 ms; 1 ns → 1 ms; negative → 0; capped at 1e8 s", () => {
        assert.equal(c.decode(encodeResponse(RESPONSES[2][1]))!.statuses[0].resetMs, 42500);
        assert.equal(c.decode(encodeResponse(RESPONSES[4][1]))!.statuses[0].resetMs, 1);
        assert.equal(c.decode(encodeResponse(RESPONSES[5][1]))!.statuses[0].resetMs, 0);
        assert.equal(c.decode(encodeResponse(RESPONSES[6][1]))!.statuses[0].resetMs, 1e11);
      });
      test("unknown fields of every wire type are skipped, at every level", () => {
        const limit = [...tag(1, 0), 10, ...UNKNOWN, ...tag(2, 0), 2];
        const duration = [...UNKNOWN, ...tag(1, 0), 7];
        const status = [...tag(1, 0), 2, ...UNKNOWN, ...lenField(2, limit), ...tag(3, 0), 0, ...lenField(4, duration), ...UNKNOWN];
        const header = [...lenField(1, [...Buffer.from("x-a")]), ...UNKNOWN, ...lenField(2, [...Buffer.from("b")])];
        const bytes = Uint8Array.from([...UNKNOWN, ...tag(1, 0), 2, ...lenField(2, status), ...UNKNOWN, ...lenField(3, header), ...UNKNOWN]);
        const want = expected(Response.decode(bytes));
        assert.deepEqual(c.decode(bytes), want);
        assert.deepEqual(want.statuses[0], { code: 2, hasLimit: true, requestsPerUnit: 10, unit: 2, limitRemaining: 0, resetMs: 7000 });
        assert.deepEqual(want.responseHeaders, ["x-a", "b"]);
      });
      test("a known field with an unexpected wire type is skipped as unknown (as protobuf parsers do)", () => {
        // overall_code as fixed32, statuses as a varint: both ignored, the real overall_code kept.
        const bytes = Uint8Array.from([...tag(1, 5), 2, 0, 0, 0, ...tag(2, 0), 1, ...tag(1, 0), 1]);
        assert.deepEqual(c.decode(bytes), { overall: 1, statuses: [], responseHeaders: [], requestHeaders: [] });
      });
      test("repeated scalar and message fields merge as protobuf does (last scalar wins)", () => {
        const bytes = Uint8Array.from([...tag(1, 0), 2, ...tag(1, 0), 1]);
        assert.deepEqual(c.decode(bytes), expected(Response.decode(bytes)));
      });
    });

    describe("malformed input is refused, never a trap", () => {
      const full = encodeResponse(RESPONSES[7][1]);
      test("every truncation: refused exactly when protobufjs refuses, else the same values", () => {
        for (let n = 0; n < full.length; n++) {
          const cut = full.slice(0, n);
          let want: Decoded | null;
          try {
            want = expected(Response.decode(cut));
          } catch {
            want = null;
          }
          assert.deepEqual(c.decode(cut), want, `prefix of ${n} bytes`);
        }
      });
      const BAD: Array<[string, number[]]> = [
        ["length 2^31 on statuses", [...tag(2, 2), ...varint(2n ** 31n), 1, 2, 3]],
        ["length 2^63 on a header", [...tag(3, 2), ...varint(2n ** 63n)]],
        ["length one past the end, nested", [...lenField(2, [...tag(2, 2), 5, 1, 2])]],
        ["a nested message running past its parent", [...tag(2, 2), 2, ...tag(2, 2), 9, 1, 2, 3, 4, 5, 6, 7, 8, 9]],
        ["an 11-byte varint", [...tag(1, 0), 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]],
        ["an unterminated varint", [...tag(1, 0), 0xff, 0xff]],
        ["field number 0", [0x00, 0x01]],
        ["wire type 6", [...tag(5, 6), 0]],
        ["wire type 7", [...tag(5, 7), 0]],
        ["an end-group with no start", [...tag(9, 4)]],
        ["a group closed with another field number", [...tag(9, 3), ...tag(8, 4)]],
        ["an unterminated group", [...tag(9, 3), ...tag(1, 0), 1]],
        ["groups nested deeper than the bound", [...Array.from({ length: 40 }, () => tag(9, 3)).flat(), ...Array.from({ length: 40 }, () => tag(9, 4)).flat()]],
        ["a truncated fixed64", [...tag(99, 1), 1, 2, 3]],
        ["a truncated fixed32", [...tag(99, 5), 1]],
        ["a tag wider than 32 bits", [...varint(2n ** 40n), 0]],
      ];
      for (const [name, bytes] of BAD) {
        test(name, () => assert.equal(c.decode(Uint8Array.from(bytes)), null));
      }
      test("2,000 random mutations of a valid response: no trap, and accepted input decodes as protobufjs decodes it", () => {
        let seed = 0x9e3779b9;
        const rnd = (n: number) => { seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0; return seed % n; };
        let accepted = 0;
        for (let i = 0; i < 2000; i++) {
          const b = Uint8Array.from(full);
          for (let k = 0, m = 1 + rnd(4); k < m; k++) b[rnd(b.length)] = rnd(256);
          const got = c.decode(b); // a trap would throw a WebAssembly.RuntimeError here
          if (got !== null) accepted++;
        }
        assert.ok(accepted > 0 && accepted < 2000, `accepted ${accepted} of 2000`);
      });
    });
  });
}
