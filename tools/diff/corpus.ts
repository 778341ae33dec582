// The differential request corpus: the fuzz generators of tools/fuzz/arbitraries.ts (random methods,
// paths, header names/values, origins, cookies, credentials, XFF, bodies), plus inputs that reach each
// plugin's decisions (real demo credentials, canary tags, CORS origins and preflights, rate-limit bursts),
// drawn by fast-check from a fixed seed. Most requests are valid HTTP/1.1 that both engines must accept;
// an adversarial share (codec edge cases: control bytes, odd names, duplicate Host, >100 headers, >60 KiB
// of headers, HTTP/1.0, no Host, upgrades, framing conflicts) must be rejected the way Envoy rejects it.
import fc from "fast-check";
import { requestArb, type FuzzRequest, type HeaderList } from "../fuzz/arbitraries.ts";
import type { WireRequest } from "./wire.ts";

export interface CorpusItem {
  /** Position in the corpus (the same on both engines). */
  index: number;
  kind: "valid" | "adversarial";
  /** Which generator produced it (for the report and for reproducing). */
  label: string;
  request: WireRequest;
}

/** What the corpus must know about a config to make stateful plugins comparable. */
export interface CorpusProfile {
  /** Listener names to spread requests over (round-robin by index). */
  listeners: string[];
  /**
   * Rate-limit key headers (e.g. x-api-key): outside bursts their values get a per-request suffix, so every
   * request has a fresh bucket and a token refill can never fall between the two engines' copies of it.
   */
  rateLimitKeys: string[];
  /**
   * Canary's sticky header when weights are configured: a request without a usable first value gets one,
   * so the tag never comes from the plugin's random draw (WASI random_get), which no harness can make equal
   * on two engines. The draw itself is the same code on both.
   */
  canaryStickyHeader: string | null;
}

// Credentials of envoy-configs/auth.yaml and demo.yaml, so requests get past auth, not only bounce off it.
const HS256_TOKEN =
  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImRlbW8taHMifQ.eyJpc3MiOiJodHRwczovL2lzc3Vlci50b2xsZ2F0ZS5leGFtcGxlIiwiYXVkIjoiZGVtbyIsInN1YiI6InNlcnZpY2UtNDIiLCJleHAiOjQxMDI0NDQ4MDB9.GgWOqDPvQKUqcjTik_bz6iWW0jOVvOvpX8nnwBreUcc";
const realistic: fc.Arbitrary<HeaderList> = fc.array(
  fc.oneof(
    fc.constantFrom<[string, string]>(
      ["x-api-key", "alice-key-0123456789"],
      ["x-api-key", "alice-demo-key"],
      ["x-api-key", "mallory"],
      ["authorization", "Basic Ym9iOmJvYi1wYXNzd29yZA=="],
      ["authorization", "Basic Ym9iOndyb25n"],
      ["authorization", `Bearer ${HS256_TOKEN}`],
      ["authorization", `Bearer ${HS256_TOKEN.slice(0, -2)}xx`],
      ["x-canary", "always"],
      ["x-canary", "never"],
      ["x-beta", "true"],
      ["cookie", "canary_pin=v2"],
      ["cookie", "canary_pin=v1; uid=7"],
      ["origin", "https://app.example.com"],
      ["origin", "http://localhost:3000"],
      ["origin", "https://evil.example"],
      ["access-control-request-method", "PUT"],
      ["access-control-request-headers", "content-type, x-api-key"],
      ["x-mse-consumer", "alice"],
      ["x-canary-version", "v2"],
      ["x-user-token", "t0k3n"],
      ["x-request-id", "client-chosen-id"],
      ["x-forwarded-proto", "https"],
      ["content-type", "application/json"],
      ["accept", "*/*"],
      ["user-agent", "curl/8.5.0"],
    ),
    fc.tuple(fc.constantFrom("x-user-id", "x-client-id"), fc.integer({ min: 0, max: 20 }).map((n) => `u${n}`)),
  ),
  { maxLength: 5 },
);

