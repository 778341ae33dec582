// Attack class "quadratic request handling" (attack findings 1, 2, 13; issue 15 items 1 and 9): every
// request-path parser is linear in the request and bounded in memory. For each plugin and each input
// source (query, cookie, headers, token) a request ~60 KiB large (the most Envoy accepts by default:
// max_request_headers_kb 60) must cost at most ~10× a ~6 KiB one, counted in guest work (function
// entries, loop iterations, bytes moved: test/security/work.ts), never in time; and neither one such
// request nor a thousand of them may grow a VM's linear memory by more than a few pages.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type ExchangeRequest, PluginTester } from "../../tools/host/testing.ts";
import { BUILDS, compiledPlugin } from "../helpers/plugins.ts";
import { instrumented, pagesOf, workOf } from "./work.ts";
import { JWKS, hs256, TOKEN } from "./hs256.ts";

/** Largest ratio allowed between the work of a 10× larger request and the smaller one. */
const MAX_RATIO = 12;
/** Pages a VM may grow by for 60 KiB requests, once or a thousand times. */
const MAX_PAGES = 8;
const SMALL = 6 * 1024;
const LARGE = 60 * 1024;


/** `count` items from `item(i)` joined by `sep`, as many as fit in `bytes`. */
function fill(bytes: number, sep: string, item: (i: number) => string): string {
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const s = item(i);
    parts.push(s);
    size += s.length + sep.length;
  }
  return parts.join(sep);
}

/** ~`bytes` of extra request headers, at most 100 of them (Envoy's default max_headers_count). */
function headerFill(bytes: number): Array<[string, string]> {
  const per = Math.ceil(bytes / 90);
  return Array.from({ length: 90 }, (_, i) => [`x-filler-${i}`, "v".repeat(per)] as [string, string]);
}

interface Case {
  plugin: "auth" | "rate-limit" | "canary" | "cors";
  source: string;
  config: object;
  request(bytes: number): ExchangeRequest;
  /** More PluginTester options (callouts). */
  extra?: object;
  /** Request sizes compared (default ~6 KiB and ~60 KiB). */
  sizes?: [number, number];
  /** Checks the exchange did what the plugin does with such a request (not just "it did not hang"). */
  check(r: Awaited<ReturnType<PluginTester["exchange"]>>): void;
}

const ok = (r: { status: number }) => assert.equal(r.status, 200);
const keyAuth = (extra: object) => ({ consumers: [{ name: "c", keys: ["k1"] }], key_auth: { keys: ["apikey"], ...extra } });
const jwtAuth = (extra: object) => ({ consumers: [{ name: "alice", jwt: { issuer: "issuer", jwks: JWKS } }], jwt_auth: extra });
const rl = (key: object) => ({ rules: [{ name: "r", key, limit: { requests: 1000000, per: "minute" } }] });
const can = (cond: object) => ({ rules: [{ match: { all: [cond] }, tag: "v2" }] });

