// rate-limit's global rules on the compiled module (release and debug) through the host: the ShouldRateLimit
// call it makes (cluster, method, timeout, the descriptors, hits_addend) and what it does with each answer —
// OK, OVER_LIMIT, gRPC failures, a timeout, malformed responses — with local rules checked first and nothing
// consumed by a rejected request. The service here is scripted at the host's gRPC transport (the real
// envoyproxy/ratelimit runs in test/gateway/rate-limit-global.test.ts, on Envoy and the embedded engine).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ManualClock } from "../../../tools/host/clock.ts";
import { type GrpcCallRequest, type GrpcCallResult, setGrpcTransport } from "../../../tools/host/grpc-calls.ts";
import { PluginTester } from "../../../tools/host/testing.ts";
import { decodeRequest, encodeResponse } from "./rls-proto.ts";
import { BUILDS, type Build, get, rateLimitWasm, rejectedConfig, T0 } from "./support.ts";

const RLS = { cluster: "rls", domain: "edge", timeout_ms: 250 };
const FLEET = { name: "fleet", scope: "global", key: { global: {} }, limit: { requests: 10, per: "minute" } };
const PER_KEY = { name: "per-key", scope: "global", key: { header: "x-api-key" }, limit: { requests: 3, per: "hour" } };
const LOCAL = (requests: number) => ({ name: "local", key: { global: {} }, limit: { requests, per: "hour" } });

type Answer = GrpcCallResult | "hang" | ((req: GrpcCallRequest) => GrpcCallResult | "hang");

interface Service {
  t: PluginTester;
  clock: ManualClock;
  calls: GrpcCallRequest[];
  /** What the next calls get, in order (the last one repeats). */
  answers: Answer[];
}

async function load(build: Build, configuration: object): Promise<Service> {
  const clock = new ManualClock(T0);
  const t = await PluginTester.load({ wasm: await rateLimitWasm(build), configuration, clock, clusters: ["rls"] });
  if (!t.configured) throw new Error(`rejected: ${t.logs.map((l) => l.message).join(" | ")}`);
  const s: Service = { t, clock, calls: [], answers: [] };
  setGrpcTransport(t.env, (req) => {
    s.calls.push(req);
    let a = s.answers.length > 1 ? s.answers.shift()! : s.answers[0];
    if (typeof a === "function") a = a(req);
    if (a === undefined) throw new Error("no answer scripted");
    return a === "hang" ? new Promise<GrpcCallResult>(() => {}) : Promise.resolve(a);
  });
  return s;
}

const ok = (statuses: object[] = [], more: object = {}): GrpcCallResult => ({ status: 0, response: encodeResponse({ overall_code: 1, statuses, ...more }) });
const over = (statuses: object[], more: object = {}): GrpcCallResult => ({ status: 0, response: encodeResponse({ overall_code: 2, statuses, ...more }) });
const status = (code: number, requests: number, unit: number, remaining: number, resetS: number) =>
  ({ code, current_limit: { requests_per_unit: requests, unit }, limit_remaining: remaining, duration_until_reset: { seconds: resetS } });

