// `tollgate/testing`: the plugin test API a user's project imports (package.json exports → lib/testing.js). It
// re-exports the host's proxytest-style PluginTester (tools/host/testing.ts, where each method is documented)
// and adds where the builds are: `tollgate test` runs a project's tests once per build (release, debug) with
// TOLLGATE_WASM_BUILD set, and pluginWasm() follows it.
//
//   import { PluginTester, pluginWasm, Status } from "tollgate/testing";
//   const t = await PluginTester.load({ wasm: pluginWasm("my-plugin"), configuration: { header: "x-a" } });
//   t.configured / t.loadError / t.logsAt("critical")               configure verdict and log
//   const res = await t.exchange({ method, path, headers, body })  one request through plugin + upstream
//   res.status / res.header(n) / res.localReply / res.details       what the client got
//   res.upstreamRequest?.header(n)                                  what the upstream got
//   const s = t.stream(worker); s.requestHeaders([...], eos)        per callback → Status.Continue | StopIteration …
//   t.callouts(); await t.respond(callout, { status, body })        complete proxy_http_call
//   PluginTester.load({ ..., workers: 2 }); t.exchange({ worker: 1 }) several worker VMs sharing shared data
//   t.metric(name); t.sharedData(key); t.close()
import { existsSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "../paths.ts";

export {
  DEFAULT_PROPERTIES,
  type ExchangeRequest,
  type ExchangeResult,
  type Headers,
  type PendingCallout,
  PluginTester,
  type RecordedLocalReply,
  Status,
  StreamDriver,
  type TesterOptions,
  type UpstreamReply,
  type UpstreamView,
} from "../host/testing.ts";
export { type Clock, ManualClock, RealClock } from "../host/clock.ts";
export { type CalloutRequest, type CalloutResponse, HostEnv, type LogRecord } from "../host/env.ts";
export { PluginLoadError, type PluginSpec } from "../host/plugin.ts";
export { HostTrap, HostUsageError } from "../host/traps.ts";

/** The two builds `tollgate build` writes and `tollgate test` runs every test against. */
export type Build = "release" | "debug";

/** The build under test: TOLLGATE_WASM_BUILD (set by `tollgate test`), else release. */
export function currentBuild(): Build {
  return process.env.TOLLGATE_WASM_BUILD === "debug" ? "debug" : "release";
}

/**
 * dist/plugins/<name>.wasm (or .debug.wasm) in the project (the nearest package.json above the working directory,
 * or TOLLGATE_ROOT); throws with the command to run when the plugin is not built.
 */
export function pluginWasm(name: string, build: Build = currentBuild()): string {
  const file = join(projectRoot(), "dist", "plugins", `${name}${build === "debug" ? ".debug" : ""}.wasm`);
  if (!existsSync(file)) throw new Error(`${file} does not exist: run 'npx tollgate build ${name}' (or 'npx tollgate test', which builds first)`);
  return file;
}
