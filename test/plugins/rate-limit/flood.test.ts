// Key flood: 1,000,000 distinct x-api-key values must not grow shared data beyond the rule's slots (keys
// cannot be deleted in ABI 0.2.1), must not reset a steady client's spent bucket, and must not trap or
// leak in the VM. Driven with the synchronous stream driver so a million requests stay fast. The debug
// build (about 1.5× slower per request) runs the same flood scaled down 5× — same 1000 values per slot.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { PluginTester } from "../../../tools/host/testing.ts";
import { BUILDS, load, rule } from "./support.ts";

const SIZES = { release: { maxKeys: 1000, flood: 1_000_000 }, debug: { maxKeys: 200, flood: 200_000 } } as const;

/** One request straight through the plugin's request path; true = allowed. */
function hit(t: PluginTester, key: string): boolean {
  const s = t.stream(0);
  s.requestHeaders([[":method", "GET"], [":path", "/"], [":authority", "api.example.com"], [":scheme", "http"], ["x-api-key", key]], true);
  const allowed = s.localReply === null;
  s.complete();
  return allowed;
}

for (const build of BUILDS) {
  const { maxKeys: MAX_KEYS, flood: FLOOD } = SIZES[build];
  const PROBE = FLOOD / 10;
  describe(`rate-limit key flood (${build})`, () => {
    test(`${FLOOD} distinct keys: ≤ max_keys shared-data keys, a steady key stays limited`, async (tc) => {
      const cfg = { max_keys: MAX_KEYS, rules: [rule("per-key", { header: "x-api-key" }, { requests: 5, per: "minute" })] };
      const { t, clock } = await load(build, cfg);
      try {
        assert.equal(t.sharedDataKeys().length, MAX_KEYS, "all slots exist after configure");
        const steady: boolean[] = [];
        for (let i = 0; i < 6; i++) steady.push(hit(t, "steady-client"));
        assert.deepEqual(steady, [true, true, true, true, true, false]);

        const memory = () => t.plugin.vms[0].memory.buffer.byteLength;
        let before = 0;
        let flooded = 0;
        for (let i = 0; i < FLOOD; i++) {
          if (hit(t, `flood-${i}`)) flooded++;
          if (i % PROBE === PROBE - 1) {
            assert.equal(hit(t, "steady-client"), false, `steady client after ${i + 1} flood keys`);
            if (i === PROBE - 1) before = memory();
          }
        }
        tc.diagnostic(`${flooded} of ${FLOOD} flood requests allowed`);
        const keys = t.sharedDataKeys();
        assert.ok(keys.length <= MAX_KEYS + 2, `${keys.length} shared-data keys`);
        // Each slot is a bucket of 5 shared by the values hashed to it: at most 5 × slots flood requests pass.
        assert.ok(flooded <= 5 * MAX_KEYS, `${flooded} flood requests allowed`);
        assert.ok(flooded > 4 * MAX_KEYS, `${flooded}: hashing spreads the flood over the slots`);
        const after = memory();
        assert.equal(after, before, "linear memory did not grow over the last 90% of the flood");

        // One token interval later the steady client gets exactly one more request.
        clock.advance(12000);
        assert.deepEqual([hit(t, "steady-client"), hit(t, "steady-client")], [true, false]);
        assert.equal(t.metric("rate_limit.per-key.cas_exhausted"), 0);
        assert.deepEqual(t.logsAt("critical"), []);
      } finally {
        t.close();
      }
    });
  });
}
