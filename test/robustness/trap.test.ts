// A plugin that traps, in a real filter chain, on both engines from one bootstrap (abi.md §14), as Envoy
// 1.40 behaves (each seen live): FAIL_CLOSED (the default) answers the trapping request and every later one
// on a failed VM with 503 wasm_fail_stream; the deprecated fail_open: true lets the trapping request and
// later ones through; failure_policy FAIL_OPEN fails the trapping request and then leaves the plugin out;
// FAIL_RELOAD fails streams during the backoff (counted in wasm.<name>.vm_reload_backoff), then reloads.
// A failure is logged once per VM as `Function: proxy_on_request_headers failed: …`; other listeners keep
// serving. Envoy spreads fresh connections over its workers by kernel hash, so loops that must reach every
// worker's VM are bounded and assert invariants that hold for any spread.
import assert from "node:assert/strict";
import { before, after, test, type TestContext } from "node:test";
import { startEcho, type EchoServer } from "../../tools/demo/echo.ts";
import { ENGINES, startEngine, type EngineHandle } from "../helpers/engines.ts";
import { requireEnvoy } from "../helpers/envoy.ts";
import { bootstrapYaml, eventually, fixtureWasm, send, type WasmFilterYaml } from "./helpers.ts";

const WORKERS = 2;
let echo: EchoServer;
let yaml: string;

before(async () => {
  const trap = await fixtureWasm("trap");
  const lifecycle = await fixtureWasm("lifecycle");
  echo = await startEcho({ name: "stable" });
  const lc = (vmId: string): WasmFilterYaml => ({ name: `lifecycle-${vmId}`, rootId: "lifecycle", vmId, file: lifecycle });
  const tr = (vmId: string, extra: Partial<WasmFilterYaml>): WasmFilterYaml => ({ name: vmId, rootId: "trap", vmId, file: trap, ...extra });
  // Distinct vm_ids: in Envoy, filters with the same vm_id and code share one VM (and its failure).
  yaml = bootstrapYaml(
    [
      { name: "closed", cluster: "stable", filters: [lc("lc-closed"), tr("trap-closed", {})] },
      { name: "legacy", cluster: "stable", filters: [lc("lc-legacy"), tr("trap-legacy", { failOpen: true })] },
      { name: "open", cluster: "stable", filters: [lc("lc-open"), tr("trap-open", { failurePolicy: "FAIL_OPEN" })] },
      { name: "reload", cluster: "stable", filters: [lc("lc-reload"), tr("trap-reload", { failurePolicy: "FAIL_RELOAD", reloadBaseInterval: "0.5s" })] },
      { name: "other", cluster: "stable", filters: [lc("lc-other")] },
    ],
    { stable: echo.port },
  );
});

after(async () => {
  await echo?.close();
});

const VM_FAILURE = /^Function: proxy_on_request_headers failed: Uncaught RuntimeError: unreachable/;
const vmFailures = (gw: EngineHandle) => gw.logs().filter((l) => VM_FAILURE.test(l)).length;
// The lifecycle fixture logs `lc log details=<response code details>` from on_log; both engines print it as
// `wasm log <plugin> <root id> <vm id>: …`, so a listener's lines are told apart by its vm_id.
function detailsOf(gw: EngineHandle, vmId: string): string[] {
  const out: string[] = [];
  for (const line of gw.output()) {
    const i = line.indexOf("lc log details=");
    if (i < 0) continue;
    if (line.includes(` ${vmId}: lc log`)) out.push(line.slice(i + 15));
  }
  return out;
}

