// A configured plugin (Envoy's Wasm HTTP filter config): the module is linked like Envoy links it
// (abi.md §1.1, §1.6), a canary VM validates the configuration on the "main thread" (§2.1 step 3), then
// one VM per worker is started and configured (§2.1 step 4, §2.2). createFilter() gives the stream filter.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { basename, isAbsolute, join } from "node:path";
import { repoRoot } from "../paths.ts";
import type { RootContext } from "./context.ts";
import { HttpFilterContext } from "./stream-context.ts";
import type { HostEnv, LogRecord } from "./env.ts";
import type { BodyBuffer, FilterCallbacks, HttpFilter, StreamInfo } from "./filter-api.ts";
import type { HeaderMap } from "./header-map.ts";
import { HeadersStatus, DataStatus, LogLevel, TrailersStatus } from "./abi.ts";
import { linkImports } from "./imports.ts";
import { abiVersion, type AbiVersion, formatType, readModuleInfo, sameType } from "./link.ts";
import type { FailurePolicy, PluginConfig } from "./plugin-config.ts";
import { callbackSignatures, hostSignatures } from "./signatures.ts";
import { VmLoadError, WasmVm } from "./vm.ts";

export interface PluginSpec {
  /** Path to a .wasm (relative to the cwd or the repository root) or the module bytes. */
  wasm: string | Uint8Array;
  /** Plugin name (Envoy `config.name`); default: the file name without .wasm. */
  name?: string;
  /** root_id; default: the name. */
  rootId?: string;
  /** vm_id (shared data / queue partition); default "" as in Envoy. */
  vmId?: string;
  vmConfig?: string | object;
  /** Plugin configuration: an object is passed as JSON (google.protobuf.Struct), a string raw. */
  configuration?: string | object;
  /** The deprecated fail_open (Envoy: the trapping request continues; later streams skip the plugin). */
  failOpen?: boolean;
  /** Envoy's failure_policy (default: FAIL_OPEN with failOpen, else FAIL_CLOSED). */
  failurePolicy?: FailurePolicy;
  /** FAIL_RELOAD backoff before a reload (default 1000 ms, Envoy's reload_config default). */
  reloadBackoffMs?: number;
  /** VMs = simulated worker threads (default 1). */
  workers?: number;
  allowOnHeadersStopIteration?: boolean;
  /** Serve top-level route_name / cluster_name / node (Envoy < 1.33, Higress); default false, as Envoy 1.40. */
  legacyXdsAliases?: boolean;
  /** Run a canary VM that validates the config first, as Envoy does (default true). */
  canary?: boolean;
}

export class PluginLoadError extends Error {
  constructor(readonly phase: "load" | "start" | "configure", message: string, readonly logs: LogRecord[]) {
    super(message);
    this.name = "PluginLoadError";
  }
}

interface Compiled {
  module: WebAssembly.Module;
  abi: AbiVersion;
  bytes: number;
  /** sha256 of the code: part of Envoy's VM key. */
  hash: string;
}
const compiled = new Map<string, Promise<Compiled>>();

/**
 * Running VMs by Envoy's VM key (vm_id, VM configuration, code) and worker count, per HostEnv: filters with
 * the same key share them, as Envoy shares one VM per worker thread across filters and listeners. `users`
 * counts the plugins holding them.
 */
type VmPool = Map<string, { vms: WasmVm[]; users: number }>;
const vmPools = new WeakMap<HostEnv, VmPool>();

/** The pool of VMs that plugins share in `env` (tests read it too). */
export function vmPoolOf(env: HostEnv): VmPool {
  let p = vmPools.get(env);
  if (!p) vmPools.set(env, (p = new Map()));
  return p;
}

function resolveWasmPath(p: string): string {
  if (isAbsolute(p) || existsSync(p)) return p;
  const r = join(repoRoot(), p);
  return existsSync(r) ? r : p;
}

