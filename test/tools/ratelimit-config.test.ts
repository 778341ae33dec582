// tools/ratelimit/config.ts: the rate limit service config from a rate-limit plugin config (table-driven),
// and the generated YAML loaded by the real envoyproxy/ratelimit, which then counts as the plugin expects.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parse } from "yaml";
import { rlsOf, serviceConfig, serviceConfigYaml } from "../../tools/ratelimit/config.ts";
import { startRateLimitService } from "../helpers/ratelimit-service.ts";

const rls = { cluster: "rls", domain: "edge" };
const rule = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  scope: "global",
  key: { header: "x-api-key" },
  limit: { requests: 10, per: "minute" },
  ...extra,
});

const ok: { name: string; config: unknown; want: unknown }[] = [
  {
    name: "header key without values: key-only descriptor (a counter per value)",
    config: { rls, rules: [rule("per-key")] },
    want: { domain: "edge", descriptors: [{ key: "per-key", rate_limit: { unit: "minute", requests_per_unit: 10 } }] },
  },
  {
    name: "global key: value _",
    config: { rls, rules: [rule("all", { key: { global: {} }, limit: { requests: 1000, per: "second" } })] },
    want: { domain: "edge", descriptors: [{ key: "all", value: "_", rate_limit: { unit: "second", requests_per_unit: 1000 } }] },
  },
  {
    name: "values: one descriptor per value (duplicates once)",
    config: { rls, rules: [rule("tiers", { values: ["free", "gold", "free"], limit: { requests: 5, per: "hour" } })] },
    want: {
      domain: "edge",
      descriptors: [
        { key: "tiers", value: "free", rate_limit: { unit: "hour", requests_per_unit: 5 } },
        { key: "tiers", value: "gold", rate_limit: { unit: "hour", requests_per_unit: 5 } },
      ],
    },
  },
  {
    name: "local rules are left out; fixed_window algorithm accepted; every service unit",
    config: {
      rls,
      rules: [
        { name: "local", key: { global: {} }, limit: { max_tokens: 5, fill_interval_ms: 100 } },
        rule("w", { algorithm: "fixed_window", limit: { requests: 7, per: "week" } }),
        rule("m", { key: { path: {} }, limit: { requests: 8, per: "month" } }),
        rule("y", { key: { client_ip: {} }, limit: { requests: 9, per: "year" } }),
        rule("d", { key: { cookie: "s" }, limit: { requests: 3, per: "day" } }),
      ],
    },
    want: {
      domain: "edge",
      descriptors: [
        { key: "w", rate_limit: { unit: "week", requests_per_unit: 7 } },
        { key: "m", rate_limit: { unit: "month", requests_per_unit: 8 } },
        { key: "y", rate_limit: { unit: "year", requests_per_unit: 9 } },
        { key: "d", rate_limit: { unit: "day", requests_per_unit: 3 } },
      ],
    },
  },
  {
    name: "_rules_ items: their global rules join (same name + same limit once), top-level rls applies",
    config: {
      rls,
      rules: [rule("a")],
      _rules_: [
        { _match_route_: ["r1"], rules: [rule("a"), rule("b", { key: { query: "k" } })] },
        { _match_domain_: ["x.example"], rules: [{ name: "l", key: { global: {} }, limit: { requests: 1, per: "second" } }] },
      ],
    },
    want: {
      domain: "edge",
      descriptors: [
        { key: "a", rate_limit: { unit: "minute", requests_per_unit: 10 } },
        { key: "b", rate_limit: { unit: "minute", requests_per_unit: 10 } },
      ],
    },
  },
];

for (const c of ok) {
  test(`serviceConfig: ${c.name}`, () => {
    assert.deepEqual(serviceConfig(c.config), c.want);
    assert.deepEqual(parse(serviceConfigYaml(c.config)), c.want);
  });
}

