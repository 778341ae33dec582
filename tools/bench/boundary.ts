// The boundary traffic of a bench scenario, counted on the embedded engine from the same bootstrap the
// measured Envoy runs: host calls, bytes copied each way, allocator calls and callbacks per request
// (tools/host/profile.ts). Envoy's CPU figure says how much a plugin costs; these say what it is made of,
// exactly and without noise, so a change that removes a host call shows as a count, not as a ratio that
// this machine cannot resolve.
import { loadBootstrap } from "../gateway/config.ts";
import { Gateway } from "../gateway/server.ts";
import { BoundaryProfile, type BoundarySummary } from "../host/profile.ts";
import type { RequestShape } from "./envoy-setup.ts";
import { sender } from "./envoy-measure.ts";

/** The headers of the `n`-th request (from 1) of `shape`, as the wrk script sends them (envoy-measure.ts). */
export function shapeHeaders(shape: RequestShape, n: number): Record<string, string> {
  const h: Record<string, string> = { ...shape.headers };
  for (const [name, v] of Object.entries(shape.vary ?? {})) h[name] = "values" in v ? v.values[n % v.values.length] : v.prefix + String(n % v.count);
  return h;
}

/**
 * Serves `file` with the embedded engine (one worker), sends `warmup` requests of `shape`, then counts the
 * boundary over `requests` more. The upstreams the bootstrap names must be running.
 */
export async function boundaryCounts(file: string, shape: RequestShape, requests = 200, warmup = 100): Promise<BoundarySummary & { statuses: Record<string, number> }> {
  const profile = new BoundaryProfile();
  const gw = await Gateway.start(loadBootstrap(file), { profile, workers: 1 });
  const statuses: Record<string, number> = {};
  try {
    const send = sender(`http://127.0.0.1:${gw.listeners[0].port}`);
    const request = (n: number) => send({ method: shape.method, path: shape.path, headers: shapeHeaders(shape, n) });
    for (let i = 1; i <= warmup; i++) await request(i);
    profile.reset();
    for (let i = warmup + 1; i <= warmup + requests; i++) {
      const s = String((await request(i)).status);
      statuses[s] = (statuses[s] ?? 0) + 1;
    }
    return { ...profile.perRequest(requests), statuses };
  } finally {
    await gw.close();
  }
}
