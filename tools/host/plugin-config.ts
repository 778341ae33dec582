// A configured plugin as a VM serves it: Envoy's PluginConfig + VmConfig of the Wasm filter.

export type FailurePolicy = "FAIL_CLOSED" | "FAIL_OPEN" | "FAIL_RELOAD";

export interface PluginConfig {
  name: string;
  rootId: string;
  vmId: string;
  vmConfig: Uint8Array;
  configuration: Uint8Array;
  /** The deprecated fail_open: true; Envoy 1.40 lets the trapping request itself continue (seen live). */
  failOpen: boolean;
  /** What a failed VM does to later streams (Envoy PluginConfig.failure_policy; fail_open: true = FAIL_OPEN). */
  failurePolicy: FailurePolicy;
  /** FAIL_RELOAD: how long after a failure a new stream may reload the VM (reload_config.backoff.base_interval). */
  reloadBackoffMs: number;
  allowOnHeadersStopIteration: boolean;
  /** Serve the top-level route_name / cluster_name / node … aliases removed in Envoy ≥ 1.33 (abi.md §6.1). */
  legacyXdsAliases: boolean;
}
