// The differential harness: one seeded corpus, sent in lockstep to real Envoy and to the embedded engine,
// both started by `tollgate up` from the same bootstrap; every difference is either explained by an entry
// of the allowlist (test/diff/allowlist.yaml, each citing the Envoy source) or reported as a failure.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { repoRoot } from "../paths.ts";
import { compare, type Difference, type Outcome } from "./compare.ts";
import { buildCorpus, type CorpusItem, type CorpusProfile } from "./corpus.ts";
import { startGateway, type RunningGateway } from "./gateway.ts";
import { encodeRequest, WireClient } from "./wire.ts";

export interface DiffConfig extends CorpusProfile {
  /** The envoy-configs file (relative to the repository root). */
  config: string;
  /**
   * Requests per second at most (0 = as fast as lockstep allows): each request is sent at least 1000/maxRps
   * ms after both engines answered the previous one. rate-limit.yaml has a global token bucket refilled at
   * 100 per second on each engine's own clock: paced below that, every request finds the bucket full on both
   * (X-RateLimit-Remaining 99, as Envoy's own local_ratelimit answers); sent faster, what a request finds
   * would depend on each engine's timing, not on behaviour.
   */
  maxRps: number;
}

/** Every file in envoy-configs/, with what its plugins need to be compared honestly (see CorpusProfile). */
export const DIFF_CONFIGS: DiffConfig[] = [
  { config: "envoy-configs/demo.yaml", listeners: ["demo"], rateLimitKeys: ["x-client-id"], canaryStickyHeader: "x-user-id", maxRps: 0 },
  { config: "envoy-configs/auth.yaml", listeners: ["auth", "authz", "authz-open"], rateLimitKeys: [], canaryStickyHeader: null, maxRps: 0 },
  { config: "envoy-configs/canary.yaml", listeners: ["canary"], rateLimitKeys: [], canaryStickyHeader: "x-user-id", maxRps: 0 },
  { config: "envoy-configs/cors.yaml", listeners: ["cors"], rateLimitKeys: [], canaryStickyHeader: null, maxRps: 0 },
  { config: "envoy-configs/noop.yaml", listeners: ["noop"], rateLimitKeys: [], canaryStickyHeader: null, maxRps: 0 },
  { config: "envoy-configs/rate-limit.yaml", listeners: ["rate-limit"], rateLimitKeys: ["x-api-key"], canaryStickyHeader: null, maxRps: 80 },
];

export interface AllowEntry {
  id: string;
  /** Regular expression over Difference.field. */
  field: string;
  /** Regular expressions over the corpus label, Envoy's value and the engine's value (all optional). */
  label?: string;
  envoy?: string;
  embedded?: string;
  /** Why Envoy does it, in one sentence. */
  reason: string;
  /** The Envoy source file (and function) that explains it. */
  envoy_source: string;
}

export function loadAllowlist(file = join(repoRoot(), "test", "diff", "allowlist.yaml")): AllowEntry[] {
  const doc = parse(readFileSync(file, "utf8")) as { differences?: AllowEntry[] } | null;
  const list = doc?.differences ?? [];
  for (const e of list) if (!e.id || !e.field || !e.reason || !e.envoy_source) throw new Error(`${file}: entry ${JSON.stringify(e.id)} needs id, field, reason and envoy_source`);
  return list;
}

function allowedBy(list: AllowEntry[], d: Difference, label: string): AllowEntry | null {
  for (const e of list) {
    if (!new RegExp(e.field).test(d.field)) continue;
    if (e.label && !new RegExp(e.label).test(label)) continue;
    if (e.envoy && !new RegExp(e.envoy).test(d.envoy)) continue;
    if (e.embedded && !new RegExp(e.embedded).test(d.embedded)) continue;
    return e;
  }
  return null;
}

export interface Signature {
  /** Field + corpus label: one kind of difference. */
  key: string;
  requests: number;
  allow: string | null;
  example: { index: number; listener: string; label: string; raw: string; difference: Difference };
}

export interface ConfigReport {
  config: string;
  sent: number;
  /** Requests with at least one difference the allowlist does not explain. */
  unexplained: number;
  /** Requests whose only differences are allowlisted. */
  allowlisted: number;
  signatures: Signature[];
  ms: number;
}

export interface DiffOptions {
  requests: number;
  seed: number;
  configs?: string[];
  allowlist?: AllowEntry[];
  log?: (line: string) => void;
}

