// Names, details and defaults of the cors plugin in one place: one copy of each string in the binary,
// and no typo can split a header name or a response-code detail in two.

/** root_id and the prefix of details and metrics. */
export const PLUGIN = "cors";

// ---- request headers read (lower-case, as Envoy stores them) ----
export const H_ORIGIN = "origin";
export const H_METHOD = ":method";
export const H_AUTHORITY = ":authority";
export const H_SCHEME = ":scheme";
export const H_ACRM = "access-control-request-method";
export const H_ACRH = "access-control-request-headers";
export const H_ACRPN = "access-control-request-private-network";

// ---- response headers written ----
export const H_ACAO = "access-control-allow-origin";
export const H_ACAC = "access-control-allow-credentials";
export const H_ACAM = "access-control-allow-methods";
export const H_ACAH = "access-control-allow-headers";
export const H_ACEH = "access-control-expose-headers";
export const H_ACMA = "access-control-max-age";
export const H_ACAPN = "access-control-allow-private-network";
export const H_VARY = "vary";

export const TRUE = "true";
export const OPTIONS = "OPTIONS";
export const NULL_ORIGIN = "null";
export const WILDCARD = "*";
export const VARY_ORIGIN = "Origin";
/** Vary of a preflight answer: its outcome depends on all of these request headers. */
export const VARY_PREFLIGHT = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";
export const VARY_PREFLIGHT_PNA = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network";

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

// ---- response-code details of the local replies (`<plugin>.<reason>`, Higress's names) ----
export const DETAILS_PREFLIGHT = "cors.preflight";
export const DETAILS_PREFLIGHT_INVALID = "cors.preflight.invalid";

// ---- config field names ----
export const F_ALLOW_ORIGINS = "allow_origins";
export const F_ALLOW_ORIGIN_PATTERNS = "allow_origin_patterns";
export const F_ALLOW_METHODS = "allow_methods";
export const F_ALLOW_HEADERS = "allow_headers";
export const F_EXPOSE_HEADERS = "expose_headers";
export const F_ALLOW_CREDENTIALS = "allow_credentials";
export const F_MAX_AGE = "max_age";
export const F_PREFLIGHT_STATUS = "preflight_status";
export const F_ALLOW_PRIVATE_NETWORK = "allow_private_network";

// ---- defaults (Higress 2.0.1, already split: v1.0.0 split on a full-width comma and broke) ----
// @ts-ignore: decorator
@inline export const DEFAULT_MAX_AGE: i64 = 86400;
// @ts-ignore: decorator
@inline export const DEFAULT_PREFLIGHT_STATUS: i64 = 204;
/** Origins longer than this are not parsed (no legitimate origin comes close); they match only `*`. */
// @ts-ignore: decorator
@inline export const MAX_ORIGIN_LENGTH: i32 = 2048;

// ---- config error messages (the reader prefixes `'<field path>'`) ----
export const E_ORIGIN =
  "must be an origin like \"https://app.example.com\" (scheme://host[:port], no path), \"*\" or \"null\", got ";
export const E_ORIGIN_WILDCARD = "cannot contain a wildcard; put host wildcards in 'allow_origin_patterns', got ";
export const E_PATTERN =
  "must be \"*\" or scheme://host[:port] where the host may contain '*' and the port may be a list like :[8080,9090] or :[*], got ";
export const E_TOKEN = "must be an HTTP token (letters, digits and !#$%&'*+-.^_`|~) or \"*\", got ";
export const E_EMPTY_METHODS = "must list at least one method, or \"*\"";
export const E_CREDENTIALS_WILDCARD =
  "cannot be true when 'allow_origins' contains \"*\" (browsers reject credentialed responses for any origin); list the origins";
export const E_CREDENTIALS_DEFAULT_WILDCARD =
  "cannot be true when 'allow_origins' is not set (it defaults to [\"*\"]); list the origins in 'allow_origins'";
export const E_CREDENTIALS_NULL =
  "cannot be true when 'allow_origins' contains \"null\" (any page can send Origin: null from a sandboxed iframe, so it admits every site with the user's cookies); list real origins";
export const E_CREDENTIALS_ANY_SITE_PATTERN =
  "cannot be true when 'allow_origin_patterns' admits every site: ";
export const E_ANY_SITE_STAR = " (\"*\" alone matches every origin); list the origins or patterns like \"https://*.example.com\"";
export const E_ANY_SITE_HOST = " (its host is only \"*\", which matches every site on any domain); list the origins or patterns like \"https://*.example.com\"";
export const E_ANY_SITE_LABEL = " (a '*' in the host must stand for whole labels, followed by '.' and your domain, or anyone can register a matching host); use a pattern like \"https://*.example.com\"";
export const E_ANY_SITE_TLD = " (a '*' directly under a top-level domain matches sites anyone can register); use a pattern like \"https://*.example.com\"";
export const E_PREFLIGHT_STATUS = "must be 200 or 204, got ";
export const W_EXPOSE_WILDCARD_CREDENTIALS =
  "cors: 'expose_headers' contains \"*\" while 'allow_credentials' is true; browsers then treat \"*\" as a header name and expose nothing else";

// ---- metrics (plugins/README.md "Metrics"): tollgate_cors_preflights_total / tollgate_cors_requests_total ----
export const M_PREFLIGHTS = "cors_preflights_total";
export const M_REQUESTS = "cors_requests_total";
export const L_OUTCOME = "outcome";
export const L_REASON = "reason";
export const OUTCOME_ANSWERED = "answered";
export const OUTCOME_ALLOWED = "allowed";
export const OUTCOME_REFUSED = "refused";
export const REASON_ORIGIN = "origin_not_allowed";
export const REASON_METHOD = "method_not_allowed";
export const REASON_HEADERS = "headers_not_allowed";
