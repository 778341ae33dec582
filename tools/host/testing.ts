// The plugin test API, in the spirit of proxy-wasm-go-sdk's proxytest (abi.md §16) minus its deviations
// from Envoy: real Envoy CAS, http-call tokens, proxy_continue_stream re-delivery, response callbacks for
// local replies, on_log → on_done → on_delete. Everything runs the real compiled .wasm through the host.
// Users import it as `tollgate/testing` (tools/testing/index.ts adds pluginWasm() for `tollgate test`'s builds;
// README "Testing plugins" is the user-facing reference with an example per callback).
//
//   const t = await PluginTester.load({ wasm: "dist/plugins/cors.wasm", configuration: {...}, workers: 2 });
//   t.configured; t.loadError; t.logs; t.logsAt("critical"); t.metric("name"); t.sharedDataKeys()
//   const res = await t.exchange({ method, path, authority, scheme, headers, body, worker, properties, upstream });
//   res.status / res.header(n) / res.body / res.localReply / res.details / res.upstreamRequest?.header(n)
//   Several plugins in one chain: PluginTester.chain([{ wasm: cors, configuration }, { wasm: auth, ... }])
//   Per callback, synchronously: const s = t.stream(worker); s.requestHeaders(pairs, eos) → Envoy status
//   (Status.*); s.requestBody(chunk, eos); s.requestTrailers(pairs); s.responseHeaders / responseBody /
//   responseTrailers; s.request / s.response (the maps as the plugin left them); s.localReply;
//   s.continued; s.complete() (on_log → on_done → on_delete).
//
// VMs: like Envoy, a canary VM (worker -1) runs on_vm_start/on_configure first to validate the config and
// is then shut down; so configure-time logs appear once per worker AND once from the canary (LogRecord.worker
// tells them apart; `canary: false` skips it). Logs are recorded from trace level up (option logLevel).
// Stream attributes default to DEFAULT_PROPERTIES (source.address 10.0.0.1:40000, destination.address
// 10.0.0.2:10000, connection.mtls false); override per tester (`properties`) or per exchange.
//
// Request headers: exchange() builds exactly :method, :path, :authority, :scheme (defaults GET, /,
// example.com, http) plus `headers`. It does NOT add x-request-id, x-forwarded-proto, x-forwarded-for or
// other HCM-generated headers: pass them when a test needs them. The default upstream answers 200 with no
// body and only :status.
//
// Header names and values are byte strings (one char per byte, latin1), as Node's http module gives them;
// pass non-ASCII values as Buffer.from(utf8).toString("latin1") if a test needs UTF-8 bytes on the wire.
//
// Callouts (proxy_http_call): without a `callouts` option they stay pending: t.callouts() lists them and
// t.respond(callout, { status, headers, body } | { failure: "reset" | "timeout" }) completes one. Pending
// callouts with a timeout complete as Envoy's 504 when a ManualClock passes the timeout.
//
// Interleaving VMs (workers): each worker is its own VM; shared data is shared. A test can stop one VM
// inside a shared-data call and drive another worker synchronously:
//   t.env.sharedData.onAccess = (ev) => {            // after the op, inside proxy_get/set_shared_data
//     if (ev.worker === 0 && ev.op === "get" && !done) {
//       done = true;
//       const s = t.stream(1);                       // another VM: runs synchronously, right here
//       s.requestHeaders([[":path", "/"], ...]);
//       s.complete();                                 // on_log → on_done → on_delete
//     }
//   };
//   await t.exchange({ worker: 0, ... });
// Re-entering the SAME worker from the hook throws HostUsageError (a VM runs one callback at a time).
// Exceptions thrown by the hook (e.g. assertions) propagate to the driver call that triggered the VM call.
import { logLevelNumber, type LogLevelName } from "./abi.ts";
import { type Clock, ManualClock } from "./clock.ts";
import { type CalloutRequest, type CalloutResponse, HostEnv, type LogRecord } from "./env.ts";
import type { RouteInfo } from "./filter-api.ts";
import { HttpStream, type StreamResult, type UpstreamResponse } from "./filter-manager.ts";
import type { HeaderList, HeaderMap } from "./header-map.ts";
import { Plugin, PluginLoadError, type PluginSpec } from "./plugin.ts";
import { firstHeader, type Headers, headerList, StreamDriver } from "./stream-driver.ts";