async function send(c: WireClient, item: CorpusItem): Promise<Outcome> {
  try {
    return { ok: true, res: await c.send(item.request) };
  } catch (e) {
    c.close();
    return { ok: false, error: (e as Error).message };
  }
}

/** Runs the corpus against one config on both engines. */
export async function diffConfig(dc: DiffConfig, o: DiffOptions): Promise<ConfigReport> {
  const started = Date.now();
  const allow = o.allowlist ?? loadAllowlist();
  const gws: RunningGateway[] = [];
  try {
    gws.push(...(await Promise.all((["envoy", "embedded"] as const).map((engine) => startGateway({ config: dc.config, engine })))));
    const clients = dc.listeners.map((l) =>
      gws.map((g) => {
        const url = g.listeners.get(l);
        if (!url) throw new Error(`${dc.config}: listener ${l} not reported by ${g.engine}:\n${g.output.join("\n")}`);
        const u = new URL(url);
        return new WireClient(u.hostname, Number(u.port), 10_000);
      }),
    );
    // Distinct seeds per config, reproducible from the run's seed.
    const seed = o.seed + DIFF_CONFIGS.findIndex((c) => c.config === dc.config) * 7919;
    const corpus = buildCorpus(o.requests, seed, dc);
    const sigs = new Map<string, Signature>();
    let unexplained = 0;
    let allowlisted = 0;
    const gap = dc.maxRps > 0 ? 1000 / dc.maxRps : 0;
    let next = Date.now();
    for (const item of corpus) {
      if (gap) {
        const wait = next - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      const li = item.index % dc.listeners.length;
      const [envoy, embedded] = await Promise.all([send(clients[li][0], item), send(clients[li][1], item)]);
      // The gap runs from the slower answer, not from the send: an engine that was slow to process one
      // request must not see the next one sooner than `gap` later (a catch-up send would make its bucket
      // one token short where the other engine's is not).
      next = Date.now() + gap;
      const diffs = compare(item.request, envoy, embedded);
      if (!diffs.length) continue;
      let any = false;
      for (const d of diffs) {
        const a = allowedBy(allow, d, item.label);
        if (!a) any = true;
        const key = `${d.field} [${item.label}]`;
        const s = sigs.get(key);
        if (s) s.requests++;
        else
          sigs.set(key, {
            key,
            requests: 1,
            allow: a?.id ?? null,
            example: { index: item.index, listener: dc.listeners[li], label: item.label, raw: JSON.stringify(encodeRequest(item.request).toString("latin1").slice(0, 2000)), difference: d },
          });
      }
      if (any) unexplained++;
      else allowlisted++;
    }
    for (const row of clients) for (const c of row) c.close();
    const report: ConfigReport = { config: dc.config, sent: corpus.length, unexplained, allowlisted, signatures: [...sigs.values()].sort((a, b) => b.requests - a.requests), ms: Date.now() - started };
    o.log?.(`${dc.config}: ${report.sent} requests to each engine, ${unexplained} with unexplained differences, ${allowlisted} with allowlisted ones only (${(report.ms / 1000).toFixed(1)} s)`);
    return report;
  } finally {
    await Promise.all(gws.map((g) => g.stop()));
  }
}

export async function runDiff(o: DiffOptions): Promise<ConfigReport[]> {
  const list = o.configs ? DIFF_CONFIGS.filter((c) => o.configs!.some((x) => c.config.includes(x))) : DIFF_CONFIGS;
  const out: ConfigReport[] = [];
  for (const dc of list) out.push(await diffConfig(dc, o));
  return out;
}

/** A readable report: per config, each kind of difference with one reproducible example. */
export function formatReport(reports: ConfigReport[]): string {
  const lines: string[] = [];
  for (const r of reports) {
    lines.push(`## ${r.config}: ${r.sent} requests, unexplained ${r.unexplained}, allowlisted-only ${r.allowlisted}`);
    for (const s of r.signatures) {
      const d = s.example.difference;
      lines.push(`- ${s.allow ? `allowlisted (${s.allow})` : "UNEXPLAINED"} ${s.key}: ${s.requests} request(s); e.g. #${s.example.index} on listener ${s.example.listener}`);
      lines.push(`    envoy:    ${d.envoy.slice(0, 300)}`);
      lines.push(`    embedded: ${d.embedded.slice(0, 300)}`);
      if (!s.allow) lines.push(`    request:  ${s.example.raw.slice(0, 600)}`);
    }
  }
  return lines.join("\n");
}
