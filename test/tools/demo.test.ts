// The demo, as a user meets it: `npm start` serves envoy-configs/demo.yaml and prints the curl commands of
// tools/demo/curls.ts. This test runs every printed command, unchanged except for the ports (demo.yaml's
// fixed ports are rewritten to ephemeral ones, in the bootstrap and in the commands alike), through `sh`
// and the real curl, on both engines from the same bootstrap. Each answer must show what the command's
// title promises, and the two engines must print the same thing once volatile values (ports, request ids,
// the anonymous canary draw, rate-limit seconds) are normalised; the admin /stats command must print, on
// Envoy, every line the embedded engine prints, with the same value (the two demo clusters' counters as
// their sum, since the anonymous draw picks either). What reached the upstreams must match too.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { join } from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { CURLS, DEMO_ADMIN, DEMO_LISTENER, type DemoCurl } from "../../tools/demo/curls.ts";
import { startEcho, type EchoServer } from "../../tools/demo/echo.ts";
import { repoRoot } from "../../tools/paths.ts";
import { ENGINES, startEngine, type Engine } from "../helpers/engines.ts";
import { requireEnvoy } from "../helpers/envoy.ts";
import { compiledPlugin } from "../helpers/plugins.ts";
import { requireTool } from "../helpers/tools.ts";

interface Ran {
  curl: DemoCurl;
  /** The command as run (ports rewritten). */
  command: string;
  exit: number;
  stdout: string;
  stderr: string;
}

interface EngineRun {
  ran: Ran[];
  /** Method and path of every request each echo upstream received, in order. */
  upstreamSaw: Array<{ upstream: string; method: string; path: string }>;
  ms: number;
}

const DEMO_FILE = join(repoRoot(), "envoy-configs", "demo.yaml");
const PLUGINS = ["cors", "noop", "auth", "rate-limit", "canary"];

type Doc = {
  admin: { address: { socket_address: { port_value: number } } };
  static_resources: {
    listeners: Array<{ name: string; address: { socket_address: { port_value: number } } }>;
    clusters: Array<{ name: string; load_assignment: { endpoints: Array<{ lb_endpoints: Array<{ endpoint: { address: { socket_address: { port_value: number } } } }> }> } }>;
  };
};

function demoDoc(): Doc {
  return parse(readFileSync(DEMO_FILE, "utf8")) as Doc;
}

/** demo.yaml with ephemeral listener and admin ports and the clusters pointed at this test's echo upstreams. */
function rewrittenDemo(echoes: Map<string, EchoServer>): Doc {
  const doc = demoDoc();
  doc.admin.address.socket_address.port_value = 0;
  for (const l of doc.static_resources.listeners) l.address.socket_address.port_value = 0;
  for (const c of doc.static_resources.clusters) {
    const echo = echoes.get(c.name);
    if (!echo) throw new Error(`demo.yaml cluster ${c.name} has no echo upstream in this test`);
    for (const e of c.load_assignment.endpoints) for (const lb of e.lb_endpoints) lb.endpoint.address.socket_address.port_value = echo.port;
  }
  return doc;
}

function sh(command: string): Promise<{ exit: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // Asynchronous on purpose: the embedded engine serves from this very process.
    execFile("sh", ["-c", command], { encoding: "utf8", timeout: 30_000 }, (err, stdout, stderr) => {
      const exit = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : -1) : 0;
      resolve({ exit, stdout, stderr });
    });
  });
}

/** The echo upstream's JSON answer inside a curl output (the whole output for the `curl -s` commands). */
function echoJson(out: string): { upstream: string; path: string; headers: Record<string, string> } {
  return JSON.parse(out) as { upstream: string; path: string; headers: Record<string, string> };
}

/** Non-empty output lines, without the CR of header lines `curl -i` prints. */
function lines(out: string): string[] {
  return out.split("\n").map((l) => l.replace(/\r$/, "")).filter((l) => l !== "");
}

/**
 * Stat lines for the comparison: the anonymous canary draw picks either upstream, so the two demo clusters'
 * counters are compared as their sum (`cluster.<stable+canary>.<stat>`); every other line as printed.
 */
