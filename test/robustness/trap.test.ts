// A plugin that traps, in a real filter chain through the embedded gateway (abi.md §14): with fail_open
// false every later request on a failed VM gets 503 wasm_fail_stream; with fail_open true the plugin is
// skipped; the trap is logged once per VM with its message; other listeners keep serving.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startEcho, type EchoServer } from "../../tools/demo/echo.ts";
import type { Gateway } from "../../tools/gateway/server.ts";
import type { LogRecord } from "../../tools/host/env.ts";
import { bootstrapYaml, counter, fixtureWasm, listenerPort, send, startGateway } from "./helpers.ts";

let echo: EchoServer;
let gw: Gateway;
const logs: LogRecord[] = [];
const WORKERS = 2;

before(async () => {
  const trap = await fixtureWasm("trap");
  const lifecycle = await fixtureWasm("lifecycle");
  echo = await startEcho({ name: "stable" });
  const lc = (vmId: string) => ({ name: `lifecycle-${vmId}`, rootId: "lifecycle", vmId, file: lifecycle });
  // Distinct vm_ids: in Envoy, filters with the same vm_id and code share one VM (and its failure).
  const yaml = bootstrapYaml(
    [
      { name: "closed", cluster: "stable", filters: [lc("lc-closed"), { name: "trap-closed", rootId: "trap", vmId: "trap-closed", file: trap, failOpen: false }] },
      { name: "open", cluster: "stable", filters: [lc("lc-open"), { name: "trap-open", rootId: "trap", vmId: "trap-open", file: trap, failOpen: true }] },
      { name: "other", cluster: "stable", filters: [lc("lc-other")] },
    ],
    { stable: echo.port },
  );
  gw = await startGateway(yaml, { workers: WORKERS, onLog: (r) => logs.push(r) });
});

after(async () => {
  await gw?.close();
  await echo?.close();
});

const vmFailures = (plugin: string) => logs.filter((l) => l.source === "host" && l.plugin === plugin && l.message.startsWith("Wasm VM failed"));
const detailsLogged = (vmId: string) => logs.filter((l) => l.vmId === vmId && l.message.startsWith("lc log details=")).map((l) => l.message.slice(15));

test("fail_open: false — the trapping request and every later one on the failed VMs get 503 wasm_fail_stream", async () => {
  const port = listenerPort(gw, "closed");
  const healthy = await send(port, "/before");
  assert.equal(healthy.status, 200);
  assert.equal(healthy.headers["x-trap-seen"], "no", "the trap plugin runs while its VM is healthy");

  // Fresh connections are pinned round-robin, so WORKERS trapping requests in a row reach every VM.
  for (let i = 0; i < WORKERS; i++) {
    const r = await send(port, "/boom", { "x-trap": "1" });
    assert.equal(r.status, 503, `trapping request ${i}`);
    assert.equal(r.body, "", "Envoy's wasm_fail_stream local reply has no body");
    assert.equal(r.headers["x-echo-upstream"], undefined, "never reached the upstream");
  }
  for (let i = 0; i < 6; i++) {
    const r = await send(port, `/after-${i}`);
    assert.equal(r.status, 503, `request ${i} after the traps (no x-trap header) still fails closed`);
    assert.equal(r.headers["x-trap-seen"], undefined);
  }
  // The access-log view (lifecycle plugin earlier in the same chain) names the reason.
  const details = detailsLogged("lc-closed");
  assert.deepEqual(details, ["via_upstream", ...Array(WORKERS + 6).fill("wasm_fail_stream")]);
  assert.equal(await counter(gw, "http.closed.downstream_rq_5xx"), WORKERS + 6);

  const failures = vmFailures("trap-closed");
  assert.equal(failures.length, WORKERS, `logged once per VM, not per request: ${failures.map((f) => f.line).join("\n")}`);
  assert.deepEqual(failures.map((f) => f.worker).sort(), [0, 1]);
  for (const f of failures) {
    assert.match(f.message, /^Wasm VM failed: Function: proxy_on_request_headers failed: Uncaught RuntimeError: unreachable/);
    assert.equal(f.level, 4, "logged at error");
  }
});

test("fail_open: true — the trapping request and later ones pass to the upstream without the plugin", async () => {
  const port = listenerPort(gw, "open");
  for (let i = 0; i < WORKERS; i++) {
    const r = await send(port, "/boom", { "x-trap": "1" });
    assert.equal(r.status, 200, `trapping request ${i} continues (fail open)`);
    assert.equal(r.headers["x-echo-upstream"], "stable");
    assert.equal(r.headers["x-trap-seen"], undefined, "the failed plugin's response callback is skipped");
  }
  for (let i = 0; i < 4; i++) {
    const r = await send(port, `/after-${i}`, { "x-trap": "again" });
    assert.equal(r.status, 200);
    assert.equal(r.headers["x-trap-seen"], undefined, "the plugin is no longer in the chain");
  }
  assert.ok(detailsLogged("lc-open").every((d) => d === "via_upstream"));
  const failures = vmFailures("trap-open");
  assert.equal(failures.length, WORKERS, "logged once per VM");
  for (const f of failures) assert.match(f.message, /Uncaught RuntimeError: unreachable/);
});

test("the other listener keeps serving, and its plugin keeps running, after the traps", async () => {
  const port = listenerPort(gw, "other");
  for (let i = 0; i < 2 * WORKERS; i++) {
    const r = await send(port, `/other-${i}`, { "x-trap": "1" });
    assert.equal(r.status, 200);
    assert.equal(r.headers["x-echo-upstream"], "stable");
  }
  assert.equal(vmFailures("lifecycle-lc-other").length, 0);
  assert.equal(await counter(gw, "wasmcustom.lc_violation"), 0, "no callback out of order on any listener");
  // Every stream of every listener was logged, done and deleted exactly once (the trap VMs' own callbacks aside).
  const [streams, logged, done, deleted] = await Promise.all(["wasmcustom.lc_streams", "wasmcustom.lc_log", "wasmcustom.lc_done", "wasmcustom.lc_delete"].map((n) => counter(gw, n)));
  assert.ok(streams > 0);
  assert.deepEqual([logged, done, deleted], [streams, streams, streams]);
});
