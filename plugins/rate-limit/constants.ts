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
/** Metric names: `rate_limit.<rule>.<counter>`. */
export const METRIC_PREFIX = "rate_limit.";
export const CAS_EXHAUSTED_LOG = "rate-limit: shared-data updates kept conflicting; request allowed (fail open) for rule ";
export const STORE_ERROR_LOG = "rate-limit: shared-data write failed; request allowed (fail open) for rule ";
