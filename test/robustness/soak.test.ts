// A short soak of the embedded gateway (demo.yaml, every plugin, 2 VMs each) under concurrent load: no
// connection errors, only the statuses the demo documents, no VM failure, and every stream context released
// once the load stops (each stream got on_log/on_done/on_delete). No timing or memory-size assertions: how
// many requests a few seconds hold depends on the machine (linear memory is checked by request count in
// `tollgate bench`'s memory section). The long run with heap/RSS figures is `tollgate bench --soak`.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { test } from "node:test";
import { runSoak } from "../../tools/bench/soak.ts";
import { pluginWasm } from "../../tools/paths.ts";

test("gateway soak (5 s, 20 connections, all demo plugins): clean statuses, no leaked stream contexts", { timeout: 120_000 }, async (t) => {
  for (const p of ["cors", "noop", "auth", "rate-limit", "canary"]) {
    if (!existsSync(pluginWasm(p))) assert.fail(`${pluginWasm(p)} is missing: run npx tollgate build`);
  }
  const r = await runSoak({ seconds: 5, warmupSeconds: 2, connections: 20 });
  t.diagnostic(`${r.requests} requests, statuses ${JSON.stringify(r.statuses)}; heap ${r.afterWarmup.heapUsedMB} → ${r.end.heapUsedMB} MB, rss ${r.afterWarmup.rssMB} → ${r.end.rssMB} MB`);
  assert.ok(r.requests > 0);
  assert.equal(r.errors, 0, "no connection errors");
  assert.equal(r.timeouts, 0, "no request timed out");
  // The mix: passes (200), preflights (204), missing/invalid credentials (401), the hot key over its limit (429).
  for (const s of Object.keys(r.statuses)) assert.ok(["200", "204", "401", "429"].includes(s), `undocumented status ${s}: ${JSON.stringify(r.statuses)}`);
  assert.ok((r.statuses["401"] ?? 0) > 0 && (r.statuses["429"] ?? 0) > 0, "rejections were exercised");
  assert.equal(r.failedVms, 0);
  assert.equal(r.liveStreamContexts, 0, "every stream context was released");
});
