// Envoy filter-manager semantics with plain JS filters (abi.md §2.3–2.6, §5 item 7; E-FM).
import assert from "node:assert/strict";
import { test } from "node:test";
import { BodyBuffer, type FilterCallbacks, HeaderMap, type HttpFilter, HttpStream } from "../../tools/host/index.ts";

const REQ: Array<[string, string]> = [[":method", "POST"], [":path", "/"], [":authority", "a"], [":scheme", "http"]];

/** A filter that records calls and answers with scripted statuses. */
class Rec implements HttpFilter {
  cb!: FilterCallbacks;
  calls: string[] = [];
  constructor(readonly name: string, readonly log: string[], readonly script: Partial<Record<string, number | ((f: Rec, ...a: unknown[]) => number)>> = {}) {}
  private r(k: string, ...a: unknown[]): number {
    const s = this.script[k];
    return typeof s === "function" ? s(this, ...a) : s ?? 0;
  }
  setCallbacks(cb: FilterCallbacks) { this.cb = cb; }
  decodeHeaders(h: HeaderMap, e: boolean) { this.log.push(`${this.name}.decodeHeaders(${e})`); return this.r("decodeHeaders", h, e); }
  decodeData(b: BodyBuffer, e: boolean) { this.log.push(`${this.name}.decodeData(${b.toString()},${e})`); return this.r("decodeData", b, e); }
  decodeTrailers(t: HeaderMap) { this.log.push(`${this.name}.decodeTrailers`); return this.r("decodeTrailers", t); }
  encodeHeaders(h: HeaderMap, e: boolean) { this.log.push(`${this.name}.encodeHeaders(${h.get(":status")},${e})`); return this.r("encodeHeaders", h, e); }
  encodeData(b: BodyBuffer, e: boolean) { this.log.push(`${this.name}.encodeData(${b.toString()},${e})`); return this.r("encodeData", b, e); }
  encodeTrailers(t: HeaderMap) { this.log.push(`${this.name}.encodeTrailers`); return this.r("encodeTrailers", t); }
  onLog() { this.log.push(`${this.name}.onLog`); }
  onDestroy() { this.log.push(`${this.name}.onDestroy`); }
}

async function* chunks(...parts: string[]) {
  for (const p of parts) {
    await new Promise((r) => setImmediate(r));
    yield Buffer.from(p);
  }
}

const ok = async () => ({ headers: [[":status", "200"]] as Array<[string, string]>, body: "resp" });

test("request path in order, response path reversed, then every onLog, then every onDestroy", async () => {
  const log: string[] = [];
  const r = await new HttpStream([new Rec("a", log), new Rec("b", log)], ok).run({ headers: REQ, body: "x" });
  assert.equal(r.status, 200);
  assert.equal(Buffer.from(r.body).toString(), "resp");
  assert.deepEqual(log, [
    "a.decodeHeaders(false)", "b.decodeHeaders(false)", "a.decodeData(x,true)", "b.decodeData(x,true)",
    "b.encodeHeaders(200,false)", "a.encodeHeaders(200,false)", "b.encodeData(resp,true)", "a.encodeData(resp,true)",
    "a.onLog", "b.onLog", "a.onDestroy", "b.onDestroy",
  ]);
  assert.equal(r.details, "via_upstream");
});

test("StopAll on headers: later data is held; continue runs headers from the next filter and the held data from the stopped one", async () => {
  const log: string[] = [];
  const a = new Rec("a", log, { decodeHeaders: 4 });
  const done = new HttpStream([a, new Rec("b", log)], ok).run({ headers: REQ, body: chunks("1", "2") });
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
  assert.deepEqual(log, ["a.decodeHeaders(false)"]);
  a.cb.continueDecoding();
  await done;
  assert.deepEqual(log.slice(0, 4), ["a.decodeHeaders(false)", "b.decodeHeaders(false)", "a.decodeData(12,true)", "b.decodeData(12,true)"]);
});

