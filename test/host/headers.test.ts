// Header maps (abi.md §3): values, codes, order, byte size, availability per phase, wire format.
import assert from "node:assert/strict";
import { test } from "node:test";
import { HeaderMap, parsePairs, serializePairs } from "../../tools/host/index.ts";
import { PluginTester } from "../../tools/host/testing.ts";
import { arg, fields, probe, results } from "./fixtures.ts";

async function tester() {
  return PluginTester.load({ wasm: await probe() });
}

test("get: first value only, keys lower-cased, NotFound for absent keys", async () => {
  const t = await tester();
  await t.exchange({
    headers: [["x-multi", "a"], ["x-multi", "b"], ["x-probe-request-headers", "get_header 0 X-Multi;get_header 0 x-none;get_header 0 :authority"]],
  });
  const r = results(t.logs, "get_header");
  assert.equal(fields(r[0]).text, "a");
  assert.equal(r[1], "get_header r=1");
  assert.equal(fields(r[2]).text, "example.com");
});

test("pairs: pseudo-headers first, then insertion order; an added pseudo-header goes to the pseudo block", async () => {
  const t = await tester();
  const res = await t.exchange({
    headers: [["x-a", "1"], ["x-probe-request-headers", "add_header 0 :custom c;add_header 0 x-b 2;get_pairs 0"]],
  });
  const keys = res.upstreamRequest!.headers.map((h) => h[0]);
  assert.deepEqual(keys, [":method", ":path", ":authority", ":scheme", ":custom", "x-a", "x-probe-request-headers", "x-b"]);
  const text = fields(results(t.logs, "get_pairs")[0]);
  const parsed = parsePairs(Buffer.from(text.hex, "hex"), 0, Number(text.len));
  assert.deepEqual(parsed.map((p) => p[0]), keys);
});

test("add: duplicates for regular headers; an inline header gets ',value' appended (Envoy addCopy)", async () => {
  const t = await tester();
  const res = await t.exchange({
    headers: [["x-probe-request-headers", "add_header 0 x-dup 1;add_header 0 x-dup 2;add_header 0 user-agent ua1;add_header 0 user-agent ua2;add_header 0 X-Upper v"]],
  });
  const up = res.upstreamRequest!;
  assert.deepEqual(up.headers.filter((h) => h[0] === "x-dup"), [["x-dup", "1"], ["x-dup", "2"]]);
  assert.deepEqual(up.headers.filter((h) => h[0] === "user-agent"), [["user-agent", "ua1,ua2"]]);
  assert.equal(up.header("x-upper"), "v", "keys are lower-cased on add");
});

test("replace: removes every value then adds (moves to the end); absent → added", async () => {
  const t = await tester();
  const res = await t.exchange({
    headers: [["x-r", "1"], ["x-other", "o"], ["x-r", "2"], ["x-probe-request-headers", "replace_header 0 x-r 3;replace_header 0 x-new n"]],
  });
  const h = res.upstreamRequest!.headers;
  assert.deepEqual(h.filter((e) => e[0].startsWith("x-") && !e[0].startsWith("x-probe")), [["x-other", "o"], ["x-r", "3"], ["x-new", "n"]]);
});

test("remove: all values; Ok when absent", async () => {
  const t = await tester();
  const res = await t.exchange({ headers: [["x-r", "1"], ["x-r", "2"], ["x-probe-request-headers", "remove_header 0 x-r;remove_header 0 x-absent"]] });
  assert.equal(res.upstreamRequest!.header("x-r"), undefined);
  assert.deepEqual(results(t.logs, "remove_header"), ["remove_header r=0", "remove_header r=0"]);
});

test("size = Σ(key + value) bytes, not the count or the serialized size", async () => {
  const t = await tester();
  const script = "header_size 0";
  await t.exchange({ headers: [["x-probe-request-headers", script]] });
  const expected = [[":method", "GET"], [":path", "/"], [":authority", "example.com"], [":scheme", "http"], ["x-probe-request-headers", script]]
    .reduce((n, [k, v]) => n + k.length + v.length, 0);
  assert.deepEqual(results(t.logs, "header_size"), [`header_size r=0 size=${expected}`]);
});

test("set_pairs: replaces the whole map (keys lower-cased); malformed input = empty map, still Ok", async () => {
  const t = await tester();
  const res = await t.exchange({
    headers: [["x-gone", "1"], ["x-probe-request-headers", "set_pairs 0 :method GET :path /new :authority h :scheme http X-Set 1"]],
  });
  assert.deepEqual(res.upstreamRequest!.headers, [[":method", "GET"], [":path", "/new"], [":authority", "h"], [":scheme", "http"], ["x-set", "1"]]);
  const t2 = await tester();
  // count = 1 but no data: malformed → parsed as an empty map, so every header is removed.
  const r2 = await t2.exchange({ headers: [["x-probe-request-headers", "set_pairs_raw 0 01000000"]] });
  assert.deepEqual(results(t2.logs, "set_pairs_raw"), ["set_pairs_raw r=0"]);
  assert.deepEqual(r2.upstreamRequest!.headers, []);
});