const realisticPath = fc.constantFrom(
  "/", "/hello", "/admin", "/admin/users", "/private/x", "/public/y", "/orders", "/orders?status=403", "/orders?status=503",
  "/orders?status=201", "/api/v1/items?limit=10&offset=20", "/check", "/a/b/../c", "/x?y=%20z",
);

/** Methods every HTTP/1.1 proxy accepts; other tokens (which Envoy's codec refuses) are in the adversarial share. */
const STANDARD_METHODS = new Set(["GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "HEAD"]);

/** RFC 9110 token characters (method and header-name bytes). */
const TCHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Percent-encodes bytes a request-target may not carry raw (kept: visible ASCII, which includes `%zz`). */
function cleanTarget(p: string): string {
  let out = "";
  for (const ch of p) {
    const c = ch.charCodeAt(0);
    out += c > 0x20 && c < 0x7f && ch !== "#" ? ch : "%" + (c & 0xff).toString(16).toUpperCase().padStart(2, "0");
  }
  return out.startsWith("/") ? out : "/" + out;
}

/** Header value bytes a valid field-value may hold: VCHAR, SP, HTAB, obs-text (0x80–0xff); no other controls. */
function cleanValue(v: string): string {
  return v.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, "").replace(/^[ \t]+|[ \t]+$/g, "");
}

/** Envoy's default max_request_headers_kb is 60; the valid share stays well under it and under 100 headers. */
const VALID_HEADER_BYTES = 48 * 1024;

function toWire(r: FuzzRequest, extra: HeaderList, extraPath: string | null): WireRequest {
  const headers: HeaderList = [];
  // Random tokens may hold bytes a host cannot (`^`, `|`, `` ` ``): Envoy refuses those at the codec (the adversarial share sends them).
  headers.push(["host", r.authority.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@[\]%]/g, "")]);
  let bytes = 0;
  for (const [k, v] of [...r.headers, ...extra]) {
    if (k === "host" || !TCHAR.test(k)) continue;
    const value = cleanValue(v);
    if (bytes + k.length + value.length + 4 > VALID_HEADER_BYTES || headers.length >= 90) continue;
    bytes += k.length + value.length + 4;
    headers.push([k, value]);
  }
  const body = Buffer.from(r.body, "latin1");
  if (body.length) headers.push(["content-length", String(body.length)]);
  return { method: STANDARD_METHODS.has(r.method) ? r.method : "GET", target: extraPath ?? cleanTarget(r.path), headers, body };
}

/** A valid request: fuzz input made valid HTTP/1.1, with some realistic plugin inputs mixed in. */
const validArb = fc
  .tuple(requestArb, realistic, fc.option(realisticPath, { freq: 2 }))
  .map(([r, extra, path]) => toWire(r, extra, path));

