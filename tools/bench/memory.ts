// memory section of `tollgate bench`: per plugin, with its envoy-configs/demo.yaml configuration, a warm-up
// then N requests (1,000,000 with --full) through the host on one VM, and the VM's linear memory size in
// 64 KiB pages before and after (and its peak). Inputs alternate between targeted ones (accepted, rejected,
// local replies, a fresh key / origin / user / token on every request so caches must stay bounded) and a
// seeded pool of fuzz requests (tools/fuzz/arbitraries.ts: huge, duplicated, non-UTF-8 headers, bodies).
// A trap would make the run trivially flat, so a failed VM is an error, not a result.
import { join } from "node:path";
import fc from "fast-check";
import { requestArb, type FuzzRequest } from "../fuzz/arbitraries.ts";
import { loadBootstrap } from "../gateway/config.ts";
import { HostEnv } from "../host/env.ts";
import { Plugin } from "../host/plugin.ts";
import { repoRoot } from "../paths.ts";
import { type BenchContext, type BenchRequest, SyncDriver } from "./context.ts";

const PAGE = 65536;
const SEED = 20261122;
const POOL = 4096;

function fromFuzz(r: FuzzRequest): BenchRequest {
  return {
    method: r.method,
    path: r.path,
    authority: r.authority,
    scheme: r.scheme,
    headers: r.headers,
    body: r.body ? Buffer.from(r.body, "latin1") : undefined,
    response: { status: r.upstreamStatus, headers: r.upstreamHeaders },
  };
}

const req = (headers: Array<[string, string]>, extra: Partial<BenchRequest> = {}): BenchRequest => ({
  method: "GET", path: "/api/items?page=1", authority: "api.example.com", scheme: "https", headers, ...extra,
});

const b64 = (s: string) => Buffer.from(s).toString("base64");

/** Targeted inputs per plugin (demo config): pass, reject, local replies; `i` makes keys unique. */
const TARGETED: Record<string, (i: number) => BenchRequest> = {
  cors: (i) => {
    switch (i % 5) {
      case 0: return req([["origin", "https://app.example.com"]]);
      case 1: return req([["origin", "https://app.example.com"], ["access-control-request-method", "PUT"], ["access-control-request-headers", "content-type,x-api-key"]], { method: "OPTIONS" });
      case 2: return req([["origin", `https://evil-${i}.example.net`], ["access-control-request-method", "PUT"]], { method: "OPTIONS" }); // rejected preflight
      case 3: return req([["origin", `https://other-${i}.example.org`]]); // disallowed origin on a simple request
      default: return req([["origin", "http://localhost:3000"], ["access-control-request-method", "DELETE"], ["access-control-request-headers", `x-custom-${i}`]], { method: "OPTIONS" });
    }
  },
  auth: (i) => {
    const secure = "secure.example.com";
    switch (i % 6) {
      case 0: return req([["x-api-key", "alice-demo-key"]], { authority: secure });
      case 1: return req([["authorization", `Basic ${b64("bob:bob-password")}`]], { authority: secure });
      case 2: return req([["x-api-key", `wrong-key-${i}`]], { authority: secure }); // 401
      case 3: return req([["authorization", `Basic ${b64(`user${i}:pw${i}`)}`]], { authority: secure }); // 401
      case 4: return req([["authorization", `Bearer ${b64(`{"alg":"HS256"}`)}.${b64(`{"sub":"u${i}"}`)}.sig${i}`]], { authority: secure }); // 401
      default: return req([["x-mse-consumer", `spoofed-${i}`]]); // open host: passes, spoofed header removed
    }
  },
  "rate-limit": (i) => {
    switch (i % 4) {
      case 0: return req([["x-client-id", `client-${i}`]]); // a new client every time: the key table must stay bounded (max_keys)
      case 1: return req([["x-client-id", "hot-client"]]); // over 5/min almost at once: 429s
      case 2: return req([["x-client-id", `client-${i % 50}`]]);
      default: return req([]); // no key: not limited
    }
  },
  canary: (i) => {
    switch (i % 5) {
      case 0: return req([["x-user-id", `user-${i}`]]);
      case 1: return req([["x-beta", "true"]]);
      case 2: return req([["cookie", `canary_pin=${i % 2 ? "v2" : "v1"}; session=${i}`]]);
      case 3: return req([["x-canary", i % 2 ? "always" : "never"]]);
      default: return req([]); // anonymous: random draw + Set-Cookie pin
    }
  },
  noop: () => req([]),
};