test("maps are unavailable after their phase continued: reads/writes → BadArgument; pairs → empty, Ok", async () => {
  const t = await tester();
  await t.exchange({
    headers: [["x-probe-response-headers", "get_header 0 :path;add_header 0 x 1;header_size 0;get_pairs 0;get_header 1 x;get_header 3 x;remove_header 0 x;replace_header 0 x 1;set_pairs 0 a b"]],
  });
  assert.deepEqual(results(t.logs, "get_header"), ["get_header r=2", "get_header r=2", "get_header r=2"]);
  assert.deepEqual(results(t.logs, "add_header"), ["add_header r=2"]);
  assert.deepEqual(results(t.logs, "header_size"), ["header_size r=2 size=3735928559"]);
  assert.deepEqual(results(t.logs, "get_pairs"), ["get_pairs r=0 ptr0=1 len=0"]);
  assert.deepEqual(results(t.logs, "remove_header"), ["remove_header r=2"]);
  assert.deepEqual(results(t.logs, "replace_header"), ["replace_header r=2"]);
  assert.deepEqual(results(t.logs, "set_pairs"), ["set_pairs r=2"]);
});

test("in on_log: request/response headers readable (access-log copies), read-only; absent key → NotFound", async () => {
  const t = await tester();
  await t.exchange({
    upstream: () => ({ status: 201, headers: [["x-u", "1"]] }),
    headers: [["x-probe-log", "get_header 0 :path;get_header 2 :status;get_header 2 x-none;add_header 2 x 1;get_header 1 x"]],
  });
  const r = results(t.logs, "get_header");
  assert.equal(fields(r[0]).text, "/");
  assert.equal(fields(r[1]).text, "201");
  assert.equal(r[2], "get_header r=1");
  assert.equal(r[3], "get_header r=1", "request trailers in the access-log phase: nothing");
  assert.deepEqual(results(t.logs, "add_header"), ["add_header r=2"]);
});

test("map type > 7 → BadArgument; out-of-bounds key → InvalidMemoryAccess", async () => {
  const t = await tester();
  await t.exchange({ headers: [["x-probe-request-headers", "get_header 8 x;add_header 9 x y;oob_get_header;get_pairs 8"]] });
  assert.deepEqual(results(t.logs, "get_header"), ["get_header r=2"]);
  assert.deepEqual(results(t.logs, "add_header"), ["add_header r=2"]);
  assert.deepEqual(results(t.logs, "oob_get_header"), ["oob_get_header r=6"]);
  assert.deepEqual(results(t.logs, "get_pairs"), ["get_pairs r=2"]);
});

test("response headers: :status present; plugin changes reach downstream", async () => {
  const t = await tester();
  const res = await t.exchange({
    upstream: () => ({ status: 200, headers: [["server", "up"]] }),
    headers: [["x-probe-response-headers", `get_header 2 :status;replace_header 2 server ${arg("tollgate probe")};add_header 2 x-added yes`]],
  });
  assert.equal(fields(results(t.logs, "get_header")[0]).text, "200");
  assert.equal(res.header("server"), "tollgate probe");
  assert.equal(res.header("x-added"), "yes");
});

test("HeaderMap: Envoy semantics in isolation (pseudo block, inline append, setCopy, byteSize, wire format)", () => {
  const h = new HeaderMap("request", [["x-a", "1"], [":path", "/"], ["Host-Like", "v"]]);
  h.add(":method", "GET");
  assert.deepEqual(h.toList().map((e) => e[0]), [":path", ":method", "x-a", "host-like"]);
  h.add("x-forwarded-for", "1.1.1.1");
  h.add("x-forwarded-for", "2.2.2.2");
  assert.equal(h.get("x-forwarded-for"), "1.1.1.1,2.2.2.2");
  h.set("x-a", "2");
  assert.deepEqual(h.toList().at(-1), ["x-a", "2"]);
  assert.equal(h.byteSize(), h.toList().reduce((n, [k, v]) => n + k.length + v.length, 0));
  const wire = serializePairs([["a", "1"], ["bc", ""]]);
  assert.equal(wire.toString("hex"), "02000000" + "01000000" + "01000000" + "02000000" + "00000000" + "61003100" + "62630000");
  assert.deepEqual(parsePairs(wire, 0, wire.length), [["a", "1"], ["bc", ""]]);
  assert.deepEqual(parsePairs(Buffer.concat([wire, Buffer.from([0])]), 0, wire.length + 1), [], "trailing bytes → empty");
  assert.deepEqual(parsePairs(wire.subarray(0, wire.length - 1), 0, wire.length - 1), [], "missing NUL → empty");
});

