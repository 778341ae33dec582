// External authorization (Envoy ext_authz HTTP semantics): the check request sent to the authorization
// service, and what its answer means. stream.ts pauses the request, counts and resumes.
import {
  addHeader, BufferType, encode, getBuffer, getHeader, getHeaderRawEnc, httpCallEnc, MapType, PairsBuilder,
  removeHeader, replaceHeader, sanitizeHeaderValue,
} from "tollgate/assembly";
import { ExtAuth } from "./config";
import { FAILURE_MODE_HEADER } from "./constants";
import * as R from "./replies";

const PATH = encode(":path");
const NO_BODY = new ArrayBuffer(0);
/** Cap on an authorization service's denial body relayed to the client. */
const MAX_EXT_BODY: u32 = 65536;

/** What the authorization service's answer means. */
export namespace ExtAnswer {
  /** 200: the allowed upstream headers are copied onto the request; it may continue. */
  // @ts-ignore: decorator
  @inline export const ALLOWED: u8 = 0;
  /** No answer, 5xx (a timeout arrives as Envoy's 504) or an unusable status: an error, not a decision. */
  // @ts-ignore: decorator
  @inline export const FAILED: u8 = 1;
  /** Any other status: the service's status, body and allowed headers were sent to the client. */
  // @ts-ignore: decorator
  @inline export const DENIED: u8 = 2;
}

/** Sends the check request for the current request; returns the callout token, or 0 when the host refused it. */
export function sendCheckRequest(ext: ExtAuth): u32 {
  removeHeader(MapType.REQUEST_HEADERS, FAILURE_MODE_HEADER);
  const method = getHeader(MapType.REQUEST_HEADERS, ":method");
  const authority = getHeader(MapType.REQUEST_HEADERS, ":authority");
  const headers = new PairsBuilder();
  headers.add(encode(":method"), encode(method !== null ? method : "GET"));
  // The path (up to Envoy's 60 KiB of headers) goes over as bytes: prefix + the request's own bytes.
  const raw = getHeaderRawEnc(MapType.REQUEST_HEADERS, PATH);
  const prefix = encode(ext.pathPrefix);
  const rawLen = raw !== null ? raw.byteLength : 1;
  const path = new ArrayBuffer(prefix.byteLength + rawLen);
  memory.copy(changetype<usize>(path), changetype<usize>(prefix), <usize>prefix.byteLength);
  if (raw !== null) memory.copy(changetype<usize>(path) + <usize>prefix.byteLength, changetype<usize>(raw), <usize>rawLen);
  else store<u8>(changetype<usize>(path) + <usize>prefix.byteLength, 0x2f);
  headers.add(encode(":path"), path);
  headers.add(encode(":authority"), encode(ext.authority.length > 0 ? ext.authority : authority !== null ? authority : ext.cluster));
  for (let i = 0; i < ext.allowedHeaders.length; i++) {
    const name = unchecked(ext.allowedHeaders[i]);
    const v = getHeaderRawEnc(MapType.REQUEST_HEADERS, encode(name));
    if (v !== null) headers.add(encode(name), v);
  }
  return httpCallEnc(ext.clusterBytes, headers, NO_BODY, ext.timeoutMs);
}

/** Marks a request that passes because the service failed and failure_mode_allow is on. */
export function markFailureModeAllowed(): void {
  addHeader(MapType.REQUEST_HEADERS, FAILURE_MODE_HEADER, "true");
}

/** Reads the service's answer (in on_http_call_response) and acts on it: see ExtAnswer. */
export function readCheckResponse(ext: ExtAuth, numHeaders: u32, bodySize: u32): u8 {
  // No headers = reset / no upstream (abi.md §9).
  if (numHeaders == 0) return ExtAnswer.FAILED;
  const status = parseStatus(getHeader(MapType.HTTP_CALL_RESPONSE_HEADERS, ":status"));
  if (status == 200) {
    for (let i = 0; i < ext.allowedUpstreamHeaders.length; i++) {
      const name = unchecked(ext.allowedUpstreamHeaders[i]);
      const v = getHeader(MapType.HTTP_CALL_RESPONSE_HEADERS, name);
      if (v !== null) replaceHeader(MapType.REQUEST_HEADERS, name, sanitizeHeaderValue(v));
    }
    return ExtAnswer.ALLOWED;
  }
  if (status < 200 || status >= 500) return ExtAnswer.FAILED;
  const size = bodySize < MAX_EXT_BODY ? bodySize : MAX_EXT_BODY;
  const buf = size > 0 ? getBuffer(BufferType.HTTP_CALL_RESPONSE_BODY, 0, size) : new ArrayBuffer(0);
  const body = String.UTF8.decode(buf, false);
  const headers = new Array<string[]>();
  for (let i = 0; i < ext.allowedClientHeaders.length; i++) {
    const name = unchecked(ext.allowedClientHeaders[i]);
    const v = getHeader(MapType.HTTP_CALL_RESPONSE_HEADERS, name);
    if (v !== null) headers.push([name, sanitizeHeaderValue(v)]);
  }
  R.externallyDenied(<u32>status, body, headers);
  return ExtAnswer.DENIED;
}

/** The numeric :status of a response, or -1. */
export function parseStatus(s: string | null): i32 {
  if (s === null || s.length != 3) return -1;
  let v = 0;
  for (let i = 0; i < 3; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    v = v * 10 + (c - 0x30);
  }
  return v;
}