const CASES: Case[] = [
  {
    plugin: "auth", source: "query (key, hide_credentials, key=value params)",
    config: keyAuth({ in_header: false, in_query: true, hide_credentials: true }),
    request: (n) => ({ path: `/p?${fill(n, "&", (i) => `p${i}=v`)}&apikey=k1` }),
    check: (r) => { ok(r); assert.ok(!r.upstreamRequest!.path.includes("apikey")); assert.ok(r.upstreamRequest!.path.includes("&p1=v&")); },
  },
  {
    plugin: "auth", source: "query (key, hide_credentials, bare params)",
    config: keyAuth({ in_header: false, in_query: true, hide_credentials: true }),
    request: (n) => ({ path: `/p?${fill(n, "&", () => "a")}&apikey=k1` }),
    check: (r) => { ok(r); assert.ok(r.upstreamRequest!.path.endsWith("a&a")); },
  },
  {
    plugin: "auth", source: "query (key, hide_credentials, percent-encoded names)",
    config: keyAuth({ in_header: false, in_query: true, hide_credentials: true }),
    request: (n) => ({ path: `/p?${fill(n, "&", (i) => `%61p%69${i}=v`)}&%61pikey=k1` }),
    check: (r) => { ok(r); assert.ok(!r.upstreamRequest!.path.includes("pikey")); },
  },
  {
    plugin: "auth", source: "query (jwt, keep_token: false)",
    config: jwtAuth({ from_params: ["access_token"], keep_token: false }),
    request: (n) => ({ path: `/p?${fill(n, "&", (i) => `q${i}=${i}`)}&access_token=${TOKEN}` }),
    check: (r) => { ok(r); assert.ok(!r.upstreamRequest!.path.includes("access_token")); },
  },
  {
    plugin: "auth", source: "cookie (jwt, keep_token: false)",
    config: jwtAuth({ from_cookies: ["jwt"], keep_token: false }),
    request: (n) => ({ headers: [["cookie", `${fill(n, "; ", (i) => `c${i}=v`)}; jwt=${TOKEN}`]] }),
    check: (r) => { ok(r); assert.ok(!r.upstreamRequest!.header("cookie")!.includes("jwt=")); },
  },
  {
    plugin: "auth", source: "headers (key in a header among 60 KiB of others)",
    config: keyAuth({ in_header: true, hide_credentials: true }),
    request: (n) => ({ headers: [...headerFill(n), ["apikey", "k1"]] }),
    check: (r) => { ok(r); assert.equal(r.upstreamRequest!.header("apikey"), undefined); },
  },
  {
    // Tokens are capped at 8 KiB (larger ones get 401 before any decoding): ~0.7 KiB vs ~7 KiB tokens.
    plugin: "auth", source: "token (jwt payload with many claims and escapes)",
    config: jwtAuth({ claims_to_headers: [{ claim: "sub", header: "x-sub" }] }),
    sizes: [700, 7000],
    request: (n) => {
      const claims: Record<string, unknown> = { iss: "issuer", sub: "al\\ice\n", exp: 4102444800 };
      for (let i = 0, size = 0; size < n * 0.35; i++, size += 16) claims[`c${i}`] = "a\tb\"c";
      // One long string of escapes: JSON string decoding must not rebuild the string per escape.
      claims.esc = "\"".repeat(Math.floor(n * 0.15));
      return { headers: [["authorization", `Bearer ${hs256(claims)}`]] };
    },
    check: (r) => { ok(r); assert.equal(r.upstreamRequest!.header("x-sub"), "al\\ice"); },
  },
  {
    plugin: "auth", source: "query (ext_auth forwards the 60 KiB path)",
    config: { ext_auth: { cluster: "authz", path_prefix: "/check", allowed_headers: ["cookie"] } },
    extra: { callouts: () => ({ status: 200 }) },
    request: (n) => ({ path: `/p?${fill(n, "&", (i) => `p${i}=v`)}`, headers: [["cookie", fill(n / 4, "; ", (i) => `c${i}=v`)]] }),
    check: (r) => { ok(r); assert.ok(r.upstreamRequest!.path.startsWith("/p?p0=v&")); },
  },
  {
    plugin: "rate-limit", source: "query",
    config: rl({ query: "k" }),
    request: (n) => ({ path: `/p?${fill(n, "&", () => "a")}&k=client` }),
    check: ok,
  },
  {
    plugin: "rate-limit", source: "cookie",
    config: rl({ cookie: "sid" }),
    request: (n) => ({ headers: [["cookie", `${fill(n, ";", () => "a")}; sid=client`]] }),
    check: ok,
  },
  {
    plugin: "rate-limit", source: "headers",
    config: rl({ header: "x-api-key" }),
    request: (n) => ({ headers: [...headerFill(n), ["x-api-key", "client"]] }),
    check: ok,
  },
  {
    plugin: "canary", source: "query",
    config: can({ type: "query", key: "beta", op: "equal", value: "1" }),
    request: (n) => ({ path: `/p?${fill(n, "&", () => "b")}&beta=1` }),
    check: (r) => { ok(r); assert.equal(r.upstreamRequest!.header("x-canary-version"), "v2"); },
  },
  {
    plugin: "canary", source: "cookie",
    config: can({ type: "cookie", key: "beta", op: "equal", value: "1" }),
    request: (n) => ({ headers: [["cookie", `${fill(n, ";", () => "b")}; beta=1`]] }),
    check: (r) => { ok(r); assert.equal(r.upstreamRequest!.header("x-canary-version"), "v2"); },
  },
  {
    plugin: "canary", source: "headers",
    config: can({ type: "header", key: "x-beta", op: "prefix", value: "yes" }),
    request: (n) => ({ headers: [...headerFill(n), ["x-beta", "yes" + "s".repeat(n / 2)]] }),
    check: (r) => { ok(r); assert.equal(r.upstreamRequest!.header("x-canary-version"), "v2"); },
  },
  {
    plugin: "cors", source: "headers (preflight header list)",
    config: { allow_origins: ["https://app.example.com"], allow_headers: ["*"] },
    request: (n) => ({
      method: "OPTIONS",
      headers: [["origin", "https://app.example.com"], ["access-control-request-method", "PUT"],
        ["access-control-request-headers", fill(n, ",", (i) => ` x-h${i} `)]],
    }),
    check: (r) => assert.equal(r.header("access-control-allow-origin"), "https://app.example.com"),
  },
];