export { type Headers, type RecordedLocalReply, Status, StreamDriver } from "./stream-driver.ts";

export interface TesterOptions extends PluginSpec {
  clock?: Clock;
  /** Performs callouts; default: they stay pending until t.respond(). */
  callouts?: (req: CalloutRequest) => UpstreamReply | CalloutResponse | Promise<UpstreamReply | CalloutResponse>;
  /** Clusters http_call may target (default: any name). */
  clusters?: string[];
  /** Default per-stream attributes (source.address, destination.address, connection.mtls, …). */
  properties?: Record<string, unknown>;
  /** Envoy `wasm` logger level (default trace in tests, so every proxy_log is recorded). */
  logLevel?: number | LogLevelName | "off";
  foreignFunctions?: Record<string, (args: Uint8Array) => Uint8Array | null>;
  random?: (buf: Uint8Array) => void;
  /** Route the stream resolves (xds.route_name, route_name, cluster_name); a function re-runs after route-cache clears. */
  route?: RouteInfo | ((h: HeaderMap) => RouteInfo | null);
  /** Share a HostEnv (shared data, metrics, logs) with other testers. */
  env?: HostEnv;
}

/** Default attributes of a downstream connection (documented; override with `properties`). */
export const DEFAULT_PROPERTIES: Record<string, unknown> = {
  "source.address": "10.0.0.1:40000",
  "destination.address": "10.0.0.2:10000",
  "connection.mtls": false,
};

export interface UpstreamReply {
  status?: number;
  headers?: Headers;
  body?: string | Uint8Array;
  trailers?: Headers;
}

export interface UpstreamView {
  headers: HeaderList;
  header(name: string): string | undefined;
  method: string;
  path: string;
  authority: string;
  body: string;
  bodyBytes: Uint8Array;
  trailers: HeaderList;
  route: RouteInfo | null;
}

export interface ExchangeRequest {
  method?: string;
  path?: string;
  authority?: string;
  scheme?: string;
  headers?: Headers;
  body?: string | Uint8Array;
  trailers?: Headers;
  worker?: number;
  properties?: Record<string, unknown>;
  upstream?: (req: UpstreamView) => UpstreamReply | Promise<UpstreamReply>;
  /** Real-time limit for the exchange; a stalled stream fails the test with the reason (default 5000 ms). */
  timeoutMs?: number;
}

export interface ExchangeResult {
  status: number;
  headers: HeaderList;
  header(name: string): string | undefined;
  headerAll(name: string): string[];
  body: string;
  bodyBytes: Uint8Array;
  trailers: HeaderList;
  localReply: boolean;
  details: string;
  reset: boolean;
  upstreamRequest: (UpstreamView & { trailers: HeaderList }) | null;
}

export interface PendingCallout extends CalloutRequest {
  header(name: string): string | undefined;
  bodyText: string;
}

function upstreamView(headers: HeaderList, body: Uint8Array, trailers: HeaderList, route: RouteInfo | null): UpstreamView {
  return {
    headers,
    header: (n) => firstHeader(headers, n),
    method: firstHeader(headers, ":method") ?? "",
    path: firstHeader(headers, ":path") ?? "",
    authority: firstHeader(headers, ":authority") ?? "",
    body: Buffer.from(body).toString("utf8"),
    bodyBytes: body,
    trailers,
    route,
  };
}

function toCalloutResponse(r: UpstreamReply | CalloutResponse): CalloutResponse {
  if ("failure" in r) return r;
  if ("headers" in r && Array.isArray(r.headers) && r.headers.some((h) => h[0] === ":status")) return r as CalloutResponse;
  const u = r as UpstreamReply;
  return { headers: [[":status", String(u.status ?? 200)], ...headerList(u.headers)], body: u.body, trailers: headerList(u.trailers) };
}

function toUpstreamResponse(r: UpstreamReply): UpstreamResponse {
  return { headers: [[":status", String(r.status ?? 200)], ...headerList(r.headers)], body: r.body, trailers: headerList(r.trailers) };
}

