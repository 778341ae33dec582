// The stream side of cors: reads the few request headers a decision needs, applies the pure decisions
// of policy.ts / origin.ts, and turns the verdict into host calls — a local reply for preflights, header
// edits on the response (upstream answers and other filters' local replies alike: Envoy runs those
// through this filter's response path too, after the request headers are gone, hence the saved verdict).
import {
  Action, addHeaderEnc as addHeaderB, encode as encoded, getHeaderCachedEnc, HttpContext, MapType, PairsBuilder,
  removeHeaderEnc as removeHeaderB, replaceHeaderEnc as replaceHeaderB, RootContext, RuleSet, sendLocalResponseEnc,
  trimOws,
} from "../../assembly";
import {
  DETAILS_PREFLIGHT, DETAILS_PREFLIGHT_INVALID, H_ACAC, H_ACAH, H_ACAM, H_ACAO, H_ACAPN, H_ACEH, H_ACMA, H_ACRH,
  H_ACRM, H_ACRPN, H_AUTHORITY, H_METHOD, H_ORIGIN, H_SCHEME, H_VARY, TRUE, VARY_ORIGIN,
} from "./constants";
import { hostDiffers, isSameOrigin, OriginParts, parseOrigin } from "./origin";
import {
  allowHeadersValue, allowMethodsValue, CorsPolicy, headersAllowed, isOptions, methodAllowed, privateNetworkGranted,
  varyCoversOrigin,
} from "./policy";

// Header names and constant values (constants.ts), encoded once.
const NO_BODY = new ArrayBuffer(0);
const K_ORIGIN = encoded(H_ORIGIN);
const K_METHOD = encoded(H_METHOD);
const K_AUTHORITY = encoded(H_AUTHORITY);
const K_SCHEME = encoded(H_SCHEME);
const K_ACRM = encoded(H_ACRM);
const K_ACRH = encoded(H_ACRH);
const K_ACRPN = encoded(H_ACRPN);
const K_ACAO = encoded(H_ACAO);
const K_ACAC = encoded(H_ACAC);
const K_ACAM = encoded(H_ACAM);
const K_ACAH = encoded(H_ACAH);
const K_ACEH = encoded(H_ACEH);
const K_ACMA = encoded(H_ACMA);
const K_ACAPN = encoded(H_ACAPN);
const K_VARY = encoded(H_VARY);
const V_TRUE = encoded(TRUE);
const V_VARY_ORIGIN = encoded(VARY_ORIGIN);
const D_PREFLIGHT = encoded(DETAILS_PREFLIGHT);
const D_PREFLIGHT_INVALID = encoded(DETAILS_PREFLIGHT_INVALID);
/** Reused for every preflight answer (one callback at a time per VM). */
const replyHeaders = new PairsBuilder();

/** What the request side decided; the response side acts on it. */
export namespace Verdict {
  /** No Origin, same-origin, or no policy for this route: the stream passes untouched. */
  // @ts-ignore: decorator
  @inline export const NONE: u8 = 0;
  /** Cross-origin, origin allowed: the response gets the CORS headers. */
  // @ts-ignore: decorator
  @inline export const ALLOWED: u8 = 1;
  /** Cross-origin, origin not allowed: the response loses any Access-Control-Allow-* (browser blocks). */
  // @ts-ignore: decorator
  @inline export const REFUSED: u8 = 2;
  /** A preflight this filter answered itself: its own reply passes through untouched. */
  // @ts-ignore: decorator
  @inline export const ANSWERED: u8 = 3;
}

/** Per-stream state, carried from the request headers to the response headers. */
export class CorsStreamState extends HttpContext {
  verdict: u8 = Verdict.NONE;
  /** The request's Origin, echoed in Access-Control-Allow-Origin. */
  origin: string = "";
  policy: CorsPolicy | null = null;

  constructor(id: u32, root: RootContext, public readonly rules: RuleSet<CorsPolicy>) {
    super(id, root);
  }
}

// Scratch for parsing; a VM runs one callback at a time. originParts holds the parse of `lastOrigin`.
const originParts = new OriginParts();
const authorityParts = new OriginParts();

