// HostEnv: what one Envoy process shares between its workers and plugins — clock, logs, stats, shared
// data and queues, the cluster manager (http callouts), foreign functions (abi.md §7, §11, §12, §15).
import { randomFillSync } from "node:crypto";
import { LOG_LEVEL_NAMES, LogLevel, logLevelNumber, type LogLevelName } from "./abi.ts";
import { type Clock, RealClock } from "./clock.ts";
import type { HeaderList } from "./header-map.ts";
import { hostCachesDefault } from "./memory.ts";
import type { BoundaryProfile } from "./profile.ts";
import { SharedData, SharedQueues } from "./shared-store.ts";
import { Metrics } from "./stats.ts";

/** Who a log record is attributed to. */
export interface LogSource {
  plugin: string;
  rootId: string;
  vmId: string;
  /** Worker index; -1 = the main-thread canary VM (or no VM). */
  worker: number;
  /** A stream context logged (Envoy's prefix then names the plugin). */
  stream: boolean;
}

export interface LogRecord {
  level: number;
  levelName: string;
  message: string;
  /** Plugin name ("" for host messages about no particular plugin). */
  plugin: string;
  vmId: string;
  /** Worker index; -1 = the main-thread canary VM that validates a configuration (abi.md §2.1). */
  worker: number;
  /** "plugin" = proxy_log / WASI stdout-stderr; "host" = Envoy's own messages (VM failed, config rejected). */
  source: "plugin" | "host";
  /** Envoy's log line: `wasm log <plugin> <root_id> <vm_id>: <msg>`. */
  line: string;
}

export interface CalloutRequest {
  cluster: string;
  headers: HeaderList;
  body: Uint8Array;
  trailers: HeaderList;
  timeoutMs: number;
  /** Who made it (for tests driving several workers). */
  plugin: string;
  worker: number;
  token: number;
}

export type CalloutResponse =
  | { headers: HeaderList; body?: Uint8Array | string; trailers?: HeaderList }
  | { failure: "timeout" | "reset" | "no_cluster" };

export interface HostEnvOptions {
  clock?: Clock;
  onLog?: (r: LogRecord) => void;
  random?: (buf: Uint8Array) => void;
  /** The cluster manager: performs an http_call (gateway: send to the cluster; tests: a function). */
  callouts?: (req: CalloutRequest, signal: AbortSignal) => Promise<CalloutResponse>;
  /** http_call to a cluster this rejects → BadArgument (abi.md §9). Default: every cluster exists. */
  clusterExists?: (name: string) => boolean;
  /**
   * Whether the cluster has a host now. Envoy's async client fails a call to a cluster without one inline
   * (no healthy upstream), so proxy_http_call returns InternalFailure (seen on 1.40). Default: always.
   */
  clusterHasHosts?: (name: string) => boolean;
  foreignFunctions?: Record<string, (args: Uint8Array) => Uint8Array | null>;
  /** Envoy's `wasm` logger level: records below it are dropped, proxy_get_log_level returns it (default info). */
  logLevel?: number | LogLevelName | "off";
  /** xds.node (Envoy's Node proto: id, cluster). */
  node?: { id?: string; cluster?: string };
  /**
   * The guest-memory decode caches (memory.ts). Default: on, unless TOLLGATE_HOST_CACHES=off. Results are
   * the same either way; off exists to measure what they save.
   */
  hostCaches?: boolean;
  /** Count the boundary traffic (profile.ts): host calls, bytes copied, allocator calls, callbacks. */
  profile?: BoundaryProfile;
}

export class HostEnv {
  readonly clock: Clock;
  readonly logs: LogRecord[] = [];
  readonly sharedData = new SharedData();
  readonly queues = new SharedQueues();
  readonly metrics = new Metrics();
  readonly foreignFunctions: Map<string, (args: Uint8Array) => Uint8Array | null>;
  logLevel: number;
  callouts: HostEnvOptions["callouts"];
  clusterExists: (name: string) => boolean;
  clusterHasHosts: (name: string) => boolean;
  random: (buf: Uint8Array) => void;
  onLog?: (r: LogRecord) => void;
  readonly node: { id: string; cluster: string };
  readonly hostCaches: boolean;
  readonly profile: BoundaryProfile | undefined;
  /** Log records kept in `logs` (oldest dropped in batches once 25% over); the gateway may lower it. */
  maxLogs = 100_000;

  constructor(opts: HostEnvOptions = {}) {
    this.clock = opts.clock ?? new RealClock();
    this.onLog = opts.onLog;
    this.random = opts.random ?? ((b) => void randomFillSync(b));
    this.callouts = opts.callouts;
    this.clusterExists = opts.clusterExists ?? (() => true);
    this.clusterHasHosts = opts.clusterHasHosts ?? (() => true);
    this.foreignFunctions = new Map(Object.entries(opts.foreignFunctions ?? {}));
    this.logLevel = logLevelNumber(opts.logLevel ?? "info");
    this.node = { id: opts.node?.id ?? "tollgate", cluster: opts.node?.cluster ?? "tollgate" };
    this.hostCaches = opts.hostCaches ?? hostCachesDefault();
    this.profile = opts.profile;
  }

  /** Records a log line if the level passes the logger level (Envoy drops the rest). */
  log(level: number, message: string, who: LogSource, source: "plugin" | "host" = "plugin"): void {
    if (level < this.logLevel) return;
    const prefix = [who.stream ? who.plugin : "", who.rootId, who.vmId].filter(Boolean).join(" ");
    const rec: LogRecord = {
      level,
      levelName: LOG_LEVEL_NAMES[level] ?? String(level),
      message,
      plugin: who.plugin,
      vmId: who.vmId,
      worker: who.worker,
      source,
      line: source === "plugin" ? `wasm log${prefix ? " " + prefix : ""}: ${message}` : message,
    };
    this.logs.push(rec);
    // Trim in batches: splicing one record off the front per log would be O(n) per log line.
    if (this.logs.length > this.maxLogs + (this.maxLogs >> 2)) this.logs.splice(0, this.logs.length - this.maxLogs);
    this.onLog?.(rec);
  }

  /** Runs `fn` on the event loop (queue-ready notifications); its errors are logged (internalError). */
  post(fn: () => void): void {
    setImmediate(() => {
      try {
        fn();
      } catch (e) {
        this.internalError("posted task", e);
      }
    });
  }

  /** A host bug or a test-hook error surfacing on the event loop: logged, never thrown into Node. */
  internalError(where: string, e: unknown): void {
    const msg = `tollgate host: ${where} failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`;
    this.log(LogLevel.Critical, msg, { plugin: "", rootId: "", vmId: "", worker: -1, stream: false }, "host");
    this.errors.push(e);
  }

  /** Errors caught on the event loop (see internalError); tests may assert it stays empty. */
  readonly errors: unknown[] = [];
}
