// Shared data is exact across worker threads, black-box, on both engines from one bootstrap: real Envoy
// with --concurrency 2 (two worker threads, each with its own Wasm VM) and the embedded engine with two
// worker VMs. Many parallel connections spend one small budget; exactly the limit passes, the rest get
// 429, the plugin's counters in admin /stats add up, and every token was handed out once (each allowed
// response reports a distinct X-RateLimit-Remaining). On Envoy the per-worker listener stats prove both
// threads served, so with per-worker buckets more than the limit would pass and the test would fail.
//
// The limit is `{requests: N, per: "hour"}`: one token comes back every 3600/N s, far longer than a run,
// so nothing refills mid-test and "exactly N" is the right expectation.
import assert from "node:assert/strict";
import { Agent, request } from "node:http";
import type { Socket } from "node:net";
import { test } from "node:test";
import { bootstrapDoc, DIRECT_OK, pluginFilter } from "../../helpers/bootstrap.ts";
import { ENGINES, startEngine, type EngineHandle } from "../../helpers/engines.ts";
import { requireEnvoy } from "../../helpers/envoy.ts";
import { rateLimitWasm } from "./support.ts";

const WORKERS = 2;
const CONNECTIONS = 30;
const GLOBAL_LIMIT = 50;
const GLOBAL_REQUESTS = 300;
const CLIENT_LIMIT = 20;
const CLIENTS = ["c1", "c2", "c3"];
const PER_CLIENT_REQUESTS = 100;

const pluginConfig = {
  _rules_: [
    { _match_domain_: ["global.test"], rules: [{ name: "global", key: { global: {} }, limit: { requests: GLOBAL_LIMIT, per: "hour" } }] },
    { _match_domain_: ["clients.test"], rules: [{ name: "per-client", key: { header: "x-client-id" }, limit: { requests: CLIENT_LIMIT, per: "hour" } }] },
  ],
};

const bootstrap = bootstrapDoc({ name: "rl", filters: [pluginFilter("rate-limit", pluginConfig)], routes: [DIRECT_OK] });

interface Answer { status: number; remaining: string | undefined; retryAfter: string | undefined; client: string }

/** Sends `hosts.length` GETs at once over at most CONNECTIONS keep-alive connections; returns answers and the sockets used. */
async function burst(port: number, host: string, clientIds: Array<string | null>): Promise<{ answers: Answer[]; sockets: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const sockets = new Set<Socket>();
  try {
    const answers = await Promise.all(clientIds.map((client, i) => new Promise<Answer>((resolve, reject) => {
      const headers: Record<string, string> = { host };
      if (client) headers["x-client-id"] = client;
      const req = request({ host: "127.0.0.1", port, path: `/r${i}`, headers, agent, timeout: 30_000 }, (res) => {
        res.resume();
        res.on("end", () => resolve({
          status: res.statusCode ?? 0,
          remaining: res.headers["x-ratelimit-remaining"] as string | undefined,
          retryAfter: res.headers["retry-after"] as string | undefined,
          client: client ?? "",
        }));
      });
      req.on("socket", (s: Socket) => sockets.add(s));
      req.on("timeout", () => req.destroy(new Error(`request ${i}: timeout`)));
      req.on("error", reject);
      req.end();
    })));
    return { answers, sockets: sockets.size };
  } finally {
    agent.destroy();
  }
}

/** Envoy's per-worker accepted-connection counters for the listener (`listener.<addr>.worker_<n>.downstream_cx_total`). */
function workerConnections(stats: Map<string, string>): Map<number, number> {
  const out = new Map<number, number>();
  for (const [name, value] of stats) {
    const m = /^listener\.127\.0\.0\.1_\d+\.worker_(\d+)\.downstream_cx_total$/.exec(name);
    if (m) out.set(Number(m[1]), Number(value));
  }
  return out;
}

/** Exactly `limit` answers are 200, the rest 429 with Retry-After; the allowed ones saw remaining limit-1 … 0, once each. */
function assertExact(answers: Answer[], limit: number, what: string): void {
  const ok = answers.filter((a) => a.status === 200);
  const rejected = answers.filter((a) => a.status === 429);
  assert.equal(ok.length + rejected.length, answers.length, `${what}: only 200 and 429 (got ${[...new Set(answers.map((a) => a.status))].join(", ")})`);
  assert.equal(ok.length, limit, `${what}: exactly the limit passes`);
  const remaining = ok.map((a) => Number(a.remaining)).sort((x, y) => x - y);
  assert.deepEqual(remaining, Array.from({ length: limit }, (_, i) => i), `${what}: every token handed out once (distinct X-RateLimit-Remaining)`);
  for (const r of rejected) {
    assert.equal(r.remaining, "0", `${what}: a 429 says nothing remains`);
    assert.match(r.retryAfter ?? "", /^[1-9]\d*$/, `${what}: a 429 carries Retry-After`);
  }
}

