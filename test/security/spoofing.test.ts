// Spoofed identity and tag headers (issue 15 item 9, held class "spoofed x-mse-consumer,
// x-envoy-auth-failure-mode-allowed, x-ratelimit-shadow removed; canary spoofed tag removed"), black-box on
// both engines: a header a plugin or the connection manager owns never reaches the upstream as the client
// sent it. envoy-configs/demo.yaml (cors, auth, rate-limit, canary; use_remote_address: true) for the consumer,
// canary tag, shadow mark and X-Forwarded-For; envoy-configs/auth.yaml's ext_auth listeners for the
// failure-mode mark. The client_ip case adds a per-IP rate-limit rule for one host and, as the control that
// shows the case can fail, a copy of the listener without use_remote_address, where the client does pick
// its bucket.
import assert from "node:assert/strict";
import { request } from "node:http";
import { test } from "node:test";
import { ENGINES } from "../helpers/engines.ts";
import { requireEnvoy } from "../helpers/envoy.ts";
import { startConfig, type Started } from "./blackbox.ts";

interface Echoed {
  status: number;
  upstream?: string;
  headers: Record<string, string | string[]>;
}

/** One request with its own connection; the echo's JSON when an upstream answered. */
function send(port: number, path: string, headers: Record<string, string>): Promise<Echoed> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers, agent: false, timeout: 10_000 }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c));
      res.on("end", () => {
        let echo: { upstream?: string; headers?: Record<string, string | string[]> } = {};
        try {
          echo = JSON.parse(body);
        } catch {
          // a local reply (401, 429): no upstream
        }
        resolve({ status: res.statusCode ?? 0, upstream: echo.upstream, headers: echo.headers ?? {} });
      });
    });
    req.on("timeout", () => req.destroy(new Error(`${path}: timeout`)));
    req.on("error", reject);
    req.end();
  });
}

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** demo.yaml plus: a per-IP rule for host ip.test, and the demo listener copied without use_remote_address. */
function withClientIpRule(doc: Obj): void {
  const listener = doc.static_resources.listeners[0];
  const hcm = listener.filter_chains[0].filters[0].typed_config;
  const rl = hcm.http_filters.find((f: Obj) => f.name === "rate-limit").typed_config.config.configuration;
  const cfg = JSON.parse(rl.value);
  cfg._rules_ = [{ _match_domain_: ["ip.test"], rules: [{ name: "per-ip", key: { client_ip: {} }, limit: { requests: 3, per: "minute" } }] }];
  rl.value = JSON.stringify(cfg);
  const copy = structuredClone(listener);
  copy.name = "demo-trusting-xff";
  copy.filter_chains[0].filters[0].typed_config.stat_prefix = "demo_trusting_xff";
  delete copy.filter_chains[0].filters[0].typed_config.use_remote_address;
  doc.static_resources.listeners.push(copy);
}