export class PluginTester {
  readonly env: HostEnv;
  readonly plugins: Plugin[] = [];
  /** Every plugin loaded, started and configured. */
  configured = false;
  loadError: PluginLoadError | null = null;
  private readonly pending = new Map<string, { req: PendingCallout; resolve: (r: CalloutResponse) => void }>();
  private readonly props: Record<string, unknown>;
  private readonly routeOpt: TesterOptions["route"];

  private constructor(readonly opts: TesterOptions) {
    if (opts.env) {
      this.env = opts.env;
    } else {
      this.env = new HostEnv({
        clock: opts.clock,
        logLevel: opts.logLevel ?? "trace",
        foreignFunctions: opts.foreignFunctions,
        random: opts.random,
        clusterExists: opts.clusters ? (n) => opts.clusters!.includes(n) : undefined,
      });
    }
    const user = opts.callouts;
    this.env.callouts = user
      ? async (req) => toCalloutResponse(await user(req))
      : (req) =>
          new Promise<CalloutResponse>((resolve) => {
            const view: PendingCallout = { ...req, header: (n) => firstHeader(req.headers, n), bodyText: Buffer.from(req.body).toString("utf8") };
            this.pending.set(`${req.plugin}/${req.worker}/${req.token}`, { req: view, resolve });
          });
    this.props = { ...DEFAULT_PROPERTIES, ...(opts.properties ?? {}) };
    this.routeOpt = opts.route;
  }

  /** Loads one plugin. Configuration failures do not throw: check `configured`, `loadError`, `logsAt("critical")`. */
  static async load(opts: TesterOptions): Promise<PluginTester> {
    return PluginTester.chain([opts], opts);
  }

  /** Loads several plugins into one filter chain (request order = array order), sharing one HostEnv. */
  static async chain(specs: PluginSpec[], opts: Omit<TesterOptions, "wasm"> = {}): Promise<PluginTester> {
    const t = new PluginTester({ ...opts, wasm: specs[0]?.wasm ?? "" } as TesterOptions);
    try {
      for (const s of specs) t.plugins.push(await Plugin.load(t.env, { workers: opts.workers, ...s }));
      t.configured = true;
    } catch (e) {
      if (!(e instanceof PluginLoadError)) throw e;
      t.loadError = e;
    }
    return t;
  }

  /** The last plugin of the chain (the one `stream()` drives); throws when loading failed. */
  get plugin(): Plugin {
    if (!this.plugins.length) throw new Error(`plugin not loaded: ${this.loadError?.message ?? "unknown error"}`);
    return this.plugins[this.plugins.length - 1];
  }

  /** The clock the host reads (RealClock unless `clock` was given). */
  get clock(): Clock {
    return this.env.clock;
  }

  /** The ManualClock (throws if the tester runs on the real clock). */
  get manualClock(): ManualClock {
    if (!(this.env.clock instanceof ManualClock)) throw new Error("this tester uses the real clock: pass { clock: new ManualClock() }");
    return this.env.clock;
  }

  /** Every log record (plugin proxy_log and host lines), oldest first, with level, worker and source. */
  get logs(): LogRecord[] {
    return this.env.logs;
  }

  /** Messages logged at exactly `level`. */
  logsAt(level: LogLevelName | number): string[] {
    const n = logLevelNumber(level);
    return this.env.logs.filter((l) => l.level === n).map((l) => l.message);
  }

  /** Counter/gauge value by the name the plugin defined. */
  metric(name: string): number | undefined {
    return this.env.metrics.get(name);
  }

  /** Histogram samples by name. */
  histogram(name: string): number[] {
    return this.env.metrics.find(name)?.samples ?? [];
  }

  /** Shared-data keys of the plugin's vm_id (all workers share them). */
  sharedDataKeys(vmId = this.plugin.config.vmId): string[] {
    return this.env.sharedData.keys(vmId);
  }

  /** One shared-data entry: bytes, UTF-8 text and its CAS, or undefined. */
  sharedData(key: string, vmId = this.plugin.config.vmId): { value: Buffer; text: string; cas: number } | undefined {
    const e = this.env.sharedData.get(vmId, key);
    return e ? { value: Buffer.from(e.value), text: Buffer.from(e.value).toString("utf8"), cas: e.cas } : undefined;
  }

