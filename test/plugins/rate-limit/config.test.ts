// rate-limit configuration: invalid configs are rejected at configure with one critical line naming the
// field; valid ones (every plugin.json example) are accepted. Release and debug builds.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { PluginTester } from "../../../tools/host/testing.ts";
import { repoRoot } from "../../../tools/paths.ts";
import { BUILDS, rateLimitWasm, rejectedConfig, rule } from "./support.ts";

const R = (limit: object, extra: object = {}) => rule("r", { header: "x-api-key" }, limit, extra);
const M = { requests: 10, per: "minute" };

/** [title, config, substrings the critical log must contain]. */
const INVALID: Array<[string, object | string, string[]]> = [
  ["not JSON", "{rules:", ["not valid JSON"]],
  ["no rules", {}, ["'rules' is required"]],
  ["empty rules", { rules: [] }, ["'rules' must list at least one rule"]],
  ["unknown top-level field", { rules: [R(M)], burst: 3 }, ["'burst' is not a known field"]],
  ["zero requests", { rules: [R({ requests: 0, per: "minute" })] }, ["'rules[0].limit.requests' must be an integer between 1 and 1000000000, got 0"]],
  ["negative requests", { rules: [R({ requests: -5, per: "minute" })] }, ["'rules[0].limit.requests'", "got -5"]],
  ["fractional requests", { rules: [R({ requests: 1.5, per: "minute" })] }, ["'rules[0].limit.requests'", "got 1.5"]],
  ["requests as a string", { rules: [R({ requests: "10", per: "minute" })] }, ["'rules[0].limit.requests'", "got \"10\""]],
  ["unknown per", { rules: [R({ requests: 10, per: "fortnight" })] }, ["'rules[0].limit.per' must be one of second, minute, hour, day, week, month, year, got \"fortnight\""]],
  ["a service unit on a local rule", { rules: [R({ requests: 10, per: "week" })] }, ["'rules[0].limit.per' \"week\" is a unit of the rate limit service: only rules with scope \"global\" take it"]],
  ["per without requests", { rules: [R({ per: "minute" })] }, ["'rules[0].limit.requests' is required"]],
  ["both limit forms", { rules: [R({ requests: 10, per: "minute", max_tokens: 5, fill_interval_ms: 1000 })] }, ["'rules[0].limit' must use either", "not both"]],
  ["zero max_tokens", { rules: [R({ max_tokens: 0, fill_interval_ms: 1000 })] }, ["'rules[0].limit.max_tokens' must be an integer between 1 and 1000000000, got 0"]],
  ["zero tokens_per_fill", { rules: [R({ max_tokens: 5, tokens_per_fill: 0, fill_interval_ms: 1000 })] }, ["'rules[0].limit.tokens_per_fill'", "got 0"]],
  ["negative fill_interval_ms", { rules: [R({ max_tokens: 5, fill_interval_ms: -1 })] }, ["'rules[0].limit.fill_interval_ms'", "got -1"]],
  ["max_tokens without interval", { rules: [R({ max_tokens: 5 })] }, ["'rules[0].limit.fill_interval_ms' is required"]],
  ["empty limit", { rules: [R({})] }, ["'rules[0].limit' must have"]],
  ["limit not an object", { rules: [R(5 as never)] }, ["'rules[0].limit' must be an object, got 5"]],
  ["fixed_window with the max_tokens form", { rules: [R({ max_tokens: 5, fill_interval_ms: 1000 }, { algorithm: "fixed_window" })] }, ["'rules[0].limit' must use 'requests' + 'per' with algorithm fixed_window"]],
  ["unknown algorithm", { rules: [R(M, { algorithm: "leaky_bucket" })] }, ["'rules[0].algorithm' must be one of token_bucket, fixed_window"]],
  ["status below 400", { status: 200, rules: [R(M)] }, ["'status' must be an integer between 400 and 599, got 200"]],
  ["status as a string", { status: "429", rules: [R(M)] }, ["'status'", "got \"429\""]],
  ["unknown headers mode", { headers: "draft07", rules: [R(M)] }, ["'headers' must be one of none, draft03, ietf"]],
  ["shadow not a boolean", { shadow: "yes", rules: [R(M)] }, ["'shadow' must be true or false"]],
  ["max_keys zero", { max_keys: 0, rules: [R(M)] }, ["'max_keys'", "got 0"]],
  ["max_keys too large", { max_keys: 100000000, rules: [R(M)] }, ["'max_keys' must be an integer between 1 and 100000"]],
  ["negative xff_trusted_hops", { client_ip: { xff_trusted_hops: -1 }, rules: [R(M)] }, ["'client_ip.xff_trusted_hops'", "got -1"]],
  ["rule without a name", { rules: [{ key: { global: {} }, limit: M }] }, ["'rules[0].name' is required"]],
  ["rule name with a dot", { rules: [rule("a.b", { global: {} }, M)] }, ["'rules[0].name' must be 1-64 characters"]],
  ["explicit null", { headers: null, rules: [R(M)] }, ["'headers' must not be null"]],
  ["null inside a limit", { rules: [R({ max_tokens: 5, tokens_per_fill: null, fill_interval_ms: 1000 })] }, ["'rules[0].limit.tokens_per_fill' must not be null"]],
  ["header name with a space", { rules: [rule("x", { header: "x api key" }, M)] }, ["'rules[0].key.header' must be a header name", "got \"x api key\""]],
  ["rule without a key", { rules: [{ name: "x", limit: M }] }, ["'rules[0].key' is required"]],
  ["key with two sources", { rules: [rule("x", { header: "a", query: "b" }, M)] }, ["'rules[0].key.query' cannot be combined with 'header'"]],
  ["unknown key source", { rules: [rule("x", { consumer: "a" }, M)] }, ["'rules[0].key.consumer' is not a known field"]],
  ["empty header name", { rules: [rule("x", { header: "" }, M)] }, ["'rules[0].key.header' must be a non-empty name"]],
  ["client_ip not an object", { rules: [rule("x", { client_ip: true }, M)] }, ["'rules[0].key.client_ip' must be an object"]],
  ["values with a global key", { rules: [rule("x", { global: {} }, M, { values: ["a"] })] }, ["'rules[0].values' cannot be used with key 'global'"]],
  ["empty values", { rules: [R(M, { values: [] })] }, ["'rules[0].values' must list at least one value"]],
  ["values with a number", { rules: [R(M, { values: ["a", 3] })] }, ["'rules[0].values[1]' must be a string, got 3"]],
  ["repeated value", { rules: [R(M, { values: ["a", "a"] })] }, ["'rules[0].values[1]' repeats \"a\""]],
  ["unknown rule field", { rules: [R(M, { burst: 2 })] }, ["'rules[0].burst' is not a known field"]],
  ["bad rule inside _rules_", { _rules_: [{ _match_route_: ["r"], rules: [R({ requests: 0, per: "second" })] }] }, ["'_rules_[0].rules[0].limit.requests' must be an integer between 1 and 1000000000, got 0"]],
];

for (const build of BUILDS) {
  describe(`rate-limit configuration (${build})`, () => {
    for (const [title, config, expect] of INVALID) {
      test(`rejects: ${title}`, async () => {
        const log = await rejectedConfig(build, config);
        for (const s of expect) assert.ok(log.includes(s), `expected ${JSON.stringify(s)} in:\n${log}`);
      });
    }

    test("accepts every plugin.json example", async () => {
      const doc = JSON.parse(readFileSync(join(repoRoot(), "plugins", "rate-limit", "plugin.json"), "utf8"));
      for (const ex of doc.examples as Array<{ title: string; config: object }>) {
        const t = await PluginTester.load({ wasm: await rateLimitWasm(build), configuration: ex.config });
        try {
          assert.ok(t.configured, `${ex.title}: ${t.logs.map((l) => l.message).join(" | ")}`);
        } finally {
          t.close();
        }
      }
    });
  });
}
