// The exports of a plugin that acts on headers only — the smaller set every plugin in this repository uses.
// Envoy calls a stream callback only when the module exports it (cpp-host CHECK_HTTP; abi.md §2): without
// the body and trailer callbacks, on_log and on_delete, a request with a response body enters the VM four
// to five times fewer, each entry a V8 call with its handle scope (about a microsecond on Envoy 1.40).
// What this leaves out behaves as Envoy's defaults: bodies and trailers continue, nothing is logged at
// on_log, and a stream is freed at on_done (dispatch.ts). A plugin that needs the request body exports
// `tollgate/assembly/exports-request-body` too; one that needs more exports `tollgate/assembly/exports`.
import "./log"; // tollgate_abort, where debug builds route aborts (asconfig.json `abort=`)

export { malloc } from "./memory";
export {
  proxy_on_context_create,
  proxy_on_vm_start,
  proxy_on_configure,
  proxy_on_tick,
  proxy_on_queue_ready,
  proxy_on_request_headers,
  proxy_on_response_headers,
  proxy_on_http_call_response,
  proxy_on_grpc_receive,
  proxy_on_grpc_close,
  proxy_on_done,
} from "./dispatch";

/** ABI marker the host looks for (abi.md §1.1); never called. */
export function proxy_abi_version_0_2_1(): void {}