for (const build of BUILDS) {
  describe(`rate-limit global rules (${build})`, () => {
    test("one ShouldRateLimit call: the cluster as a GrpcService, the method, rls.timeout_ms, one descriptor per applicable global rule, hits_addend 1", async () => {
      const s = await load(build, { rls: RLS, rules: [FLEET, PER_KEY] });
      s.answers = [ok()];
      const r = await get(s.t, [["x-api-key", "alice"]]);
      assert.equal(r.status, 200);
      assert.equal(s.calls.length, 1);
      const c = s.calls[0];
      assert.equal(c.cluster, "rls");
      assert.equal(c.service, "envoy.service.ratelimit.v3.RateLimitService");
      assert.equal(c.method, "ShouldRateLimit");
      assert.equal(c.timeoutMs, 250);
      assert.deepEqual(decodeRequest(c.message), { domain: "edge", hits_addend: 1, descriptors: [[["fleet", "_"]], [["per-key", "alice"]]] });
      // Without the header only the global-key rule applies.
      await get(s.t);
      assert.deepEqual(decodeRequest(s.calls[1].message).descriptors, [[["fleet", "_"]]]);
      assert.equal(s.t.metric("tollgate.outcome=.=ok;.;rate_limit_rls_calls_total"), 2);
      assert.equal(s.t.metric("tollgate.outcome=.=allowed;.;rule=.=fleet;.;rate_limit_requests_total"), 2);
      assert.equal(s.t.metric("tollgate.outcome=.=allowed;.;rule=.=per-key;.;rate_limit_requests_total"), 1);
    });

    test("no call when no global rule applies (values list, absent key); local-only configs never call", async () => {
      const s = await load(build, { rls: RLS, rules: [{ ...PER_KEY, values: ["gold"] }, LOCAL(100)] });
      s.answers = [ok()];
      assert.equal((await get(s.t, [["x-api-key", "silver"]])).status, 200);
      assert.equal((await get(s.t)).status, 200);
      assert.equal(s.calls.length, 0);
      assert.equal((await get(s.t, [["x-api-key", "gold"]])).status, 200);
      assert.deepEqual(decodeRequest(s.calls[0].message).descriptors, [[["per-key", "gold"]]]);
    });

    test("OVER_LIMIT → the configured status with the service's numbers as rate-limit headers, Retry-After and its response headers", async () => {
      const s = await load(build, { rls: RLS, status: 503, body: "slow down", rules: [FLEET, PER_KEY] });
      s.answers = [over([status(1, 10, 2, 4, 30), status(2, 3, 3, 0, 1234)], {
        response_headers_to_add: [{ key: "X-Service", value: "rls" }, { key: "content-length", value: "1" }, { key: "bad name", value: "x" }],
      })];
      const r = await get(s.t, [["x-api-key", "alice"]]);
      assert.equal(r.status, 503);
      assert.equal(r.body, "slow down");
      assert.equal(r.details, "rate-limit.per-key");
      assert.equal(r.header("x-ratelimit-limit"), "3");
      assert.equal(r.header("x-ratelimit-remaining"), "0");
      assert.equal(r.header("x-ratelimit-reset"), "1234");
      assert.equal(r.header("retry-after"), "1234");
      assert.equal(r.header("x-service"), "rls", "the service's headers are added");
      assert.equal(r.header("bad name"), undefined, "a header name that is no token is dropped");
      assert.equal(r.upstreamRequest, null);
      assert.equal(s.t.metric("tollgate.outcome=.=rejected;.;rule=.=per-key;.;rate_limit_requests_total"), 1);
      assert.equal(s.t.metric("tollgate.outcome=.=over_limit;.;rate_limit_rls_calls_total"), 1);
    });

    test("OVER_LIMIT with IETF headers: the policy window is the service's unit", async () => {
      const s = await load(build, { rls: RLS, headers: "ietf", rules: [FLEET] });
      s.answers = [over([status(2, 10, 2, 0, 42)])];
      const r = await get(s.t);
      assert.equal(r.status, 429);
      assert.equal(r.header("ratelimit-policy"), '"fleet";q=10;w=60');
      assert.equal(r.header("ratelimit"), '"fleet";r=0;t=42');
    });

    test("OK: the tightest of the local and global rules is reported; the service's request and response headers are added", async () => {
      const s = await load(build, { rls: RLS, rules: [FLEET, LOCAL(100)] });
      s.answers = [ok([status(1, 10, 2, 7, 50)], {
        request_headers_to_add: [{ key: "x-quota-class", value: "gold" }, { key: "x-ratelimit-shadow", value: "forged" }, { key: "host", value: "evil" }],
        response_headers_to_add: [{ key: "x-served-by", value: "rls" }],
      })];
      const r = await get(s.t);
      assert.equal(r.status, 200);
      assert.equal(r.header("x-ratelimit-limit"), "10");
      assert.equal(r.header("x-ratelimit-remaining"), "7");
      assert.equal(r.header("x-ratelimit-reset"), "50");
      assert.equal(r.header("x-served-by"), "rls");
      assert.equal(r.upstreamRequest!.header("x-quota-class"), "gold");
      assert.equal(r.upstreamRequest!.header("x-ratelimit-shadow"), undefined, "the plugin's own header is not the service's to set");
      assert.equal(r.upstreamRequest!.header(":authority"), "api.example.com");
      // A local rule with less left wins the report.
      const t2 = await load(build, { rls: RLS, rules: [FLEET, LOCAL(2)] });
      t2.answers = [ok([status(1, 10, 2, 7, 50)])];
      const r2 = await get(t2.t);
      assert.equal(r2.header("x-ratelimit-limit"), "2");
      assert.equal(r2.header("x-ratelimit-remaining"), "1");
    });

    test("local rules first: a local rejection never calls the service and consumes nothing; a global rejection consumes no local token", async () => {
      const s = await load(build, { rls: RLS, rules: [LOCAL(2), FLEET] });
      s.answers = [over([status(2, 10, 2, 0, 5)]), ok(), ok(), ok()];
      assert.equal((await get(s.t)).status, 429, "the service refuses");
      assert.equal((await get(s.t)).status, 200);
      assert.equal((await get(s.t)).status, 200);
      // The local bucket (2/hour) gave its two tokens to the two requests the service allowed, not to the refused one.
      const r = await get(s.t);
      assert.equal(r.status, 429);
      assert.equal(r.details, "rate-limit.local");
      assert.equal(s.calls.length, 3, "the locally refused request was not sent to the service");
      assert.equal(s.t.metric("tollgate.outcome=.=allowed;.;rule=.=local;.;rate_limit_requests_total"), 2);
      assert.equal(s.t.metric("tollgate.outcome=.=rejected;.;rule=.=local;.;rate_limit_requests_total"), 1);
      assert.equal(s.t.metric("tollgate.outcome=.=rejected;.;rule=.=fleet;.;rate_limit_requests_total"), 1);
    });

    for (const [name, answer] of [
      ["unavailable (status 14)", { status: 14, message: "upstream connect error" }],
      ["a server error (status 13)", { status: 13, message: "boom" }],
      ["a malformed response", { status: 0, response: Uint8Array.from([0x12, 0x05, 0x08]) }],
      ["an empty OK stream (no message)", { status: 0, response: "none" }],
    ] as Array<[string, GrpcCallResult | { status: 0; response: "none" }]>) {
      test(`the service fails (${name}): requests pass on the local rules, counted, logged once per interval`, async () => {
        const s = await load(build, { rls: RLS, rules: [FLEET, LOCAL(4)] });
        s.answers = [(answer as { response?: unknown }).response === "none" ? { status: 0, message: "" } as unknown as GrpcCallResult : answer as GrpcCallResult];
        const got: number[] = [];
        for (let i = 0; i < 6; i++) got.push((await get(s.t)).status);
        assert.deepEqual(got, [200, 200, 200, 200, 429, 429], "fail open; the local rule still holds");
        assert.equal(s.t.metric("tollgate.outcome=.=failed;.;rate_limit_rls_calls_total"), 4, "the two locally refused requests made no call");
        assert.equal(s.t.metric("tollgate.rate_limit_rls_failure_mode_denied_total"), 0);
        const warned = s.t.logs.filter((l) => l.message.includes("rate limit service call failed"));
        assert.equal(warned.length, 1, warned.map((l) => l.message).join("\n"));
        assert.match(warned[0].message, /cluster "rls"/);
        assert.match(warned[0].message, /requests pass/);
        // After the interval (and once the local hour bucket has refilled), the next failure is reported with
        // the count of the unreported ones.
        s.clock.advance(3_660_000);
        await get(s.t);
        const again = s.t.logs.filter((l) => l.message.includes("rate limit service call failed"));
        assert.equal(again.length, 2);
        assert.match(again[1].message, /3 more failed calls since the last report/);
      });
    }

    test("a call the host refuses (unknown cluster) fails the same way, without waiting", async () => {
      const clock = new ManualClock(T0);
      const t = await PluginTester.load({ wasm: await rateLimitWasm(build), configuration: { rls: { ...RLS, cluster: "nowhere" }, rules: [FLEET] }, clock, clusters: ["rls"] });
      assert.equal((await get(t)).status, 200);
      assert.equal(t.metric("tollgate.outcome=.=failed;.;rate_limit_rls_calls_total"), 1);
    });

    test("timeout: the request waits at most rls.timeout_ms, then passes (or is refused with failure_mode_deny)", async () => {
      for (const deny of [false, true]) {
        const s = await load(build, { rls: { ...RLS, failure_mode_deny: deny }, rules: [FLEET] });
        s.answers = ["hang"];
        const pending = get(s.t);
        await s.t.flush();
        assert.equal(s.calls.length, 1);
        s.clock.advance(249);
        await s.t.flush();
        s.clock.advance(1);
        const r = await pending;
        assert.equal(r.status, deny ? 500 : 200, `deny ${deny}`);
        if (deny) {
          assert.equal(r.details, "rate-limit.rls_failed");
          assert.equal(r.body, "Rate limit service unavailable");
        }
        assert.equal(s.t.metric("tollgate.outcome=.=failed;.;rate_limit_rls_calls_total"), 1);
        assert.equal(s.t.metric("tollgate.rate_limit_rls_failure_mode_denied_total"), deny ? 1 : 0);
      }
    });

    test("shadow mode: OVER_LIMIT and failures never refuse; the request is marked and counted", async () => {
      const s = await load(build, { rls: { ...RLS, failure_mode_deny: true }, shadow: true, rules: [FLEET] });
      s.answers = [over([status(2, 10, 2, 0, 5)]), { status: 14, message: "down" }];
      const r = await get(s.t, [["x-ratelimit-shadow", "client-sent"]]);
      assert.equal(r.status, 200);
      assert.equal(r.upstreamRequest!.header("x-ratelimit-shadow"), "fleet");
      assert.equal(r.header("x-ratelimit-remaining"), "0");
      assert.equal(s.t.metric("tollgate.outcome=.=shadow_rejected;.;rule=.=fleet;.;rate_limit_requests_total"), 1);
      assert.equal(s.t.metric("tollgate.outcome=.=rejected;.;rule=.=fleet;.;rate_limit_requests_total") ?? 0, 0);
      const r2 = await get(s.t);
      assert.equal(r2.status, 200);
      assert.equal(r2.upstreamRequest!.header("x-ratelimit-shadow"), undefined);
      assert.equal(s.t.metric("tollgate.rate_limit_rls_failure_mode_denied_total"), 0);
    });

    test("a request body waits with the headers until the service answers", async () => {
      const s = await load(build, { rls: RLS, rules: [FLEET] });
      let release: (r: GrpcCallResult) => void = () => {};
      setGrpcTransport(s.t.env, (req) => {
        s.calls.push(req);
        return new Promise<GrpcCallResult>((r) => (release = r));
      });
      const pending = s.t.exchange({
        method: "POST", path: "/upload", authority: "api.example.com", body: "payload",
        upstream: (u) => ({ status: 200, body: `got ${u.body}` }),
      });
      await s.t.flush();
      assert.equal(s.calls.length, 1);
      release(ok());
      const r = await pending;
      assert.equal(r.status, 200);
      assert.equal(r.body, "got payload");
    });

    test("`rls` at the top level serves the `_rules_` items; an item may name its own", async () => {
      const s = await load(build, {
        rls: RLS,
        _rules_: [
          { _match_domain_: ["a.example.com"], rules: [FLEET] },
          { _match_domain_: ["b.example.com"], rls: { cluster: "rls", domain: "other" }, rules: [FLEET] },
        ],
      });
      s.answers = [ok()];
      const at = (authority: string) => s.t.exchange({ method: "GET", path: "/", authority, upstream: () => ({ status: 200 }) });
      await at("a.example.com");
      await at("b.example.com");
      assert.equal((await at("c.example.com")).status, 200);
      assert.deepEqual(s.calls.map((c) => decodeRequest(c.message).domain), ["edge", "other"]);
    });
  });

  if (build === "release") {
    test("linear memory stays flat across 12,000 answered calls after warm-up (nothing kept per call)", async () => {
      const s = await load(build, { rls: RLS, rules: [PER_KEY, LOCAL(1_000_000_000)] });
      s.answers = [ok([status(1, 3, 3, 2, 10)], { response_headers_to_add: [{ key: "x-a", value: "b" }] })];
      const vm = (s.t as unknown as { plugins: Array<{ vms: Array<{ memory: WebAssembly.Memory }> }> }).plugins[0].vms[0];
      const pages = () => vm.memory.buffer.byteLength / 65536;
      const run = async (from: number, n: number) => {
        for (let i = from; i < from + n; i++) await get(s.t, [["x-api-key", `key-${i}`]]);
      };
      await run(0, 3000);
      const warm = pages();
      await run(3000, 12_000);
      assert.equal(pages(), warm, `grew from ${warm} to ${pages()} pages`);
      s.calls.length = 0;
    });
  }

  describe(`rate-limit global config errors (${build})`, () => {
    const cases: Array<[string, object, string]> = [
      ["a global rule without rls", { rules: [FLEET] }, "'rules[0].scope' is \"global\" but no 'rls' is configured"],
      ["an unknown scope", { rls: RLS, rules: [{ ...FLEET, scope: "cluster" }] }, "'rules[0].scope' must be one of local, global"],
      ["rls without cluster", { rls: { domain: "d" }, rules: [FLEET] }, "'rls.cluster' is required"],
      ["an empty cluster", { rls: { cluster: "", domain: "d" }, rules: [FLEET] }, "'rls.cluster' must be a non-empty Envoy cluster name"],
      ["an empty domain", { rls: { cluster: "rls", domain: "" }, rules: [FLEET] }, "'rls.domain' must be a non-empty rate limit domain"],
      ["timeout_ms 0", { rls: { ...RLS, timeout_ms: 0 }, rules: [FLEET] }, "'rls.timeout_ms' must be an integer between 1 and 60000, got 0"],
      ["timeout_ms too large", { rls: { ...RLS, timeout_ms: 60001 }, rules: [FLEET] }, "'rls.timeout_ms'"],
      ["an unknown rls field", { rls: { ...RLS, grpc: true }, rules: [FLEET] }, "'rls.grpc' is not a known field"],
      ["a token bucket limit on a global rule", { rls: RLS, rules: [{ ...FLEET, limit: { max_tokens: 5, fill_interval_ms: 1000 } }] }, "'rules[0].limit' must be {\"requests\": N, \"per\": \"<unit>\"} with scope \"global\""],
      ["algorithm token_bucket on a global rule", { rls: RLS, rules: [{ ...FLEET, algorithm: "token_bucket" }] }, "'rules[0].algorithm' cannot be \"token_bucket\" with scope \"global\""],
      ["a service unit on a local rule", { rules: [{ ...LOCAL(5), limit: { requests: 5, per: "week" } }] }, "'rules[0].limit.per' \"week\" is a unit of the rate limit service"],
    ];
    for (const [name, config, message] of cases) {
      test(name, async () => {
        const log = await rejectedConfig(build, config);
        assert.ok(log.includes(message), `expected ${JSON.stringify(message)} in:\n${log}`);
      });
    }
    test("week, month and year are accepted on global rules", async () => {
      for (const per of ["week", "month", "year"]) {
        const s = await load(build, { rls: RLS, rules: [{ ...FLEET, limit: { requests: 5, per } }] });
        s.t.close();
      }
    });
  });
}
