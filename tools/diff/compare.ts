// Compares what a client and the upstream saw on Envoy and on the embedded engine for one request, after
// normalising only values that differ between any two runs of the same engine (each named below).
import type { Pairs, WireRequest, WireResponse } from "./wire.ts";

export type Outcome = { ok: true; res: WireResponse } | { ok: false; error: string };

export interface Difference {
  /** What differs: "status", "response-header:<name>", "upstream-header:<name>", "body", … */
  field: string;
  envoy: string;
  embedded: string;
}

interface EchoView {
  upstream: string;
  method: string;
  path: string;
  headers: Record<string, string | string[]>;
  body: string;
}

const IMF_DATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Volatile response header values:
 * - `date`: the clock at send time (its presence, name case and format still count);
 * - `x-envoy-upstream-service-time`: milliseconds the upstream took (presence and digits-only still count).
 */
function normaliseResponseHeader(name: string, value: string): string {
  const n = name.toLowerCase();
  if (n === "date" && IMF_DATE.test(value)) return "<imf-date>";
  if (n === "x-envoy-upstream-service-time" && /^\d+$/.test(value)) return "<ms>";
  return value;
}

/**
 * Rate-limit values derived from each engine's clock (seconds until the next token, rounded up): the two
 * copies of a request reach the engines a few ms apart, so a whole-second boundary may fall between them.
 * Equal when they differ only in such numbers, by at most 1.
 */
const CLOCK_DERIVED = new Set(["retry-after", "x-ratelimit-reset", "ratelimit"]);
function clockEqual(name: string, a: string, b: string): boolean {
  if (!CLOCK_DERIVED.has(name.toLowerCase())) return false;
  const re = name.toLowerCase() === "ratelimit" ? /t=(\d+)/g : /^(\d+)$/g;
  const na = [...a.matchAll(re)].map((m) => Number(m[1]));
  const nb = [...b.matchAll(re)].map((m) => Number(m[1]));
  if (na.length === 0 || na.length !== nb.length) return false;
  if (a.replace(re, "#") !== b.replace(re, "#")) return false;
  return na.every((x, i) => Math.abs(x - nb[i]) <= 1);
}

/** Headers grouped by lower-case name, each group in wire order with the name as sent. */
function groups(headers: Pairs): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const [k, v] of headers) {
    const l = k.toLowerCase();
    const line = `${k}: ${normaliseResponseHeader(k, v)}`;
    m.set(l, [...(m.get(l) ?? []), line]);
  }
  return m;
}

function parseEcho(res: WireResponse): EchoView | null {
  if (!res.headers.some(([k]) => k.toLowerCase() === "x-echo-upstream")) return null;
  try {
    const v = JSON.parse(res.body.toString("utf8")) as EchoView;
    return v && typeof v === "object" && typeof v.path === "string" ? v : null;
  } catch {
    return null;
  }
}

const show = (v: unknown): string => (v === undefined ? "<absent>" : typeof v === "string" ? JSON.stringify(v) : JSON.stringify(v));

/** Compares the two upstream views; the request id is volatile only when the engine generated it. */
function compareEcho(req: WireRequest, a: EchoView, b: EchoView, out: Difference[]): void {
  for (const f of ["upstream", "method", "path", "body"] as const) if (a[f] !== b[f]) out.push({ field: `upstream-${f}`, envoy: show(a[f]), embedded: show(b[f]) });
  // A missing or empty id is replaced by a fresh UUID, and so is a client's id on an edge listener
  // (use_remote_address); a kept client id must arrive as sent, so only a UUID the client did not send is
  // volatile.
  const clientIds = new Set(req.headers.filter(([k]) => k.toLowerCase() === "x-request-id").map(([, v]) => v));
  const norm = (h: Record<string, string | string[]>, k: string): string | string[] | undefined => {
    const v = h[k];
    if (k === "x-request-id" && typeof v === "string" && UUID.test(v) && !clientIds.has(v)) return "<generated-uuid>";
    return v;
  };
  const names = new Set([...Object.keys(a.headers), ...Object.keys(b.headers)]);
  for (const k of [...names].sort()) {
    const va = norm(a.headers, k);
    const vb = norm(b.headers, k);
    if (JSON.stringify(va) !== JSON.stringify(vb)) out.push({ field: `upstream-header:${k}`, envoy: show(va), embedded: show(vb) });
  }
}

/** Every difference between Envoy's and the embedded engine's handling of one request. */
export function compare(req: WireRequest, envoy: Outcome, embedded: Outcome): Difference[] {
  const out: Difference[] = [];
  if (!envoy.ok || !embedded.ok) {
    const a = envoy.ok ? `HTTP ${envoy.res.status}` : envoy.error;
    const b = embedded.ok ? `HTTP ${embedded.res.status}` : embedded.error;
    if (a !== b) out.push({ field: "outcome", envoy: a, embedded: b });
    return out;
  }
  const a = envoy.res;
  const b = embedded.res;
  for (const f of ["version", "status", "reason", "framing", "closed"] as const) if (a[f] !== b[f]) out.push({ field: f, envoy: show(a[f]), embedded: show(b[f]) });
  if (a.interim.join() !== b.interim.join()) out.push({ field: "interim", envoy: a.interim.join() || "none", embedded: b.interim.join() || "none" });
  const ea = parseEcho(a);
  const eb = parseEcho(b);
  const echoesDiffer: Difference[] = [];
  if (ea && eb) compareEcho(req, ea, eb, echoesDiffer);
  out.push(...echoesDiffer);
  // The response's relative order across names is not compared (HTTP gives it no meaning); within a name
  // it is, as are names' case, repeats and values.
  const ga = groups(a.headers);
  const gb = groups(b.headers);
  for (const k of [...new Set([...ga.keys(), ...gb.keys()])].sort()) {
    // An echo body's length follows from the upstream view, already compared above.
    if (k === "content-length" && echoesDiffer.length) continue;
    const va = ga.get(k);
    const vb = gb.get(k);
    if (JSON.stringify(va) === JSON.stringify(vb)) continue;
    if (va && vb && va.length === 1 && vb.length === 1 && va[0].split(": ")[0] === vb[0].split(": ")[0] && clockEqual(k, va[0].slice(k.length + 2), vb[0].slice(k.length + 2))) continue;
    out.push({ field: `response-header:${k}`, envoy: show(va?.join(" | ")), embedded: show(vb?.join(" | ")) });
  }
  if (!(ea && eb)) {
    const ba = a.body.toString("latin1");
    const bb = b.body.toString("latin1");
    if (ba !== bb) out.push({ field: "body", envoy: show(ba.slice(0, 300)), embedded: show(bb.slice(0, 300)) });
  }
  return out;
}
