// Contexts and the lifecycle of callbacks (abi.md §2): the VM context (id 0) and a plugin's root context
// (vm start, configure, ticks, queues, http call responses, shutdown). The HTTP stream context is in
// stream-context.ts. Contexts reach their VM through ContextHost, which WasmVm implements.
import { BufferType, ContextKind, MapType } from "./abi.ts";
import type { HostEnv } from "./env.ts";
import type { BodyBuffer } from "./filter-api.ts";
import type { HeaderMap } from "./header-map.ts";
import type { PluginConfig } from "./plugin-config.ts";

/** A guest export as the host calls it. */
export type GuestFn = (...args: number[]) => number;

/** What a context needs from the VM it lives in (WasmVm). */
export interface ContextHost {
  readonly env: HostEnv;
  /** The plugin being served (the calling context's). */
  readonly plugin: PluginConfig;
  readonly failed: boolean;
  /** The last top-level callback called send_local_response: its result converts to Stop (abi.md §2.4). */
  readonly lastCallStopped: boolean;
  /** The guest's exported functions, looked up once. */
  readonly ex: Readonly<Record<string, GuestFn | undefined>>;
  invoke(ctx: Context, name: string, fn: GuestFn, a?: number, b?: number, c?: number, d?: number, e?: number): number;
  newContextId(): number;
  addContext(c: Context): void;
  removeContext(id: number): void;
}

/** An outstanding proxy_http_call of a root context (http-calls.ts). */
export interface HttpCallState {
  token: number;
  cancel(): void;
}

export const EMPTY = new Uint8Array(0);

export abstract class Context {
  abstract readonly kind: ContextKind;
  /**
   * The plugin this context belongs to. Filters with the same vm_id, VM configuration and code share one VM
   * per worker, as in Envoy, each with its own root context: the VM serves the calling context's plugin.
   */
  readonly pluginConfig: PluginConfig;
  constructor(readonly vm: ContextHost, readonly id: number, plugin?: PluginConfig) {
    this.pluginConfig = plugin ?? vm.plugin;
  }
  abstract rootContext(): RootContext | null;
  /** Header map for reads (getConstMap); undefined = unavailable. */
  constMap(type: number): HeaderMap | undefined {
    if (type === MapType.HttpCallResponseHeaders || type === MapType.HttpCallResponseTrailers) {
      const call = this.rootContext()?.inCallResponse;
      if (!call) return undefined;
      return type === MapType.HttpCallResponseHeaders ? call.headers : call.trailers;
    }
    return undefined;
  }
  /** Header map for mutation (getMap); undefined = unavailable → BadArgument. */
  mutableMap(_type: number): HeaderMap | undefined {
    return undefined;
  }
  /** Buffer for proxy_get/set_buffer_*: undefined = NotFound; `mutable` false = BadArgument on set. */
  buffer(type: number): { data: Uint8Array; body?: BodyBuffer } | undefined {
    const root = this.rootContext();
    switch (type) {
      case BufferType.VmConfiguration:
        return { data: this.vm.plugin.vmConfig };
      case BufferType.PluginConfiguration:
        return root?.configuring ? { data: this.vm.plugin.configuration } : undefined;
      case BufferType.HttpCallResponseBody:
        return root?.inCallResponse ? { data: root.inCallResponse.body } : undefined;
      case BufferType.GrpcReceiveBuffer:
        return { data: root?.grpcReceive ?? EMPTY };
      case BufferType.HttpRequestBody:
      case BufferType.HttpResponseBody:
      case BufferType.NetworkDownstreamData:
      case BufferType.NetworkUpstreamData:
      case BufferType.CallData:
        return { data: EMPTY };
    }
    return undefined;
  }
  onVmFailed(): void {}
  release(): void {
    this.vm.removeContext(this.id);
  }
}

/** Context 0: runs _initialize/_start and malloc. */
export class VmContext extends Context {
  readonly kind = ContextKind.Vm;
  constructor(vm: ContextHost) {
    super(vm, 0);
  }
  rootContext(): RootContext | null {
    return null;
  }
}

