// Which request-header names a plugin may be configured to WRITE. One list for every plugin, so that a
// name one plugin refuses no other accepts. A written header that frames the message (a rewritten
// Content-Length under a streamed body desynchronises the pooled upstream connection), addresses the hop
// or picks the route would let a config, or a client value copied into it, break framing or routing;
// one that another plugin owns would let one plugin overwrite another's identity or tag. The schemas
// (plugin.json `$defs/writableHeader`) express the same list; test/security/headers.test.ts keeps them equal.

/** Message framing: the body's length and encoding. */
// @ts-ignore: decorator
@lazy export const FRAMING_HEADERS: string[] = ["content-length", "transfer-encoding"];

/** Hop-by-hop (RFC 9110 §7.6.1, RFC 2616 §13.5.1) and connection control: meaningful for one connection only. */
// @ts-ignore: decorator
@lazy export const HOP_HEADERS: string[] = [
  "connection", "keep-alive", "proxy-connection", "te", "trailer", "trailers", "upgrade", "expect",
  "proxy-authorization", "proxy-authenticate",
];

/** Routing and client identity as the proxy sees them (virtual host, route, client address). */
// @ts-ignore: decorator
@lazy export const ROUTING_HEADERS: string[] = ["host", "forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto"];

/** Envoy's own request headers (x-envoy-original-path, x-envoy-upstream-rq-timeout-ms, ...) steer the router. */
export const ENVOY_PREFIX = "x-envoy-";

/** Headers a plugin of this repository owns (writes or strips), with the owner: no other plugin may write them. */
// @ts-ignore: decorator
@lazy export const OWNED_HEADERS: string[] = [
  "authorization", "x-mse-consumer", "x-canary-version", "x-ratelimit-shadow",
];
// @ts-ignore: decorator
@lazy const OWNERS: string[] = ["auth", "auth", "canary", "rate-limit"];
// @ts-ignore: decorator
@lazy const OWNED_WHAT: string[] = [
  "the client's credentials", "the authenticated consumer (auth's default consumer_header)",
  "the canary tag (canary's default tag_header)", "the shadow-mode verdict",
];

/** Why no plugin may write `name` (lower-case) on any message, request or response; "" when it may. */
export function framingHeaderProblem(name: string): string {
  const q = "cannot be \"" + name + "\": ";
  if (name.length == 0) return "must not be empty";
  if (name.charCodeAt(0) == 0x3a) return q + "a pseudo-header (only the proxy sets :authority, :path, :method, :scheme, :status)";
  if (FRAMING_HEADERS.includes(name)) return q + "a framing header (it delimits the message body; rewriting it desynchronises the upstream connection)";
  if (HOP_HEADERS.includes(name)) return q + "a hop-by-hop header (it controls one connection and is not forwarded as an application header)";
  return "";
}

/**
 * Why plugin `owner` may not write a request header called `name` (lower-case), or "" when it may.
 * The answer is a complete rule for a config error: `cannot be "content-length": a framing header ...`.
 */
export function writableHeaderProblem(name: string, owner: string): string {
  const framing = framingHeaderProblem(name);
  if (framing.length > 0) return framing;
  const q = "cannot be \"" + name + "\": ";
  if (ROUTING_HEADERS.includes(name)) return q + "a routing header (it picks the virtual host or identifies the client address)";
  if (name.startsWith(ENVOY_PREFIX)) return q + "an x-envoy-* header (Envoy reads them to steer routing, retries and timeouts)";
  const i = OWNED_HEADERS.indexOf(name);
  if (i >= 0 && OWNERS[i] != owner) return q + "the " + OWNERS[i] + " plugin owns it (" + OWNED_WHAT[i] + ")";
  return "";
}
