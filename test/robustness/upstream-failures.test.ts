// Upstream failures with a plugin that counts its stream callbacks, on both engines from one bootstrap:
// refused connections, resets before and after the response started, a route timeout, a client that goes
// away. Each gives Envoy's status and details, and on_log → on_done → on_delete run exactly once per stream.
import assert from "node:assert/strict";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { request } from "node:http";
import { after, before, test, type TestContext } from "node:test";
import { ENGINES, startEngine, type EngineHandle } from "../helpers/engines.ts";
import { requireEnvoy } from "../helpers/envoy.ts";
import { bootstrapYaml, closedPort, eventually, fixtureWasm, send } from "./helpers.ts";

let misbehaving: Server;
let yaml: string;
const sockets = new Set<Socket>();
const pending = new Set<ServerResponse>();

/** An upstream that misbehaves by path: /reset-mid-body, /reset-before-headers, /slow, /slow-body, else 200. */
function startMisbehaving(): Promise<Server> {
  const s = createServer((req, res) => {
    const path = req.url ?? "/";
    req.resume();
    if (path.startsWith("/reset-before-headers")) {
      req.socket.destroy();
    } else if (path.startsWith("/reset-mid-body")) {
      res.writeHead(200, { "content-type": "text/plain", "content-length": "1000" });
      res.write("x".repeat(100), () => setTimeout(() => req.socket.destroy(), 20));
    } else if (path.startsWith("/slow-body")) {
      // Headers at once, then nothing: the route timeout expires while the body is being read.
      res.writeHead(200, { "content-type": "text/plain", "content-length": "10" });
      res.write("12345");
      pending.add(res);
    } else if (path.startsWith("/slow")) {
      pending.add(res); // never answers (closed in after())
    } else if (path.startsWith("/upload")) {
      // Answers only once the whole (streamed) request body arrived, like a real upload handler.
      req.on("end", () => res.writeHead(200, { "content-type": "text/plain" }).end("stored"));
    } else {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    }
  });
  s.on("connection", (c) => {
    sockets.add(c);
    c.on("close", () => sockets.delete(c));
  });
  return new Promise((r) => s.listen(0, "127.0.0.1", () => r(s)));
}

before(async () => {
  const lifecycle = await fixtureWasm("lifecycle");
  misbehaving = await startMisbehaving();
  const port = (misbehaving.address() as AddressInfo).port;
  const lc = { name: "lifecycle", rootId: "lifecycle", vmId: "lc", file: lifecycle };
  yaml = bootstrapYaml(
    [
      { name: "refused", cluster: "down", filters: [lc] },
      { name: "flaky", cluster: "flaky", filters: [lc], timeout: "0.4s" },
    ],
    { down: await closedPort(), flaky: port },
  );
});

after(async () => {
  for (const r of pending) r.destroy();
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => misbehaving?.close(() => r()));
});

const detailsLogged = (gw: EngineHandle) => gw.logs().filter((l) => l.startsWith("lc log details=")).map((l) => l.slice(15));

/** Every stream created so far was logged, done and deleted exactly once, in order. */
async function callbacksBalanced(gw: EngineHandle, expectedStreams: number): Promise<void> {
  const read = async () => Promise.all(["wasmcustom.lc_streams", "wasmcustom.lc_log", "wasmcustom.lc_done", "wasmcustom.lc_delete", "wasmcustom.lc_violation"].map((n) => gw.counter(n)));
  await eventually(async () => {
    const [s, l, d, del] = await read();
    return s === expectedStreams && l === s && d === s && del === s;
  }, `${expectedStreams} streams each logged, done and deleted`).catch(async (e) => {
    const [s, l, d, del, v] = await read();
    throw new Error(`${(e as Error).message}: streams=${s} on_log=${l} on_done=${d} on_delete=${del} violations=${v}`);
  });
  assert.equal(await gw.counter("wasmcustom.lc_violation"), 0, "no duplicate or out-of-order callback");
}



