// The bootstrap builders black-box tests use (the bench uses the same ones: tools/envoy/bootstrap.ts), and the
// probe-in-front-of-an-echo setup several test files share.
import { after, before } from "node:test";
import { startEcho, type EchoServer } from "../../tools/demo/echo.ts";
import { fixtureWasm } from "../robustness/helpers.ts";

export { bootstrapDoc, DIRECT_OK, loopbackCluster, pluginFilter, wasmFilter, type ListenerSpec } from "../../tools/envoy/bootstrap.ts";

/**
 * For a test file whose bootstrap is the probe fixture in front of one echo upstream ("stable"): builds the
 * probe and starts the echo before the tests, stops it after. Read the fields inside tests.
 */
export function useProbeAndEcho(): { readonly probe: string; readonly echo: EchoServer } {
  const ctx: { probe: string; echo: EchoServer | null } = { probe: "", echo: null };
  before(async () => {
    ctx.probe = await fixtureWasm("probe");
    ctx.echo = await startEcho({ name: "stable" });
  });
  after(async () => ctx.echo?.close());
  return {
    get probe() {
      return ctx.probe;
    },
    get echo() {
      return ctx.echo!;
    },
  };
}
