// The embedded router streams the request body to the upstream as it passes the filter chain, as
// Envoy does: the upstream sees the first chunk before the client has sent the last one.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { bootstrapYaml, listenerPort, startGateway } from "../robustness/helpers.ts";

let upstream: Server;
let firstChunkBeforeClientEnd = false;
let clientEnded = false;

after(() => upstream?.close());

test("request bodies stream through the embedded router (upstream reads while the client still sends)", async () => {
  upstream = createServer((req, res) => {
    let total = 0;
    req.on("data", (c: Buffer) => {
      if (total === 0 && !clientEnded) firstChunkBeforeClientEnd = true;
      total += c.length;
    });
    req.on("end", () => res.writeHead(200, { "content-type": "text/plain" }).end(String(total)));
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", () => r()));
  const port = (upstream.address() as AddressInfo).port;
  const yaml = bootstrapYaml([{ name: "main", cluster: "up", filters: [] }], { up: port });
  const gw = await startGateway(yaml);
  try {
    const gwPort = listenerPort(gw, "main");
    const answer = await new Promise<string>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port: gwPort, path: "/upload", method: "POST", headers: { "content-length": "20000" } }, (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve(body));
      });
      req.on("error", reject);
      req.write("a".repeat(10000));
      // Send the second half only after the upstream had time to see the first.
      setTimeout(() => {
        clientEnded = true;
        req.end("b".repeat(10000));
      }, 300);
    });
    assert.equal(answer, "20000", "the whole body arrived");
    assert.ok(firstChunkBeforeClientEnd, "the upstream received the first chunk before the client finished sending");
  } finally {
    await gw.close();
  }
});