/** Envoy's load-time checks; throws PluginLoadError("load") with Envoy's message. */
export function linkCheck(bytes: Uint8Array): AbiVersion {
  let info;
  try {
    info = readModuleInfo(bytes);
  } catch (e) {
    throw new PluginLoadError("load", `Failed to load Wasm code: ${(e as Error).message}`, []);
  }
  const abi = abiVersion(info);
  if (!abi) throw new PluginLoadError("load", "Missing or unknown Proxy-Wasm ABI version", []);
  const host = hostSignatures(abi);
  for (const imp of info.imports) {
    if (imp.kind === "memory" || imp.kind === "table") continue;
    const want = imp.kind === "function" ? host.get(imp.module)?.get(imp.name) : undefined;
    if (!want) throw new PluginLoadError("load", `Failed to load Wasm module due to a missing import: ${imp.module}.${imp.name}`, []);
    if (!sameType(imp.type!, want)) {
      throw new PluginLoadError("load",
        `Failed to load Wasm module due to an import type mismatch: ${imp.module}.${imp.name}, want: ${formatType(imp.type!)}, but host exports: ${formatType(want)}`, []);
    }
  }
  const cbs = callbackSignatures(abi);
  for (const e of info.exports) {
    const want = e.kind === "function" ? cbs.get(e.name) : undefined;
    if (want && !sameType(e.type!, want)) throw new PluginLoadError("load", `Bad function signature for: ${e.name}`, []);
  }
  return abi;
}

async function compile(bytes: Uint8Array): Promise<Compiled> {
  const key = createHash("sha256").update(bytes).digest("hex");
  let p = compiled.get(key);
  if (!p) {
    p = (async () => {
      const abi = linkCheck(bytes);
      const module = await WebAssembly.compile(bytes as BufferSource);
      return { module, abi, bytes: bytes.length, hash: key };
    })();
    compiled.set(key, p);
    p.catch(() => compiled.delete(key));
  }
  return p;
}

/** Why a VM could not serve the plugin: Envoy's load, start or configure failure. */
type VmFailure = { phase: "load" | "start" | "configure"; message: string };

/** A filter for a plugin whose VM failed with fail_open: Envoy does not add it at all (abi.md §14). */
class PassThroughFilter implements HttpFilter {
  setCallbacks(_cb: FilterCallbacks): void {}
  decodeHeaders(_h: HeaderMap, _e: boolean): number { return HeadersStatus.Continue; }
  decodeData(_b: BodyBuffer, _e: boolean): number { return DataStatus.Continue; }
  decodeTrailers(_t: HeaderMap): number { return TrailersStatus.Continue; }
  encodeHeaders(_h: HeaderMap, _e: boolean): number { return HeadersStatus.Continue; }
  encodeData(_b: BodyBuffer, _e: boolean): number { return DataStatus.Continue; }
  encodeTrailers(_t: HeaderMap): number { return TrailersStatus.Continue; }
  onLog(): void {}
  onDestroy(): void {}
}

function configBytes(v: string | object | undefined): Uint8Array {
  if (v === undefined) return new Uint8Array(0);
  return Buffer.from(typeof v === "string" ? v : JSON.stringify(v), "utf8");
}

export class Plugin {
  readonly vms: WasmVm[] = [];
  /** This plugin's root context in each worker's VM (a shared VM holds one per plugin). */
  readonly roots: RootContext[] = [];
  /** The vmPoolOf(env) key of the VMs this plugin shares (null after a FAIL_RELOAD gave it its own). */
  private poolKey: string | null = null;
  closed = false;
  /** Envoy's `wasm.<plugin name>.vm_reload_*` counters (FAIL_RELOAD). */
  readonly reloadStats = { vm_reload: 0, vm_reload_backoff: 0, vm_reload_failure: 0, vm_reload_success: 0 };

  private constructor(readonly env: HostEnv, readonly config: PluginConfig, readonly spec: PluginSpec, private readonly compiled: Compiled) {}

