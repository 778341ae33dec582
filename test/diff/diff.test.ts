// Differential test (CI size): the seeded corpus of tools/diff sent in lockstep to real Envoy and to the
// embedded engine for every envoy-configs file; a difference not explained by test/diff/allowlist.yaml
// fails. The long run is `npm run diff -- --requests 10000`. Under CI=true a missing Envoy fails (requireEnvoy).
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { DIFF_CONFIGS, diffConfig, formatReport, loadAllowlist } from "../../tools/diff/run.ts";
import { repoRoot } from "../../tools/paths.ts";
import { requireEnvoy } from "../helpers/envoy.ts";

/** Requests per config: enough for every adversarial case to come up, small enough for ~1 min in total. */
const REQUESTS = Number(process.env.TOLLGATE_DIFF_REQUESTS ?? 300);
const SEED = 20261207;

describe("differential: Envoy vs the embedded engine", () => {
  test("every envoy-configs file is in the differential run", () => {
    const files = readdirSync(join(repoRoot(), "envoy-configs")).filter((f) => f.endsWith(".yaml")).map((f) => `envoy-configs/${f}`).sort();
    assert.deepEqual(DIFF_CONFIGS.map((c) => c.config).sort(), files);
  });

  test("every allowlist entry names its Envoy source and still matches something Envoy does", () => {
    for (const e of loadAllowlist()) {
      assert.ok(/\.(cc|h)\b/.test(e.envoy_source), `${e.id}: envoy_source must name an Envoy source file, got ${e.envoy_source}`);
      assert.doesNotThrow(() => new RegExp(e.field), `${e.id}: field is not a regular expression`);
    }
  });

  for (const dc of DIFF_CONFIGS) {
    test(`${dc.config}: ${REQUESTS} requests, no unexplained difference`, async (t) => {
      if (!requireEnvoy(t)) return;
      const r = await diffConfig(dc, { requests: REQUESTS, seed: SEED });
      assert.equal(r.sent, REQUESTS);
      assert.equal(r.unexplained, 0, formatReport([{ ...r, signatures: r.signatures.filter((s) => !s.allow) }]));
    });
  }
});