for (const engine of ENGINES) {
  test(`upstream failures on the ${engine} engine`, { timeout: 120_000 }, async (t: TestContext) => {
    const envoy = engine === "envoy" ? requireEnvoy(t) : null;
    if (engine === "envoy" && !envoy) return;
    const gw = await startEngine(engine, yaml, envoy, { concurrency: 2 });
    let streams = 0;
    try {
      await t.test("connection refused → 503 with Envoy's connect-failure body and details", async () => {
        for (let i = 0; i < 3; i++) {
          const r = await send(gw.port("refused"), `/refused-${i}`);
          assert.equal(r.status, 503);
          assert.equal(r.body, "upstream connect error or disconnect/reset before headers. reset reason: remote connection failure");
          assert.equal(r.headers["content-type"], "text/plain");
        }
        streams += 3;
        await callbacksBalanced(gw, streams);
        assert.deepEqual(detailsLogged(gw).slice(-3), Array(3).fill("upstream_reset_before_response_started{remote_connection_failure|delayed_connect_error:_Connection_refused}"));
        assert.ok((await gw.counter("cluster.down.upstream_cx_connect_fail")) >= 3);
      });

      await t.test("upstream closes before the response headers → 503 … reset reason: connection termination", async () => {
        const r = await send(gw.port("flaky"), "/reset-before-headers");
        assert.equal(r.status, 503);
        assert.equal(r.body, "upstream connect error or disconnect/reset before headers. reset reason: connection termination");
        streams += 1;
        await callbacksBalanced(gw, streams);
        assert.equal(detailsLogged(gw).at(-1), "upstream_reset_before_response_started{connection_termination}");
      });

      await t.test("upstream resets mid-body → the client sees the truncated response end in a reset; callbacks once", async () => {
        const r = await send(gw.port("flaky"), "/reset-mid-body");
        assert.equal(r.status, 200, "the response had started");
        assert.notEqual(r.error, null, "the downstream connection is reset, not ended cleanly");
        assert.ok(r.body.length < 1000);
        streams += 1;
        await callbacksBalanced(gw, streams);
        assert.equal(detailsLogged(gw).at(-1), "upstream_reset_after_response_started{protocol_error}");
        assert.equal(await gw.counter("http.flaky.downstream_rq_tx_reset"), 1);
      });

      await t.test("upstream slower than the route timeout → 504 upstream request timeout", async () => {
        const r = await send(gw.port("flaky"), "/slow");
        assert.equal(r.status, 504);
        assert.equal(r.body, "upstream request timeout");
        streams += 1;
        await callbacksBalanced(gw, streams);
        assert.equal(detailsLogged(gw).at(-1), "response_timeout");
        assert.equal(await gw.counter("cluster.flaky.upstream_rq_timeout"), 1);
      });

      await t.test("route timeout while the upstream body is still arriving → downstream reset; callbacks once", async () => {
        const r = await send(gw.port("flaky"), "/slow-body");
        assert.equal(r.status, 200);
        assert.notEqual(r.error, null, "the response cannot complete");
        streams += 1;
        await callbacksBalanced(gw, streams);
        assert.equal(detailsLogged(gw).at(-1), "response_timeout");
      });

      await t.test("client gone while the upstream is slow → the stream is reset; callbacks once", async () => {
        await new Promise<void>((resolve) => {
          const req = request({ host: "127.0.0.1", port: gw.port("flaky"), path: "/slow-client-gone", headers: { connection: "close" } });
          req.on("error", () => resolve());
          req.end();
          setTimeout(() => {
            req.destroy();
            resolve();
          }, 100);
        });
        streams += 1;
        await callbacksBalanced(gw, streams);
      });

      await t.test("client gone in the middle of its request body → the stream is reset; callbacks once", async () => {
        await new Promise<void>((resolve) => {
          const req = request({ host: "127.0.0.1", port: gw.port("flaky"), path: "/upload", method: "POST", headers: { "content-length": "100000" } });
          req.on("error", () => resolve());
          req.write("x".repeat(1000), () => setTimeout(() => {
            req.destroy();
            resolve();
          }, 100));
        });
        streams += 1;
        await callbacksBalanced(gw, streams);
        assert.equal(detailsLogged(gw).at(-1), "downstream_remote_disconnect");
      });

      await t.test("a healthy request after all of that still works", async () => {
        for (let i = 0; i < 2; i++) {
          const r = await send(gw.port("flaky"), "/fine");
          assert.equal(r.status, 200);
          assert.equal(r.body, "ok");
        }
        streams += 2;
        await callbacksBalanced(gw, streams);
        assert.equal(gw.logs().filter((l) => l.includes("Wasm VM failed")).length, 0);
      });
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${engine} output:\n${gw.output().slice(-30).join("\n")}`);
    } finally {
      await gw.stop();
    }
  });
}
