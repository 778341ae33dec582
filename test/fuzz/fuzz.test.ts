// CI's seeded fuzz run: 20,000 requests and 500 random configs per plugin (npm run fuzz runs 1,000,000).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { pluginWasm } from "../../tools/paths.ts";
import { fuzzPlugin } from "../../tools/fuzz/run.ts";
import { FUZZED_PLUGINS } from "../../tools/fuzz/profiles.ts";

const SEED = 20261122;
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 20000);

for (const name of FUZZED_PLUGINS) {
  test(`fuzz ${name}: no trap, documented outcomes, clean headers, schema ⇔ on_configure`, { timeout: 600_000 }, async (t) => {
    if (!existsSync(pluginWasm(name))) {
      assert.fail(`dist/plugins/${name}.wasm is missing: run npx tollgate build`);
    }
    const r = await fuzzPlugin(name, { requests: REQUESTS, configs: 500, seed: SEED });
    t.diagnostic(`${name}: ${r.requests} requests, ${r.configsChecked} configs in ${r.ms} ms; outcomes ${JSON.stringify(r.outcomes)}`);
    assert.equal(r.requests, REQUESTS);
    assert.ok(r.configsChecked === 500 || name === "noop", "every random config was checked");
  });
}