async function trapSuite(t: TestContext, gw: EngineHandle): Promise<void> {
  await t.test("FAIL_CLOSED (default): the trapping request and every later one on a failed VM get 503 wasm_fail_stream", async () => {
    const port = gw.port("closed");
    const healthy = await send(port, "/before");
    assert.equal(healthy.status, 200);
    assert.equal(healthy.headers["x-trap-seen"], "no", "the trap plugin runs while its VM is healthy");
    const before = vmFailures(gw);
    let fiveHundreds = 0;
    // Trap until every worker's VM has failed (each trapping request fails whichever VM serves it).
    for (let i = 0; i < 40 && vmFailures(gw) - before < WORKERS; i++) {
      const r = await send(port, "/boom", { "x-trap": "1" });
      assert.equal(r.status, 503, `trapping request ${i}`);
      assert.equal(r.body, "", "Envoy's wasm_fail_stream local reply has no body");
      assert.equal(r.headers["x-echo-upstream"], undefined, "never reached the upstream");
      fiveHundreds++;
      await new Promise((r) => setTimeout(r, 20)); // the engine logs the failure asynchronously
    }
    assert.equal(vmFailures(gw) - before, WORKERS, "one failure line per worker VM");
    for (let i = 0; i < 6; i++) {
      const r = await send(port, `/after-${i}`);
      assert.equal(r.status, 503, `request ${i} after the traps (no x-trap header) still fails closed`);
      assert.equal(r.headers["x-trap-seen"], undefined);
      fiveHundreds++;
    }
    // on_log runs after the reply is sent: wait (bounded) for the last stream's line.
    await eventually(async () => detailsOf(gw, "lc-closed").length >= fiveHundreds + 1, "every stream logged").catch(() => {});
    assert.deepEqual(detailsOf(gw, "lc-closed"), ["via_upstream", ...Array(fiveHundreds).fill("wasm_fail_stream")]);
    assert.equal(await gw.counter("http.closed.downstream_rq_5xx"), fiveHundreds);
    assert.equal(vmFailures(gw) - before, WORKERS, "logged once per VM, not per request");
  });

  await t.test("fail_open: true (deprecated): the trapping request and later ones reach the upstream without the plugin", async () => {
    const port = gw.port("legacy");
    const before = vmFailures(gw);
    for (let i = 0; i < 10; i++) {
      const r = await send(port, "/boom", { "x-trap": "1" });
      assert.equal(r.status, 200, `trapping request ${i} continues (fail open)`);
      assert.equal(r.headers["x-echo-upstream"], "stable");
      assert.equal(r.headers["x-trap-seen"], undefined, "the failed plugin's response callback is skipped");
    }
    await new Promise((r) => setTimeout(r, 50));
    const failed = vmFailures(gw) - before;
    assert.ok(failed >= 1 && failed <= WORKERS, `logged once per VM, not per request (${failed})`);
    assert.ok(detailsOf(gw, "lc-legacy").every((d) => d === "via_upstream"));
  });

  await t.test("failure_policy FAIL_OPEN: the trapping request gets 503, later ones on the failed VM skip the plugin", async () => {
    const port = gw.port("open");
    const before = vmFailures(gw);
    let refused = 0;
    for (let i = 0; i < 12; i++) {
      const r = await send(port, "/boom", { "x-trap": "1" });
      if (r.status === 503) refused++;
      else {
        assert.equal(r.status, 200, `request ${i}`);
        assert.equal(r.headers["x-echo-upstream"], "stable");
        assert.equal(r.headers["x-trap-seen"], undefined, "the plugin is left out of the chain");
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const failed = vmFailures(gw) - before;
    assert.ok(failed >= 1 && failed <= WORKERS, `VMs failed: ${failed}`);
    assert.equal(refused, failed, "exactly the request that failed each VM is refused");
  });

  await t.test("failure_policy FAIL_RELOAD: 503 during the backoff (counted), then the VM is reloaded and serves", async () => {
    const port = gw.port("reload");
    const trapped = await send(port, "/boom", { "x-trap": "1" });
    assert.equal(trapped.status, 503, "the trapping request fails");
    const backoffBefore = await gw.counter("wasm.trap-reload.vm_reload_backoff");
    let refused = 0;
    for (let i = 0; i < 6; i++) if ((await send(port, `/during-${i}`)).status === 503) refused++;
    assert.equal((await gw.counter("wasm.trap-reload.vm_reload_backoff")) - backoffBefore, refused, "each refusal during the backoff is counted");
    await new Promise((r) => setTimeout(r, 700)); // past the 0.5 s base interval
    for (let i = 0; i < 40 && (await gw.counter("wasm.trap-reload.vm_reload_success")) === 0; i++) {
      const r = await send(port, `/after-${i}`);
      assert.equal(r.status, 200, `request ${i} after the backoff`);
      assert.equal(r.headers["x-trap-seen"], "no", "the reloaded plugin runs");
    }
    assert.equal(await gw.counter("wasm.trap-reload.vm_reload_success"), 1);
    assert.equal(await gw.counter("wasm.trap-reload.vm_reload_failure"), 0);
  });

  await t.test("the other listener keeps serving, and its plugin keeps running, after the traps", async () => {
    const port = gw.port("other");
    for (let i = 0; i < 2 * WORKERS; i++) {
      const r = await send(port, `/other-${i}`, { "x-trap": "1" });
      assert.equal(r.status, 200);
      assert.equal(r.headers["x-echo-upstream"], "stable");
    }
    assert.equal(await gw.counter("wasmcustom.lc_violation"), 0, "no callback out of order on any listener");
    const [streams, logged, done, deleted] = await Promise.all(["wasmcustom.lc_streams", "wasmcustom.lc_log", "wasmcustom.lc_done", "wasmcustom.lc_delete"].map((n) => gw.counter(n)));
    assert.ok(streams > 0);
    assert.deepEqual([logged, done, deleted], [streams, streams, streams]);
  });
}

for (const engine of ENGINES) {
  test(`a trapping plugin on the ${engine} engine`, { timeout: 120_000 }, async (t) => {
    const envoy = engine === "envoy" ? requireEnvoy(t) : null;
    if (engine === "envoy" && !envoy) return;
    const gw = await startEngine(engine, yaml, envoy, { concurrency: WORKERS });
    try {
      await trapSuite(t, gw);
    } finally {
      await gw.stop();
    }
  });
}
