// Envoy's local reply construction (abi.md §5 item 6, E-HUTIL Utility::prepareLocalReply).
import { HeaderMap, type ReadonlyHeaderList } from "./header-map.ts";

/** HTTP status → gRPC status (Envoy Grpc::Utility::httpToGrpcStatus). */
function httpToGrpcStatus(status: number): number {
  switch (status) {
    case 400: return 13; // Internal
    case 401: return 16; // Unauthenticated
    case 403: return 7; // PermissionDenied
    case 404: return 12; // Unimplemented
    case 429: case 502: case 503: case 504: return 14; // Unavailable
    default: return 2; // Unknown
  }
}

export function isGrpcRequest(h: HeaderMap | null): boolean {
  const ct = h?.get("content-type");
  return ct !== undefined && (ct === "application/grpc" || ct.startsWith("application/grpc+") || ct.startsWith("application/grpc;"));
}

/** Percent-encoding of grpc-message (Envoy Grpc::Utility::PercentEncoding::encode). */
function grpcMessageEncode(s: string): string {
  let out = "";
  for (const b of Buffer.from(s, "latin1")) {
    out += b < 0x20 || b > 0x7e || b === 0x25 ? `%${b.toString(16).toUpperCase().padStart(2, "0")}` : String.fromCharCode(b);
  }
  return out;
}

/** Status codes as header values, made once per code (every local reply needs one). */
const STATUS_TEXT: string[] = [];
function statusText(status: number): string {
  return status < 1000 ? (STATUS_TEXT[status] ??= String(status)) : String(status);
}

export interface LocalReply {
  headers: HeaderMap;
  body: Uint8Array;
}

/**
 * Headers start as :status, extra headers are added (addCopy), then content-length/type per body.
 * `extra` names are lower-case (the host parses them so from the guest; Envoy's LowerCaseString).
 */
export function prepareLocalReply(status: number, body: Uint8Array, extra: ReadonlyHeaderList, grpcStatus: number | null, grpc: boolean): LocalReply {
  const headers = new HeaderMap("response");
  headers.addLower(":status", statusText(status));
  for (let i = 0; i < extra.length; i++) headers.addLower(extra[i][0], extra[i][1]);
  if (grpc) {
    headers.set(":status", "200");
    headers.set("content-type", "application/grpc");
    if (!headers.has("grpc-status")) headers.set("grpc-status", String(grpcStatus ?? httpToGrpcStatus(status)));
    if (body.length > 0 && !headers.has("grpc-message")) headers.set("grpc-message", grpcMessageEncode(Buffer.from(body).toString("latin1")));
    headers.remove("content-length");
    return { headers, body: new Uint8Array(0) };
  }
  if (body.length > 0) {
    headers.set("content-length", String(body.length));
    if (!headers.has("content-type")) headers.set("content-type", "text/plain");
  } else {
    headers.remove("content-length");
    headers.remove("content-type");
  }
  return { headers, body };
}
