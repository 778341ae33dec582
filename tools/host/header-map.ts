// Envoy's header map as plugins observe it (abi.md §3.3, §3.4): lower-case keys, pseudo-headers first,
// insertion order otherwise, get = first value, addCopy appends to an existing *inline* header with ",",
// setCopy = remove all + add (moves to the end), byteSize = Σ(key + value). Values are byte strings
// (latin1: one char per byte), the way Node's http module exposes header bytes.

export type HeaderList = Array<[string, string]>;
/** A header list that is only read (the host's parsed-pairs cache hands the same list out again). */
export type ReadonlyHeaderList = ReadonlyArray<readonly [string, string]>;

export type HeaderMapKind = "request" | "response" | "request-trailers" | "response-trailers" | "plain";

// INLINE_* header macros of envoy/http/header_map.h (abi.md §3.3).
const SHARED_INLINE = [
  "connection", "content-type", "content-length", "keep-alive", "proxy-connection", "proxy-status",
  "x-request-id", "transfer-encoding", "upgrade", "via", "x-envoy-attempt-count", "x-envoy-decorator-operation",
];
const REQUEST_INLINE = new Set([
  ...SHARED_INLINE, ":authority", ":method", ":path", ":protocol", ":scheme", "te", "user-agent", "expect",
  "grpc-timeout", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-forwarded-client-cert",
  "x-client-trace-id", "x-envoy-downstream-service-cluster", "x-envoy-downstream-service-node",
  "x-envoy-expected-rq-timeout-ms", "x-envoy-external-address", "x-envoy-force-trace", "x-envoy-hedge-on-per-try-timeout",
  "x-envoy-internal", "x-envoy-ip-tags", "x-envoy-max-retries", "x-envoy-original-path", "x-envoy-original-url",
  "x-envoy-retriable-header-names", "x-envoy-retriable-status-codes", "x-envoy-retry-grpc-on", "x-envoy-retry-on",
  "x-envoy-upstream-alt-stat-name", "x-envoy-upstream-rq-per-try-timeout-ms", "x-envoy-upstream-rq-timeout-alt-response",
  "x-envoy-upstream-rq-timeout-ms", "x-envoy-upstream-stream-duration-ms", "x-ot-span-context",
]);
const RESPONSE_INLINE = new Set([
  ...SHARED_INLINE, ":status", "date", "location", "server", "x-envoy-upstream-service-time", "x-envoy-degraded",
  "x-envoy-ratelimited", "x-envoy-upstream-canary", "x-envoy-immediate-health-check-fail",
  "x-envoy-upstream-healthchecked-cluster", "grpc-status", "grpc-message", "x-envoy-overloaded",
]);
const RESPONSE_TRAILERS_INLINE = new Set(["grpc-status", "grpc-message"]);
const NO_INLINE = new Set<string>();

function inlineSet(kind: HeaderMapKind): Set<string> {
  switch (kind) {
    case "request": return REQUEST_INLINE;
    case "response": return RESPONSE_INLINE;
    case "response-trailers": return RESPONSE_TRAILERS_INLINE;
    default: return NO_INLINE;
  }
}

/**
 * Envoy's LowerCaseString. V8's toLowerCase returns the same string without allocating when it is already
 * lower-case (the common case) and is faster than a char loop; header names are ASCII tokens.
 */
export function lowerKey(k: string): string {
  return k.toLowerCase();
}

export class HeaderMap {
  /** Entries in Envoy iteration order: pseudo-headers first, then insertion order. */
  readonly entries: Array<[string, string]> = [];
  private pseudo = 0;
  private readonly inline: Set<string>;

  constructor(readonly kind: HeaderMapKind = "plain", pairs?: Iterable<readonly [string, string]>) {
    this.inline = inlineSet(kind);
    if (pairs) {
      if (Array.isArray(pairs)) for (let i = 0; i < pairs.length; i++) this.add(pairs[i][0], pairs[i][1]);
      else for (const [k, v] of pairs) this.add(k, v);
    }
  }

  /** Number of entries (the header_count Envoy passes to on_*_headers). */
  get size(): number {
    return this.entries.length;
  }

  /** First value of `key`, or undefined. */
  get(key: string): string | undefined {
    return this.getLower(lowerKey(key));
  }

  /** get() for a key already lower-case (host calls decode and lower-case names once, cached). */
  getLower(k: string): string | undefined {
    const e = this.entries;
    for (let i = 0; i < e.length; i++) if (e[i][0] === k) return e[i][1];
    return undefined;
  }

  getAll(key: string): string[] {
    const k = lowerKey(key);
    return this.entries.filter((e) => e[0] === k).map((e) => e[1]);
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** Envoy addCopy: appends an entry; an existing inline header gets ",value" appended instead. */
  add(key: string, value: string): void {
    this.addLower(lowerKey(key), value);
  }

  addLower(k: string, value: string): void {
    const e = this.entries;
    if (this.inline.has(k)) {
      // A scan beats a per-map index here: maps are small and keys are internalized strings.
      for (let i = 0; i < e.length; i++) {
        if (e[i][0] === k) {
          e[i][1] = e[i][1] === "" ? value : `${e[i][1]},${value}`;
          return;
        }
      }
    }
    if (k.charCodeAt(0) === 58 /* ':' */) {
      if (this.pseudo === e.length) e.push([k, value]);
      else e.splice(this.pseudo, 0, [k, value]);
      this.pseudo++;
    } else {
      e.push([k, value]);
    }
  }

  /** Envoy setCopy: remove every entry of `key`, then addCopy. */
  set(key: string, value: string): void {
    this.setLower(lowerKey(key), value);
  }

  setLower(k: string, value: string): void {
    this.removeLower(k);
    this.addLower(k, value);
  }

  /** Removes every entry of `key`; returns how many were removed. */
  remove(key: string): number {
    return this.removeLower(lowerKey(key));
  }

  removeLower(k: string): number {
    let n = 0;
    const e = this.entries;
    for (let i = e.length - 1; i >= 0; i--) {
      if (e[i][0] === k) {
        if (i < this.pseudo) this.pseudo--;
        e.splice(i, 1);
        n++;
      }
    }
    return n;
  }

  clear(): void {
    this.entries.length = 0;
    this.pseudo = 0;
  }

  /** Envoy byteSize(): Σ(key length + value length) in bytes. */
  byteSize(): number {
    let n = 0;
    for (const [k, v] of this.entries) n += k.length + v.length;
    return n;
  }

  toList(): HeaderList {
    return this.entries.map(([k, v]) => [k, v]);
  }

  /** Values joined by "," per key, as CEL's request.headers map shows them (abi.md §6.3). */
  joined(): Map<string, string> {
    const m = new Map<string, string>();
    for (const [k, v] of this.entries) {
      const prev = m.get(k);
      m.set(k, prev === undefined ? v : `${prev},${v}`);
    }
    return m;
  }

  [Symbol.iterator](): Iterator<[string, string]> {
    return this.entries[Symbol.iterator]();
  }
}
