// The host's guest-memory decode caches (tools/host/memory.ts) change speed, never results: every built
// plugin, under every example configuration in its plugin.json, answers the same request sequence the same
// way with the caches on and off — status, headers, body, details, what reached the upstream, the logs and
// the metrics. The sequence repeats requests (the caches' hits) and rewrites values at the same guest
// addresses (different keys, origins, credentials), on two workers.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ManualClock } from "../../tools/host/clock.ts";
import { HostEnv } from "../../tools/host/env.ts";
import { type ExchangeRequest, PluginTester } from "../../tools/host/testing.ts";
import { BUILDS, compiledPlugin } from "../helpers/plugins.ts";

const ROOT = join(import.meta.dirname, "../..");
const PLUGINS = ["cors", "canary", "rate-limit", "auth", "noop"];
const FIRST_REPEAT = 17;

function b64url(s: string | Buffer): string {
  return Buffer.from(s).toString("base64url");
}

/** An HS256 token for the auth example's "svc" consumer (key k1), valid at the ManualClock's start. */
function jwt(sub: string): string {
  const head = b64url(JSON.stringify({ alg: "HS256", kid: "k1", typ: "JWT" }));
  const body = b64url(JSON.stringify({ iss: "https://issuer.example", aud: "api", sub, exp: Date.UTC(2030, 0, 1) / 1000 }));
  const key = Buffer.from("c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ1Njc4", "base64");
  return `${head}.${body}.${b64url(createHmac("sha256", key).update(`${head}.${body}`).digest())}`;
}

/** Requests that reach every plugin's interesting paths: CORS preflights, credentials, canary cookies, rate keys. */
function requests(): ExchangeRequest[] {
  const out: ExchangeRequest[] = [
    { path: "/" },
    { path: "/api/items?apikey=q1", headers: { origin: "https://app.example.com" } },
    { method: "OPTIONS", path: "/api", headers: { origin: "https://app.example.com", "access-control-request-method": "PUT", "access-control-request-headers": "content-type,x-request-id" } },
    { method: "OPTIONS", path: "/api", headers: { origin: "https://evil.example.net", "access-control-request-method": "DELETE" } },
    { method: "OPTIONS", path: "/api", headers: { origin: "http://a.example.org:8080", "access-control-request-method": "GET" } },
    { path: "/admin", headers: { "x-api-key": "k-alice-0123456789" } },
    { path: "/admin", headers: { "x-api-key": "k-bob-0123456789" } },
    { path: "/data", headers: { "X-API-KEY": "k-bob-0123456789", "x-consumer": "spoofed" } },
    { path: "/data", headers: { authorization: `Basic ${Buffer.from("bob:password").toString("base64")}` } },
    { path: "/data", headers: { authorization: `Basic ${Buffer.from("bob:wrong").toString("base64")}` } },
    { path: "/data", headers: { authorization: `Bearer ${jwt("user-1")}` } },
    { path: "/data", headers: { authorization: `Bearer ${jwt("user-2")}x` } },
    { path: "/data", headers: { authorization: "Bearer not.a.token", cookie: "session=s1; team=qa" } },
    { path: "/", headers: { "x-beta": "true", "x-user-id": "u-17", "x-canary-version": "spoofed" } },
    { path: "/", headers: { cookie: "team=staff", "x-user-id": "u-18" } },
    { method: "POST", path: "/upload", headers: { "content-type": "application/json", "x-tenant": "acme" }, body: '{"a":1}' },
    { path: "/", headers: { "x-forwarded-for": "203.0.113.9, 10.0.0.1", "x-tenant": "globex" } },
  ];
  // Repeats on both workers: the same values from the same guest addresses (cache hits), and rate limits.
  if (out.length !== FIRST_REPEAT) throw new Error("FIRST_REPEAT is the number of varied requests");
  for (let i = 0; i < 24; i++) {
    out.push({ worker: i % 2, path: i % 3 ? "/api" : "/admin", headers: { "x-api-key": i % 4 ? "k-alice-0123456789" : `key-${i % 5}`, cookie: `session=s${i % 3}`, "x-forwarded-for": `198.51.100.${i % 4}` } });
  }
  return out;
}

/** Everything a user could observe from one run of the sequence. */
async function run(wasm: string, plugin: string, config: unknown, hostCaches: boolean): Promise<unknown> {
  let seed = 7;
  const env = new HostEnv({
    hostCaches,
    clock: new ManualClock(),
    logLevel: "trace",
    // Deterministic randomness: canary splits and any nonce come out the same in both runs.
    random: (b) => {
      for (let i = 0; i < b.length; i++) b[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    },
  });
  const t = await PluginTester.load({
    env,
    wasm,
    configuration: config as object,
    workers: 2,
    route: (h) => ({ name: h.get(":path")?.startsWith("/admin") ? "admin" : "api", cluster: "backend" }),
    // ext_auth's check service: allows requests that carry a cookie, with the user it names.
    callouts: (req) => (req.headers.some(([k]) => k === "cookie") ? { status: 200, headers: { "x-user": "from-authz" } } : { status: 403, body: "denied" }),
  });
  assert.ok(t.configured, `${plugin}: ${t.loadError?.message}`);
  for (const vm of t.plugin.vms) assert.equal(vm.mem.caches, hostCaches, "the switch reached the VM's memory");
  const answers = [];
  for (const [i, req] of requests().entries()) {
    const r = await t.exchange({ ...req, upstream: (u) => ({ status: 200, headers: { "x-seen-path": u.path }, body: u.body }) });
    const sent = new Set(Object.keys(req.headers ?? {}).map((k) => k.toLowerCase()));
    answers.push({
      status: r.status, headers: r.headers, body: r.body, details: r.details, localReply: r.localReply,
      upstream: r.upstreamRequest && { headers: r.upstreamRequest.headers, body: r.upstreamRequest.body },
      // The plugin answered, or added a header on the way up.
      acted: r.localReply || (r.upstreamRequest?.headers.some(([k]) => !k.startsWith(":") && !sent.has(k)) ?? false),
    });
    // Time moves during the varied part; the repeats come at one instant, so rate limits trip.
    if (i < FIRST_REPEAT) (env.clock as ManualClock).advance(250);
  }
  const observed = { answers, logs: t.logs.map((l) => `${l.worker} ${l.levelName} ${l.message}`), metrics: env.metrics.all() };
  t.close();
  return observed;
}

for (const plugin of PLUGINS) {
  test(`${plugin}: the same requests give the same results with the host's decode caches on and off (release and debug)`, async () => {
    const meta = JSON.parse(readFileSync(join(ROOT, "plugins", plugin, "plugin.json"), "utf8")) as { examples: Array<{ title: string; config: unknown }> };
    assert.ok(meta.examples.length > 0);
    let acted = 0;
    for (const build of BUILDS) {
      const wasm = await compiledPlugin(plugin, build);
      for (const ex of meta.examples) {
        const on = await run(wasm, plugin, ex.config, true);
        const off = await run(wasm, plugin, ex.config, false);
        assert.deepEqual(off, on, `${plugin} (${build}) — ${ex.title}`);
        acted += (on as { answers: Array<{ acted: boolean }> }).answers.filter((a) => a.acted).length;
      }
    }
    // The plugin made decisions on this sequence (one that passed everything through would prove little).
    if (plugin !== "noop") assert.ok(acted > 0, `${plugin}: no local reply and no added header`);
  });
}
