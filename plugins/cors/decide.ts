// The cors decision, pure over a request view: is the request cross-origin (classify), and if so what it
// gets from a policy (decideCross): a preflight answered or refused, or an actual request whose response
// gets the CORS headers or loses them. stream.ts backs the view with host calls and turns the Decision
// into replies (replies.ts); the table tests beside this file use plain values.
//
// Memoization: a browser app's requests repeat their Origin (and preflights their method and header
// list). The view returns a repeated header value as the same string object (getHeaderCachedEnc), and
// strings are immutable, so "the same object" is an exact key: OriginMemo keeps the last origin's parse
// and same-origin pre-check, and each policy keeps its last origin verdict.
import { trimOws } from "tollgate/assembly";
import { Verdict } from "./constants";
import { hostDiffers, isSameOrigin, OriginParts, parseOrigin } from "./origin";
import { CorsPolicy, headersAllowed, isOptions, methodAllowed, privateNetworkGranted } from "./policy";

/** What the decision reads from a request; request.ts backs it with host calls, tests with plain values. */
export abstract class RequestView {
  abstract origin(): string | null;
  abstract method(): string | null;
  abstract authority(): string | null;
  abstract scheme(): string | null;
  abstract accessControlRequestMethod(): string | null;
  abstract accessControlRequestHeaders(): string | null;
  abstract accessControlRequestPrivateNetwork(): string | null;
}

/** The last Origin classified, its parse and the same-origin pre-check against the last :authority. */
export class OriginMemo {
  origin: string | null = null;
  parsed: bool = false;
  parts: OriginParts = new OriginParts();
  authority: string | null = null;
  hostDiffers: bool = false;
  authorityParts: OriginParts = new OriginParts();
}

/** The outcome for one request. */
export class Decision {
  verdict: u8 = Verdict.NONE;
  /** The request's Origin (trimmed), echoed in Access-Control-Allow-Origin. */
  origin: string = "";
  /** Whether `origin` parsed as a serialized origin (memo.parts holds its slices). */
  parsed: bool = false;
  policy: CorsPolicy | null = null;
  /** Preflights: the Access-Control-Request-* values the answer echoes. */
  acrm: string = "";
  acrh: string | null = null;
  acrpn: string | null = null;
  /** Preflights: whether origin, method and every requested header are allowed. */
  preflightAllowed: bool = false;
  /** Preflights: whether the Private Network Access grant is added. */
  privateNetwork: bool = false;

  reset(): Decision {
    this.verdict = Verdict.NONE;
    this.policy = null;
    return this;
  }
}

/**
 * Step 1: whether the request is cross-origin. Returns false (nothing to do) with no Origin, a blank one,
 * or the request's own origin; else fills `out.origin` / `out.parsed` for decideCross.
 */
export function classify(req: RequestView, memo: OriginMemo, out: Decision): bool {
  const raw = req.origin();
  if (raw === null) return false;
  // Echoed as Access-Control-Allow-Origin, which must equal the serialized origin: no blanks.
  const origin = trimOws(raw);
  if (origin.length == 0) return false;
  if (origin !== memo.origin) {
    memo.parsed = parseOrigin(origin, memo.parts);
    memo.origin = origin;
    memo.authority = null;
  }
  out.origin = origin;
  out.parsed = memo.parsed;
  return !(memo.parsed && isSameOriginRequest(req, origin, memo));
}

/** Origin equals scheme://:authority (default ports folded); the host is compared first so most CORS requests skip :scheme. */
function isSameOriginRequest(req: RequestView, origin: string, memo: OriginMemo): bool {
  const authority = req.authority();
  if (authority === null) return false;
  if (authority !== memo.authority) {
    memo.hostDiffers = hostDiffers(origin, memo.parts, authority, memo.authorityParts);
    memo.authority = authority;
  }
  if (memo.hostDiffers) return false;
  let scheme = req.scheme();
  // Envoy always sets :scheme; a bare HTTP/1 hop without it is plain http.
  if (scheme === null) scheme = "http";
  return isSameOrigin(origin, memo.parts, scheme, authority, memo.authorityParts);
}

/** Step 2, for a cross-origin request (classify returned true) under `policy`: fills `out`. */
export function decideCross(policy: CorsPolicy, req: RequestView, memo: OriginMemo, out: Decision): Decision {
  const origin = out.origin;
  if (policy.memoOrigin !== origin) {
    policy.memoAllowed = policy.origins.allows(origin, out.parsed, memo.parts);
    policy.memoOrigin = origin;
  }
  const allowed = policy.memoAllowed;
  out.policy = policy;
  // Access-Control-Request-Method first: on the hot path (actual requests) it is absent, and a miss is the
  // cheapest host call; :method is read only when it is present. OPTIONS without it is an ordinary request.
  const acrm = req.accessControlRequestMethod();
  if (acrm !== null && trimOws(acrm).length > 0 && isOptions(req.method())) {
    out.verdict = Verdict.ANSWERED;
    out.acrm = acrm;
    out.acrh = req.accessControlRequestHeaders();
    // The PNA request header is read only where PNA is enabled: elsewhere it changes nothing.
    out.acrpn = policy.privateNetwork ? req.accessControlRequestPrivateNetwork() : null;
    out.preflightAllowed = allowed && methodAllowed(policy, acrm) && headersAllowed(policy, out.acrh);
    out.privateNetwork = out.preflightAllowed && privateNetworkGranted(policy, out.acrpn);
    return out;
  }
  out.verdict = allowed ? Verdict.ALLOWED : Verdict.REFUSED;
  return out;
}
