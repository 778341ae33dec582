// Plugin contexts and their registry: a root context per plugin instance, an HTTP context per stream, and
// which context waits for which callout (http or gRPC). dispatch.ts routes the host's callbacks here.
import { Action } from "./abi";

/** What root and stream contexts share: an id, and the answers of the callouts they start. */
export class CalloutReceiver {
  constructor(public readonly id: u32) {}
  /** The response of an http call this context started (awaitCallout(token, this.id)). */
  onHttpCallResponse(token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void {}
  /** The message of a gRPC call this context started (read it as BufferType.GRPC_RECEIVE_BUFFER). */
  onGrpcReceive(token: u32, messageSize: u32): void {}
  /** The end of a gRPC call this context started: its status (GrpcStatus), the message via getStatusMessage(). */
  onGrpcClose(token: u32, status: u32): void {}
}

/** A plugin instance (one per plugin config per VM): parses config once, creates stream contexts. */
export class RootContext extends CalloutReceiver {
  /** VM configuration (vm_config.configuration); false fails the VM start. */
  onVmStart(vmConfig: string): bool { return true; }
  /** Plugin configuration; false rejects the plugin (log the field and the rule first). */
  onConfigure(config: string): bool { return true; }
  onTick(): void {}
  onQueueReady(token: u32): void {}
  /** A new HTTP stream; null means this plugin ignores the stream. */
  createHttpContext(id: u32): HttpContext | null { return null; }
  onDone(): bool { return true; }
  onDelete(): void {}
}

/** One HTTP stream. Return Action.CONTINUE or Action.PAUSE from the header/body/trailer hooks. */
export class HttpContext extends CalloutReceiver {
  constructor(id: u32, public readonly root: RootContext) {
    super(id);
  }
  onRequestHeaders(numHeaders: u32, endOfStream: bool): u32 { return Action.CONTINUE; }
  onRequestBody(bodySize: u32, endOfStream: bool): u32 { return Action.CONTINUE; }
  onRequestTrailers(numTrailers: u32): u32 { return Action.CONTINUE; }
  onResponseHeaders(numHeaders: u32, endOfStream: bool): u32 { return Action.CONTINUE; }
  onResponseBody(bodySize: u32, endOfStream: bool): u32 { return Action.CONTINUE; }
  onResponseTrailers(numTrailers: u32): u32 { return Action.CONTINUE; }
  onLog(): void {}
  onDone(): void {}
}

type RootFactory = (id: u32) => RootContext;

const factoryIds = new Array<string>();
const factories = new Array<RootFactory>();
const roots = new Map<u32, RootContext>();
const streams = new Map<u32, HttpContext>();
/** Callout token (http or gRPC) → the context that waits for it. */
const callouts = new Map<u32, u32>();

// Every callback of a stream looks its context up; requests run their callbacks back to back, so the last
// one found is kept (cleared when that stream is deleted).
let lastStreamId: u32 = 0;
let lastStream: HttpContext | null = null;

/** Registers the plugin under its root_id; call once from the plugin's index.ts top level. */
export function registerRootContext(rootId: string, factory: RootFactory): void {
  factoryIds.push(rootId);
  factories.push(factory);
}

/** Routes the response of callout `token` (http or gRPC) to context `contextId` (a stream or a root). */
export function awaitCallout(token: u32, contextId: u32): void {
  callouts.set(token, contextId);
}

/**
 * The live context waiting for callout `token`, or null (none, or it is gone); `last` forgets the token.
 * A stream's callout answer runs with the stream as the effective context, so its host calls act on it.
 */
export function calloutReceiver(token: u32, last: bool): CalloutReceiver | null {
  if (!callouts.has(token)) return null;
  const id = callouts.get(token);
  if (last) callouts.delete(token);
  const s = streamOf(id);
  if (s !== null) return s;
  return roots.has(id) ? roots.get(id) : null;
}

/** Whether more than one plugin is registered (then root_id chooses; else the one serves any root_id). */
export function needsRootId(): bool {
  return factories.length > 1;
}

/** Creates and registers root context `id` for plugin `rootId`. */
export function createRoot(id: u32, rootId: string): void {
  let root: RootContext | null = null;
  for (let i = 0; i < factoryIds.length && root === null; i++) {
    if (factoryIds[i] == rootId) root = factories[i](id);
  }
  // Envoy config often leaves root_id empty; a module with one plugin serves any root_id.
  if (root === null) root = factories.length > 0 ? factories[0](id) : new RootContext(id);
  roots.set(id, root!);
}

/** Creates stream `id` under root `parentId` (nothing when the root is unknown or ignores streams). */
export function createStream(id: u32, parentId: u32): void {
  if (!roots.has(parentId)) return;
  const ctx = roots.get(parentId).createHttpContext(id);
  if (ctx !== null) streams.set(id, ctx);
}

export function rootOf(id: u32): RootContext | null {
  return roots.has(id) ? roots.get(id) : null;
}

export function streamOf(id: u32): HttpContext | null {
  const last = lastStream;
  if (last !== null && lastStreamId == id) return last;
  if (!streams.has(id)) return null;
  const s = streams.get(id);
  lastStreamId = id;
  lastStream = s;
  return s;
}

/** Forgets stream `id`; false when it was not a stream. */
export function deleteStream(id: u32): bool {
  if (!streams.has(id)) return false;
  streams.delete(id);
  if (lastStreamId == id) lastStream = null;
  return true;
}

/** Forgets root `id` after its onDelete. */
export function deleteRoot(id: u32): void {
  if (!roots.has(id)) return;
  roots.get(id).onDelete();
  roots.delete(id);
}