for (const engine of ENGINES) {
  test(`rate-limit shared data is exact across ${WORKERS} workers on ${engine} (${CONNECTIONS} parallel connections)`, { timeout: 180_000 }, async (t) => {
    const envoy = engine === "envoy" ? requireEnvoy(t) : null;
    if (engine === "envoy" && !envoy) return;
    await rateLimitWasm("release");
    const started = Date.now();
    const gw: EngineHandle = await startEngine(engine, bootstrap, envoy, { concurrency: WORKERS });
    try {
      const port = gw.port("rl");

      await t.test(`one global bucket: ${GLOBAL_REQUESTS} requests, limit ${GLOBAL_LIMIT}`, async () => {
        const { answers, sockets } = await burst(port, "global.test", Array.from({ length: GLOBAL_REQUESTS }, () => null));
        assert.equal(sockets, CONNECTIONS, "the burst used every connection");
        assertExact(answers, GLOBAL_LIMIT, "global");
        const stats = await gw.stats();
        assert.equal(stats.get("wasmcustom.tollgate.outcome=.=allowed;.;rule=.=global;.;rate_limit_requests_total"), String(GLOBAL_LIMIT), "allowed counter");
        assert.equal(stats.get("wasmcustom.tollgate.outcome=.=rejected;.;rule=.=global;.;rate_limit_requests_total"), String(GLOBAL_REQUESTS - GLOBAL_LIMIT), "rejected counter");
        assert.equal(stats.get("wasmcustom.tollgate.rule=.=global;.;rate_limit_cas_exhausted_total"), "0", "no request gave up on the CAS loop");
      });

      await t.test(`one bucket per client: ${CLIENTS.length} clients × ${PER_CLIENT_REQUESTS} interleaved requests, limit ${CLIENT_LIMIT} each`, async () => {
        const ids = Array.from({ length: CLIENTS.length * PER_CLIENT_REQUESTS }, (_, i) => CLIENTS[i % CLIENTS.length]);
        const { answers, sockets } = await burst(port, "clients.test", ids);
        assert.equal(sockets, CONNECTIONS, "the burst used every connection");
        for (const c of CLIENTS) assertExact(answers.filter((a) => a.client === c), CLIENT_LIMIT, `client ${c}`);
        // Requests without the key are not limited by the per-client rule.
        const anonymous = await burst(port, "clients.test", Array.from({ length: 60 }, () => null));
        assert.deepEqual([...new Set(anonymous.answers.map((a) => a.status))], [200], "no x-client-id: not limited");
        const stats = await gw.stats();
        const total = CLIENTS.length * PER_CLIENT_REQUESTS;
        assert.equal(stats.get("wasmcustom.tollgate.outcome=.=allowed;.;rule=.=per-client;.;rate_limit_requests_total"), String(CLIENTS.length * CLIENT_LIMIT), "allowed counter");
        assert.equal(stats.get("wasmcustom.tollgate.outcome=.=rejected;.;rule=.=per-client;.;rate_limit_requests_total"), String(total - CLIENTS.length * CLIENT_LIMIT), "rejected counter");
        assert.equal(stats.get("wasmcustom.tollgate.outcome=.=allowed;.;rule=.=global;.;rate_limit_requests_total"), String(GLOBAL_LIMIT), "the other rule's counters did not move");
      });

      await t.test("both workers served", async () => {
        const perWorker = workerConnections(await gw.stats());
        t.diagnostic(`${engine}: connections per worker ${JSON.stringify(Object.fromEntries(perWorker))}`);
        if (engine === "envoy" || perWorker.size > 0) {
          assert.deepEqual([...perWorker.keys()].sort(), Array.from({ length: WORKERS }, (_, i) => i), `one counter per worker: ${JSON.stringify([...perWorker])}`);
          for (const [w, n] of perWorker) assert.ok(n > 0, `worker_${w} accepted connections (${JSON.stringify([...perWorker])})`);
          const total = [...perWorker.values()].reduce((a, b) => a + b, 0);
          assert.equal(total, 3 * CONNECTIONS, "every connection of the three bursts was counted once");
        } else {
          // The embedded engine pins connection i to worker i mod N (tools/gateway/server.ts), so 30
          // connections always reach both VMs; it prints no per-worker listener stats to check it by.
          t.diagnostic("embedded engine: no listener.<addr>.worker_<n>.downstream_cx_total in /stats");
        }
      });
    } finally {
      await gw.stop();
      t.diagnostic(`${engine}: ${Date.now() - started} ms including start and stop`);
    }
  });
}