test("trailers can be created from the last body chunk (Envoy addDecodedTrailers / addEncodedTrailers)", async () => {
  const t = await tester();
  const res = await t.exchange({
    method: "POST",
    body: "b",
    upstream: () => ({ status: 200, body: "r" }),
    headers: [["x-probe-request-body", "add_header 1 x-req-trailer 1"], ["x-probe-response-body", "add_header 3 grpc-status 0"]],
  });
  assert.deepEqual(results(t.logs, "add_header"), ["add_header r=0", "add_header r=0"]);
  assert.deepEqual(res.upstreamRequest!.trailers, [["x-req-trailer", "1"]]);
  assert.equal(res.upstreamRequest!.body, "b");
  assert.deepEqual(res.trailers, [["grpc-status", "0"]]);
  // Not in the last chunk / no body callback: still unavailable.
  const t2 = await tester();
  await t2.exchange({ headers: [["x-probe-request-headers", "add_header 1 x 1"]] });
  assert.deepEqual(results(t2.logs, "add_header"), ["add_header r=2"]);
});

test("names and values decoded from a guest address that was rewritten are read afresh (decode caches)", async () => {
  const { HostEnv, Plugin, HeaderMap: Map2 } = await import("../../tools/host/index.ts");
  const env = new HostEnv({ logLevel: "critical" });
  const p = await Plugin.load(env, { wasm: await probe(), workers: 1, canary: false });
  try {
    const vm = p.vms[0];
    const f = p.createFilter(0) as unknown as { requestHeaders: HeaderMap | null };
    f.requestHeaders = new Map2("request", [[":method", "GET"], ["x-api-key", "k1"], ["x-user-id", "u7"]]);
    const get = vm.imports.env.proxy_get_header_map_value as (...a: number[]) => number;
    const add = vm.imports.env.proxy_add_header_map_value as (...a: number[]) => number;
    const base = vm.malloc(64);
    const ret = vm.malloc(8);
    // Guest memory as the test writes and reads it, beside the host's own views.
    const raw = () => Buffer.from(vm.memory.buffer);
    const read = (name: string): string => {
      raw().write(name, base, "latin1");
      assert.equal(get(0, base, name.length, ret, ret + 4), 0, name);
      const m = raw();
      return m.toString("latin1", m.readUInt32LE(ret), m.readUInt32LE(ret) + m.readUInt32LE(ret + 4));
    };
    vm.actAs(f as never, () => {
      // Same address, same length, different bytes: each read must see what is there now.
      for (let i = 0; i < 3; i++) {
        assert.equal(read("x-api-key"), "k1");
        assert.equal(read("x-user-id"), "u7");
        assert.equal(read("X-USER-ID"), "u7", "lower-cased like Envoy's LowerCaseString");
      }
      // Values too: the same value address rewritten between two adds.
      for (const v of ["one", "two"]) {
        raw().write("x-v", base, "latin1");
        raw().write(v, base + 8, "latin1");
        assert.equal(add(0, base, 3, base + 8, 3), 0);
      }
      assert.deepEqual(f.requestHeaders!.getAll("x-v"), ["one", "two"]);
      // Serialized pairs (set_header_map_pairs, local replies): a block rewritten at the same address, same size.
      const setPairs = vm.imports.env.proxy_set_header_map_pairs as (...a: number[]) => number;
      for (const v of ["1", "2", "2", "3"]) {
        const block = serializePairs([["x-a", v], [":method", "GET"]]);
        raw().set(block, base);
        assert.equal(setPairs(0, base, block.length), 0);
        assert.deepEqual(f.requestHeaders!.toList(), [[":method", "GET"], ["x-a", v]], `pairs with x-a=${v}`);
      }
    });
    // Every length the short-value decoder handles (0–8) and beyond, with every byte value: byte strings.
    for (let len = 0; len <= 12; len++) {
      for (let b0 = 0; b0 < 256; b0 += len === 0 ? 256 : 1) {
        const bytes = Buffer.from(Array.from({ length: len }, (_, i) => (b0 + i * 37) & 0xff));
        raw().set(bytes, base + 16);
        assert.ok(vm.mem.inBounds(base + 16, len));
        assert.equal(vm.mem.latin1(base + 16, len), bytes.toString("latin1"), `len ${len} from byte ${b0}`);
      }
    }
  } finally {
    p.close();
  }
});
