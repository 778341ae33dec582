// Black-box scenarios (test/scenarios/*.yaml) over real HTTP through `tollgate up`: on the embedded engine
// always, and on real Envoy (ENVOY_PATH / envoy / func-e). Without Envoy the Envoy leg skips with a visible
// notice outside CI and fails under CI=true (requireEnvoy); it is never faked.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { repoRoot } from "../../tools/paths.ts";
import { requireEnvoy } from "../helpers/envoy.ts";
import { loadScenario, runCases, startScenarioGateway } from "./runner.ts";

const dir = join(repoRoot(), "test", "scenarios");
const files = readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort();

for (const f of files) {
  const s = loadScenario(join(dir, f));
  describe(`scenario ${f} (${s.config})`, () => {
    test("embedded engine", async () => {
      const gw = await startScenarioGateway(s, "embedded");
      try {
        const failures = await runCases(gw, s);
        assert.deepEqual(failures, [], `gateway output:\n${gw.output.join("\n")}`);
      } finally {
        await gw.stop();
      }
    });
    test("Envoy", async (t) => {
      if (!requireEnvoy(t)) return;
      const gw = await startScenarioGateway(s, "envoy");
      try {
        assert.deepEqual(await runCases(gw, s), [], `envoy output:\n${gw.output.join("\n")}`);
      } finally {
        await gw.stop();
      }
    });
  });
}