test("StopIterationAndBuffer on data: continue passes the buffered body to the NEXT filter, then trailers", async () => {
  const log: string[] = [];
  const a = new Rec("a", log, { decodeData: 1, decodeTrailers: 1 });
  const done = new HttpStream([a, new Rec("b", log)], ok).run({ headers: REQ, body: "xy", trailers: [["t", "1"]] });
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  assert.deepEqual(log, ["a.decodeHeaders(false)", "b.decodeHeaders(false)", "a.decodeData(xy,false)", "a.decodeTrailers"]);
  a.cb.continueDecoding();
  await done;
  assert.deepEqual(log.slice(4, 6), ["b.decodeData(xy,false)", "b.decodeTrailers"]);
});

test("a local reply from filter b travels EVERY encoder filter (c included), decoding stops at b", async () => {
  const log: string[] = [];
  const b = new Rec("b", log, { decodeHeaders: (f) => (f.cb.sendLocalReply(401, Buffer.from("no"), [["www-authenticate", "Basic"]], null, "auth_denied"), 4) });
  const r = await new HttpStream([new Rec("a", log), b, new Rec("c", log)], ok).run({ headers: REQ });
  assert.equal(r.status, 401);
  assert.equal(r.localReply, true);
  assert.deepEqual(r.headers, [[":status", "401"], ["www-authenticate", "Basic"], ["content-length", "2"], ["content-type", "text/plain"]]);
  assert.deepEqual(log.slice(0, 8), [
    "a.decodeHeaders(true)", "b.decodeHeaders(true)",
    "c.encodeHeaders(401,false)", "b.encodeHeaders(401,false)", "a.encodeHeaders(401,false)",
    "c.encodeData(no,true)", "b.encodeData(no,true)", "a.encodeData(no,true)",
  ]);
  assert.equal(r.upstreamRequest, null);
});

test("route: resolved lazily, cached, re-resolved after clearRouteCache; no route → 404 route_not_found through the encoders", async () => {
  let n = 0;
  const log: string[] = [];
  const a = new Rec("a", log, { decodeHeaders: (f, h) => ((h as HeaderMap).set(":path", "/other"), f.cb.route(), f.cb.clearRouteCache(), 0) });
  let seen = "";
  await new HttpStream([a], async (req) => ((seen = req.route!.name), { headers: [[":status", "200"]] }), {
    resolveRoute: (h) => ({ name: `${h.get(":path")}#${++n}` }),
  }).run({ headers: REQ });
  assert.equal(seen, "/other#2");
  const r = await new HttpStream([new Rec("x", log)], ok, { resolveRoute: () => null }).run({ headers: REQ });
  assert.equal(r.status, 404);
  assert.equal(r.details, "route_not_found");
  assert.ok(log.includes("x.encodeHeaders(404,true)"));
});

test("upstream failure → 503 local reply through the encoders", async () => {
  const r = await new HttpStream([], async () => {
    throw new Error("ECONNREFUSED");
  }).run({ headers: REQ });
  assert.equal(r.status, 503);
  assert.match(r.details, /^upstream_reset_before_response_started\{remote_connection_failure/);
});

test("StopAll on response headers + continueEncoding: response body held, then delivered", async () => {
  const log: string[] = [];
  const a = new Rec("a", log, { encodeHeaders: 4 });
  const done = new HttpStream([a], async () => ({ headers: [[":status", "200"]], body: chunks("r1", "r2") })).run({ headers: REQ });
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
  assert.deepEqual(log.filter((l) => l.includes("encode")), ["a.encodeHeaders(200,false)"]);
  a.cb.continueEncoding();
  const r = await done;
  assert.equal(Buffer.from(r.body).toString(), "r1r2");
  assert.deepEqual(log.filter((l) => l.includes("encodeData")), ["a.encodeData(r1r2,true)"]);
});
