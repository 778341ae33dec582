// Request headers as Envoy's HTTP/1 codec hands them to the connection manager (seen on Envoy 1.40):
//  - names lower-cased; the Host line(s) become :authority (repeated Host lines joined with ",", empty
//    ones skipped, like any inline header);
//  - a repeated *inline* header (the request header map's registered names, printed by Envoy at start-up
//    as "request header map: …") is one header whose values are joined with ",", empty values skipped;
//    other repeated headers (cookie, x-*, accept-language…) stay separate lines, in order;
//  - hop-by-hop headers stop at the codec, and so does every header the Connection header names;
//    `te` survives only as `te: trailers`; `expect: 100-continue` is answered (Node sends the 100).

import { HOP_BY_HOP } from "./upstream.ts";

// Envoy 1.40's inline request headers (its start-up log), minus the pseudo-headers and host.
const INLINE = new Set(
  (
    "accept,accept-encoding,access-control-request-headers,access-control-request-method," +
    "access-control-request-private-network,authentication,authorization,cache-control,cdn-loop,connection," +
    "content-encoding,content-length,content-type,expect,grpc-accept-encoding,grpc-timeout,if-match," +
    "if-modified-since,if-none-match,if-range,if-unmodified-since,keep-alive,origin,pragma,proxy-connection," +
    "proxy-status,referer,te,transfer-encoding,upgrade,user-agent,via,x-client-trace-id,x-envoy-attempt-count," +
    "x-envoy-decorator-operation,x-envoy-downstream-service-cluster,x-envoy-downstream-service-node," +
    "x-envoy-expected-rq-timeout-ms,x-envoy-external-address,x-envoy-force-trace,x-envoy-hedge-on-per-try-timeout," +
    "x-envoy-internal,x-envoy-ip-tags,x-envoy-is-timeout-retry,x-envoy-max-retries,x-envoy-original-host," +
    "x-envoy-original-path,x-envoy-original-url,x-envoy-retriable-header-names,x-envoy-retriable-status-codes," +
    "x-envoy-retry-grpc-on,x-envoy-retry-on,x-envoy-upstream-alt-stat-name,x-envoy-upstream-rq-per-try-timeout-ms," +
    "x-envoy-upstream-rq-timeout-alt-response,x-envoy-upstream-rq-timeout-ms,x-envoy-upstream-stream-duration-ms," +
    "x-forwarded-client-cert,x-forwarded-for,x-forwarded-host,x-forwarded-port,x-forwarded-proto,x-request-id"
  ).split(","),
);


export interface WireRequestHeaders {
  /** The non-empty Host lines joined with "," (Envoy's :authority), or "" without one. */
  authority: string;
  /** Lower-case names, in arrival order, without host and what the codec consumes. */
  headers: Array<[string, string]>;
  /** Every Transfer-Encoding value as sent (the codec judges them: server.ts codecRefusal). */
  transferEncodings: string[];
}

/** Node's `rawHeaders` ([name, value, …]) → what Envoy's codec passes on. */
export function fromWire(raw: string[]): WireRequestHeaders {
  const hosts: string[] = [];
  const nominated = new Set<string>();
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].toLowerCase() !== "connection") continue;
    for (const t of raw[i + 1].split(",")) {
      const n = t.trim().toLowerCase();
      if (n && n !== "close" && n !== "keep-alive") nominated.add(n);
    }
  }
  const headers: Array<[string, string]> = [];
  const transferEncodings: string[] = [];
  const inlineAt = new Map<string, number>();
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i].toLowerCase();
    const v = raw[i + 1];
    if (k === "host") {
      hosts.push(v);
      continue;
    }
    if (k === "transfer-encoding") transferEncodings.push(v);
    if (nominated.has(k)) continue;
    if (k === "te") {
      if (v.split(",").some((t) => t.trim().toLowerCase() === "trailers") && !inlineAt.has("te")) {
        inlineAt.set("te", headers.length);
        headers.push(["te", "trailers"]);
      }
      continue;
    }
    if (k === "expect" && v.toLowerCase() === "100-continue") continue;
    // Consumed by the HTTP/1 codec; they never reach a filter.
    if (HOP_BY_HOP.has(k)) continue;
    if (INLINE.has(k)) {
      const at = inlineAt.get(k);
      if (at !== undefined) {
        if (v !== "") headers[at][1] = headers[at][1] === "" ? v : `${headers[at][1]},${v}`;
        continue;
      }
      inlineAt.set(k, headers.length);
    }
    headers.push([k, v]);
  }
  return { authority: hosts.filter((h) => h !== "").join(","), headers, transferEncodings };
}
