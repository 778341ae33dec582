// What each plugin does at the ABI boundary per request, for every `tollgate bench --envoy` scenario, on the
// embedded engine from the bench's own bootstraps: host calls, guest callbacks and allocator calls stay
// within the budgets below. Counts, not times — exact and noise-free — so a change that adds a host call or
// a callback to a hot path fails here instead of hiding in Envoy's CPU noise. The budgets are today's counts;
// lowering one is progress, raising one needs a reason in the commit.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { boundaryCounts, shapeHeaders } from "../../tools/bench/boundary.ts";
import { jwtMaterial, scenarios, targets, type Upstreams } from "../../tools/bench/envoy-setup.ts";
import { BoundaryProfile } from "../../tools/host/profile.ts";

/** Per scenario: most host calls, exact callbacks, most calls into the guest allocator, per request. */
const BUDGETS: Record<string, { calls: number; callbacks: number; mallocs: number }> = {
  // The floor exports every callback: context create, headers both ways, the response body (data and end),
  // on_log, on_done, on_delete.
  noop: { calls: 0, callbacks: 8, mallocs: 0 },
  // The plugins export the headers-only set (assembly/exports-headers.ts): create, headers ×2, done.
  "cors-simple": { calls: 9, callbacks: 4, mallocs: 2 },
  "cors-preflight": { calls: 7, callbacks: 4, mallocs: 5 },
  "canary-header": { calls: 4, callbacks: 4, mallocs: 1 },
  "canary-sticky": { calls: 5, callbacks: 4, mallocs: 1 },
  "rate-limit": { calls: 9, callbacks: 4, mallocs: 2 },
  "auth-key": { calls: 4, callbacks: 4, mallocs: 2 },
  "auth-basic": { calls: 5, callbacks: 4, mallocs: 2 },
  "auth-jwt-cached-rs256": { calls: 9, callbacks: 4, mallocs: 2 },
  "auth-jwt-cached-es256": { calls: 9, callbacks: 4, mallocs: 2 },
  "auth-jwt-rs256": { calls: 9, callbacks: 4, mallocs: 2 },
  "auth-jwt-es256": { calls: 9, callbacks: 4, mallocs: 2 },
  all: { calls: 27, callbacks: 16, mallocs: 7 },
};

let stable: Server;
let canary: Server;
const up: Upstreams = { stable: 0, canary: 0 };
const listen = (body: string): Promise<Server> =>
  new Promise((resolve) => {
    const s = createServer((req, res) => {
      req.resume();
      res.end(body);
    });
    s.listen(0, "127.0.0.1", () => resolve(s));
  });

before(async () => {
  stable = await listen("stable");
  canary = await listen("canary");
  up.stable = (stable.address() as { port: number }).port;
  up.canary = (canary.address() as { port: number }).port;
});
after(() => {
  stable.close();
  canary.close();
});

test("every bench scenario but the rate limit service's has a budget (rate-limit-global needs the service: bench-envoy covers it)", () => {
  const names = scenarios(jwtMaterial()).filter((s) => (s.kind === "plugin" || s.kind === "noop") && !s.needs).map((s) => s.name);
  assert.deepEqual(names.sort(), Object.keys(BUDGETS).sort());
});

test("boundary counts per request stay within the budgets, with the scenario's own statuses", { timeout: 120_000 }, async () => {
  const jwt = jwtMaterial();
  const dir = mkdtempSync(join(tmpdir(), "tollgate-boundary-"));
  const over: string[] = [];
  try {
    for (const s of scenarios(jwt)) {
      const budget = BUDGETS[s.name];
      if (!budget) continue;
      const file = join(dir, `${s.target}.json`);
      writeFileSync(file, JSON.stringify(targets(jwt).find((t) => t.name === s.target)!.bootstrap(up)));
      const c = await boundaryCounts(file, s.request, 100, 50);
      const statuses = Object.keys(c.statuses);
      assert.ok(statuses.length === 1 && /^2/.test(statuses[0]), `${s.name}: ${JSON.stringify(c.statuses)}`);
      if (c.hostCalls > budget.calls) over.push(`${s.name}: ${c.hostCalls} host calls > ${budget.calls} (${JSON.stringify(c.byFunction)})`);
      if (c.callbacks !== budget.callbacks) over.push(`${s.name}: ${c.callbacks} callbacks ≠ ${budget.callbacks} (${JSON.stringify(c.byCallback)})`);
      if (c.mallocs > budget.mallocs) over.push(`${s.name}: ${c.mallocs} allocator calls > ${budget.mallocs}`);
      if (s.name === "rate-limit") {
        // One 8-way set of 16-byte slots read and written back per request: the counts follow the ABI's arguments.
        assert.deepEqual(c.byFunction.proxy_get_shared_data, { calls: 1, bytesIn: c.byFunction.proxy_get_shared_data.bytesIn, bytesOut: 128 });
        assert.equal(c.byFunction.proxy_set_shared_data.bytesIn - c.byFunction.proxy_get_shared_data.bytesIn, 128);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(over, []);
});

test("the varying headers follow the wrk script's sequence", () => {
  const shape = { method: "GET", path: "/", headers: { a: "1" }, vary: { "x-client-id": { prefix: "client-", count: 3 }, t: { values: ["p", "q"] } } };
  assert.deepEqual([1, 2, 3].map((n) => shapeHeaders(shape, n)), [
    { a: "1", "x-client-id": "client-1", t: "q" },
    { a: "1", "x-client-id": "client-2", t: "p" },
    { a: "1", "x-client-id": "client-0", t: "q" },
  ]);
});

test("profile: a wrapped host function counts its call, input bytes and the size it wrote back; reset keeps the entries", () => {
  const p = new BoundaryProfile();
  const mem = new DataView(new ArrayBuffer(64));
  // proxy_get_header_map_value(map, key_ptr, key_size, value_ptr_ptr, value_size_ptr): writes size 7 at 12.
  const f = p.wrap("env.proxy_get_header_map_value", (_m, _k, _ks, _vp, vs) => (mem.setUint32(vs, 7, true), 0), () => mem);
  f(0, 0, 5, 8, 12);
  f(0, 0, 3, 8, 12);
  assert.deepEqual(p.perRequest(2).byFunction.proxy_get_header_map_value, { calls: 1, bytesIn: 4, bytesOut: 7 });
  p.reset();
  f(0, 0, 5, 8, 12);
  const s = p.perRequest(1);
  assert.equal(s.hostCalls, 1);
  assert.equal(s.bytesIn, 5);
  // A failed call (NotFound) copies nothing back.
  const g = p.wrap("env.proxy_get_shared_data", () => 1, () => mem);
  g(0, 4, 8, 12, 16);
  assert.deepEqual(p.perRequest(1).byFunction.proxy_get_shared_data, { calls: 1, bytesIn: 4, bytesOut: 0 });
});
