// Names, details, bodies and enums of the auth plugin in one place: one copy of each string in the binary,
// and no typo can split a response-code detail in two.

/** root_id and the prefix of metrics. */
export const PLUGIN = "auth";
/** Set on a request that passed because the authorization service failed and failure_mode_allow is on. */
export const FAILURE_MODE_HEADER = "x-envoy-auth-failure-mode-allowed";

/** Which credential decides the request (decide.ts chooseCredential). */
export namespace Found {
  /** No configured method found its credential. */
  // @ts-ignore: decorator
  @inline export const NONE: u8 = 0;
  // @ts-ignore: decorator
  @inline export const KEY: u8 = 1;
  /** More than one copy of the API key: refused, a client could hide which one counts. */
  // @ts-ignore: decorator
  @inline export const KEY_MULTIPLE: u8 = 2;
  // @ts-ignore: decorator
  @inline export const BASIC: u8 = 3;
  // @ts-ignore: decorator
  @inline export const JWT: u8 = 4;
}

/** What authenticate() did. */
export namespace Auth {
  /** A local reply was sent. */
  // @ts-ignore: decorator
  @inline export const REPLIED: u8 = 0;
  // @ts-ignore: decorator
  @inline export const PASSED: u8 = 1;
  /** The request waits for a JWKS refetch (the root resumes it). */
  // @ts-ignore: decorator
  @inline export const WAITING: u8 = 2;
}

/** Where a credential was found, so hide_credentials / keep_token can remove exactly that copy. */
export namespace Source {
  // @ts-ignore: decorator
  @inline export const HEADER: u8 = 0;
  // @ts-ignore: decorator
  @inline export const QUERY: u8 = 1;
  // @ts-ignore: decorator
  @inline export const COOKIE: u8 = 2;
}

// ---- response code details (`auth.<reason>`) ----
export const D_MISSING = "auth.missing_credential";
export const D_KEY_MISSING = "auth.key_missing";
export const D_KEY_MULTIPLE = "auth.key_multiple";
export const D_KEY_INVALID = "auth.key_invalid";
export const D_BASIC_MISSING = "auth.basic_missing";
export const D_BASIC_SCHEME = "auth.basic_scheme";
export const D_BASIC_FORMAT = "auth.basic_format";
export const D_BASIC_INVALID = "auth.basic_invalid";
export const D_JWT_MISSING = "auth.jwt_missing";
export const D_JWT_MALFORMED = "auth.jwt_malformed";
export const D_JWT_UNKNOWN_ISSUER = "auth.jwt_unknown_issuer";
export const D_JWT_NO_KEY = "auth.jwt_no_key";
export const D_JWKS_UNAVAILABLE = "auth.jwks_unavailable";
export const D_JWT_BAD_SIGNATURE = "auth.jwt_bad_signature";
export const D_JWT_EXPIRED = "auth.jwt_expired";
export const D_JWT_NOT_YET_VALID = "auth.jwt_not_yet_valid";
export const D_JWT_EXP_REQUIRED = "auth.jwt_exp_required";
export const D_JWT_AUDIENCE = "auth.jwt_audience";
export const D_NOT_ALLOWED = "auth.not_allowed";
export const D_EXT_DENIED = "auth.ext_denied";
export const D_EXT_ERROR = "auth.ext_error";

