// Properties (abi.md §6): NUL-separated paths and Envoy's encodings.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ManualClock, parsePairs } from "../../tools/host/index.ts";
import { PluginTester } from "../../tools/host/testing.ts";
import { arg, fields, probe, results } from "./fixtures.ts";

function int64(hex: string): bigint {
  return Buffer.from(hex, "hex").readBigInt64LE();
}

async function props(paths: string[], opts: Parameters<typeof PluginTester.load>[0] extends infer O ? Partial<O> : never = {}, req: Record<string, unknown> = {}) {
  const clock = new ManualClock(Date.UTC(2026, 0, 2, 3, 4, 5));
  const t = await PluginTester.load({ wasm: await probe(), clock, ...(opts as object) });
  await t.exchange({ path: "/a/b?x=1&y=2", authority: "api.example.com", headers: [["x-probe-request-headers", paths.map((p) => `get_property ${arg(p)}`).join(";")], ["user-agent", "UA"], ["referer", "https://r"], ["x-request-id", "rid-1"], ["x-dup", "1"], ["x-dup", "2"]], ...req });
  return { t, r: results(t.logs, "get_property").map(fields), clock };
}

test("request.* strings from the current headers", async () => {
  const { r } = await props(["request\0path", "request\0url_path", "request\0query", "request\0host", "request\0scheme", "request\0method", "request\0useragent", "request\0referer", "request\0id", "request\0protocol"]);
  assert.deepEqual(r.map((x) => x.text), ["/a/b?x=1&y=2", "/a/b", "x=1&y=2", "api.example.com", "http", "GET", "UA", "https://r", "rid-1", "HTTP/1.1"]);
});

test("request.headers is a serialized map with comma-joined repeated values; a single header by sub-path", async () => {
  const { r } = await props(["request\0headers", "request\0headers\0x-dup", "request\0headers\0none"]);
  const m = parsePairs(Buffer.from(r[0].hex, "hex"), 0, Number(r[0].len));
  assert.deepEqual(m.find((e) => e[0] === "x-dup"), ["x-dup", "1,2"]);
  assert.deepEqual(m.find((e) => e[0] === ":path"), [":path", "/a/b?x=1&y=2"]);
  assert.equal(r[1].text, "1,2");
  assert.equal(r[2].r, "1");
});

test("request.time is a timestamp (int64 ns LE); ports and ids are int64 LE; mtls is a 1-byte bool", async () => {
  const { r } = await props(["request\0time", "source\0address", "source\0port", "destination\0address", "destination\0port", "connection\0mtls", "request\0headers_bytes"], { properties: { "source.address": "192.0.2.9:5555" } });
  assert.equal(int64(r[0].hex), BigInt(Date.UTC(2026, 0, 2, 3, 4, 5)) * 1_000_000n);
  assert.equal(r[1].text, "192.0.2.9:5555");
  assert.equal(int64(r[2].hex), 5555n);
  assert.equal(r[2].len, "8");
  assert.equal(r[3].text, "10.0.0.2:10000");
  assert.equal(int64(r[4].hex), 10000n);
  assert.equal(r[5].hex, "00");
  assert.ok(int64(r[6].hex) > 0n);
});

test("plugin_name / plugin_root_id / plugin_vm_id; unknown → NotFound; trailing NUL tolerated; dotted names are not split", async () => {
  const { r } = await props(["plugin_name", "plugin_root_id", "plugin_vm_id", "no_such_thing", "plugin_name\0", "request.path"], { name: "probe", rootId: "probe_root", vmId: "vm-7" });
  assert.deepEqual(r.map((x) => x.text ?? `r=${x.r}`), ["probe", "probe_root", "vm-7", "r=1", "probe", "r=1"]);
});

