// What Envoy's HTTP connection manager does to a request before the first filter runs
// (ConnectionManagerUtility::mutateRequestHeaders), for the HttpConnectionManager fields the engine reads:
// `use_remote_address`, `xff_num_trusted_hops`, `skip_xff_append`. Each rule below was checked on Envoy 1.40:
//  - the downstream address (the `source.address` property, rate-limit's client_ip) is the TCP peer with
//    use_remote_address; otherwise the XFF entry `xff_num_trusted_hops` from the right (default: the last
//    one, so a client can choose it); with use_remote_address and N trusted hops, the Nth entry from the
//    right when there are that many;
//  - use_remote_address appends the peer to x-forwarded-for (Envoy's own local address when the peer is a
//    loopback address), joined with ",", and sets x-envoy-external-address to the address it trusts;
//    with no trusted hops it overwrites x-forwarded-proto with the connection's scheme;
//  - no address is internal (1.40 trusts none without internal_address_config): x-envoy-internal is always
//    removed, client x-forwarded-client-cert is removed (forward_client_cert_details SANITIZE), and the
//    internal-only x-envoy-* request headers are removed (edge requests lose three more);
//  - `:scheme` is the x-forwarded-proto value when that is http or https, else the connection's scheme;
//  - with use_remote_address a client's x-request-id is replaced (preserve_external_request_id: false).
import { isIP } from "node:net";
import { networkInterfaces } from "node:os";

export interface ForwardingConfig {
  useRemoteAddress: boolean;
  xffNumTrustedHops: number;
  skipXffAppend: boolean;
}

type Pairs = Array<[string, string]>;

// Removed from every external request (conn_manager_utility.cc cleanInternalHeaders).
const INTERNAL_ONLY = new Set([
  "x-envoy-retriable-status-codes",
  "x-envoy-retriable-header-names",
  "x-envoy-retry-on",
  "x-envoy-retry-grpc-on",
  "x-envoy-max-retries",
  "x-envoy-upstream-alt-stat-name",
  "x-envoy-upstream-rq-timeout-ms",
  "x-envoy-upstream-rq-per-try-timeout-ms",
  "x-envoy-upstream-rq-timeout-alt-response",
  "x-envoy-expected-rq-timeout-ms",
  "x-envoy-force-trace",
  "x-envoy-ip-tags",
  "x-envoy-original-url",
  "x-envoy-hedge-on-per-try-timeout",
  "x-envoy-internal",
  "x-forwarded-client-cert",
]);
// Removed as well when the request is an edge request (use_remote_address).
const EDGE_ONLY = new Set(["x-envoy-decorator-operation", "x-envoy-downstream-service-cluster", "x-envoy-downstream-service-node", "x-envoy-original-path"]);

let localAddress: string | undefined;
/** Envoy's local address (Network::Utility::getLocalAddress): the first non-loopback IPv4 of an interface. */
export function envoyLocalAddress(): string {
  if (localAddress === undefined) {
    localAddress = "127.0.0.1";
    outer: for (const list of Object.values(networkInterfaces())) {
      for (const a of list ?? []) {
        if (a.family === "IPv4" && !a.internal) {
          localAddress = a.address;
          break outer;
        }
      }
    }
  }
  return localAddress;
}

function isLoopback(ip: string): boolean {
  const plain = plainIp(ip);
  return plain.startsWith("127.") || plain === "::1";
}

/** An IPv4-mapped IPv6 address (`::ffff:1.2.3.4`, as Node reports v4 peers on a dual-stack socket) as IPv4. */
export function plainIp(ip: string): string {
  return ip.startsWith("::ffff:") && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}

/** "a.b.c.d:port" or "[v6]:port", as Envoy prints an address. */
export function formatAddress(ip: string, port: number): string {
  const plain = plainIp(ip);
  return isIP(plain) === 6 ? `[${plain}]:${port}` : `${plain}:${port}`;
}

/** The XFF entry `hops` from the right, when it exists and is an IP address (Utility::getLastAddressFromXFF). */
function xffAddress(xff: string | undefined, hops: number): string | null {
  if (xff === undefined) return null;
  const entries = xff.split(",").map((s) => s.trim());
  if (hops >= entries.length) return null;
  const e = entries[entries.length - 1 - hops];
  return isIP(e) ? e : null;
}

export interface Forwarded {
  /** The downstream remote address filters see (`source.address`), "ip:port" (port 0 from XFF). */
  remoteAddress: string;
  remotePort: number;
  /** The request's `:scheme`. */
  scheme: "http" | "https";
}

/**
 * Applies the connection manager's request mutations to `headers` (lower-case names, no pseudo-headers
 * yet besides what the caller put there) in place, and returns the addresses and scheme filters see.
 */
export function mutateRequestHeaders(headers: Pairs, peerIp: string, peerPort: number, cfg: ForwardingConfig): Forwarded {
  const connScheme = "http"; // no TLS listeners in the engine
  const first = (name: string): string | undefined => {
    const i = headers.findIndex(([k]) => k === name);
    return i < 0 ? undefined : headers[i][1];
  };
  // Envoy's set on an inline header: the first copy takes the value in place, the others go.
  const set = (name: string, value: string): void => {
    const at = headers.findIndex(([k]) => k === name);
    for (let i = headers.length - 1; i > at && at >= 0; i--) if (headers[i][0] === name) headers.splice(i, 1);
    if (at >= 0) headers[at] = [name, value];
    else headers.push([name, value]);
  };
  // One x-forwarded-for at most: the codec joined repeated ones (request-headers.ts).
  const xff = first("x-forwarded-for");
  let remoteIp = peerIp;
  let remotePort = peerPort;
  if (cfg.useRemoteAddress) {
    if (cfg.xffNumTrustedHops > 0) {
      const trusted = xffAddress(xff, cfg.xffNumTrustedHops - 1);
      if (trusted) {
        remoteIp = trusted;
        remotePort = 0;
      }
    }
    if (!cfg.skipXffAppend) {
      const append = isLoopback(peerIp) ? envoyLocalAddress() : plainIp(peerIp);
      set("x-forwarded-for", xff ? `${xff},${append}` : append);
    }
    if (cfg.xffNumTrustedHops === 0 || first("x-forwarded-proto") === undefined) set("x-forwarded-proto", connScheme);
  } else {
    const fromXff = xffAddress(xff, cfg.xffNumTrustedHops);
    if (fromXff) {
      remoteIp = fromXff;
      remotePort = 0;
    }
  }
  for (let i = headers.length - 1; i >= 0; i--) {
    const k = headers[i][0];
    if (INTERNAL_ONLY.has(k) || (cfg.useRemoteAddress && EDGE_ONLY.has(k))) headers.splice(i, 1);
  }
  if (cfg.useRemoteAddress) {
    set("x-envoy-external-address", plainIp(remoteIp));
    // An edge request's x-request-id is not trusted (preserve_external_request_id: false): the caller
    // generates a fresh one in its place.
    const rid = headers.findIndex(([k]) => k === "x-request-id");
    if (rid >= 0) headers[rid] = ["x-request-id", ""];
  }
  if (first("x-forwarded-proto") === undefined) headers.push(["x-forwarded-proto", connScheme]);
  const xfp = first("x-forwarded-proto");
  const scheme = xfp === "https" || xfp === "http" ? xfp : connScheme;
  return { remoteAddress: formatAddress(remoteIp, remotePort), remotePort, scheme };
}