const bad: { name: string; config: unknown; error: RegExp }[] = [
  {
    name: "token bucket limit form",
    config: { rls, rules: [rule("tb", { limit: { max_tokens: 5, fill_interval_ms: 1000 } })] },
    error: /^rules\[0\] \("tb"\): 'limit' \{max_tokens, tokens_per_fill, fill_interval_ms\} cannot be global: .* write 'limit' as \{"requests": N, "per": "<unit>"\} or set 'scope' to "local"$/,
  },
  {
    name: "explicit token_bucket algorithm",
    config: { rls, rules: [rule("tb", { algorithm: "token_bucket" })] },
    error: /^rules\[0\] \("tb"\): 'algorithm' "token_bucket" cannot be global: .*remove 'algorithm' or set it to "fixed_window"/,
  },
  {
    name: "a unit the service does not have",
    config: { rls, rules: [rule("f", { limit: { requests: 1, per: "fortnight" } })] },
    error: /^rules\[0\] \("f"\): 'limit.per' must be one of "second", "minute", "hour", "day", "week", "month", "year" \(the rate limit service's units\), got "fortnight"$/,
  },
  {
    name: "requests over the service's uint32",
    config: { rls, rules: [rule("big", { limit: { requests: 2 ** 32, per: "second" } })] },
    error: /'limit.requests' must be an integer from 1 to 4294967295/,
  },
  {
    name: "global rule without rls",
    config: { rules: [rule("g")] },
    error: /^rules\[0\] \("g"\) has scope "global" but no 'rls' is configured: add "rls"/,
  },
  {
    name: "bad scope",
    config: { rls, rules: [rule("g", { scope: "cluster" })] },
    error: /^'rules\[0\].scope' must be "local" or "global", got "cluster"$/,
  },
  {
    name: "rls without domain",
    config: { rls: { cluster: "rls" }, rules: [rule("g")] },
    error: /^'rls.domain' must be a non-empty string, got undefined$/,
  },
  {
    name: "rls timeout out of range",
    config: { rls: { ...rls, timeout_ms: 0 }, rules: [rule("g")] },
    error: /^'rls.timeout_ms' must be an integer from 1 to 60000, got 0$/,
  },
  {
    name: "unknown rls field",
    config: { rls: { ...rls, port: 1 }, rules: [rule("g")] },
    error: /^'rls.port' is not a field of rls/,
  },
  {
    name: "no global rule",
    config: { rls, rules: [{ name: "l", key: { global: {} }, limit: { requests: 1, per: "second" } }] },
    error: /^no rule has "scope": "global"/,
  },
  {
    name: "same name, different limits",
    config: { rls, rules: [rule("a")], _rules_: [{ _match_route_: ["r"], rules: [rule("a", { limit: { requests: 3, per: "minute" } })] }] },
    error: /^_rules_\[0\]\.rules\[0\] and rules\[0\] are both named "a" but have different limits/,
  },
  {
    name: "two domains",
    config: { rls, rules: [rule("a")], _rules_: [{ _match_route_: ["r"], rls: { cluster: "rls", domain: "other" }, rules: [rule("b")] }] },
    error: /^_rules_\[0\]\.rules\[0\] uses rls domain "other" but rules\[0\] uses "edge"/,
  },
  {
    name: "values with a global key",
    config: { rls, rules: [rule("g", { key: { global: {} }, values: ["x"] })] },
    error: /'values' has no meaning with a 'global' key/,
  },
];

for (const c of bad) {
  test(`serviceConfig refuses: ${c.name}`, () => {
    assert.throws(() => serviceConfig(c.config), (e: Error) => {
      assert.equal(e.name, "RateLimitConfigError");
      assert.match(e.message, c.error);
      return true;
    });
  });
}

test("rlsOf: top level, defaults, absent", () => {
  assert.deepEqual(rlsOf({ rls, rules: [] }), { cluster: "rls", domain: "edge", timeout_ms: 100, failure_mode_deny: false });
  assert.deepEqual(rlsOf({ rules: [], _rules_: [{ _match_route_: ["r"], rls: { ...rls, timeout_ms: 250, failure_mode_deny: true } }] }),
    { cluster: "rls", domain: "edge", timeout_ms: 250, failure_mode_deny: true });
  assert.equal(rlsOf({ rules: [] }), null);
});

interface RlsJsonReply {
  overallCode: string;
  statuses: { code: string; currentLimit?: { requestsPerUnit: number; unit: string }; limitRemaining?: number }[];
}

test("the generated YAML is the real service's config: counters per value, per listed value, and one for global", async (t) => {
  const config = {
    rls,
    rules: [
      rule("per-key", { limit: { requests: 2, per: "hour" } }),
      rule("all", { key: { global: {} }, limit: { requests: 3, per: "hour" } }),
      rule("tiers", { values: ["gold"], limit: { requests: 1, per: "hour" } }),
      // YAML 1.1 words: written quoted, or the service would read a bool where it wants a string.
      rule("on", { values: ["y", "123"], limit: { requests: 1, per: "hour" } }),
    ],
  };
  const svc = await startRateLimitService(t, { config: serviceConfigYaml(config) });
  if (!svc) return;
  t.after(() => svc.stop());
  const ask = async (key: string, value: string): Promise<RlsJsonReply> => {
    const res = await fetch(`http://127.0.0.1:${svc.httpPort}/json`, {
      method: "POST",
      body: JSON.stringify({ domain: "edge", descriptors: [{ entries: [{ key, value }] }] }),
    });
    return (await res.json()) as RlsJsonReply;
  };
  const codes = async (key: string, value: string, n: number) => {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push((await ask(key, value)).overallCode);
    return out;
  };
  // Key-only: each value has its own counter of 2.
  assert.deepEqual(await codes("per-key", "alice", 3), ["OK", "OK", "OVER_LIMIT"]);
  assert.deepEqual(await codes("per-key", "bob", 3), ["OK", "OK", "OVER_LIMIT"]);
  const r = await ask("per-key", "carol");
  assert.deepEqual(r.statuses[0].currentLimit, { requestsPerUnit: 2, unit: "HOUR" });
  assert.equal(r.statuses[0].limitRemaining, 1);
  // global → value "_": one counter of 3.
  assert.deepEqual(await codes("all", "_", 4), ["OK", "OK", "OK", "OVER_LIMIT"]);
  // values: only the listed value is limited; another value matches no descriptor and is not limited.
  assert.deepEqual(await codes("tiers", "gold", 2), ["OK", "OVER_LIMIT"]);
  const other = await ask("tiers", "free");
  assert.equal(other.overallCode, "OK");
  assert.equal(other.statuses[0].currentLimit, undefined, "no limit applies to an unlisted value");
  assert.deepEqual(await codes("on", "y", 2), ["OK", "OVER_LIMIT"]);
  assert.deepEqual(await codes("on", "123", 2), ["OK", "OVER_LIMIT"]);
});