  private route(h: HeaderMap): RouteInfo | null {
    const r = this.routeOpt;
    return typeof r === "function" ? r(h) : r ?? null;
  }

  /** Runs one HTTP exchange through the whole chain and the upstream. */
  async exchange(req: ExchangeRequest = {}): Promise<ExchangeResult> {
    if (!this.configured) throw new Error(`cannot run an exchange: the plugin was rejected: ${this.loadError?.message}`);
    const worker = req.worker ?? 0;
    const headers: HeaderList = [
      [":method", req.method ?? "GET"],
      [":path", req.path ?? "/"],
      [":authority", req.authority ?? "example.com"],
      [":scheme", req.scheme ?? "http"],
      ...headerList(req.headers),
    ];
    const filters = this.plugins.map((p) => p.createFilter(worker));
    const upstreamFn = req.upstream;
    const stream = new HttpStream(
      filters,
      async (up) => {
        const view = upstreamView(up.headers.toList(), up.body, up.trailers?.toList() ?? [], up.route);
        return toUpstreamResponse(upstreamFn ? await upstreamFn(view) : { status: 200 });
      },
      {
        clock: this.env.clock,
        properties: { ...this.props, ...(req.properties ?? {}) },
        resolveRoute: this.routeOpt === undefined ? undefined : (h) => this.route(h),
      },
    );
    const limit = req.timeoutMs ?? 5000;
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const why = stream.describeStall();
        reject(new Error(`exchange did not finish within ${limit} ms: ${why}${this.pending.size ? ` (${this.pending.size} callout(s) pending: respond with t.respond())` : ""}`));
        // Still end the stream like Envoy's idle timeout would: on_log → on_done → on_delete.
        stream.abort("test_timeout");
      }, limit);
    });
    let r: StreamResult;
    try {
      r = await Promise.race([stream.run({ headers, body: req.body, trailers: headerList(req.trailers) }), stalled]);
    } finally {
      clearTimeout(timer);
    }
    const body = Buffer.from(r.body);
    return {
      status: r.status,
      headers: r.headers,
      header: (n) => firstHeader(r.headers, n),
      headerAll: (n) => r.headers.filter((e) => e[0] === n.toLowerCase()).map((e) => e[1]),
      body: body.toString("utf8"),
      bodyBytes: body,
      trailers: r.trailers,
      localReply: r.localReply,
      details: r.details,
      reset: r.reset,
      upstreamRequest: r.upstreamRequest ? upstreamView(r.upstreamRequest.headers, r.upstreamRequest.body, r.upstreamRequest.trailers ?? [], null) : null,
    };
  }

  /** A synchronous per-callback driver for one stream of the LAST plugin in the chain on `worker`. */
  stream(worker = 0, properties?: Record<string, unknown>): StreamDriver {
    return new StreamDriver(this.plugin, worker, { ...this.props, ...(properties ?? {}) }, this.env.clock, (h) => this.route(h));
  }

  /** Pending callouts (oldest first). */
  callouts(): PendingCallout[] {
    return [...this.pending.values()].map((p) => p.req);
  }

  /** Completes a pending callout (by object, or by token when unambiguous), then lets the host deliver it. */
  async respond(callout: PendingCallout | number, resp: UpstreamReply | CalloutResponse): Promise<void> {
    const entry = typeof callout === "number"
      ? [...this.pending.entries()].filter(([, p]) => p.req.token === callout)
      : [...this.pending.entries()].filter(([, p]) => p.req === callout);
    if (entry.length !== 1) throw new Error(`no unique pending callout ${typeof callout === "number" ? `with token ${callout}` : "like that"} (pending: ${this.pending.size})`);
    const [key, p] = entry[0];
    this.pending.delete(key);
    p.resolve(toCalloutResponse(resp));
    await this.flush();
  }

  /** Lets promise callbacks and posted tasks (queue notifications, callout deliveries) run. */
  async flush(): Promise<void> {
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
  }

  /** Stops every VM of every plugin (on_done / on_delete of the root contexts). */
  close(): void {
    for (const p of this.plugins) p.close();
  }
}
