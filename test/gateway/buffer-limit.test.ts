// A filter that buffers the request body (StopIterationAndBuffer) past the connection's buffer limit (Envoy's
// per_connection_buffer_limit_bytes, 1 MiB by default): Envoy 1.40 ends the stream with 413 "Payload Too Large"
// and closes the connection; below the limit the body reaches the upstream whole. Both engines, one bootstrap.
import assert from "node:assert/strict";
import { request } from "node:http";
import { test } from "node:test";
import { bootstrapDoc, useProbeAndEcho, wasmFilter } from "../helpers/bootstrap.ts";
import { ENGINES, startEngine } from "../helpers/engines.ts";
import { requireEnvoy } from "../helpers/envoy.ts";

const setup = useProbeAndEcho();

function post(port: number, size: number): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const body = Buffer.alloc(size, "a");
  return new Promise((resolve, reject) => {
    const r = request({ host: "127.0.0.1", port, method: "POST", path: "/upload", headers: { "x-probe-request_body": "buffer_until_end", "content-length": String(size) }, timeout: 20_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    r.on("timeout", () => r.destroy(new Error("timeout")));
    r.on("error", reject);
    r.end(body);
  });
}

for (const engine of ENGINES) {
  test(`${engine}: a request body a filter buffers past 1 MiB is 413 Payload Too Large; below, it reaches the upstream`, { timeout: 60_000 }, async (t) => {
    const envoy = engine === "envoy" ? requireEnvoy(t) : null;
    if (engine === "envoy" && !envoy) return;
    const gw = await startEngine(engine, bootstrapDoc({ filters: [wasmFilter("probe", setup.probe)] }, { stable: setup.echo.port }), envoy);
    try {
      const small = await post(gw.port("l"), 512 * 1024);
      assert.equal(small.status, 200);
      assert.equal((JSON.parse(small.body) as { body: string }).body.length, 512 * 1024);
      const big = await post(gw.port("l"), 2 * 1024 * 1024);
      assert.equal(big.status, 413);
      assert.equal(big.body, "Payload Too Large");
      assert.equal(big.headers["content-type"], "text/plain");
      assert.equal(big.headers.connection, "close");
    } finally {
      await gw.stop();
    }
  });
}
