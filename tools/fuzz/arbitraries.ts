// fast-check generators for what a client can send: methods, paths, header names and values (empty,
// huge, duplicated, non-ASCII, bytes that are not UTF-8, CR/LF/NUL injection attempts), cookies, query
// strings, bearer tokens, Basic credentials and bodies. Header values are latin1 byte strings, the way
// the host's header maps carry raw bytes.
import fc from "fast-check";

export type HeaderList = Array<[string, string]>;

/** A request as the fuzzer sends it through the host. */
export interface FuzzRequest {
  method: string;
  path: string;
  authority: string;
  scheme: string;
  headers: HeaderList;
  body: string;
  upstreamStatus: number;
  upstreamHeaders: HeaderList;
}

const tokenChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~!$&'*+^`|";

/**
 * Bytes as a latin1 string: arbitrary octets, including invalid UTF-8 sequences, but never CR, LF or NUL:
 * Envoy's codecs reject those in header values before any filter runs, so injection attempts arrive
 * encoded (percent-encoding, base64 inside tokens, JSON escapes in JWT claims) — see `injection`.
 */
const rawBytes = (max: number) =>
  fc.uint8Array({ maxLength: max }).map((b) => Buffer.from(b.filter((x) => x !== 0x0d && x !== 0x0a && x !== 0x00)).toString("latin1"));

/** UTF-8 text re-encoded as latin1 bytes (what a valid non-ASCII header value looks like on the wire). */
const utf8Text = (max: number) =>
  fc.string({ unit: "grapheme", maxLength: max }).map((s) => Buffer.from(s, "utf8").toString("latin1"));

const token = (max: number) => fc.string({ unit: fc.constantFrom(...tokenChars), minLength: 1, maxLength: max });

/** Attempts at header injection in the encodings that survive the codec (decoded by plugins). */
const injection = fc
  .tuple(token(12), fc.constantFrom("%0d%0a", "%0D%0Ax-injected:%201", "%00", "\\r\\n", "\\u000d\\u000a"), token(12))
  .map(([a, b, c]) => a + b + c);

// Envoy's codecs strip leading and trailing whitespace (OWS) from header values before filters run.
const trimOws = (v: string) => v.replace(/^[ \t]+|[ \t]+$/g, "");

export const headerValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: token(40) },
  { weight: 1, arbitrary: fc.constant("") },
  { weight: 2, arbitrary: utf8Text(40) },
  { weight: 2, arbitrary: rawBytes(40) },
  { weight: 1, arbitrary: injection },
  { weight: 1, arbitrary: fc.integer({ min: 1024, max: 16384 }).map((n) => "a".repeat(n)) },
).map(trimOws);

/** Names plugins look at, plus random ones. */
const interestingNames = [
  "origin", "access-control-request-method", "access-control-request-headers", "access-control-request-private-network",
  "authorization", "cookie", "x-api-key", "x-user-id", "x-canary", "x-canary-version", "x-consumer", "x-forwarded-for",
  "content-type", "host", "x-jwt-sub", "x-ratelimit-shadow", "vary",
];
export const headerName: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...interestingNames) },
  { weight: 1, arbitrary: token(20).map((s) => s.toLowerCase()) },
);

const origin = fc.oneof(
  fc.constantFrom("https://app.example.com", "http://localhost:3000", "https://evil.com", "null", "https://api.example.com.evil.com", "https://a.example.com:8443", ""),
  fc.tuple(fc.constantFrom("http", "https", "ftp", ""), token(20), fc.option(fc.integer({ min: 0, max: 70000 }))).map(([s, h, p]) => `${s}://${h}${p === null ? "" : `:${p}`}`),
  headerValue,
);

const b64 = (s: string) => Buffer.from(s, "latin1").toString("base64");
const b64url = (s: string) => Buffer.from(s, "latin1").toString("base64url");

/** Bearer tokens: random, three random segments, real-looking headers with random payloads, alg none. */
const jwtish = fc.oneof(
  headerValue,
  fc.tuple(headerValue, headerValue, headerValue).map(([a, b, c]) => `${b64url(a)}.${b64url(b)}.${b64url(c)}`),
  fc.tuple(fc.constantFrom("HS256", "RS256", "ES256", "none", "NONE", "hs256", ""), fc.option(token(10)), fc.jsonValue({ maxDepth: 3 }), rawBytes(80)).map(
    ([alg, kid, payload, sig]) => `${b64url(JSON.stringify(kid === null ? { alg } : { alg, kid }))}.${b64url(JSON.stringify(payload))}.${b64url(sig)}`,
  ),
  fc.array(fc.constant("."), { maxLength: 6 }).map((d) => d.join("")),
);