export interface MemoryResult {
  requests: number;
  warmup: number;
  pagesBefore: number;
  pagesAfter: number;
  peakPages: number;
  memoryGrowthPages: number;
  statuses: Record<string, number>;
  localReplies: number;
}

/** One plugin with one config: warm-up, then n varied requests; pages before/after/peak. */
export async function memoryRun(spec: { wasm: string; name: string; rootId: string; vmId?: string; configuration: string }, n: number, log?: (l: string) => void): Promise<MemoryResult> {
  const env = new HostEnv({ logLevel: "critical" });
  env.maxLogs = 100;
  const plugin = await Plugin.load(env, { ...spec, workers: 1, canary: false });
  try {
    const vm = plugin.vms[0];
    const d = new SyncDriver(env, [plugin]);
    const pool = fc.sample(requestArb, { seed: SEED, numRuns: POOL }).map(fromFuzz);
    const targeted = TARGETED[spec.name] ?? TARGETED.noop;
    // Even: targeted (unique keys), odd: the fuzz pool.
    const make = (i: number): BenchRequest => (i % 2 === 0 ? targeted(i >> 1) : pool[(i >> 1) % POOL]);
    const statuses: Record<string, number> = {};
    let localReplies = 0;
    const pages = () => vm.memory.buffer.byteLength / PAGE;
    const warmup = Math.min(20_000, Math.max(2 * POOL, n));
    let i = 0;
    const run = (count: number, record: boolean) => {
      for (let k = 0; k < count; k++, i++) {
        const o = d.run(make(i));
        if (record) {
          statuses[o.status] = (statuses[o.status] ?? 0) + 1;
          if (o.localReply) localReplies++;
        }
      }
      if (vm.failed) throw new Error(`${spec.name}: the VM trapped during the memory run: ${vm.failure}`);
    };
    run(warmup, false);
    const pagesBefore = pages();
    let peakPages = pagesBefore;
    const step = 100_000;
    for (let done = 0; done < n; ) {
      const c = Math.min(step, n - done);
      run(c, true);
      done += c;
      peakPages = Math.max(peakPages, pages());
      if (n >= 500_000) log?.(`memory ${spec.name}: ${done.toLocaleString("en-US")} requests, ${pages()} pages`);
    }
    const pagesAfter = pages();
    return { requests: n, warmup, pagesBefore, pagesAfter, peakPages, memoryGrowthPages: pagesAfter - pagesBefore, statuses, localReplies };
  } finally {
    plugin.close();
  }
}

/** Every wasm filter of envoy-configs/demo.yaml, each alone with its demo configuration. */
export async function bench(ctx: Pick<BenchContext, "full" | "log">): Promise<Record<string, unknown>> {
  const n = ctx.full ? 1_000_000 : 50_000;
  const config = loadBootstrap(join(repoRoot(), "envoy-configs", "demo.yaml"), repoRoot());
  const out: Record<string, unknown> = {
    method: `per plugin (demo.yaml config, 1 VM): ${n.toLocaleString("en-US")} requests after warm-up, half targeted (accepted, rejected, local replies, a fresh key/origin/user/token each time), half from a seeded pool of ${POOL} fuzz requests; linear memory in 64 KiB pages`,
  };
  for (const f of config.listeners[0].filters) {
    const t0 = Date.now();
    const r = await memoryRun({ wasm: f.wasmFile, name: f.name, rootId: f.rootId, vmId: f.vmId, configuration: f.configuration }, n, ctx.log);
    ctx.log(`memory ${f.name}: ${r.pagesBefore} → ${r.pagesAfter} pages (peak ${r.peakPages}) over ${n.toLocaleString("en-US")} requests in ${Date.now() - t0} ms; statuses ${JSON.stringify(r.statuses)}`);
    out[f.name] = r;
  }
  return out;
}
