// Everything a plugin module may export for the host: every callback of the ABI. A plugin's index.ts does
// `export * from "tollgate/assembly/exports";` (or exports-headers.ts: the headers-only set) and nothing else ABI-related.
export * from "./exports-headers";
export * from "./exports-request-body";
export { proxy_on_response_body, proxy_on_response_trailers, proxy_on_log, proxy_on_delete } from "./dispatch";