  get wasmBytes(): number {
    return this.compiled.bytes;
  }

  get name(): string {
    return this.config.name;
  }

  /** Links, validates (canary) and starts one VM per worker. Throws PluginLoadError. */
  static async load(env: HostEnv, spec: PluginSpec): Promise<Plugin> {
    const path = typeof spec.wasm === "string" ? resolveWasmPath(spec.wasm) : null;
    const name = spec.name ?? (path ? basename(path).replace(/(\.debug)?\.wasm$/, "") : "plugin");
    let bytes: Uint8Array;
    if (path) {
      if (!existsSync(path)) throw new PluginLoadError("load", `${spec.wasm}: no such file (build it with 'tollgate build')`, []);
      bytes = readFileSync(path);
    } else {
      bytes = spec.wasm as Uint8Array;
    }
    const firstLog = env.logs.length;
    const logsSince = () => env.logs.slice(firstLog).filter((l) => l.plugin === name || l.plugin === "");
    let c: Compiled;
    try {
      c = await compile(bytes);
    } catch (e) {
      const msg = e instanceof PluginLoadError ? e.message : `Failed to load Wasm code: ${(e as Error).message}`;
      env.log(LogLevel.Critical, `Unable to create Wasm HTTP filter ${name}: ${msg}`, { plugin: name, rootId: spec.rootId ?? name, vmId: spec.vmId ?? "", worker: -1, stream: false }, "host");
      throw new PluginLoadError("load", msg, logsSince());
    }
    const config: PluginConfig = {
      name,
      rootId: spec.rootId ?? name,
      vmId: spec.vmId ?? "",
      vmConfig: configBytes(spec.vmConfig),
      configuration: configBytes(spec.configuration),
      failOpen: spec.failOpen ?? false,
      failurePolicy: spec.failurePolicy ?? (spec.failOpen ? "FAIL_OPEN" : "FAIL_CLOSED"),
      reloadBackoffMs: spec.reloadBackoffMs ?? 1000,
      allowOnHeadersStopIteration: spec.allowOnHeadersStopIteration ?? false,
      legacyXdsAliases: spec.legacyXdsAliases ?? false,
    };
    const plugin = new Plugin(env, config, spec, c);
    // Like Envoy's base VM, the plugin holds its vm_id for its lifetime, so data the canary wrote survives.
    env.sharedData.retain(config.vmId);
    const fail = (f: VmFailure, worker: number): PluginLoadError => {
      plugin.close();
      const msg = f.phase === "load" ? f.message : `Unable to create Wasm HTTP filter ${name}: ${f.message}`;
      env.log(LogLevel.Critical, f.phase === "load" ? `Unable to create Wasm HTTP filter ${name}: ${msg}` : msg, { plugin: name, rootId: config.rootId, vmId: config.vmId, worker, stream: false }, "host");
      return new PluginLoadError(f.phase, msg, logsSince());
    };
    if (spec.canary !== false) {
      // The canary validates the configuration in a fresh VM and is killed after (abi.md §2.1 step 3).
      const canary = plugin.startVm(-1);
      if (!(canary instanceof WasmVm)) throw fail(canary, -1);
      canary.shutdown();
    }
    const workers = Math.max(1, spec.workers ?? 1);
    // Envoy keys a VM by vm_id, VM configuration and code: a filter whose key is already running joins those
    // VMs with a root context of its own. A key whose VMs have failed is not joined (and not replaced).
    const key = `${config.vmId}\0${createHash("sha256").update(config.vmConfig).digest("hex")}\0${c.hash}\0${workers}`;
    const pool = vmPoolOf(env);
    const pooled = pool.get(key);
    if (pooled && !pooled.vms.some((v) => v.failed)) {
      // A user from here on, so a failure below (close) ends only this plugin's root contexts.
      pooled.users++;
      plugin.poolKey = key;
      for (const vm of pooled.vms) {
        const failure = vm.startPlugin(config);
        if (failure) {
          vm.root?.shutdown();
          throw fail(failure, vm.worker);
        }
        plugin.vms.push(vm);
        plugin.roots.push(vm.root!);
      }
      return plugin;
    }
    for (let w = 0; w < workers; w++) {
      const vm = plugin.startVm(w);
      if (!(vm instanceof WasmVm)) throw fail(vm, w);
      plugin.vms.push(vm);
      plugin.roots.push(vm.root!);
    }
    if (!pooled) {
      pool.set(key, { vms: plugin.vms.slice(), users: 1 });
      plugin.poolKey = key;
    }
    return plugin;
  }

