// Strings the plugin sends or logs, in one place (no typos across call sites, one copy in the binary).

export const PLUGIN = "rate-limit";
/** Response code details prefix: `rate-limit.<rule>`. */
export const DETAILS_PREFIX = "rate-limit.";
export const DEFAULT_BODY = "Too Many Requests";
/** Request header set in shadow mode, naming the rule that would have rejected. */
export const SHADOW_HEADER = "x-ratelimit-shadow";
export const RETRY_AFTER = "retry-after";
export const DRAFT03_LIMIT = "x-ratelimit-limit";
export const DRAFT03_REMAINING = "x-ratelimit-remaining";
export const DRAFT03_RESET = "x-ratelimit-reset";
export const IETF_POLICY = "ratelimit-policy";
export const IETF_STATE = "ratelimit";
export const KEY_PREFIX = "rate-limit:";
export const CAS_EXHAUSTED_LOG = "rate-limit: shared-data updates kept conflicting; request allowed (fail open) for rule ";
export const STORE_ERROR_LOG = "rate-limit: shared-data write failed; request allowed (fail open) for rule ";
/** The rate limit service's method (envoy/service/ratelimit/v3/rls.proto). */
export const RLS_SERVICE = "envoy.service.ratelimit.v3.RateLimitService";
export const RLS_METHOD = "ShouldRateLimit";
/** Details of the failure_mode_deny reply. */
export const RLS_FAILED_DETAILS = "rate-limit.rls_failed";
export const RLS_FAILED_BODY = "Rate limit service unavailable";
export const RLS_FAILED_LOG = "rate-limit: the rate limit service call failed (";
export const RLS_FAILED_OPEN = "); requests pass (rls.failure_mode_deny false)";
export const RLS_FAILED_CLOSED = "); requests are refused with 500 (rls.failure_mode_deny true)";
/** Why a service call failed, as the log line says it. */
export const RLS_REFUSED = "the host refused the call (is the cluster defined, with HTTP/2?)";
export const RLS_MALFORMED = "a malformed RateLimitResponse";
export const RLS_NO_MESSAGE = "no response message";
export const RLS_TOO_LARGE = "a response over 65536 bytes";
export const RLS_STATUS = "gRPC status ";

// ---- metrics (plugins/README.md "Metrics") ----
/** Per rule: tollgate_rate_limit_requests_total{outcome, rule}, ..._cas_exhausted_total{rule}, ..._evictions_total{rule}. */
export const M_REQUESTS = "rate_limit_requests_total";
export const M_CAS_EXHAUSTED = "rate_limit_cas_exhausted_total";
export const M_EVICTIONS = "rate_limit_evictions_total";
/** Plugin-wide: the service calls by outcome, and the requests failure_mode_deny refused. */
export const M_RLS_CALLS = "rate_limit_rls_calls_total";
export const M_RLS_DENIED = "rate_limit_rls_failure_mode_denied_total";
export const L_OUTCOME = "outcome";
export const L_RULE = "rule";
export const OUTCOME_ALLOWED = "allowed";
export const OUTCOME_REJECTED = "rejected";
export const OUTCOME_SHADOW_REJECTED = "shadow_rejected";
export const OUTCOME_OK = "ok";
export const OUTCOME_OVER_LIMIT = "over_limit";
export const OUTCOME_FAILED = "failed";