const authorization = fc.oneof(
  jwtish.map((t) => `Bearer ${t}`),
  fc.tuple(headerValue, headerValue).map(([u, p]) => `Basic ${b64(`${u}:${p}`)}`),
  headerValue.map((v) => `Basic ${v}`),
  fc.constantFrom("Basic", "Bearer", "Bearer ", "bearer x", "Basic Ym9iOg==", "Basic OnBhc3M="),
  headerValue,
);

const cookie = fc
  .tuple(fc.array(fc.tuple(fc.oneof(fc.constantFrom("uid", "canary", "tg_canary", "session", "uidx"), token(8)), headerValue), { maxLength: 6 }), fc.constantFrom("; ", ";", " ; "))
  .map(([pairs, sep]) => pairs.map(([k, v]) => `${k}=${v}`).join(sep));

const pathArb = fc.oneof(
  fc.constantFrom("/", "/api", "/admin/x", "/?u=1", "/p?k=%zz&k=2", "/%00", "//..//", "/a?" + "q=1&".repeat(100)),
  fc.tuple(fc.array(token(10), { maxLength: 5 }), fc.array(fc.tuple(token(6), fc.oneof(token(10), rawBytes(10).map(encodeURIComponent))), { maxLength: 5 })).map(
    ([segs, qs]) => "/" + segs.join("/") + (qs.length ? "?" + qs.map(([k, v]) => `${k}=${v}`).join("&") : ""),
  ),
  rawBytes(64).map((s) => "/" + s),
);

const namedHeader = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(headerName, headerValue) },
  { weight: 2, arbitrary: origin.map((o) => ["origin", o] as [string, string]) },
  { weight: 2, arbitrary: authorization.map((a) => ["authorization", a] as [string, string]) },
  { weight: 1, arbitrary: cookie.map((c) => ["cookie", c] as [string, string]) },
  { weight: 1, arbitrary: fc.constantFrom("GET", "PUT", "DELETE", "X-BAD", "", "get").map((m) => ["access-control-request-method", m] as [string, string]) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom("x-forwarded-for"), fc.array(fc.oneof(fc.ipV4(), fc.ipV6(), token(8)), { maxLength: 4 }).map((a) => a.join(", "))) },
);

// ---- large and adversarial inputs (issue 15: linear time, bounded memory) ----
// Built by repeating a short random pattern, so a 60 KiB value costs fast-check a few draws, not 10,000.

/** The largest request headers Envoy accepts by default (max_request_headers_kb: 60). */
export const MAX_HEADERS_BYTES = 60 * 1024;

/** `pattern` repeated `count` times joined by `sep`, cut at `max` characters. */
function repeatTo(pattern: string[], count: number, sep: string, max: number): string {
  const out: string[] = [];
  let size = 0;
  for (let i = 0; i < count && size < max; i++) {
    const item = pattern[i % pattern.length].replace("#", String(i));
    out.push(item);
    size += item.length + sep.length;
  }
  return out.join(sep).slice(0, max);
}

/** Names plugins read from the query or cookies in the example configs, so parsers meet them mid-flood. */
const paramNames = ["apikey", "access_token", "jwt", "uid", "canary", "tg_canary", "session", "k", "beta", "user"];
const floodItem = fc.oneof(
  fc.constantFrom("a", "", "=", "==", "&", "%", "%zz", "a=", "=v", "%61pikey=x", "p#=v", "x%3D#=1", "+=+"),
  fc.tuple(fc.constantFrom(...paramNames), fc.constantFrom("", "=", "=v", "=%00", "=%0d%0a", "=a%20b")).map(([k, v]) => k + v),
  token(6).map((t) => `${t}=#`),
);

/** 10,000+ query parameters (bare, empty, duplicated, encoded, configured names repeated) up to 60 KiB. */
export const floodPath: fc.Arbitrary<string> = fc
  .tuple(fc.array(floodItem, { minLength: 1, maxLength: 5 }), fc.integer({ min: 10_000, max: 30_000 }), fc.constantFrom("/", "/api/x"))
  .map(([pattern, count, base]) => base + "?" + repeatTo(pattern, count, "&", MAX_HEADERS_BYTES - base.length - 1));

const cookieItem = fc.oneof(
  fc.constantFrom("a", "", "=", "a=", " = ", "\"", "x=\"\"", "uid", "uid="),
  fc.tuple(fc.constantFrom(...paramNames), fc.constantFrom("=", "=v", "= v ", "=\"q\"")).map(([k, v]) => k + v),
  token(6).map((t) => `${t}#=v`),
);