/** A plugin's root context in one VM (abi.md §2.2, §2.8). */
export class RootContext extends Context {
  readonly kind = ContextKind.Root;
  created = false;
  /** PluginConfiguration is readable only during proxy_on_configure (abi.md §2.2). */
  configuring = false;
  statusCode = 0;
  statusMessage = "";
  tickPeriod = 0;
  tickTimer: unknown = null;
  readonly httpCalls = new Map<number, HttpCallState>();
  inCallResponse: { headers: HeaderMap; body: Uint8Array; trailers: HeaderMap } | null = null;
  /** Outstanding proxy_grpc_call calls (grpc-calls.ts), cancelled with the root context as in Envoy. */
  readonly grpcCalls = new Map<number, HttpCallState>();
  /** The response message while proxy_on_grpc_receive runs (GrpcReceiveBuffer). */
  grpcReceive: Uint8Array | null = null;
  /** on_done returned false: waiting for proxy_done (abi.md §2.8). */
  pendingDone = false;
  deleted = false;

  constructor(vm: ContextHost, plugin: PluginConfig) {
    super(vm, vm.newContextId(), plugin);
    vm.addContext(this);
  }

  rootContext(): RootContext {
    return this;
  }

  private create(): void {
    if (this.created) return;
    this.created = true;
    const f = this.vm.ex.proxy_on_context_create;
    if (f) this.vm.invoke(this, "proxy_on_context_create", f, this.id, 0);
  }

  /** on_context_create(root, 0) → on_vm_start(root, vm_config size); false = start failed. */
  onStart(): boolean {
    this.create();
    if (this.vm.failed) return false;
    const f = this.vm.ex.proxy_on_vm_start;
    if (!f) return true;
    const r = this.vm.invoke(this, "proxy_on_vm_start", f, this.id, this.vm.plugin.vmConfig.length);
    return !this.vm.failed && r !== 0;
  }

  /** on_configure(root, plugin config size); the configuration buffer exists only during the call. */
  onConfigure(): boolean {
    this.create();
    if (this.vm.failed) return false;
    const f = this.vm.ex.proxy_on_configure;
    if (!f) return true;
    this.configuring = true;
    let r: number;
    try {
      r = this.vm.invoke(this, "proxy_on_configure", f, this.id, this.vm.plugin.configuration.length);
    } finally {
      this.configuring = false;
    }
    return !this.vm.failed && r !== 0;
  }

  onTick(): void {
    const f = this.vm.ex.proxy_on_tick;
    if (f && !this.vm.failed && !this.deleted) this.vm.invoke(this, "proxy_on_tick", f, this.id);
  }

  onQueueReady(token: number): void {
    const f = this.vm.ex.proxy_on_queue_ready;
    if (f && !this.vm.failed && !this.deleted) this.vm.invoke(this, "proxy_on_queue_ready", f, this.id, token);
  }

  /** Plugin shutdown: on_done(root); true → on_delete; false → wait for proxy_done (abi.md §2.8). */
  shutdown(): void {
    this.stopTimers();
    if (this.vm.failed || this.deleted || !this.created) return;
    const f = this.vm.ex.proxy_on_done;
    const done = f ? this.vm.invoke(this, "proxy_on_done", f, this.id) !== 0 : true;
    if (done) this.delete();
    else this.pendingDone = true;
  }

  delete(): void {
    if (this.deleted) return;
    this.deleted = true;
    this.pendingDone = false;
    const f = this.vm.ex.proxy_on_delete;
    if (f && !this.vm.failed) this.vm.invoke(this, "proxy_on_delete", f, this.id);
  }

  stopTimers(): void {
    if (this.tickTimer !== null) this.vm.env.clock.clearTimer(this.tickTimer);
    this.tickTimer = null;
    for (const c of this.httpCalls.values()) c.cancel();
    this.httpCalls.clear();
    for (const c of this.grpcCalls.values()) c.cancel();
    this.grpcCalls.clear();
  }

  onVmFailed(): void {
    this.stopTimers();
  }

  release(): void {
    this.stopTimers();
    super.release();
  }
}
