// Key flood: 1,000,000 distinct x-api-key values must not grow shared data beyond the rule's sets (keys
// cannot be deleted in ABI 0.2.1), must not reset a steady client's spent bucket, must not lock out a new
// client, and must not trap or leak in the VM. (test/security/key-flood.test.ts has the lockout attack.) Driven with the synchronous stream driver so a million requests stay fast. The debug
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
    test(`${FLOOD} distinct keys: max_keys slots in max_keys/8 shared-data keys, a steady key stays limited`, async (tc) => {
      const cfg = { max_keys: MAX_KEYS, rules: [rule("per-key", { header: "x-api-key" }, { requests: 5, per: "minute" })] };
      const { t, clock } = await load(build, cfg);
      const bytes = () => t.sharedDataKeys().reduce((n, k) => n + t.sharedData(k)!.value.length, 0);
      try {
        assert.equal(t.sharedDataKeys().length, MAX_KEYS / 8, "all sets (8 slots each) exist after configure");
        assert.equal(bytes(), MAX_KEYS * 16, "16 bytes per slot");
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
        assert.equal(keys.length, MAX_KEYS / 8, `${keys.length} shared-data keys`);
        assert.equal(bytes(), MAX_KEYS * 16, "shared data did not grow");
        // Every fresh value gets its own bucket (it never shares an exhausted one): all flood requests pass.
        assert.equal(flooded, FLOOD, `${flooded} flood requests allowed`);
        const after = memory();
        assert.equal(after, before, "linear memory did not grow over the last 90% of the flood");
        // A client that arrives after the flood gets its whole budget.
        const fresh: boolean[] = [];
        for (let i = 0; i < 6; i++) fresh.push(hit(t, "new-client"));
        assert.deepEqual(fresh, [true, true, true, true, true, false]);
        // Each flood value evicted another that had spent as little (one request): never the steady client.
        tc.diagnostic(`${t.metric("tollgate.rule=.=per-key;.;rate_limit_evictions_total")} evictions`);

        // One token interval later the steady client gets exactly one more request.
        clock.advance(12000);
        assert.deepEqual([hit(t, "steady-client"), hit(t, "steady-client")], [true, false]);
        assert.equal(t.metric("tollgate.rule=.=per-key;.;rate_limit_cas_exhausted_total"), 0);
        assert.deepEqual(t.logsAt("critical"), []);
      } finally {
        t.close();
      }
    });
  });
}