// ---- bodies (plain text; Envoy's and jwt_verify_lib's wording where they have one) ----
export const B_MISSING = "Authentication required: no credential found in request.";
export const B_KEY_MISSING = "No API key found in request.";
export const B_KEY_MULTIPLE = "Request denied by Key Auth check. Multiple API keys found in request.";
export const B_KEY_INVALID = "Request denied by Key Auth check. Invalid API key.";
export const B_KEY_NOT_ALLOWED = "Request denied by Key Auth check. Unauthorized consumer.";
export const B_BASIC_MISSING = "User authentication failed. Missing username and password.";
export const B_BASIC_SCHEME = "User authentication failed. Expected 'Basic' authentication scheme.";
export const B_BASIC_FORMAT = "User authentication failed. Invalid basic credential format.";
export const B_BASIC_INVALID = "User authentication failed. Invalid username/password combination.";
export const B_BASIC_NOT_ALLOWED = "Request denied by Basic Auth check. Unauthorized consumer.";
export const B_JWT_MISSING = "Jwt is missing";
export const B_JWT_BAD_FORMAT = "Jwt is not in the form of Header.Payload.Signature";
export const B_JWT_TOO_LARGE = "Jwt is too large (more than 8192 bytes)";
export const B_JWT_HEADER_PARSE = "Jwt header is an invalid Base64url input or an invalid JSON";
export const B_JWT_ALG_NOT_STRING = "Jwt header [alg] field is not a string";
export const B_JWT_ALG_INVALID = "Jwt header [alg] field value is invalid";
export const B_JWT_KID_NOT_STRING = "Jwt header [kid] field is not a string";
export const B_JWT_CRIT = "Jwt header [crit] names extensions that are not supported";
export const B_JWT_PAYLOAD_PARSE = "Jwt payload is an invalid Base64 or an invalid JSON";
export const B_JWT_SIGNATURE_PARSE = "Jwt signature is an invalid Base64";
export const B_JWT_UNKNOWN_ISSUER = "Jwt issuer is not configured";
export const B_JWT_NO_KEY = "Jwks doesn't have key to match kid or alg from Jwt";
export const B_JWKS_UNAVAILABLE = "Jwks is not available yet: the remote fetch has not succeeded";
export const B_JWT_BAD_SIGNATURE = "Jwt verification fails";
export const B_JWT_EXPIRED = "Jwt is expired";
export const B_JWT_NOT_YET_VALID = "Jwt not yet valid";
export const B_JWT_EXP_REQUIRED = "Jwt has no exp claim but one is required";
export const B_JWT_AUDIENCE = "Audiences in Jwt are not allowed";
export const B_JWT_NOT_ALLOWED = "Request denied by JWT Auth check. Unauthorized consumer.";
export const B_EXT_ERROR = "Request denied: the external authorization service failed.";

// ---- metrics (plugins/README.md "Metrics") ----
export const M_ALLOWED = "auth_allowed_total";
export const M_DENIED = "auth_denied_total";
export const M_CACHE = "auth_jwt_cache_lookups_total";
export const M_EXT_FAILURE_ALLOWED = "auth_ext_failure_mode_allowed_total";
export const M_JWKS_FETCHES = "auth_jwks_fetches_total";
export const M_JWKS_KID_REFETCHES = "auth_jwks_kid_refetches_total";
export const L_CONSUMER = "consumer";
export const L_REASON = "reason";
export const L_OUTCOME = "outcome";
export const OUTCOME_HIT = "hit";
export const OUTCOME_MISS = "miss";
export const OUTCOME_OK = "ok";
export const OUTCOME_FAILED = "failed";

/** Why a request was denied: the `reason` label of auth_denied_total (index = value). */
export namespace Denial {
  // @ts-ignore: decorator
  @inline export const NO_CREDENTIAL: i32 = 0;
  // @ts-ignore: decorator
  @inline export const BAD_CREDENTIAL: i32 = 1;
  // @ts-ignore: decorator
  @inline export const EXPIRED: i32 = 2;
  // @ts-ignore: decorator
  @inline export const NOT_ALLOWED: i32 = 3;
  // @ts-ignore: decorator
  @inline export const JWKS_UNAVAILABLE: i32 = 4;
  // @ts-ignore: decorator
  @inline export const EXT_DENIED: i32 = 5;
  // @ts-ignore: decorator
  @inline export const EXT_ERROR: i32 = 6;
  // @ts-ignore: decorator
  @inline export const COUNT: i32 = 7;
}
// @ts-ignore: decorator
@lazy export const DENIAL_NAMES: string[] = [
  "no_credential", "bad_credential", "expired", "not_allowed", "jwks_unavailable", "ext_denied", "ext_error",
];

/** The Denial of a reply's details: missing → no_credential; expired; 403s → not_allowed; the rest of the 401s → bad_credential. */
export function denialOf(details: string): i32 {
  if (details == D_MISSING || details == D_KEY_MISSING || details == D_BASIC_MISSING || details == D_JWT_MISSING) return Denial.NO_CREDENTIAL;
  if (details == D_JWT_EXPIRED) return Denial.EXPIRED;
  if (details == D_NOT_ALLOWED || details == D_JWT_AUDIENCE) return Denial.NOT_ALLOWED;
  if (details == D_JWKS_UNAVAILABLE) return Denial.JWKS_UNAVAILABLE;
  if (details == D_EXT_DENIED) return Denial.EXT_DENIED;
  if (details == D_EXT_ERROR) return Denial.EXT_ERROR;
  return Denial.BAD_CREDENTIAL;
}
