// A filter that rewrites content-length while the client's body streams (attack finding 4: request
// smuggling toward a pooled upstream connection). Tollgate's plugins cannot write that header
// (test/security/headers.test.ts); this is the engine-level guard. The embedded engine keeps the client's
// framing; Envoy 1.40 forwards the rewritten length (the allowlisted difference `rewritten-content-length`),
// which this test also pins, so the allowlist entry stays true.
import assert from "node:assert/strict";
import { connect } from "node:net";
import { test } from "node:test";
import { bootstrapDoc, useProbeAndEcho, wasmFilter } from "../helpers/bootstrap.ts";
import { ENGINES, startEngine } from "../helpers/engines.ts";
import { requireEnvoy } from "../helpers/envoy.ts";

const setup = useProbeAndEcho();

const bootstrap = () => bootstrapDoc({ filters: [wasmFilter("probe", setup.probe)] }, { stable: setup.echo.port });


function raw(port: number, data: string): Promise<string> {
  return new Promise((resolve) => {
    let got = "";
    const s = connect(port, "127.0.0.1", () => s.write(data));
    s.on("data", (c) => (got += c));
    s.on("close", () => resolve(got));
    s.on("error", () => resolve(got));
    setTimeout(() => s.destroy(), 2000);
  });
}

const BODY = "0123456789GET /smuggled HTTP/1.1\r\nhost: x\r\n\r\n";
const REQUEST = `POST /upload HTTP/1.1\r\nhost: h\r\nconnection: close\r\nx-probe-request_headers: replace_header 0 content-length 10\r\ncontent-length: ${BODY.length}\r\n\r\n${BODY}`;

for (const engine of ENGINES) {
  test(`${engine}: a filter's rewritten content-length on a streaming body`, { timeout: 60_000 }, async (t) => {
    const envoy = engine === "envoy" ? requireEnvoy(t) : null;
    if (engine === "envoy" && !envoy) return;
    const gw = await startEngine(engine, bootstrap(), envoy);
    try {
      const out = await raw(gw.port("l"), REQUEST);
      const seen = JSON.parse(out.slice(out.indexOf("\r\n\r\n") + 4)) as { headers: Record<string, string>; body: string };
      if (engine === "embedded") {
        assert.equal(seen.headers["content-length"], String(BODY.length), "the client's framing, not the filter's");
        assert.equal(seen.body, BODY, "the whole body arrives as one body, nothing left to read as a second request");
      } else {
        // Envoy forwards what the filter wrote (allowlist: rewritten-content-length).
        assert.equal(seen.headers["content-length"], "10");
        assert.equal(seen.body, "0123456789");
      }
    } finally {
      await gw.stop();
    }
  });
}