function comparableStats(out: string): string[] {
  const sums = new Map<string, number>();
  const rest: string[] = [];
  for (const raw of lines(out)) {
    // Listener stats are named by the bound port (each engine has its own); how the kernel spreads
    // connections over Envoy's workers is not the engine's choice, so per-worker lines are not compared.
    if (/^listener\.[^ ]*\.worker_\d+\./.test(raw)) continue;
    const l = raw.replace(/^listener\.127\.0\.0\.1_\d+\./, "listener.<address>.");
    const m = /^cluster\.(?:stable|canary)\.([^:]+): (\d+)$/.exec(l);
    // Which tag an anonymous client's random draw picks differs per run; how many draws there were does not.
    const draw = /^(wasmcustom\.tollgate\.)canary_tag=\.=[^;]*;\.;(reason=\.=draw;\.;canary_decisions_total): (\d+)$/.exec(l);
    if (m) sums.set(m[1], (sums.get(m[1]) ?? 0) + Number(m[2]));
    else if (draw) sums.set(`${draw[1]}<any tag>.${draw[2]}`, (sums.get(`${draw[1]}<any tag>.${draw[2]}`) ?? 0) + Number(draw[3]));
    else rest.push(l);
  }
  return [...rest, ...[...sums].map(([k, v]) => (k.startsWith("wasmcustom.") ? `${k}: ${v}` : `cluster.<stable+canary>.${k}: ${v}`))];
}

const STATS_TITLE = "admin: readiness and stats (wasm metrics included)";
const PROMETHEUS_TITLE = "admin: every plugin's decisions as Prometheus scrapes them (plugins/README.md, Metrics)";