  /** A new VM for `worker` (-1: the canary) with this plugin started and configured in it, or why not. */
  private startVm(worker: number): WasmVm | VmFailure {
    let vm: WasmVm;
    try {
      vm = new WasmVm(this.env, this.config, this.compiled.module, this.compiled.abi, worker, linkImports);
    } catch (e) {
      return { phase: "load", message: e instanceof VmLoadError || e instanceof WebAssembly.LinkError ? e.message : `Failed to instantiate: ${(e as Error).message}` };
    }
    const failure = !vm.startVm() ? { phase: "start" as const, message: vm.failure } : vm.startPlugin();
    if (!failure) return vm;
    vm.shutdown();
    return failure;
  }

  /** The stream filter for a new request on `worker` (Envoy createFilter). */
  createFilter(worker = 0, info?: StreamInfo): HttpFilter {
    let vm = this.vms[worker % this.vms.length];
    if (vm.failed) {
      // Seen on Envoy 1.40: FAIL_OPEN leaves the plugin out; FAIL_CLOSED fails every stream (503
      // wasm_fail_stream); FAIL_RELOAD fails streams during the backoff, then the next stream reloads the VM.
      if (this.config.failurePolicy === "FAIL_OPEN") return new PassThroughFilter();
      if (this.config.failurePolicy === "FAIL_RELOAD") vm = this.reload(worker % this.vms.length);
    }
    const f = new HttpFilterContext(vm, this.roots[worker % this.vms.length], info);
    (f as { name?: string }).name = this.config.name;
    return f;
  }

  /** FAIL_RELOAD: a fresh VM for worker slot `i` once the backoff has passed (else the failed one). */
  private reload(i: number): WasmVm {
    const old = this.vms[i];
    if (Date.now() - old.failedAt < this.config.reloadBackoffMs) {
      this.reloadStats.vm_reload_backoff++;
      return old;
    }
    const vm = this.startVm(old.worker);
    if (!(vm instanceof WasmVm)) {
      this.reloadStats.vm_reload_failure++;
      old.reloadFailed();
      return old;
    }
    this.reloadStats.vm_reload_success++;
    // Other filters still sharing the failed VM keep it until they reload theirs; alone, it goes.
    const shared = this.poolKey !== null ? vmPoolOf(this.env).get(this.poolKey) : undefined;
    if (!shared || shared.users === 1) {
      old.shutdown();
      if (shared) shared.vms[i] = vm;
    }
    this.vms[i] = vm;
    this.roots[i] = vm.root!;
    return vm;
  }

  /** Shuts every VM down (root contexts get on_done / on_delete). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const shared = this.poolKey !== null ? vmPoolOf(this.env).get(this.poolKey) : undefined;
    if (shared && shared.users > 1) {
      // Others still run in these VMs: only this plugin's root contexts end.
      shared.users--;
      this.vms.forEach((vm, i) => (shared.vms.includes(vm) ? this.roots[i].shutdown() : vm.shutdown()));
    } else {
      if (shared) vmPoolOf(this.env).delete(this.poolKey!);
      for (const vm of this.vms) vm.shutdown();
    }
    this.env.sharedData.release(this.config.vmId, this.env.queues);
  }
}
