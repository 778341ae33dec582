// Clusters and the upstream client: round robin, keep-alive reuse, and Envoy's router replies for
// unreachable upstreams (503 connect failure / no healthy upstream) and route timeouts (504).
import assert from "node:assert/strict";
import { createServer as createHttpServer } from "node:http";
import { after, test } from "node:test";
import type { Cluster } from "../../tools/gateway/model.ts";
import { ClusterManager, readAll, ROUTER_REPLIES } from "../../tools/gateway/upstream.ts";
import { startEcho, type EchoServer } from "../../tools/demo/echo.ts";
import { closedPort } from "../../tools/diff/gateway.ts";

const servers: EchoServer[] = [];
after(async () => Promise.all(servers.map((s) => s.close())));

async function echo(name: string): Promise<EchoServer> {
  const e = await startEcho({ name });
  servers.push(e);
  return e;
}


function cluster(name: string, ports: number[], type: Cluster["type"] = "STATIC", address = "127.0.0.1"): [string, Cluster] {
  return [name, { name, type, connectTimeoutMs: 1000, endpoints: ports.map((port) => ({ address, port })) }];
}

const get = (path: string, timeoutMs = 5000) => ({ method: "GET", path, authority: "svc", headers: [["x-a", "1"]] as Array<[string, string]>, body: new Uint8Array(0), timeoutMs });

test("round robin over the endpoints; headers, host and path forwarded; keep-alive", async () => {
  const [a, b] = [await echo("a"), await echo("b")];
  const cm = new ClusterManager(new Map([cluster("c", [a.port, b.port])]));
  await cm.start();
  try {
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await cm.forward("c", get(`/p${i}?q=1`));
      assert.equal(r.status, 200);
      const body = JSON.parse(Buffer.from(await readAll(r.body)).toString());
      seen.push(body.upstream);
      assert.equal(body.path, `/p${i}?q=1`);
      assert.equal(body.headers.host, "svc");
      assert.equal(body.headers["x-a"], "1");
      assert.ok(r.headers.some(([k]) => k === "x-envoy-upstream-service-time"));
      assert.ok(!r.headers.some(([k]) => k === "connection" || k === "keep-alive"), "hop-by-hop headers dropped");
    }
    assert.deepEqual(seen, ["a", "b", "a", "b"]);
  } finally {
    cm.close();
  }
});

test("connection refused → 503 'upstream connect error … reset reason: remote connection failure'", async () => {
  const cm = new ClusterManager(new Map([cluster("down", [await closedPort()])]));
  await cm.start();
  const r = await cm.forward("down", get("/"));
  assert.equal(r.status, 503);
  assert.equal(Buffer.from(await readAll(r.body)).toString(), ROUTER_REPLIES.connectFailure.body);
  assert.deepEqual(r.headers, [["content-length", String(ROUTER_REPLIES.connectFailure.body.length)], ["content-type", "text/plain"]]);
  assert.equal(r.upstreamHost, null);
  cm.close();
});

test("no endpoints (STRICT_DNS name that does not resolve) → 503 'no healthy upstream'; unknown cluster → 503 empty", async () => {
  const cm = new ClusterManager(new Map([cluster("dns", [80], "STRICT_DNS", "no-such-host.invalid")]));
  await cm.start();
  const r = await cm.forward("dns", get("/"));
  assert.equal(r.status, 503);
  assert.equal(Buffer.from(await readAll(r.body)).toString(), "no healthy upstream");
  const u = await cm.forward("nope", get("/"));
  assert.equal(u.status, 503);
  assert.equal(u.details, "cluster_not_found");
  assert.equal((await readAll(u.body)).length, 0);
  cm.close();
});

test("STRICT_DNS resolves localhost to loopback hosts", async () => {
  const a = await echo("dns-a");
  const cm = new ClusterManager(new Map([cluster("dns", [a.port], "STRICT_DNS", "localhost")]));
  await cm.start();
  // localhost may resolve to ::1 too; at least one of the resolved hosts must serve.
  let ok = false;
  for (let i = 0; i < 2 && !ok; i++) ok = (await cm.forward("dns", get("/"))).status === 200;
  assert.ok(ok);
  cm.close();
});

test("route timeout before response headers → 504 'upstream request timeout'", async () => {
  const a = await echo("slow");
  const cm = new ClusterManager(new Map([cluster("slow", [a.port])]));
  await cm.start();
  const r = await cm.forward("slow", get("/?delay_ms=2000", 150));
  assert.equal(r.status, 504);
  assert.equal(Buffer.from(await readAll(r.body)).toString(), "upstream request timeout");
  assert.equal(r.details, "response_timeout");
  const fast = await cm.forward("slow", get("/", 2000));
  assert.equal(fast.status, 200, "a timed-out request does not poison the pool");
  await readAll(fast.body);
  cm.close();
});

test("upstream closing the connection before headers → 503 connection termination", async () => {
  const srv = createHttpServer((req) => req.socket.destroy());
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const cm = new ClusterManager(new Map([cluster("rst", [(srv.address() as { port: number }).port])]));
  try {
    const r = await cm.forward("rst", get("/"));
    assert.equal(r.status, 503);
    assert.match(Buffer.from(await readAll(r.body)).toString(), /^upstream connect error or disconnect\/reset before headers\. reset reason: connection termination$/);
  } finally {
    cm.close();
    await new Promise<void>((r) => srv.close(() => r()));
  }
});