// Decisions memoized by the identity of the strings they were made from. getHeaderCachedEnc returns the
// same string object for a repeated header value, and strings are immutable, so "the same object" is an
// exact test; a browser app's requests repeat their Origin (and preflights their method and header list)
// request after request. A different value simply takes the full path.
let lastOrigin: string | null = null;
let lastParsed = false;
let lastAuthority: string | null = null;
/** hostDiffers(lastOrigin, lastAuthority): the host-only pre-check of the same-origin test. */
let lastHostDiffers = false;

let encodedOrigin: string | null = null;
let encodedOriginBytes: ArrayBuffer = new ArrayBuffer(0);

/** The UTF-8 of an Origin to echo, encoded once per distinct value (the same buffer stays at the same address). */
function originBytes(origin: string): ArrayBuffer {
  if (origin !== encodedOrigin) {
    encodedOriginBytes = encoded(origin);
    encodedOrigin = origin;
  }
  return encodedOriginBytes;
}

/** on_request_headers: classifies the request, answers preflights. */
export function decideRequest(s: CorsStreamState): u32 {
  const raw = getHeaderCachedEnc(MapType.REQUEST_HEADERS, K_ORIGIN);
  if (raw === null) return Action.CONTINUE;
  // Echoed as Access-Control-Allow-Origin, which must equal the serialized origin: no blanks.
  const origin = trimOws(raw);
  if (origin.length == 0) return Action.CONTINUE;
  if (origin !== lastOrigin) {
    lastParsed = parseOrigin(origin, originParts);
    lastOrigin = origin;
    lastAuthority = null;
  }
  const parsed = lastParsed;
  if (parsed && isSameOriginRequest(origin)) return Action.CONTINUE;
  const policy = s.rules.select();
  if (policy === null) return Action.CONTINUE;

  if (policy.memoOrigin !== origin) {
    policy.memoAllowed = policy.origins.allows(origin, parsed, originParts);
    policy.memoOrigin = origin;
  }
  const allowed = policy.memoAllowed;
  // Access-Control-Request-Method first: on the hot path (actual requests) it is absent, and a miss is the
  // cheapest host call; :method is read only when it is present. OPTIONS without it is an ordinary request.
  const acrm = getHeaderCachedEnc(MapType.REQUEST_HEADERS, K_ACRM);
  if (acrm !== null && trimOws(acrm).length > 0 && isOptions(getHeaderCachedEnc(MapType.REQUEST_HEADERS, K_METHOD))) {
    s.verdict = Verdict.ANSWERED;
    answerOrRefusePreflight(policy, origin, allowed, acrm);
    return Action.PAUSE;
  }
  if (allowed) {
    s.verdict = Verdict.ALLOWED;
    s.origin = origin;
    s.policy = policy;
  } else {
    s.verdict = Verdict.REFUSED;
  }
  return Action.CONTINUE;
}

/** on_response_headers: adds (allowed) or strips (refused) the CORS response headers. */
export function decorateResponse(s: CorsStreamState): u32 {
  if (s.verdict == Verdict.ALLOWED) {
    const p = s.policy;
    if (p !== null) addCorsHeaders(p, s.origin);
  } else if (s.verdict == Verdict.REFUSED) {
    stripCorsHeaders();
  }
  return Action.CONTINUE;
}

/** Origin equals scheme://:authority (default ports folded); the host is compared first so most CORS requests skip :scheme. */
function isSameOriginRequest(origin: string): bool {
  const authority = getHeaderCachedEnc(MapType.REQUEST_HEADERS, K_AUTHORITY);
  if (authority === null) return false;
  if (authority !== lastAuthority) {
    lastHostDiffers = hostDiffers(origin, originParts, authority, authorityParts);
    lastAuthority = authority;
  }
  if (lastHostDiffers) return false;
  let scheme = getHeaderCachedEnc(MapType.REQUEST_HEADERS, K_SCHEME);
  // Envoy always sets :scheme; a bare HTTP/1 hop without it is plain http.
  if (scheme === null) scheme = "http";
  return isSameOrigin(origin, originParts, scheme, authority, authorityParts);
}

// The last preflight reply, by the identity of everything it was computed from; replyHeaders still holds it.
let repliedPolicy: CorsPolicy | null = null;
let repliedOrigin: string | null = null;
let repliedAcrm: string | null = null;
let repliedAcrh: string | null = null;
let repliedAcrpn: string | null = null;
let repliedAllowed = false;