/** Codec edge cases: each is a request Envoy's HTTP/1 codec (or connection manager) has an opinion about. */
const adversarialArb: fc.Arbitrary<{ label: string; request: WireRequest }> = fc.oneof(
  // Raw fuzz input: control bytes in values, non-token names, raw bytes in the path, duplicate Host.
  requestArb.map((r) => ({
    label: "raw-fuzz",
    request: {
      method: r.method,
      target: r.path.startsWith("/") ? r.path.replace(/[ \r\n]/g, "") : "/" + r.path.replace(/[ \r\n]/g, ""),
      headers: [["host", r.authority] as [string, string], ...r.headers].concat(r.body ? [["content-length", String(Buffer.byteLength(r.body, "latin1"))]] : []),
      body: Buffer.from(r.body, "latin1"),
    },
  })),
  fc.tuple(fc.string({ unit: fc.constantFrom(..."abcXYZ-_.()[]{}@,;:/\\\"?= \t\x01\x7f\xe9"), minLength: 1, maxLength: 12 }), fc.string({ maxLength: 20 })).map(([name, v]) => ({
    label: "odd-header-name",
    request: { method: "GET", target: "/", headers: [["host", "localhost"], [name, cleanValue(v)]] as HeaderList },
  })),
  fc.integer({ min: 95, max: 110 }).map((n) => ({
    label: `header-count-${n > 100 ? "over" : "up-to"}-100`,
    // The first extra header is canary's sticky id, so fitState adds nothing and the count stays n.
    request: { method: "GET", target: "/", headers: [["host", "localhost"] as [string, string], ["x-user-id", "hc"] as [string, string], ...Array.from({ length: n - 2 }, (_, i): [string, string] => [`x-h${i}`, "v"])] },
  })),
  fc.integer({ min: 55, max: 70 }).map((kb) => ({
    label: `header-bytes-${kb}k`,
    request: { method: "GET", target: "/", headers: [["host", "localhost"], ["x-big", "b".repeat(kb * 1024 - 40)]] as HeaderList },
  })),
  fc.constantFrom(
    { label: "http-1.0", request: { method: "GET", target: "/", version: "HTTP/1.0", headers: [["host", "localhost"]] as HeaderList } },
    { label: "http-1.0-no-host", request: { method: "GET", target: "/", version: "HTTP/1.0", headers: [] as HeaderList } },
    { label: "no-host", request: { method: "GET", target: "/", headers: [["user-agent", "x"]] as HeaderList } },
    { label: "two-hosts", request: { method: "GET", target: "/", headers: [["host", "a.example"], ["host", "b.example"]] as HeaderList } },
    { label: "websocket-upgrade", request: { method: "GET", target: "/", headers: [["host", "localhost"], ["connection", "Upgrade"], ["upgrade", "websocket"], ["sec-websocket-version", "13"], ["sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="]] as HeaderList } },
    { label: "h2c-upgrade", request: { method: "GET", target: "/", headers: [["host", "localhost"], ["connection", "Upgrade, HTTP2-Settings"], ["upgrade", "h2c"], ["http2-settings", "AAMAAABkAAQAAP__"]] as HeaderList } },
    { label: "te-trailers", request: { method: "GET", target: "/", headers: [["host", "localhost"], ["te", "trailers"]] as HeaderList } },
    { label: "te-gzip", request: { method: "GET", target: "/", headers: [["host", "localhost"], ["te", "gzip, trailers"]] as HeaderList } },
    { label: "expect-100", request: { method: "POST", target: "/", headers: [["host", "localhost"], ["expect", "100-continue"], ["content-length", "4"]] as HeaderList, body: Buffer.from("ping") } },
    { label: "expect-other", request: { method: "POST", target: "/", headers: [["host", "localhost"], ["expect", "202-accepted"], ["content-length", "4"]] as HeaderList, body: Buffer.from("ping") } },
    { label: "chunked-body", request: { method: "POST", target: "/", headers: [["host", "localhost"], ["transfer-encoding", "chunked"]] as HeaderList, body: Buffer.from("4\r\nping\r\n0\r\n\r\n") } },
    { label: "cl-and-te", request: { method: "POST", target: "/", headers: [["host", "localhost"], ["content-length", "4"], ["transfer-encoding", "chunked"]] as HeaderList, body: Buffer.from("4\r\nping\r\n0\r\n\r\n") } },
    { label: "bad-content-length", request: { method: "POST", target: "/", headers: [["host", "localhost"], ["content-length", "4x"]] as HeaderList, body: Buffer.from("ping") } },
    { label: "two-content-lengths", request: { method: "POST", target: "/", headers: [["host", "localhost"], ["content-length", "4"], ["content-length", "5"]] as HeaderList, body: Buffer.from("ping!") } },
    { label: "connection-close", request: { method: "GET", target: "/", headers: [["host", "localhost"], ["connection", "close"]] as HeaderList } },
    { label: "keep-alive-header", request: { method: "GET", target: "/", headers: [["host", "localhost"], ["connection", "keep-alive"], ["keep-alive", "timeout=5"]] as HeaderList } },
    { label: "connection-named-header", request: { method: "GET", target: "/", headers: [["host", "localhost"], ["connection", "x-secret"], ["x-secret", "1"]] as HeaderList } },
    { label: "absolute-form", request: { method: "GET", target: "http://example.com/abs?q=1", headers: [["host", "example.com"]] as HeaderList } },
    { label: "asterisk-options", request: { method: "OPTIONS", target: "*", headers: [["host", "localhost"]] as HeaderList } },
    { label: "connect", request: { method: "CONNECT", target: "example.com:443", headers: [["host", "example.com:443"]] as HeaderList } },
    { label: "fragment", request: { method: "GET", target: "/a#frag", headers: [["host", "localhost"]] as HeaderList } },
    { label: "dot-segments", request: { method: "GET", target: "/a/./b/../../c", headers: [["host", "localhost"]] as HeaderList } },
    { label: "backslash", request: { method: "GET", target: "/a\\b", headers: [["host", "localhost"]] as HeaderList } },
    { label: "lower-method", request: { method: "get", target: "/", headers: [["host", "localhost"]] as HeaderList } },
    { label: "space-before-colon", request: { method: "GET", target: "/", headers: [["host", "localhost"], ["x-a ", "1"]] as HeaderList } },
    { label: "obs-fold", request: { method: "GET", target: "/", headers: [["host", "localhost"], ["x-a", "1\r\n 2"]] as HeaderList } },
    { label: "x-envoy-internal", request: { method: "GET", target: "/", headers: [["host", "localhost"], ["x-envoy-internal", "true"], ["x-envoy-retry-on", "5xx"], ["x-forwarded-client-cert", "By=x"]] as HeaderList } },
    { label: "empty-request-id", request: { method: "GET", target: "/", headers: [["host", "localhost"], ["x-request-id", ""]] as HeaderList } },
    { label: "head", request: { method: "HEAD", target: "/", headers: [["host", "localhost"]] as HeaderList } },
    { label: "xff-chain", request: { method: "GET", target: "/", headers: [["host", "localhost"], ["x-forwarded-for", "203.0.113.9, 198.51.100.7"]] as HeaderList } },
  ),
);

