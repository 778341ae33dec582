// What the client gets: the preflight answer or refusal (a local reply), and the CORS headers added to
// (allowed) or stripped from (refused) actual responses — upstream answers and other filters' local
// replies alike: Envoy runs those through this filter's response path too.
import {
  addHeaderEnc, encode, getHeaderCachedEnc, MapType, PairsBuilder, removeHeaderEnc, replaceHeaderEnc,
  sendLocalResponseEnc,
} from "tollgate/assembly";
import {
  DETAILS_PREFLIGHT, DETAILS_PREFLIGHT_INVALID, H_ACAC, H_ACAH, H_ACAM, H_ACAO, H_ACAPN, H_ACEH, H_ACMA, H_VARY, TRUE,
  VARY_ORIGIN,
} from "./constants";
import { Decision } from "./decide";
import { allowHeadersValue, allowMethodsValue, CorsPolicy, varyCoversOrigin } from "./policy";

const NO_BODY = new ArrayBuffer(0);
const K_ACAO = encode(H_ACAO);
const K_ACAC = encode(H_ACAC);
const K_ACAM = encode(H_ACAM);
const K_ACAH = encode(H_ACAH);
const K_ACEH = encode(H_ACEH);
const K_ACMA = encode(H_ACMA);
const K_ACAPN = encode(H_ACAPN);
const K_VARY = encode(H_VARY);
const V_TRUE = encode(TRUE);
const V_VARY_ORIGIN = encode(VARY_ORIGIN);
const D_PREFLIGHT = encode(DETAILS_PREFLIGHT);
const D_PREFLIGHT_INVALID = encode(DETAILS_PREFLIGHT_INVALID);

/**
 * The preflight reply, kept from one preflight to the next: a repeated preflight (same policy, origin
 * and Access-Control-Request-* strings) resends the same serialized block, built once.
 */
export class PreflightReply {
  private headers: PairsBuilder = new PairsBuilder();
  private policy: CorsPolicy | null = null;
  private origin: string | null = null;
  private acrm: string | null = null;
  private acrh: string | null = null;
  private acrpn: string | null = null;
  private allowed: bool = false;
  /** The UTF-8 of the last origin echoed (the same buffer for the same origin). */
  private originText: string | null = null;
  private originBytes: ArrayBuffer = new ArrayBuffer(0);

  /** Answers (`preflight_status` with the Access-Control-Allow-* set) or refuses (same status, none of them) the preflight in `d`. */
  send(d: Decision): void {
    const p = d.policy!;
    if (p !== this.policy || d.origin !== this.origin || d.acrm !== this.acrm || d.acrh !== this.acrh || d.acrpn !== this.acrpn) {
      this.policy = p;
      this.origin = d.origin;
      this.acrm = d.acrm;
      this.acrh = d.acrh;
      this.acrpn = d.acrpn;
      this.allowed = d.preflightAllowed;
      if (d.preflightAllowed) this.buildAnswer(p, d);
      else this.buildRefusal(p);
    }
    sendLocalResponseEnc(p.preflightStatus, this.allowed ? D_PREFLIGHT : D_PREFLIGHT_INVALID, NO_BODY, this.headers);
  }

  /** The UTF-8 of an Origin to echo, encoded once per distinct value. */
  echo(origin: string): ArrayBuffer {
    if (origin !== this.originText) {
      this.originBytes = encode(origin);
      this.originText = origin;
    }
    return this.originBytes;
  }

  /**
   * The origin is echoed (never `*`); Expose-Headers is left off (browsers read it only on actual
   * responses; Envoy and Kong omit it too).
   */
  private buildAnswer(p: CorsPolicy, d: Decision): void {
    const h = this.headers;
    h.reset();
    h.add(K_ACAO, this.echo(d.origin));
    if (p.credentials) h.add(K_ACAC, V_TRUE);
    h.add(K_ACAM, p.anyMethod ? encode(allowMethodsValue(p, d.acrm)) : p.methodsBytes);
    if (p.anyHeader) {
      const requested = allowHeadersValue(p, d.acrh);
      if (requested.length > 0) h.add(K_ACAH, encode(requested));
    } else if (p.headersBytes.byteLength > 0) {
      h.add(K_ACAH, p.headersBytes);
    }
    h.add(K_ACMA, p.maxAgeBytes);
    if (d.privateNetwork) h.add(K_ACAPN, V_TRUE);
    h.add(K_VARY, p.preflightVaryBytes);
  }

  private buildRefusal(p: CorsPolicy): void {
    const h = this.headers;
    h.reset();
    h.add(K_VARY, p.preflightVaryBytes);
  }
}

/** Allowed origin: the response's CORS headers become exactly the policy's (upstream copies replaced, never doubled). */
export function addCorsHeaders(p: CorsPolicy, origin: ArrayBuffer): void {
  const map = MapType.RESPONSE_HEADERS;
  replaceHeaderEnc(map, K_ACAO, origin);
  if (p.credentials) replaceHeaderEnc(map, K_ACAC, V_TRUE);
  else removeHeaderEnc(map, K_ACAC);
  if (p.exposeBytes.byteLength > 0) replaceHeaderEnc(map, K_ACEH, p.exposeBytes);
  else removeHeaderEnc(map, K_ACEH);
  appendVaryOrigin();
}

/** Refused origin: whatever Access-Control-Allow-* the upstream (or another filter) set is removed. */
export function stripCorsHeaders(): void {
  const map = MapType.RESPONSE_HEADERS;
  removeHeaderEnc(map, K_ACAO);
  removeHeaderEnc(map, K_ACAC);
  removeHeaderEnc(map, K_ACAM);
  removeHeaderEnc(map, K_ACAH);
  removeHeaderEnc(map, K_ACEH);
  removeHeaderEnc(map, K_ACMA);
  removeHeaderEnc(map, K_ACAPN);
  appendVaryOrigin();
}

/**
 * The answer depends on Origin, so caches must key on it. `Origin` is added as one more Vary line
 * (equivalent to joining the list, RFC 9110 §5.3) so other Vary lines the response has stay intact.
 */
function appendVaryOrigin(): void {
  const vary = getHeaderCachedEnc(MapType.RESPONSE_HEADERS, K_VARY);
  if (vary === null || !varyCoversOrigin(vary)) addHeaderEnc(MapType.RESPONSE_HEADERS, K_VARY, V_VARY_ORIGIN);
}
