// Everything a plugin module may export for the host: every callback of the ABI. A plugin's index.ts does
// `export * from "tollgate/assembly/exports";` (or exports-headers.ts: the headers-only set) and nothing else ABI-related.
import "./log"; // tollgate_abort, where debug builds route aborts (asconfig.json `abort=`)

export { malloc } from "./memory";
export {
  proxy_on_context_create,
  proxy_on_vm_start,
  proxy_on_configure,
  proxy_on_tick,
  proxy_on_queue_ready,
  proxy_on_request_headers,
  proxy_on_request_body,
  proxy_on_request_trailers,
  proxy_on_response_headers,
  proxy_on_response_body,
  proxy_on_response_trailers,
  proxy_on_http_call_response,
  proxy_on_grpc_receive,
  proxy_on_grpc_close,
  proxy_on_log,
  proxy_on_done,
  proxy_on_delete,
} from "./dispatch";

/** ABI marker the host looks for (abi.md §1.1); never called. */
export function proxy_abi_version_0_2_1(): void {}