for (const engine of ENGINES) {
  test(`${engine}: spoofed identity and tag headers through envoy-configs/demo.yaml`, { timeout: 60_000 }, async (t) => {
    const envoy = engine === "envoy" ? requireEnvoy(t) : null;
    if (engine === "envoy" && !envoy) return;
    const gw: Started = await startConfig(engine, "demo.yaml", envoy, { edit: withClientIpRule });
    try {
      const port = gw.gw.port("demo");

      await t.test("x-mse-consumer: a client's copy is removed where no consumer is needed", async () => {
        const r = await send(port, "/a", { "x-mse-consumer": "admin" });
        assert.equal(r.status, 200);
        assert.equal(r.headers["x-mse-consumer"], undefined, JSON.stringify(r.headers));
      });
      await t.test("x-mse-consumer: replaced by the authenticated consumer, one value", async () => {
        const r = await send(port, "/a", { host: "secure.example.com", "x-api-key": "alice-demo-key", "x-mse-consumer": "admin" });
        assert.equal(r.status, 200);
        assert.equal(r.headers["x-mse-consumer"], "alice");
      });
      await t.test("x-mse-consumer: does not authenticate", async () => {
        const r = await send(port, "/a", { host: "secure.example.com", "x-mse-consumer": "alice" });
        assert.equal(r.status, 401);
        assert.equal(r.upstream, undefined);
      });
      await t.test("x-canary-version: the client's v2 loses to the override header; the request lands on stable as v1", async () => {
        const r = await send(port, "/a", { "x-canary-version": "v2", "x-canary": "never" });
        assert.equal(r.status, 200);
        assert.equal(r.upstream, "stable");
        assert.equal(r.headers["x-canary-version"], "v1");
      });
      await t.test("x-canary-version: a made-up tag never reaches the upstream; the tag and the upstream agree", async () => {
        for (let i = 0; i < 6; i++) {
          const r = await send(port, "/a", { "x-canary-version": "v3-spoofed" });
          assert.equal(r.status, 200);
          assert.ok(r.headers["x-canary-version"] === "v1" || r.headers["x-canary-version"] === "v2", JSON.stringify(r.headers));
          assert.equal(r.upstream, r.headers["x-canary-version"] === "v2" ? "canary" : "stable");
        }
      });
      await t.test("x-ratelimit-shadow: removed, with or without a rate-limit key", async () => {
        for (const extra of [{}, { "x-client-id": "spoof-shadow" }]) {
          const r = await send(port, "/a", { "x-ratelimit-shadow": "per-client", ...extra });
          assert.equal(r.status, 200);
          assert.equal(r.headers["x-ratelimit-shadow"], undefined, JSON.stringify(r.headers));
        }
      });
      await t.test("X-Forwarded-For: the TCP peer is appended and is the external address; a client-sent external address is replaced", async () => {
        const r = await send(port, "/a", { "x-forwarded-for": "1.2.3.4", "x-envoy-external-address": "9.9.9.9" });
        assert.equal(r.status, 200);
        const xff = String(r.headers["x-forwarded-for"]).split(",").map((s) => s.trim());
        assert.ok(xff.length === 2 && xff[0] === "1.2.3.4" && xff[1] !== "1.2.3.4", `x-forwarded-for ${xff.join(",")}`);
        assert.equal(r.headers["x-envoy-external-address"], "127.0.0.1");
      });
      await t.test("X-Forwarded-For: a client cannot pick its client_ip bucket (use_remote_address: true)", async () => {
        const got: number[] = [];
        for (let i = 0; i < 4; i++) got.push((await send(port, "/a", { host: "ip.test", "x-forwarded-for": `10.1.0.${i}` })).status);
        assert.deepEqual(got, [200, 200, 200, 429], "one bucket: the TCP peer's");
      });
      await t.test("control: without use_remote_address the last X-Forwarded-For entry is the client_ip", async () => {
        const other = gw.gw.port("demo-trusting-xff");
        const got: number[] = [];
        for (let i = 0; i < 4; i++) got.push((await send(other, "/a", { host: "ip.test", "x-forwarded-for": `10.2.0.${i}` })).status);
        assert.deepEqual(got, [200, 200, 200, 200], "four buckets, one per spoofed address");
      });
    } finally {
      await gw.stop();
    }
  });

  test(`${engine}: spoofed x-envoy-auth-failure-mode-allowed through envoy-configs/auth.yaml's ext_auth listeners`, { timeout: 60_000 }, async (t) => {
    const envoy = engine === "envoy" ? requireEnvoy(t) : null;
    if (engine === "envoy" && !envoy) return;
    const gw = await startConfig(engine, "auth.yaml", envoy);
    try {
      const spoof = { "x-envoy-auth-failure-mode-allowed": "true" };
      for (const listener of ["authz", "authz-open"]) {
        const r = await send(gw.gw.port(listener), "/orders", spoof);
        assert.equal(r.status, 200, listener);
        assert.equal(r.headers["x-envoy-auth-failure-mode-allowed"], undefined, `${listener}: authz allowed, the client's mark must not pass`);
      }
      // Fail closed: the spoofed mark does not open anything.
      assert.equal((await send(gw.gw.port("authz"), "/orders?status=503", spoof)).status, 403);
      // Fail open: the mark upstream is the plugin's own, exactly once (the echo answers ?status=503 too).
      const open = await send(gw.gw.port("authz-open"), "/orders?status=503", spoof);
      assert.equal(open.upstream, "stable");
      assert.equal(open.headers["x-envoy-auth-failure-mode-allowed"], "true");
    } finally {
      await gw.stop();
    }
  });
}