const foreignFunctions = { clear_route_cache: () => null };

for (const build of BUILDS) {
  describe(`linear-time request handling (${build})`, () => {
    for (const c of CASES) {
      test(`${c.plugin} ${c.source}: a 10x larger request costs at most ~10x, memory stays within ${MAX_PAGES} pages`, async () => {
        const wasm = await compiledPlugin(c.plugin, build);
        // Work, on the instrumented module.
        const ti = await PluginTester.load({ wasm: instrumented(wasm), configuration: c.config, workers: 1, canary: false, foreignFunctions, ...c.extra } as never);
        assert.ok(ti.configured, `${c.plugin} rejected its config: ${ti.logsAt("critical").join(" | ")}`);
        c.check(await ti.exchange(c.request(64))); // warm-up: caches, first allocations
        const work = async (bytes: number) => {
          const before = workOf(ti);
          c.check(await ti.exchange(c.request(bytes)));
          return Number(workOf(ti) - before);
        };
        const [smallBytes, largeBytes] = c.sizes ?? [SMALL, LARGE];
        const small = await work(smallBytes);
        const large = await work(largeBytes);
        const ratio = large / small;
        assert.ok(ratio <= MAX_RATIO, `${c.plugin} ${c.source}: work ${small} for ~6 KiB, ${large} for ~60 KiB: ratio ${ratio.toFixed(1)} > ${MAX_RATIO}`);
        ti.close();
        // Memory, on the module as built.
        const t = await PluginTester.load({ wasm, configuration: c.config, workers: 1, canary: false, foreignFunctions, ...c.extra } as never);
        c.check(await t.exchange(c.request(64)));
        const p0 = pagesOf(t);
        const big = c.request(largeBytes);
        c.check(await t.exchange(big));
        const p1 = pagesOf(t);
        for (let i = 0; i < 1000; i++) await t.exchange(big);
        const p2 = pagesOf(t);
        assert.ok(p1 - p0 <= MAX_PAGES, `one ~60 KiB request grew the VM from ${p0} to ${p1} pages`);
        assert.ok(p2 - p0 <= MAX_PAGES, `1000 ~60 KiB requests grew the VM from ${p0} to ${p2} pages`);
        t.close();
        console.log(`# ${build} ${c.plugin} ${c.source}: work ratio ${ratio.toFixed(2)} (${small} → ${large}); pages ${p0} → ${p1} → ${p2} after 1000`);
      });
    }
  });
}
