// The request body and trailer callbacks, for a plugin that exports the headers-only set
// (exports-headers.ts) and must see the request body or keep it waiting: rate-limit holds a request's body
// and trailers while the rate limit service decides.
export { proxy_on_request_body, proxy_on_request_trailers } from "./dispatch";