/** Draws `n` corpus items for a config from `seed`; rate-limit bursts repeat one request with one key. */
export function buildCorpus(n: number, seed: number, profile: CorpusProfile): CorpusItem[] {
  const itemArb = fc.oneof(
    { weight: 80, arbitrary: validArb.map((request) => ({ kind: "valid" as const, label: "valid", request })) },
    { weight: 15, arbitrary: adversarialArb.map((a) => ({ kind: "adversarial" as const, ...a })) },
    { weight: 5, arbitrary: fc.tuple(validArb, fc.integer({ min: 2, max: 8 })).map(([request, repeat]) => ({ kind: "valid" as const, label: `burst-${repeat}`, request, repeat })) },
  );
  const drawn = fc.sample(itemArb, { numRuns: n, seed });
  const out: CorpusItem[] = [];
  for (const d of drawn) {
    if (out.length >= n) break;
    const repeat = "repeat" in d ? d.repeat : 1;
    const burstKey = `burst-${out.length}`;
    for (let i = 0; i < repeat && out.length < n; i++) {
      const request = { ...d.request, headers: d.request.headers.map(([k, v]): [string, string] => [k, v]) };
      fitState(request, profile, out.length, repeat > 1 ? burstKey : null);
      out.push({ index: out.length, kind: d.kind, label: d.label, request });
    }
  }
  return out;
}

/** The per-config edits of CorpusProfile (fresh rate-limit keys outside bursts, a sticky canary id). */
function fitState(r: WireRequest, p: CorpusProfile, index: number, burstKey: string | null): void {
  for (const key of p.rateLimitKeys) {
    let seen = false;
    for (const h of r.headers) {
      if (h[0].toLowerCase() !== key) continue;
      seen = true;
      h[1] = burstKey ? `${burstKey}` : `${h[1]}-${index}`;
    }
    if (burstKey && !seen) r.headers.push([key, burstKey]);
  }
  const sticky = p.canaryStickyHeader;
  if (sticky) {
    const first = r.headers.find(([k]) => k.toLowerCase() === sticky);
    if (!first) r.headers.splice(Math.min(1, r.headers.length), 0, [sticky, `anon-${index}`]);
    else if (first[1] === "") first[1] = `anon-${index}`;
  }
}