/** The exposition lines with canary's random draws summed over tags (which tag a draw picks differs per run). */
function comparableSeries(out: string): string[] {
  let draws = 0;
  const rest: string[] = [];
  for (const l of lines(out)) {
    const m = /^tollgate_canary_decisions_total\{reason="draw"(?:,canary_tag="[^"]*")?\} (\d+)$/.exec(l);
    if (m) draws += Number(m[1]);
    else rest.push(l);
  }
  return [...rest, `tollgate_canary_decisions_total{reason="draw",canary_tag=<any>} ${draws}`];
}
const ANONYMOUS_TITLE = "anonymous: a 30% draw, pinned by Set-Cookie canary_pin";

/**
 * What each command's title promises, keyed by the title (a new or renamed command needs its check here,
 * so the printed list and the test cannot drift apart).
 */
const PROMISES: Record<string, (out: string, r: Ran, run: EngineRun) => void> = {
  "default route → the stable echo upstream (\"upstream\": \"stable\"; alice's sticky canary draw is stable, anonymous clients are drawn below)": (out) => {
    const j = echoJson(out);
    assert.equal(j.upstream, "stable");
    assert.equal(j.path, "/hello");
    assert.equal(j.headers["x-canary-version"], "v1", "canary tagged the request stable");
  },
  "header route x-canary-version: v2 → canary, but only as the canary plugin decides: a client-sent tag is replaced, so alice (sticky stable) stays on stable": (out) => {
    const j = echoJson(out);
    assert.equal(j.upstream, "stable");
    assert.equal(j.headers["x-canary-version"], "v1", "the client's v2 was replaced");
  },
  "override x-canary: always → \"upstream\": \"canary\" (never → stable)": (out) => {
    const j = echoJson(out);
    assert.equal(j.upstream, "canary");
    assert.equal(j.headers["x-canary-version"], "v2");
  },
  "header rule x-beta: true → canary": (out) => {
    assert.equal(echoJson(out).upstream, "canary");
  },
  "sticky 30% by x-user-id: dave always lands on canary, alice on stable": (out) => {
    assert.deepEqual(lines(out).map((l) => l.trim()), ["\"upstream\": \"canary\",", "\"upstream\": \"stable\",", "\"upstream\": \"canary\",", "\"upstream\": \"stable\","]);
  },
  [ANONYMOUS_TITLE]: (out) => {
    const [cookie, upstream, ...rest] = lines(out);
    assert.equal(rest.length, 0, out);
    const m = /^set-cookie: canary_pin=(v1|v2); Max-Age=86400; Path=\/; HttpOnly; SameSite=Lax$/i.exec(cookie);
    assert.ok(m, `a canary_pin cookie: ${cookie}`);
    assert.equal(upstream.trim(), `"upstream": "${m[1] === "v2" ? "canary" : "stable"}",`, "the pin names the upstream that served");
  },
  "5 per minute per x-client-id, shared by all workers: 200 ×5, then 429 with Retry-After and X-RateLimit-* (another client id has its own bucket)": (out) => {
    const [codes, status, ...headers] = lines(out);
    assert.equal(codes.trim(), "200 200 200 200 200 429");
    assert.equal(status.trim(), "HTTP/1.1 429 Too Many Requests");
    const h = Object.fromEntries(headers.map((l) => l.trim().split(/:\s*/, 2)).map(([k, v]) => [k.toLowerCase(), v]));
    assert.deepEqual(Object.keys(h).sort(), ["retry-after", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"]);
    assert.equal(h["x-ratelimit-limit"], "5");
    assert.equal(h["x-ratelimit-remaining"], "0");
    // 5 per minute: the next token within 12 s.
    for (const k of ["retry-after", "x-ratelimit-reset"]) assert.ok(Number(h[k]) >= 1 && Number(h[k]) <= 12, `${k}: ${h[k]}`);
  },
  "Host secure.example.com needs a consumer: 401 with Key and Basic challenges": (out) => {
    assert.deepEqual(lines(out).map((l) => l.trim()), ["HTTP/1.1 401 Unauthorized", "www-authenticate: Key realm=\"tollgate\"", "www-authenticate: Basic realm=\"tollgate demo\""]);
  },
  "alice's API key → the upstream sees \"x-mse-consumer\": \"alice\" (a client-sent copy is replaced)": (out) => {
    assert.deepEqual(lines(out).map((l) => l.trim()), ["\"x-mse-consumer\": \"alice\","]);
  },
  "bob with Basic → \"x-mse-consumer\": \"bob\"; a wrong password is 401": (out) => {
    assert.deepEqual(lines(out).map((l) => l.trim()), ["\"x-mse-consumer\": \"bob\",", "401"]);
  },
  "preflight from an allowed origin → 204 from cors with access-control-allow-* (the upstream never sees it)": (out, _r, run) => {
    assert.deepEqual(lines(out).map((l) => l.trim()), [
      "HTTP/1.1 204 No Content",
      "access-control-allow-origin: https://app.example.com",
      "access-control-allow-credentials: true",
      "access-control-allow-methods: GET,POST,PUT,DELETE,PATCH",
      "access-control-allow-headers: Content-Type,Authorization,X-Api-Key,X-User-Id",
      "access-control-max-age: 600",
      "vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
    ]);
    assert.deepEqual(run.upstreamSaw.filter((s) => s.method === "OPTIONS"), [], "no upstream received the preflight");
  },
  "cross-origin GET → access-control-allow-origin echoed with credentials; auth's 401 carries it too; a refused origin gets none": (out) => {
    assert.deepEqual(lines(out).map((l) => l.trim()), [
      "access-control-allow-origin: https://app.example.com",
      "access-control-allow-credentials: true",
      "access-control-expose-headers: X-Request-Id,Retry-After,X-RateLimit-Remaining",
      "HTTP/1.1 401 Unauthorized",
      "access-control-allow-origin: https://app.example.com",
      "0",
    ]);
  },
  [PROMETHEUS_TITLE]: (out) => {
    const series = lines(out);
    // What the commands above did, with labels (the demo bootstrap has tollgate's tag extractors).
    for (const want of [
      'tollgate_cors_preflights_total{outcome="answered"} 1',
      'tollgate_cors_requests_total{outcome="allowed"} 2',
      'tollgate_cors_requests_total{outcome="refused",reason="origin_not_allowed"} 1',
      'tollgate_auth_allowed_total{consumer="alice"} 1',
      'tollgate_auth_allowed_total{consumer="bob"} 1',
      'tollgate_auth_denied_total{reason="no_credential"} 2',
      'tollgate_auth_denied_total{reason="bad_credential"} 1',
      'tollgate_rate_limit_requests_total{outcome="allowed",rule="per-client"} 5',
      'tollgate_rate_limit_requests_total{outcome="rejected",rule="per-client"} 2',
      'tollgate_canary_decisions_total{reason="override",canary_tag="v2"} 1',
      'tollgate_canary_decisions_total{reason="rule",canary_tag="v2"} 1',
    ]) assert.ok(series.includes(want), `missing: ${want}`);
    assert.ok(series.every((l) => /^tollgate_[a-z_]+\{[^}]*\} \d+$/.test(l)), "only tollgate series, each with its labels");
  },
  [STATS_TITLE]: (out) => {
    const [ready, ...stats] = lines(out);
    assert.equal(ready, "LIVE");
    // The rate-limit command spent client "demo"'s 5 tokens and was refused twice.
    assert.ok(stats.includes("wasmcustom.tollgate.outcome=.=allowed;.;rule=.=per-client;.;rate_limit_requests_total: 5"), "rate-limit's allowed counter in /stats");
    assert.ok(stats.includes("wasmcustom.tollgate.outcome=.=rejected;.;rule=.=per-client;.;rate_limit_requests_total: 2"), "rate-limit's rejected counter in /stats");
    for (const p of PLUGINS) assert.ok(stats.includes(`wasm.${p}.vm_reload_failure: 0`), `wasm stats of ${p}`);
    // The cors commands: one preflight answered, two allowed cross-origin GETs, one refused (plugins/README.md, Metrics).
    assert.ok(stats.includes("wasmcustom.tollgate.outcome=.=answered;.;cors_preflights_total: 1"), "cors's preflight counter in /stats");
    assert.ok(stats.includes("wasmcustom.tollgate.outcome=.=allowed;.;cors_requests_total: 2"), "cors's allowed counter in /stats");
    assert.ok(stats.includes("wasmcustom.tollgate.outcome=.=refused;.;reason=.=origin_not_allowed;.;cors_requests_total: 1"), "cors's refused counter in /stats");
    assert.ok(stats.includes("wasmcustom.tollgate.canary_tag=.=v2;.;reason=.=rule;.;canary_decisions_total: 1"), "canary's rule counter in /stats");
  },
};

/** Output with this run's ports, request ids and other volatile values replaced, for the cross-engine comparison. */
function normalise(r: Ran, ports: { listener: number; admin: number }): string {
  let s = r.stdout
    .replaceAll(`127.0.0.1:${ports.listener}`, "<listener>")
    .replaceAll(`127.0.0.1:${ports.admin}`, "<admin>")
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<uuid>")
    .replace(/^(retry-after|x-ratelimit-reset): \d+/gim, "$1: <seconds>");
  // The anonymous draw is random per request; its consistency is the title's check.
  if (r.curl.title === ANONYMOUS_TITLE) s = s.replace(/canary_pin=v[12]/, "canary_pin=<tag>").replace(/"upstream": "(canary|stable)"/, "\"upstream\": \"<drawn>\"");
  return `exit ${r.exit}\n${s}`;
}

const runs = new Map<Engine, EngineRun & { ports: { listener: number; admin: number } }>();

test("demo: the printed commands target demo.yaml's listener and admin, and each has its promise checked", () => {
  const doc = demoDoc();
  assert.equal(new URL(DEMO_LISTENER).port, String(doc.static_resources.listeners[0].address.socket_address.port_value));
  assert.equal(new URL(DEMO_ADMIN).port, String(doc.admin.address.socket_address.port_value));
  assert.deepEqual(CURLS.map((c) => c.title).filter((x) => !PROMISES[x]), [], "commands without a check in PROMISES");
  assert.deepEqual(Object.keys(PROMISES).filter((x) => !CURLS.some((c) => c.title === x)), [], "checks for commands that are no longer printed");
  for (const c of CURLS) {
    const rest = c.curl.replaceAll(DEMO_LISTENER, "").replaceAll(DEMO_ADMIN, "");
    assert.notEqual(rest, c.curl, `${c.title}: talks to the demo`);
    assert.doesNotMatch(rest, /127\.0\.0\.1|localhost:\d/, `${c.title}: no other address (the test rewrites only the listener and the admin)`);
  }
});

for (const engine of ENGINES) {
  test(`demo: every printed curl on ${engine} answers as its title says`, { timeout: 240_000 }, async (t) => {
    if (!requireTool(t, "curl", "apt-get install -y curl")) return;
    const envoy = engine === "envoy" ? requireEnvoy(t) : null;
    if (engine === "envoy" && !envoy) return;
    await Promise.all(PLUGINS.map((p) => compiledPlugin(p, "release")));
    const upstreamSaw: EngineRun["upstreamSaw"] = [];
    const echoes = new Map<string, EchoServer>();
    const started = Date.now();
    try {
      for (const name of ["stable", "canary"]) {
        const e = await startEcho({ name });
        e.server.on("request", (req: IncomingMessage) => upstreamSaw.push({ upstream: name, method: req.method ?? "", path: req.url ?? "" }));
        echoes.set(name, e);
      }
      const gw = await startEngine(engine, rewrittenDemo(echoes), envoy, { concurrency: 2 });
      try {
        const ports = { listener: gw.port("demo"), admin: gw.adminPort };
        const run: EngineRun & { ports: typeof ports } = { ran: [], upstreamSaw, ms: 0, ports };
        for (const curl of CURLS) {
          const command = curl.curl.replaceAll(DEMO_LISTENER, `http://127.0.0.1:${ports.listener}`).replaceAll(DEMO_ADMIN, `http://127.0.0.1:${ports.admin}`);
          const out = await sh(command);
          const ran: Ran = { curl, command, ...out };
          run.ran.push(ran);
          await t.test(`${curl.plugin}: ${curl.title}`, () => {
            assert.equal(ran.stderr, "", `curl wrote to stderr: ${ran.stderr}`);
            try {
              PROMISES[curl.title](ran.stdout, ran, run);
            } catch (e) {
              (e as Error).message += `\n$ ${command}\n${ran.stdout}`;
              throw e;
            }
          });
        }
        run.ms = Date.now() - started;
        runs.set(engine, run);
      } finally {
        await gw.stop();
      }
    } finally {
      await Promise.all([...echoes.values()].map((e) => e.close()));
      t.diagnostic(`${engine}: ${Date.now() - started} ms for ${CURLS.length} commands including start and stop`);
    }
  });
}

test("demo: both engines print the same answers", async (t) => {
  if (!requireTool(t, "curl", "apt-get install -y curl")) return;
  if (!requireEnvoy(t)) return;
  const a = runs.get("embedded");
  const b = runs.get("envoy");
  assert.ok(a && b, "both engine runs completed (see their failures above)");
  for (let i = 0; i < CURLS.length; i++) {
    const x: Ran = a.ran[i];
    const y: Ran = b.ran[i];
    if (x.curl.title === STATS_TITLE) {
      // Envoy prints far more stats; every line the embedded engine prints must be there with the same value.
      const envoyLines = new Set(comparableStats(y.stdout));
      const missing = comparableStats(x.stdout).filter((l) => !envoyLines.has(l));
      assert.deepEqual(missing, [], `${x.curl.title}: lines the embedded engine prints that Envoy does not (or with another value)`);
      assert.equal(x.exit, y.exit);
      continue;
    }
    if (x.curl.title === PROMETHEUS_TITLE) {
      assert.deepEqual(comparableSeries(x.stdout), comparableSeries(y.stdout), `${x.curl.title}: embedded vs Envoy`);
      continue;
    }
    assert.equal(normalise(x, a.ports), normalise(y, b.ports), `${x.curl.title}\n$ ${x.command}`);
  }
  // What the upstreams received, request by request (minus the random anonymous draw's choice of upstream).
  const seen = (r: EngineRun) => r.upstreamSaw.map((s) => `${s.method} ${s.path}`);
  assert.deepEqual(seen(a), seen(b), "the same requests reached the upstreams");
});
