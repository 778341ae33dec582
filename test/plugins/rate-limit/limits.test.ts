// rate-limit behaviour through the host on the compiled module (release and debug), on a manual clock:
// exact boundaries, refill timelines, calendar windows, header values, Retry-After, shadow mode, key
// sources, multi-rule semantics, metrics, and hostile request input.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BUILDS, get, load, passThenReject, rule, statuses, T0 } from "./support.ts";

const PER_KEY = (limit: object, extra: object = {}) => ({ rules: [rule("per-key", { header: "x-api-key" }, limit)], ...extra });
const KEY = (k: string): Array<[string, string]> => [["x-api-key", k]];

for (const build of BUILDS) {
  describe(`rate-limit (${build})`, () => {
    describe("boundaries: request N passes, N+1 is rejected", () => {
      for (const [per, ms] of [["second", 1000], ["minute", 60000], ["hour", 3600000], ["day", 86400000]] as const) {
        test(`token_bucket 4 per ${per}: 4 pass, the 5th waits exactly one token interval`, async () => {
          const { t, clock } = await load(build, PER_KEY({ requests: 4, per }));
          try {
            assert.deepEqual(await statuses(t, 5, KEY("a")), passThenReject(4, 1));
            const interval = ms / 4;
            clock.advance(interval - 1);
            assert.equal((await get(t, KEY("a"))).status, 429, "one ms before the next token");
            clock.advance(1);
            assert.deepEqual(await statuses(t, 2, KEY("a")), passThenReject(1, 1), "exactly one token at the boundary");
          } finally {
            t.close();
          }
        });

        test(`fixed_window 3 per ${per}: 3 pass, the 4th is rejected until the calendar boundary`, async () => {
          // Start 1 ms after a window opened: the window still ends at the calendar boundary.
          const cfg = { rules: [rule("per-key", { header: "x-api-key" }, { requests: 3, per }, { algorithm: "fixed_window" })] };
          const l = await load(build, cfg, { startMs: T0 + 1 });
          try {
            assert.deepEqual(await statuses(l.t, 4, KEY("a")), passThenReject(3, 1));
            l.clock.advance(ms - 2);
            const last = await get(l.t, KEY("a"));
            assert.equal(last.status, 429, "last ms of the window");
            assert.equal(last.header("retry-after"), "1");
            l.clock.advance(1);
            assert.deepEqual(await statuses(l.t, 4, KEY("a")), passThenReject(3, 1), "a new window at the boundary");
          } finally {
            l.t.close();
          }
        });
      }

      test("max_tokens form (Envoy local_ratelimit RL-E1/RL-E8): B=1, fill 1000 s", async () => {
        const { t } = await load(build, PER_KEY({ max_tokens: 1, tokens_per_fill: 1, fill_interval_ms: 1000000 }));
        try {
          const r1 = await get(t, KEY("a"));
          assert.equal(r1.status, 200);
          assert.equal(r1.header("x-ratelimit-limit"), "1");
          assert.equal(r1.header("x-ratelimit-remaining"), "0");
          assert.equal(r1.header("x-ratelimit-reset"), "1000");
          const r2 = await get(t, KEY("a"));
          assert.equal(r2.status, 429);
          assert.equal(r2.header("x-ratelimit-limit"), "1");
          assert.equal(r2.header("x-ratelimit-remaining"), "0");
          assert.equal(r2.header("x-ratelimit-reset"), "1000");
          assert.equal(r2.header("retry-after"), "1000");
        } finally {
          t.close();
        }
      });
    });

    test("refill timeline (ratelimit-cases §2): max 3, +1 every 10 s", async () => {
      const { t, clock } = await load(build, PER_KEY({ max_tokens: 3, tokens_per_fill: 1, fill_interval_ms: 10000 }));
      try {
        const steps: Array<[number, number[], string[]]> = [
          [0, [200, 200, 200, 429], ["2", "1", "0", "0"]],
          [10, [200, 429], ["0", "0"]],
          [30, [200, 200, 429], ["1", "0", "0"]],
          [100, [200, 200, 200, 429], ["2", "1", "0", "0"]],
        ];
        let now = 0;
        for (const [at, want, remaining] of steps) {
          clock.advance((at - now) * 1000);
          now = at;
          const got: number[] = [];
          const rem: string[] = [];
          for (let i = 0; i < want.length; i++) {
            const r = await get(t, KEY("a"));
            got.push(r.status);
            rem.push(r.header("x-ratelimit-remaining") ?? "-");
            // Fills happen at 10, 20, 30 … s after the first request: the next one is always 10 s away here.
            assert.equal(r.header("x-ratelimit-reset"), "10", `reset at t=${at}`);
          }
          assert.deepEqual(got, want, `statuses at t=${at}`);
          assert.deepEqual(rem, remaining, `remaining at t=${at}`);
        }
      } finally {
        t.close();
      }
    });

    test("tokens_per_fill above max_tokens is capped", async () => {
      const { t, clock } = await load(build, PER_KEY({ max_tokens: 2, tokens_per_fill: 50, fill_interval_ms: 1000 }));
      try {
        assert.deepEqual(await statuses(t, 3, KEY("a")), passThenReject(2, 1));
        clock.advance(1000);
        assert.deepEqual(await statuses(t, 3, KEY("a")), passThenReject(2, 1));
      } finally {
        t.close();
      }
    });

    // Envoy 1.40's local_ratelimit bucket (AtomicTokenBucketImpl) refills at a steady tokens_per_fill /
    // fill_interval; the max_tokens form is that bucket. Paced below the rate, a request always finds the
    // token the previous one took back: X-RateLimit-Remaining stays at max_tokens - 1 (real Envoy with the
    // same token_bucket answers 99 to every request at 80 req/s: test/plugins/rate-limit/paced.test.ts).
    for (const [what, limit] of [
      ["max_tokens 100, tokens_per_fill 100, fill_interval_ms 1000", { max_tokens: 100, tokens_per_fill: 100, fill_interval_ms: 1000 }],
      ["requests 100 per second", { requests: 100, per: "second" }],
    ] as const) {
      test(`steady refill (${what}): 80 req/s for 3 s keeps remaining at 99`, async () => {
        const { t, clock } = await load(build, PER_KEY(limit));
        try {
          const remaining = new Set<string>();
          for (let i = 0; i < 240; i++) {
            const r = await get(t, KEY("a"));
            assert.equal(r.status, 200, `request ${i}`);
            remaining.add(r.header("x-ratelimit-remaining") ?? "-");
            clock.advance(12.5);
          }
          assert.deepEqual([...remaining], ["99"], "1.25 tokens come back between requests, capped at 100");
        } finally {
          t.close();
        }
      });
    }

    test("steady refill: 10 per 1000 ms is a token every 100 ms, not 10 at once", async () => {
      const { t, clock } = await load(build, PER_KEY({ max_tokens: 10, tokens_per_fill: 10, fill_interval_ms: 1000 }));
      try {
        assert.deepEqual(await statuses(t, 11, KEY("a")), passThenReject(10, 1));
        clock.advance(99);
        assert.equal((await get(t, KEY("a"))).status, 429, "99 ms: no token yet");
        clock.advance(1);
        assert.deepEqual(await statuses(t, 2, KEY("a")), passThenReject(1, 1), "100 ms: one token");
        clock.advance(450);
        const got = await statuses(t, 6, KEY("a"));
        assert.deepEqual(got, passThenReject(4, 2), "550 ms: 4 more (at 200, 300, 400, 500 ms)");
      } finally {
        t.close();
      }
    });

    for (const [what, limit] of [
      ["requests 1 per minute", { requests: 1, per: "minute" }],
      ["max_tokens 1, fill_interval_ms 60000", { max_tokens: 1, fill_interval_ms: 60000 }],
    ] as const) {
      test(`a full bucket accrues nothing (${what}): after idling, a spent token comes back a full interval later`, async () => {
        const { t, clock } = await load(build, PER_KEY(limit));
        try {
          assert.equal((await get(t, KEY("a"))).status, 200, "t = 0");
          clock.advance(90_000);
          const r = await get(t, KEY("a"));
          assert.equal(r.status, 200, "t = 90 s: the bucket refilled at 60 s and stayed full");
          assert.equal(r.header("x-ratelimit-reset"), "60", "the next token is 60 s away, not 30");
          clock.advance(30_000);
          assert.equal((await get(t, KEY("a"))).status, 429, "t = 120 s: only 30 s since the last request");
          clock.advance(29_999);
          assert.equal((await get(t, KEY("a"))).status, 429, "t = 149.999 s");
          clock.advance(1);
          assert.equal((await get(t, KEY("a"))).status, 200, "t = 150 s: one interval after the request at 90 s");
        } finally {
          t.close();
        }
      });
    }

    test("requests/per refills exactly: 7 per second over 10 s gives 7 + 69 requests", async () => {
      const { t, clock } = await load(build, PER_KEY({ requests: 7, per: "second" }));
      try {
        let allowed = 0;
        for (let ms = 0; ms < 10000; ms += 5) {
          if ((await get(t, KEY("a"))).status === 200) allowed++;
          clock.advance(5);
        }
        // Tokens arrive at k × 1000/7 ms: 69 of them by t = 9995 ms, plus the initial 7.
        assert.equal(allowed, 76);
      } finally {
        t.close();
      }
    });

    test("a huge count with few common factors (7,777,777 per day) is accepted and counts down", async () => {
      const { t } = await load(build, PER_KEY({ requests: 7777777, per: "day" }));
      try {
        const r = await get(t, KEY("a"));
        assert.equal(r.status, 200);
        assert.equal(r.header("x-ratelimit-limit"), "7777777");
        assert.equal(r.header("x-ratelimit-remaining"), "7777776");
        assert.equal(r.header("x-ratelimit-reset"), "1", "a token every ~11 ms");
      } finally {
        t.close();
      }
    });

    test("fixed_window per day aligns to midnight UTC; reset counts down to it", async () => {
      const cfg = { rules: [rule("daily", { header: "x-api-key" }, { requests: 2, per: "day" }, { algorithm: "fixed_window" })] };
      const { t, clock } = await load(build, cfg, { startMs: T0 + 86400000 - 2500 });
      try {
        const r1 = await get(t, KEY("a"));
        assert.equal(r1.status, 200);
        assert.equal(r1.header("x-ratelimit-limit"), "2");
        assert.equal(r1.header("x-ratelimit-remaining"), "1");
        assert.equal(r1.header("x-ratelimit-reset"), "3", "2.5 s to midnight, rounded up");
        assert.equal((await get(t, KEY("a"))).status, 200);
        const r3 = await get(t, KEY("a"));
        assert.equal(r3.status, 429);
        assert.equal(r3.header("retry-after"), "3");
        clock.advance(2500);
        const r4 = await get(t, KEY("a"));
        assert.equal(r4.status, 200, "a new day");
        assert.equal(r4.header("x-ratelimit-reset"), "86400");
      } finally {
        t.close();
      }
    });

    describe("headers", () => {
      test("draft03 on 200 and on the 429, Retry-After equals the reset", async () => {
        const { t, clock } = await load(build, PER_KEY({ requests: 3, per: "minute" }));
        try {
          const want = [["200", "2"], ["200", "1"], ["200", "0"], ["429", "0"]];
          for (const [status, remaining] of want) {
            const r = await get(t, KEY("a"));
            assert.equal(String(r.status), status);
            assert.equal(r.header("x-ratelimit-limit"), "3");
            assert.equal(r.header("x-ratelimit-remaining"), remaining);
            assert.equal(r.header("x-ratelimit-reset"), "20");
            if (status === "429") {
              assert.equal(r.header("retry-after"), "20");
              assert.equal(r.localReply, true);
              assert.equal(r.details, "rate-limit.per-key");
              assert.equal(r.body, "Too Many Requests");
              assert.equal(r.header("content-type"), "text/plain");
              assert.equal(r.upstreamRequest, null);
            } else {
              assert.equal(r.header("retry-after"), undefined);
            }
          }
          clock.advance(7500);
          const r = await get(t, KEY("a"));
          assert.equal(r.status, 429);
          assert.equal(r.header("retry-after"), "13", "12.5 s left, rounded up");
          assert.equal(r.header("x-ratelimit-reset"), "13");
        } finally {
          t.close();
        }
      });

      test("ietf: RateLimit-Policy and RateLimit structured fields", async () => {
        const { t } = await load(build, PER_KEY({ requests: 100, per: "minute" }, { headers: "ietf" }));
        try {
          const r = await get(t, KEY("a"));
          assert.equal(r.header("ratelimit-policy"), '"per-key";q=100;w=60');
          assert.equal(r.header("ratelimit"), '"per-key";r=99;t=1', "one token every 0.6 s");
          assert.equal(r.header("x-ratelimit-limit"), undefined);
        } finally {
          t.close();
        }
      });

      test("ietf with the max_tokens form: w is the time to refill an empty bucket", async () => {
        const { t } = await load(build, PER_KEY({ max_tokens: 10, tokens_per_fill: 3, fill_interval_ms: 1500 }, { headers: "ietf" }));
        try {
          const r = await get(t, KEY("a"));
          // 3 tokens per 1.5 s is a steady token every 0.5 s (Envoy 1.40's bucket): 10 tokens take 5 s.
          assert.equal(r.header("ratelimit-policy"), '"per-key";q=10;w=5', "10 × 1.5 s / 3");
          assert.equal(r.header("ratelimit"), '"per-key";r=9;t=1', "the next token in 0.5 s, rounded up");
          const rejected = [];
          for (let i = 0; i < 10; i++) rejected.push(await get(t, KEY("a")));
          const last = rejected[9];
          assert.equal(last.status, 429);
          assert.equal(last.header("ratelimit"), '"per-key";r=0;t=1');
          assert.equal(last.header("retry-after"), "1");
        } finally {
          t.close();
        }
      });

      test("none: no rate-limit headers; Retry-After still on the 429", async () => {
        const { t } = await load(build, PER_KEY({ requests: 1, per: "hour" }, { headers: "none" }));
        try {
          const r1 = await get(t, KEY("a"));
          assert.equal(r1.header("x-ratelimit-limit"), undefined);
          assert.equal(r1.header("ratelimit"), undefined);
          const r2 = await get(t, KEY("a"));
          assert.equal(r2.status, 429);
          assert.equal(r2.header("retry-after"), "3600");
          assert.equal(r2.header("x-ratelimit-remaining"), undefined);
        } finally {
          t.close();
        }
      });

      test("upstream copies of the headers are replaced, never duplicated", async () => {
        const { t } = await load(build, PER_KEY({ requests: 5, per: "second" }));
        try {
          const r = await t.exchange({
            method: "GET", path: "/", authority: "api.example.com", headers: KEY("a"),
            upstream: () => ({ status: 200, headers: [["x-ratelimit-limit", "999"], ["x-ratelimit-remaining", "999"]], body: "" }),
          });
          assert.deepEqual(r.headers.filter(([k]: [string, string]) => k === "x-ratelimit-limit").map(([, v]: [string, string]) => v), ["5"]);
          assert.deepEqual(r.headers.filter(([k]: [string, string]) => k === "x-ratelimit-remaining").map(([, v]: [string, string]) => v), ["4"]);
        } finally {
          t.close();
        }
      });
    });

    test("custom status and body; details name the rule", async () => {
      const { t } = await load(build, PER_KEY({ requests: 1, per: "second" }, { status: 503, body: "slow down" }));
      try {
        await get(t, KEY("a"));
        const r = await get(t, KEY("a"));
        assert.equal(r.status, 503);
        assert.equal(r.body, "slow down");
        assert.equal(r.details, "rate-limit.per-key");
        assert.equal(r.header("retry-after"), "1");
      } finally {
        t.close();
      }
    });

    describe("keys", () => {
      test("per-value buckets are independent; a request without the key is not limited", async () => {
        const { t } = await load(build, PER_KEY({ requests: 2, per: "minute" }));
        try {
          assert.deepEqual(await statuses(t, 3, KEY("alice")), passThenReject(2, 1));
          assert.deepEqual(await statuses(t, 3, KEY("bob")), passThenReject(2, 1));
          const none = await statuses(t, 10);
          assert.deepEqual(none, Array(10).fill(200));
          const r = await get(t);
          assert.equal(r.header("x-ratelimit-limit"), undefined, "no rule applied: no headers");
          assert.deepEqual(await statuses(t, 3, KEY("")), Array(3).fill(200), "an empty value identifies no client");
        } finally {
          t.close();
        }
      });

      test("values: only the listed values are limited, each with its own bucket", async () => {
        const cfg = { rules: [rule("tenants", { header: "x-tenant" }, { requests: 2, per: "minute" }, { values: ["acme", "globex"] })] };
        const { t } = await load(build, cfg);
        try {
          assert.deepEqual(await statuses(t, 3, [["x-tenant", "acme"]]), passThenReject(2, 1));
          assert.deepEqual(await statuses(t, 3, [["x-tenant", "globex"]]), passThenReject(2, 1));
          assert.deepEqual(await statuses(t, 5, [["x-tenant", "initech"]]), Array(5).fill(200));
          assert.deepEqual(await statuses(t, 2, [["x-tenant", "ACME"]]), [200, 200], "values match exactly");
          assert.equal(t.sharedDataKeys().length, 2, "one slot per listed value");
        } finally {
          t.close();
        }
      });

      test("query parameter, cookie and path keys", async () => {
        const cfg = {
          rules: [
            rule("q", { query: "apikey" }, { requests: 1, per: "minute" }),
            rule("c", { cookie: "session" }, { requests: 1, per: "minute" }),
            rule("p", { path: {} }, { requests: 1, per: "minute" }),
          ],
        };
        const { t } = await load(build, cfg);
        try {
          assert.equal((await get(t, [], { path: "/q?apikey=k%31" })).status, 200);
          assert.equal((await get(t, [], { path: "/q2?x=1&apikey=k1" })).status, 429, "percent-decoded value k1, same bucket");
          assert.equal((await get(t, [["cookie", "a=1; session=s1"]], { path: "/c" })).status, 200);
          assert.equal((await get(t, [["cookie", "session=s1"]], { path: "/c2" })).status, 429);
          assert.equal((await get(t, [["cookie", "sessionx=s1"]], { path: "/c3" })).status, 200, "a prefix of another cookie name is not the cookie");
          assert.equal((await get(t, [], { path: "/p?a=1" })).status, 200);
          assert.equal((await get(t, [], { path: "/p?a=2" })).status, 429, "path without query: /p had its one request");
        } finally {
          t.close();
        }
      });

      test("client_ip from source.address; XFF ignored without trusted hops", async () => {
        const cfg = { rules: [rule("per-ip", { client_ip: {} }, { requests: 1, per: "minute" })] };
        const { t } = await load(build, cfg);
        try {
          const a = { properties: { "source.address": "198.51.100.1:1111" } };
          const a2 = { properties: { "source.address": "198.51.100.1:2222" } };
          const b = { properties: { "source.address": "[2001:db8::1]:443" } };
          assert.equal((await get(t, [["x-forwarded-for", "203.0.113.9"]], a)).status, 200);
          assert.equal((await get(t, [["x-forwarded-for", "203.0.113.10"]], a2)).status, 429, "same IP, other port, spoofed XFF");
          assert.equal((await get(t, [], b)).status, 200);
          assert.equal((await get(t, [], b)).status, 429);
        } finally {
          t.close();
        }
      });

      test("client_ip with xff_trusted_hops: the N-th address from the right, else the socket peer", async () => {
        for (const hops of [1, 2]) {
          const cfg = { client_ip: { xff_trusted_hops: hops }, rules: [rule("per-ip", { client_ip: {} }, { requests: 1, per: "minute" })] };
          const { t } = await load(build, cfg);
          try {
            const lb = { properties: { "source.address": "10.0.0.1:5000" } };
            // hops=1: the rightmost entry is the client; hops=2: the second from the right.
            const client = hops === 1 ? "203.0.113.7" : "198.51.100.7";
            const xff = hops === 1 ? "1.1.1.1, 203.0.113.7" : "1.1.1.1, 198.51.100.7, 10.1.1.1";
            assert.equal((await get(t, [["x-forwarded-for", xff]], lb)).status, 200);
            const again = hops === 1 ? `9.9.9.9,${client}` : `8.8.8.8,${client} , 10.2.2.2`;
            assert.equal((await get(t, [["x-forwarded-for", again]], lb)).status, 429, `hops=${hops}: same client ${client}`);
            const other = hops === 1 ? "203.0.113.8" : "1.1.1.1, 198.51.100.8, 10.1.1.1";
            assert.equal((await get(t, [["x-forwarded-for", other]], lb)).status, 200, "another client behind the same proxy");
            // Too few entries: the header is not trusted, the socket peer is the client.
            const short = hops === 1 ? "" : "203.0.113.99";
            assert.equal((await get(t, short ? [["x-forwarded-for", short]] : [], lb)).status, 200, "socket peer's first request");
            assert.equal((await get(t, [], lb)).status, 429, "socket peer again");
          } finally {
            t.close();
          }
        }
      });

      test("global key: one bucket for every request", async () => {
        const cfg = { rules: [rule("all", { global: {} }, { requests: 3, per: "second" })] };
        const { t } = await load(build, cfg);
        try {
          const got = [];
          for (const k of ["a", "b", "c", "d"]) got.push((await get(t, KEY(k))).status);
          assert.deepEqual(got, passThenReject(3, 1));
          assert.equal(t.sharedDataKeys().length, 1);
        } finally {
          t.close();
        }
      });
    });

    test("every applicable rule must allow; a rejected request consumes no tokens", async () => {
      const cfg = {
        rules: [
          rule("per-key", { header: "x-api-key" }, { requests: 2, per: "minute" }),
          rule("all", { global: {} }, { requests: 3, per: "minute" }),
        ],
      };
      const { t } = await load(build, cfg);
      try {
        const a1 = await get(t, KEY("a"));
        assert.equal(a1.status, 200);
        assert.equal(a1.header("x-ratelimit-limit"), "2", "tightest rule: per-key has 1 left, all has 2");
        assert.equal(a1.header("x-ratelimit-remaining"), "1");
        assert.equal((await get(t, KEY("a"))).status, 200);
        for (let i = 0; i < 5; i++) {
          const r = await get(t, KEY("a"));
          assert.equal(r.status, 429);
          assert.equal(r.details, "rate-limit.per-key");
        }
        // The 5 rejections above took nothing from `all`: it still has exactly one token.
        const b1 = await get(t, KEY("b"));
        assert.equal(b1.status, 200);
        assert.equal(b1.header("x-ratelimit-limit"), "3", "all now has 0 left: the tightest");
        assert.equal(b1.header("x-ratelimit-remaining"), "0");
        const b2 = await get(t, KEY("b"));
        assert.equal(b2.status, 429);
        assert.equal(b2.details, "rate-limit.all");
        // And `all` rejecting b2 took nothing from b's own bucket.
        assert.equal(t.metric("tollgate.outcome=.=allowed;.;rule=.=per-key;.;rate_limit_requests_total"), 3);
        assert.equal(t.metric("tollgate.outcome=.=rejected;.;rule=.=per-key;.;rate_limit_requests_total"), 5);
        assert.equal(t.metric("tollgate.outcome=.=allowed;.;rule=.=all;.;rate_limit_requests_total"), 3);
        assert.equal(t.metric("tollgate.outcome=.=rejected;.;rule=.=all;.;rate_limit_requests_total"), 1);
        assert.equal(t.metric("tollgate.rule=.=per-key;.;rate_limit_cas_exhausted_total"), 0);
      } finally {
        t.close();
      }
    });

    test("two rules with the same name keep separate buckets", async () => {
      const twin = rule("twin", { header: "x-api-key" }, { requests: 1, per: "minute" });
      const { t } = await load(build, { rules: [twin, twin] });
      try {
        assert.deepEqual(await statuses(t, 2, KEY("a")), passThenReject(1, 1));
        assert.equal(t.metric("tollgate.outcome=.=allowed;.;rule=.=twin;.;rate_limit_requests_total"), 2, "both rules counted the first request");
      } finally {
        t.close();
      }
    });

    test("shadow mode: never rejects, marks the upstream request, consumes nothing, counts", async () => {
      const { t, clock } = await load(build, PER_KEY({ requests: 2, per: "minute" }, { shadow: true }));
      try {
        for (let i = 0; i < 2; i++) {
          const r = await get(t, [...KEY("a"), ["x-ratelimit-shadow", "spoofed"]]);
          assert.equal(r.status, 200);
          assert.equal(r.upstreamRequest!.header("x-ratelimit-shadow"), undefined, "a client-sent copy is removed");
        }
        for (let i = 0; i < 4; i++) {
          const r = await get(t, KEY("a"));
          assert.equal(r.status, 200);
          assert.equal(r.localReply, false);
          assert.equal(r.upstreamRequest!.header("x-ratelimit-shadow"), "per-key");
          assert.equal(r.header("x-ratelimit-remaining"), "0");
        }
        assert.equal(t.metric("tollgate.outcome=.=shadow_rejected;.;rule=.=per-key;.;rate_limit_requests_total"), 4);
        assert.equal(t.metric("tollgate.outcome=.=rejected;.;rule=.=per-key;.;rate_limit_requests_total"), 0);
        assert.equal(t.metric("tollgate.outcome=.=allowed;.;rule=.=per-key;.;rate_limit_requests_total"), 2);
        // Shadow-rejected requests took no tokens: one interval later exactly one passes unmarked.
        clock.advance(30000);
        const ok = await get(t, KEY("a"));
        assert.equal(ok.upstreamRequest!.header("x-ratelimit-shadow"), undefined);
        assert.equal((await get(t, KEY("a"))).upstreamRequest!.header("x-ratelimit-shadow"), "per-key");
      } finally {
        t.close();
      }
    });

    test("without shadow mode a client-sent x-ratelimit-shadow is removed too, allowed or limited", async () => {
      const { t } = await load(build, PER_KEY({ requests: 1, per: "minute" }));
      try {
        const spoof: Array<[string, string]> = [["x-ratelimit-shadow", "per-key"]];
        const none = await get(t, spoof);
        assert.equal(none.upstreamRequest!.header("x-ratelimit-shadow"), undefined, "no key: not limited, header still removed");
        const first = await get(t, [...KEY("a"), ...spoof]);
        assert.equal(first.status, 200);
        assert.equal(first.upstreamRequest!.header("x-ratelimit-shadow"), undefined);
        assert.equal((await get(t, [...KEY("a"), ...spoof])).status, 429);
      } finally {
        t.close();
      }
    });

    test("_rules_: a matching domain rule has its own config and buckets; others use the global one", async () => {
      const cfg = {
        rules: [rule("per-key", { header: "x-api-key" }, { requests: 1, per: "minute" })],
        _rules_: [{ _match_domain_: ["admin.example.com"], rules: [rule("per-key", { header: "x-api-key" }, { requests: 3, per: "minute" })] }],
      };
      const { t } = await load(build, cfg);
      try {
        const admin = async () => (await t.exchange({ method: "GET", path: "/", authority: "admin.example.com", headers: KEY("a"), upstream: () => ({ status: 200, headers: [], body: "" }) })).status;
        assert.deepEqual(await statuses(t, 2, KEY("a")), passThenReject(1, 1));
        assert.deepEqual([await admin(), await admin(), await admin(), await admin()], passThenReject(3, 1));
      } finally {
        t.close();
      }
    });

    test("hostile request input never traps", async () => {
      const cfg = {
        client_ip: { xff_trusted_hops: 3 },
        rules: [
          rule("h", { header: "x-api-key" }, { requests: 1000, per: "second" }),
          rule("q", { query: "k" }, { requests: 1000, per: "second" }),
          rule("c", { cookie: "s" }, { requests: 1000, per: "second" }),
          rule("ip", { client_ip: {} }, { requests: 1000, per: "second" }),
          rule("p", { path: {} }, { requests: 1000, per: "second" }),
        ],
      };
      const { t } = await load(build, cfg);
      try {
        const weird = ["", " ", "\u00e9\u4e2d\ud83d\ude00", "x".repeat(65536), "%", "%zz%", "=;=;;", ",,,,", "[", "[::1", "]:", "::::", "a\tb"];
        for (const w of weird) {
          const r = await t.exchange({
            method: "GET",
            path: "/" + encodeURIComponent(w).slice(0, 2000) + "?k=" + encodeURIComponent(w).slice(0, 2000) + "&k&=",
            authority: "api.example.com",
            headers: [["x-api-key", w.replace(/[\t]/g, " ")], ["cookie", `s=${encodeURIComponent(w)}; ${w.replace(/[\t]/g, "")}`], ["x-forwarded-for", w.replace(/[\t]/g, "")]],
            properties: { "source.address": w.replace(/[\t]/g, "") },
            upstream: () => ({ status: 200, headers: [], body: "" }),
          });
          assert.ok(r.status === 200 || r.status === 429, `status ${r.status} for ${JSON.stringify(w.slice(0, 20))}`);
        }
        const r = await t.exchange({ method: "GET", path: "/", authority: "api.example.com", headers: [], properties: {}, upstream: () => ({ status: 200, headers: [], body: "" }) });
        assert.equal(r.status, 200, "no source address at all");
        assert.deepEqual(t.logsAt("critical"), []);
      } finally {
        t.close();
      }
    });
  });
}
