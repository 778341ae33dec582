// The host function table Envoy links modules against (abi.md §1.2, §13), with exact signatures.
import { type AbiVersion, type FuncType, sig } from "./link.ts";

/** env.* functions registered for every ABI version (FOR_ALL_HOST_FUNCTIONS + always-registered). */
const ENV_COMMON: Record<string, string> = {
  proxy_log: "iii:i",
  proxy_get_status: "iii:i",
  proxy_set_property: "iiii:i",
  proxy_get_property: "iiii:i",
  proxy_send_local_response: "iiiiiiii:i",
  proxy_get_shared_data: "iiiii:i",
  proxy_set_shared_data: "iiiii:i",
  proxy_register_shared_queue: "iii:i",
  proxy_resolve_shared_queue: "iiiii:i",
  proxy_dequeue_shared_queue: "iii:i",
  proxy_enqueue_shared_queue: "iii:i",
  proxy_get_header_map_value: "iiiii:i",
  proxy_add_header_map_value: "iiiii:i",
  proxy_replace_header_map_value: "iiiii:i",
  proxy_remove_header_map_value: "iii:i",
  proxy_get_header_map_pairs: "iii:i",
  proxy_set_header_map_pairs: "iii:i",
  proxy_get_header_map_size: "ii:i",
  proxy_get_buffer_status: "iii:i",
  proxy_get_buffer_bytes: "iiiii:i",
  proxy_set_buffer_bytes: "iiiii:i",
  proxy_http_call: "iiiiiiiiii:i",
  proxy_grpc_call: "iiiiiiiiiiii:i",
  proxy_grpc_stream: "iiiiiiiii:i",
  proxy_grpc_close: "i:i",
  proxy_grpc_cancel: "i:i",
  proxy_grpc_send: "iiii:i",
  proxy_set_tick_period_milliseconds: "i:i",
  proxy_get_current_time_nanoseconds: "i:i",
  proxy_define_metric: "iiii:i",
  proxy_increment_metric: "iI:i",
  proxy_record_metric: "iI:i",
  proxy_get_metric: "ii:i",
  proxy_set_effective_context: "i:i",
  proxy_done: ":i",
  proxy_call_foreign_function: "iiiiii:i",
  pthread_equal: "ii:i",
  emscripten_notify_memory_growth: "i:",
};

const ENV_ABI: Record<AbiVersion, Record<string, string>> = {
  "0_1_0": { proxy_get_configuration: "ii:i", proxy_continue_request: ":i", proxy_continue_response: ":i", proxy_clear_route_cache: ":i" },
  "0_2_0": { proxy_continue_stream: "i:i", proxy_close_stream: "i:i" },
  "0_2_1": { proxy_continue_stream: "i:i", proxy_close_stream: "i:i", proxy_get_log_level: "i:i" },
};

/** WASI preview1 functions Envoy registers under wasi_snapshot_preview1 and wasi_unstable (abi.md §13). */
export const WASI_SIGNATURES: Record<string, string> = {
  fd_write: "iiii:i",
  fd_pwrite: "iiiIi:i",
  fd_read: "iiii:i",
  fd_pread: "iiiIi:i",
  fd_seek: "iIii:i",
  fd_close: "i:i",
  fd_fdstat_get: "ii:i",
  fd_fdstat_set_flags: "ii:i",
  fd_prestat_get: "ii:i",
  fd_prestat_dir_name: "iii:i",
  fd_filestat_get: "ii:i",
  fd_readdir: "iiiIi:i",
  fd_advise: "iIIi:i",
  fd_allocate: "iII:i",
  fd_datasync: "i:i",
  fd_fdstat_set_rights: "iII:i",
  fd_filestat_set_size: "iI:i",
  fd_filestat_set_times: "iIIi:i",
  fd_sync: "i:i",
  fd_renumber: "ii:i",
  fd_tell: "ii:i",
  path_open: "iiiiiIIii:i",
  path_create_directory: "iii:i",
  path_filestat_get: "iiiii:i",
  path_filestat_set_times: "iiiiIIi:i",
  path_link: "iiiiiii:i",
  path_readlink: "iiiiii:i",
  path_remove_directory: "iii:i",
  path_rename: "iiiiii:i",
  path_symlink: "iiiii:i",
  path_unlink_file: "iii:i",
  sock_accept: "iii:i",
  sock_recv: "iiiiii:i",
  sock_send: "iiiii:i",
  sock_shutdown: "ii:i",
  environ_get: "ii:i",
  environ_sizes_get: "ii:i",
  args_get: "ii:i",
  args_sizes_get: "ii:i",
  clock_time_get: "iIi:i",
  clock_res_get: "ii:i",
  random_get: "ii:i",
  sched_yield: ":i",
  poll_oneoff: "iiii:i",
  proc_exit: "i:",
};

export const WASI_MODULES = ["wasi_snapshot_preview1", "wasi_unstable"] as const;

/** module → name → signature, as Envoy registers them for `abi`. */
export function hostSignatures(abi: AbiVersion): Map<string, Map<string, FuncType>> {
  const env = new Map<string, FuncType>();
  for (const [k, v] of Object.entries({ ...ENV_COMMON, ...ENV_ABI[abi] })) env.set(k, sig(v));
  const wasi = new Map<string, FuncType>();
  for (const [k, v] of Object.entries(WASI_SIGNATURES)) wasi.set(k, sig(v));
  return new Map([["env", env], ["wasi_snapshot_preview1", wasi], ["wasi_unstable", wasi]]);
}

/** Callback exports Envoy looks up, with the signature it requires (abi.md §1.3). */
export function callbackSignatures(abi: AbiVersion): Map<string, FuncType> {
  const headers = abi === "0_1_0" ? "ii:i" : "iii:i";
  const m: Record<string, string> = {
    _initialize: ":", _start: ":", main: "ii:i", __main_void: ":i", malloc: "i:i", proxy_on_memory_allocate: "i:i",
    proxy_on_context_create: "ii:", proxy_on_vm_start: "ii:i", proxy_validate_configuration: "ii:i", proxy_on_configure: "ii:i",
    proxy_on_tick: "i:", proxy_on_queue_ready: "ii:", proxy_on_new_connection: "i:i", proxy_on_downstream_data: "iii:i",
    proxy_on_upstream_data: "iii:i", proxy_on_downstream_connection_close: "ii:", proxy_on_upstream_connection_close: "ii:",
    proxy_on_request_headers: headers, proxy_on_response_headers: headers, proxy_on_request_body: "iii:i",
    proxy_on_response_body: "iii:i", proxy_on_request_trailers: "ii:i", proxy_on_response_trailers: "ii:i",
    proxy_on_request_metadata: "ii:i", proxy_on_response_metadata: "ii:i", proxy_on_http_call_response: "iiiii:",
    proxy_on_grpc_receive_initial_metadata: "iii:", proxy_on_grpc_receive: "iii:", proxy_on_grpc_receive_trailing_metadata: "iii:",
    proxy_on_grpc_close: "iii:", proxy_on_done: "i:i", proxy_on_log: "i:", proxy_on_delete: "i:",
  };
  if (abi !== "0_1_0") m.proxy_on_foreign_function = "iii:";
  return new Map(Object.entries(m).map(([k, v]) => [k, sig(v)]));
}