/** A preflight: answered when origin, method and every requested header are allowed, refused otherwise. */
function answerOrRefusePreflight(policy: CorsPolicy, origin: string, originAllowed: bool, acrm: string): void {
  const acrh = getHeaderCachedEnc(MapType.REQUEST_HEADERS, K_ACRH);
  // The PNA request header is read only where PNA is enabled: elsewhere it changes nothing.
  const acrpn = policy.privateNetwork ? getHeaderCachedEnc(MapType.REQUEST_HEADERS, K_ACRPN) : null;
  if (policy !== repliedPolicy || origin !== repliedOrigin || acrm !== repliedAcrm || acrh !== repliedAcrh || acrpn !== repliedAcrpn) {
    repliedPolicy = policy;
    repliedOrigin = origin;
    repliedAcrm = acrm;
    repliedAcrh = acrh;
    repliedAcrpn = acrpn;
    repliedAllowed = originAllowed && methodAllowed(policy, acrm) && headersAllowed(policy, acrh);
    if (repliedAllowed) buildAnswer(policy, origin, acrm, acrh, privateNetworkGranted(policy, acrpn));
    else buildRefusal(policy);
  }
  // Unchanged since the last identical preflight, the builder is not serialized again.
  sendLocalResponseEnc(policy.preflightStatus, repliedAllowed ? D_PREFLIGHT : D_PREFLIGHT_INVALID, NO_BODY, replyHeaders);
}

/**
 * The allowed preflight's reply headers: `preflight_status` with the Access-Control-Allow-* set. The
 * origin is echoed (never `*`); Expose-Headers is left off (browsers read it only on actual responses;
 * Envoy and Kong omit it too).
 */
function buildAnswer(p: CorsPolicy, origin: string, acrm: string, acrh: string | null, pna: bool): void {
  const h = replyHeaders;
  h.reset();
  h.add(K_ACAO, originBytes(origin));
  if (p.credentials) h.add(K_ACAC, V_TRUE);
  h.add(K_ACAM, p.anyMethod ? encoded(allowMethodsValue(p, acrm)) : p.methodsBytes);
  if (p.anyHeader) {
    const requested = allowHeadersValue(p, acrh);
    if (requested.length > 0) h.add(K_ACAH, encoded(requested));
  } else if (p.headersBytes.byteLength > 0) {
    h.add(K_ACAH, p.headersBytes);
  }
  h.add(K_ACMA, p.maxAgeBytes);
  if (pna) h.add(K_ACAPN, V_TRUE);
  h.add(K_VARY, p.preflightVaryBytes);
}

/** The refused preflight's reply headers: same status but no Access-Control-Allow-*, so the browser fails it. */
function buildRefusal(p: CorsPolicy): void {
  const h = replyHeaders;
  h.reset();
  h.add(K_VARY, p.preflightVaryBytes);
}

/** The response's CORS headers become exactly the policy's: upstream copies are replaced, never doubled. */
function addCorsHeaders(p: CorsPolicy, origin: string): void {
  const map = MapType.RESPONSE_HEADERS;
  replaceHeaderB(map, K_ACAO, originBytes(origin));
  if (p.credentials) replaceHeaderB(map, K_ACAC, V_TRUE);
  else removeHeaderB(map, K_ACAC);
  if (p.exposeBytes.byteLength > 0) replaceHeaderB(map, K_ACEH, p.exposeBytes);
  else removeHeaderB(map, K_ACEH);
  appendVaryOrigin();
}

/** Refused origin: whatever Access-Control-Allow-* the upstream (or another filter) set is removed. */
function stripCorsHeaders(): void {
  const map = MapType.RESPONSE_HEADERS;
  removeHeaderB(map, K_ACAO);
  removeHeaderB(map, K_ACAC);
  removeHeaderB(map, K_ACAM);
  removeHeaderB(map, K_ACAH);
  removeHeaderB(map, K_ACEH);
  removeHeaderB(map, K_ACMA);
  removeHeaderB(map, K_ACAPN);
  appendVaryOrigin();
}

/**
 * The answer depends on Origin, so caches must key on it. `Origin` is added as one more Vary line
 * (equivalent to joining the list, RFC 9110 §5.3) so other Vary lines the response has stay intact.
 */
function appendVaryOrigin(): void {
  const vary = getHeaderCachedEnc(MapType.RESPONSE_HEADERS, K_VARY);
  if (vary === null || !varyCoversOrigin(vary)) addHeaderB(MapType.RESPONSE_HEADERS, K_VARY, V_VARY_ORIGIN);
}