test("xds.* and (opt-in, Envoy < 1.33 / Higress) the legacy top-level aliases from the route; xds.node is the Node proto", async () => {
  const { r } = await props(["xds\0route_name", "xds\0cluster_name", "xds\0virtual_host_name", "route_name", "cluster_name", "xds\0node\0id", "xds\0node"], {
    route: { name: "r1", cluster: "backend", virtualHost: "vh" },
    legacyXdsAliases: true,
  });
  assert.deepEqual(r.slice(0, 6).map((x) => x.text), ["r1", "backend", "vh", "r1", "backend", "tollgate"]);
  assert.equal(r[6].hex, "0a08746f6c6c67617465" + "1208746f6c6c67617465", "Node{id=1, cluster=2} protobuf bytes");
  const modern = await props(["route_name", "cluster_name", "node", "xds\0route_name"], { route: { name: "r1", cluster: "backend" } });
  assert.deepEqual(modern.r.map((x) => x.r), ["1", "1", "1", "0"], "by default, as Envoy 1.40 (seen live): only xds.*");
});

test("stream attributes are NotFound in the root context; xds and plugin_* are available there", async () => {
  const t = await PluginTester.load({ wasm: await probe(), configuration: `on_configure=get_property ${arg("request\0path")};get_property ${arg("source\0address")};get_property plugin_root_id;get_property ${arg("xds\0node\0id")}` });
  assert.deepEqual(results(t.logs, "get_property", 0).map((l) => fields(l).r), ["1", "1", "0", "0"]);
});

test("response.* in on_log: code (int64), code_details, headers; request.duration is a duration", async () => {
  const clock = new ManualClock();
  const t = await PluginTester.load({ wasm: await probe(), clock });
  await t.exchange({
    headers: [["x-probe-log", ["response\0code", "response\0code_details", "response\0headers\0x-u", "request\0duration", "request\0path", "response\0size"].map((p) => `get_property ${arg(p)}`).join(";")]],
    upstream: () => {
      clock.advance(7);
      return { status: 418, headers: [["x-u", "v"]], body: "teapot" };
    },
  });
  const r = results(t.logs, "get_property").map(fields);
  assert.equal(int64(r[0].hex), 418n);
  assert.equal(r[1].text, "via_upstream");
  assert.equal(r[2].text, "v");
  assert.equal(int64(r[3].hex), 7_000_000n);
  assert.equal(r[4].text, "/", "request attributes fall back to the access-log copy");
  assert.equal(int64(r[5].hex), 6n);
});

test("set_property stores filter state 'wasm.<name>' (read back top-level and via filter_state); root context → NotFound", async () => {
  const t = await PluginTester.load({ wasm: await probe(), configuration: "on_configure=set_property k v" });
  assert.deepEqual(results(t.logs, "set_property", 0), ["set_property r=1"]);
  await t.exchange({ headers: [["x-probe-request-headers", `set_property my_key value1;get_property my_key;get_property ${arg("filter_state\0wasm.my_key")}`], ["x-probe-log", "get_property my_key"]] });
  const r = results(t.logs, "get_property").map(fields);
  assert.deepEqual(r.map((x) => x.text), ["value1", "value1", "value1"]);
});

test("embedder properties: numbers → int64, booleans → 1 byte, nested objects by sub-path", async () => {
  const { r } = await props(["connection\0requested_server_name", "upstream\0port", "metadata\0filter_metadata\0k"], {
    properties: { "connection.requested_server_name": "sni.example", "upstream.port": 8080, metadata: { filter_metadata: { k: "v" } } },
  });
  assert.equal(r[0].text, "sni.example");
  assert.equal(int64(r[1].hex), 8080n);
  assert.equal(r[2].text, "v");
});

test("after the request-header phase continued, request.* header attributes are absent (Envoy's activation); response.code is set", async () => {
  const t = await PluginTester.load({ wasm: await probe() });
  await t.exchange({
    upstream: () => ({ status: 202 }),
    headers: [["x-probe-response-headers", `get_property ${arg("request\0path")};get_property ${arg("request\0time")};get_property ${arg("response\0code")};get_property ${arg("response\0headers\0:status")}`]],
  });
  const r = results(t.logs, "get_property").map(fields);
  assert.equal(r[0].r, "1", "request.path");
  assert.equal(r[1].r, "0", "request.time comes from stream info");
  assert.equal(int64(r[2].hex), 202n);
  assert.equal(r[3].text, "202");
});