/** Thousands of cookies, in one Cookie header or split over several (HTTP/2 crumbs, two HTTP/1 headers). */
const floodCookies: fc.Arbitrary<HeaderList> = fc
  .tuple(fc.array(cookieItem, { minLength: 1, maxLength: 4 }), fc.integer({ min: 2_000, max: 12_000 }), fc.constantFrom(";", "; ", " ; "), fc.integer({ min: 1, max: 8 }))
  .map(([pattern, count, sep, parts]) => {
    const all = repeatTo(pattern, count, sep, MAX_HEADERS_BYTES - 1024);
    const per = Math.ceil(all.length / parts);
    return Array.from({ length: parts }, (_, i) => ["cookie", all.slice(i * per, (i + 1) * per)] as [string, string]);
  });

/** ~60 KiB of headers: up to 90 long values of names plugins read (and others), lists of thousands of items. */
const floodHeaders: fc.Arbitrary<HeaderList> = fc
  .tuple(fc.integer({ min: 1, max: 90 }), fc.array(headerName, { minLength: 1, maxLength: 6 }), fc.constantFrom("a", ",", "x-h#, ", "10.0.0.#, ", "Bearer ", "%00"))
  .map(([n, names, unit]) => {
    const per = Math.floor((MAX_HEADERS_BYTES - 2048) / n);
    return Array.from({ length: n }, (_, i) => [names[i % names.length], repeatTo([unit], per, "", per).trim()] as [string, string]);
  });

/** One large adversarial header set: a cookie flood, a header flood, or a preflight with a huge header list. */
export const floodHeaderList: fc.Arbitrary<HeaderList> = fc.oneof(
  floodCookies,
  floodHeaders,
  fc.integer({ min: 2_000, max: 10_000 }).map((n) => [
    ["origin", "https://app.example.com"], ["access-control-request-method", "PUT"],
    ["access-control-request-headers", repeatTo(["x-h#", " ", "", "X-Custom-#"], n, ",", MAX_HEADERS_BYTES - 1024)],
  ] as HeaderList),
);

export const requestArb: fc.Arbitrary<FuzzRequest> = fc.record({
  method: fc.oneof(fc.constantFrom("GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "HEAD"), token(8)),
  path: fc.oneof({ weight: 30, arbitrary: pathArb }, { weight: 1, arbitrary: floodPath }),
  authority: fc.oneof(fc.constantFrom("example.com", "api.example.com", "app.example.com:8443", "localhost:10000", "[::1]:80", ""), token(30)),
  scheme: fc.constantFrom("http", "https"),
  // Many duplicates of the same names happen naturally: names are drawn from a short list.
  headers: fc.oneof(
    { weight: 30, arbitrary: fc.array(namedHeader, { maxLength: 24 }) },
    { weight: 1, arbitrary: fc.tuple(fc.array(namedHeader, { maxLength: 8 }), floodHeaderList).map(([a, b]) => [...a, ...b]) },
  ),
  body: fc.oneof(fc.constant(""), utf8Text(200), rawBytes(200)),
  upstreamStatus: fc.constantFrom(200, 201, 204, 301, 404, 500, 503),
  upstreamHeaders: fc.array(
    fc.oneof(
      fc.tuple(fc.constantFrom("access-control-allow-origin", "access-control-allow-credentials", "vary", "set-cookie", "content-type"), headerValue),
      fc.tuple(headerName, headerValue),
    ),
    { maxLength: 6 },
  ),
});

/** Orders of stream callbacks Envoy may deliver (abi.md §2.3): see driveRandomOrder in run.ts. */
export type Step =
  | { kind: "requestHeaders"; endStream: boolean }
  | { kind: "requestBody"; chunk: string; endStream: boolean }
  | { kind: "requestTrailers" }
  | { kind: "responseHeaders"; endStream: boolean }
  | { kind: "responseBody"; chunk: string; endStream: boolean }
  | { kind: "responseTrailers" };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.boolean().map((e) => ({ kind: "requestHeaders" as const, endStream: e })),
  fc.tuple(rawBytes(64), fc.boolean()).map(([c, e]) => ({ kind: "requestBody" as const, chunk: c, endStream: e })),
  fc.constant({ kind: "requestTrailers" as const }),
  fc.boolean().map((e) => ({ kind: "responseHeaders" as const, endStream: e })),
  fc.tuple(rawBytes(64), fc.boolean()).map(([c, e]) => ({ kind: "responseBody" as const, chunk: c, endStream: e })),
  fc.constant({ kind: "responseTrailers" as const }),
);

/** Random callback sequences, including response headers with no request headers (a local reply upstream of us). */
export const stepsArb: fc.Arbitrary<Step[]> = fc.array(step, { minLength: 1, maxLength: 8 });
