// The plugins' metrics in one place (plugins/README.md "Metrics"): the Prometheus names and labels each plugin
// exports, the Envoy stats_config that turns tollgate's label encoding into Prometheus labels, and the Istio
// settings that keep them. gen dashboard queries exactly these names; gen wasmplugin prints the Istio side; the
// tests check them against what Envoy 1.40 and the embedded engine export after traffic.
//
// How the names travel (measured on Envoy 1.40): a plugin defines `tollgate.<label>=.=<value>;.;…<name>`
// (proxy_define_metric); Envoy stores it as `wasmcustom.tollgate.…` and /stats prints that; the regex tag
// extractors below cut each `<label>=.=<value>;.;` out into a tag; /stats/prometheus drops the `wasmcustom`
// namespace and prints `tollgate_<name>{<label>="<value>",…}`. Without the extractors the labels stay in the
// name (one series name per value). Istio's proxy bootstrap has the same extractor for every tag listed in
// ProxyConfig `extraStatTags`, and keeps a wasm stat only when `proxyStatsMatcher` includes its full name.

/** Label names of every tollgate metric, in the order the extractors (and so Prometheus output) list them. */
export const METRIC_LABELS = ["outcome", "reason", "rule", "consumer", "canary_tag"] as const;

/** Envoy bootstrap stats_config.stats_tags: one regex extractor per label (Istio's extraStatTags regex). */
export function statsTags(): Array<{ tag_name: string; regex: string }> {
  return METRIC_LABELS.map((l) => ({ tag_name: l, regex: `(${l}=\\.=(.*?);\\.;)` }));
}

/** The full-name prefix every tollgate metric has in Envoy's store (what a stats matcher sees). */
export const STATS_INCLUSION_PREFIX = "wasmcustom.tollgate.";

/** A bootstrap stats_config keeping Envoy's own stats and adding tollgate's labels. */
export function statsConfig(): { stats_tags: Array<{ tag_name: string; regex: string }> } {
  return { stats_tags: statsTags() };
}

/** Istio ProxyConfig fields that keep tollgate's metrics and give them labels (mesh-wide or per pod). */
export function istioProxyConfig(): { proxyStatsMatcher: { inclusionPrefixes: string[] }; extraStatTags: string[] } {
  return { proxyStatsMatcher: { inclusionPrefixes: [STATS_INCLUSION_PREFIX] }, extraStatTags: [...METRIC_LABELS] };
}

export interface PluginMetric {
  /** Prometheus name (`tollgate_cors_preflights_total`). */
  name: string;
  labels: string[];
  help: string;
  /** Defined only when the config uses this feature (otherwise the series does not exist). */
  needs?: string;
}

/** Every plugin's metrics (counters). */
export const PLUGIN_METRICS: Record<string, PluginMetric[]> = {
  cors: [
    { name: "tollgate_cors_preflights_total", labels: ["outcome", "reason"], help: "Preflights: outcome answered | refused; reason of a refusal origin_not_allowed | method_not_allowed | headers_not_allowed" },
    { name: "tollgate_cors_requests_total", labels: ["outcome", "reason"], help: "Cross-origin actual requests: outcome allowed | refused (reason origin_not_allowed: the response loses its CORS headers)" },
  ],
  auth: [
    { name: "tollgate_auth_allowed_total", labels: ["consumer"], help: "Requests auth passed, by consumer (none when the authorization service alone decided)" },
    { name: "tollgate_auth_denied_total", labels: ["reason"], help: "Requests auth refused: no_credential | bad_credential | expired | not_allowed | jwks_unavailable | ext_denied | ext_error" },
    { name: "tollgate_auth_jwt_cache_lookups_total", labels: ["outcome"], help: "Verified-token cache lookups: outcome hit | miss" },
    { name: "tollgate_auth_ext_failure_mode_allowed_total", labels: [], help: "Requests passed because the authorization service failed and failure_mode_allow is on", needs: "ext_auth.failure_mode_allow" },
    { name: "tollgate_auth_jwks_fetches_total", labels: ["outcome"], help: "JWKS fetches of remote_jwks issuers: outcome ok | failed", needs: "remote_jwks" },
    { name: "tollgate_auth_jwks_kid_refetches_total", labels: [], help: "JWKS refetches asked by a token with an unknown kid", needs: "remote_jwks" },
  ],
  "rate-limit": [
    { name: "tollgate_rate_limit_requests_total", labels: ["outcome", "rule"], help: "Requests a rule counted: outcome allowed | rejected | shadow_rejected (shadow mode)" },
    { name: "tollgate_rate_limit_cas_exhausted_total", labels: ["rule"], help: "Local rules: requests let through because shared-data updates kept conflicting (fail open)" },
    { name: "tollgate_rate_limit_evictions_total", labels: ["rule"], help: "Local rules: keys evicted to make room (max_keys)" },
    { name: "tollgate_rate_limit_rls_calls_total", labels: ["outcome"], help: "Calls to the rate limit service: outcome ok | over_limit | failed", needs: "rls" },
    { name: "tollgate_rate_limit_rls_failure_mode_denied_total", labels: [], help: "Requests refused with 500 because the service failed and rls.failure_mode_deny is on", needs: "rls" },
  ],
  canary: [
    { name: "tollgate_canary_decisions_total", labels: ["canary_tag", "reason"], help: "Tags written, by tag and reason: override | rule | sticky | pin | draw | default; reason client (trust_client_tag kept the client's tag) has no canary_tag" },
  ],
};
