// Every reply the auth plugin sends, as named helpers: one place for statuses, and the WWW-Authenticate
// challenge of each scheme (RFC 7235 §4.1). Details and bodies are in constants.ts.
import { localReply } from "tollgate/assembly";
import { D_EXT_DENIED, D_EXT_ERROR, B_EXT_ERROR } from "./constants";

// ---- challenges ----

/** `Key realm="<realm>"` (quoted: an unquoted realm with a space, as Higress sends, is not a valid token). */
export function keyChallenge(realm: string): string {
  return "Key realm=\"" + realm + "\"";
}

export function basicChallenge(realm: string): string {
  return "Basic realm=\"" + realm + "\"";
}

/** RFC 6750 §3: no error code when the request carried no token. */
export function bearerChallenge(realm: string, invalid: bool): string {
  return invalid ? "Bearer realm=\"" + realm + "\", error=\"invalid_token\"" : "Bearer realm=\"" + realm + "\"";
}

// ---- helpers (the hook returns Action.PAUSE after each) ----

/** 401 with one WWW-Authenticate header per challenge. */
export function unauthorized(details: string, body: string, challenges: string[]): void {
  const extra = new Array<string[]>();
  for (let i = 0; i < challenges.length; i++) extra.push(["www-authenticate", challenges[i]]);
  localReply(401, details, body, "", extra);
}

/** 403 for a valid credential that may not use this route, or an audience mismatch (with its challenge). */
export function forbidden(details: string, body: string, challenge: string): void {
  const extra = new Array<string[]>();
  if (challenge.length > 0) extra.push(["www-authenticate", challenge]);
  localReply(403, details, body, "", extra);
}

/** The external authorization service said no: its status, body and the allowed headers go to the client. */
export function externallyDenied(status: u32, body: string, headers: Array<string[]>): void {
  localReply(status, D_EXT_DENIED, body, "", headers);
}

/** The external authorization service failed (5xx, timeout, reset) and failure_mode_allow is off. */
export function externalError(): void {
  localReply(403, D_EXT_ERROR, B_EXT_ERROR, "", new Array<string[]>());
}
