// HTTP helpers over plain strings: cookies, query strings, authorities, header-value hygiene, constant-time
// comparison, and the one local-reply helper every plugin outcome goes through. None of them traps.
import { sendLocalResponse } from "./host";
import { decodeBytes } from "./runtime";

/** `s.charCodeAt(i)` without the bounds check, for loops that already keep 0 <= i < s.length. */
// @ts-ignore: decorator
@inline export function codeAt(s: string, i: i32): i32 {
  return <i32>load<u16>(changetype<usize>(s) + (<usize>i << 1));
}

/**
 * Value of cookie `name` in a Cookie header (RFC 6265 §5.4 pairs separated by ';'), or null. Spaces
 * around pairs are ignored, a name that merely prefixes another never matches, the first occurrence
 * wins, and a value in double quotes is unquoted.
 */
export function cookieValue(header: string, name: string): string | null {
  if (name.length == 0) return null;
  let start = 0;
  const len = header.length;
  while (start < len) {
    let end = header.indexOf(";", start);
    if (end < 0) end = len;
    let a = start;
    while (a < end && isSpace(header.charCodeAt(a))) a++;
    const eq = header.indexOf("=", a);
    if (eq > 0 && eq < end) {
      let ke = eq;
      while (ke > a && isSpace(header.charCodeAt(ke - 1))) ke--;
      if (ke - a == name.length && header.substring(a, ke) == name) {
        let vs = eq + 1;
        let ve = end;
        while (vs < ve && isSpace(header.charCodeAt(vs))) vs++;
        while (ve > vs && isSpace(header.charCodeAt(ve - 1))) ve--;
        if (ve - vs >= 2 && header.charCodeAt(vs) == 0x22 && header.charCodeAt(ve - 1) == 0x22) {
          vs++;
          ve--;
        }
        return header.substring(vs, ve);
      }
    }
    start = end + 1;
  }
  return null;
}

function isSpace(c: i32): bool {
  return c == 0x20 || c == 0x09;
}

/** The path without `?query` and `#fragment`. */
export function pathWithoutQuery(path: string): string {
  let end = path.length;
  const q = path.indexOf("?");
  if (q >= 0) end = q;
  const h = path.indexOf("#");
  if (h >= 0 && h < end) end = h;
  return end == path.length ? path : path.substring(0, end);
}

/**
 * Value of query parameter `name` in a request path (`/p?a=1&b=2`), percent-decoded with '+' as space;
 * "" for a bare `?name`; null when absent. The first occurrence wins.
 */
export function queryParam(path: string, name: string): string | null {
  let end = path.indexOf("#");
  if (end < 0) end = path.length;
  const q = path.indexOf("?");
  if (q < 0 || q > end) return null;
  let start = q + 1;
  while (start < end) {
    let amp = path.indexOf("&", start);
    if (amp < 0 || amp > end) amp = end;
    const eq = path.indexOf("=", start);
    const keyEnd = eq >= 0 && eq < amp ? eq : amp;
    if (keyEnd > start && percentDecode(path.substring(start, keyEnd)) == name) {
      return keyEnd == amp ? "" : percentDecode(path.substring(keyEnd + 1, amp));
    }
    start = amp + 1;
  }
  return null;
}

/** Decodes %XX escapes and '+' → space; malformed escapes stay as written. Bytes that are not valid UTF-8 decode one char per byte. */
export function percentDecode(s: string): string {
  if (s.indexOf("%") < 0 && s.indexOf("+") < 0) return s;
  const src = String.UTF8.encode(s, false);
  const n = src.byteLength;
  const out = new Uint8Array(n);
  const inp = Uint8Array.wrap(src);
  let j = 0;
  for (let i = 0; i < n; i++) {
    const c = inp[i];
    if (c == 0x2b) {
      out[j++] = 0x20;
    } else if (c == 0x25 && i + 2 < n && hexVal(inp[i + 1]) >= 0 && hexVal(inp[i + 2]) >= 0) {
      out[j++] = <u8>((hexVal(inp[i + 1]) << 4) | hexVal(inp[i + 2]));
      i += 2;
    } else {
      out[j++] = c;
    }
  }
  return decodeBytes(out.dataStart, <usize>j);
}

function hexVal(c: u8): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/** Host of an authority: drops `:port`, keeps IPv6 brackets (`[::1]:80` → `[::1]`). */
export function hostWithoutPort(authority: string): string {
  if (authority.startsWith("[")) {
    const close = authority.indexOf("]");
    return close > 0 ? authority.substring(0, close + 1) : authority;
  }
  const colon = authority.lastIndexOf(":");
  return colon >= 0 ? authority.substring(0, colon) : authority;
}

/** Removes characters that are not allowed in a header value (CR, LF, NUL and other controls but TAB). */
export function sanitizeHeaderValue(s: string): string {
  let clean = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c != 0x09) || c == 0x7f) {
      clean = false;
      break;
    }
  }
  if (clean) return s.trim();
  const parts = new Array<string>();
  let run = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c != 0x09) || c == 0x7f) {
      if (i > run) parts.push(s.substring(run, i));
      run = i + 1;
    }
  }
  if (run < s.length) parts.push(s.substring(run));
  return parts.join("").trim();
}

/**
 * ASCII lower case (header names, hosts, schemes). String#toLowerCase would pull Unicode case tables
 * (~9 KB) into every module; HTTP tokens are ASCII.
 */
export function toLowerAscii(s: string): string {
  let i = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) break;
  }
  if (i == s.length) return s;
  const out = new Array<string>();
  let run = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) {
      if (i > run) out.push(s.substring(run, i));
      out.push(String.fromCharCode(c + 32));
      run = i + 1;
    }
  }
  if (run < s.length) out.push(s.substring(run));
  return out.join("");
}

/** Strips HTTP optional whitespace (SP, HTAB) at both ends; other characters, controls included, stay. */
export function trimOws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isSpace(s.charCodeAt(a))) a++;
  while (b > a && isSpace(s.charCodeAt(b - 1))) b--;
  return a == 0 && b == s.length ? s : s.substring(a, b);
}

/** Items of a comma-separated list, each trimmed of blanks; empty items are kept (String#split costs more code). */
export function commaItems(s: string): string[] {
  const out = new Array<string>();
  let start = 0;
  const n = s.length;
  for (let i = 0; i <= n; i++) {
    if (i == n || codeAt(s, i) == 0x2c) {
      out.push(trimOws(s.substring(start, i)));
      start = i + 1;
    }
  }
  return out;
}

/** ASCII case-insensitive equality (header names, schemes, tokens). */
export function equalsIgnoreCase(a: string, b: string): bool {
  if (a.length != b.length) return false;
  for (let i = 0; i < a.length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x >= 0x41 && x <= 0x5a) x += 32;
    if (y >= 0x41 && y <= 0x5a) y += 32;
    if (x != y) return false;
  }
  return true;
}

/**
 * Compares secrets in time that depends only on their lengths, never on where they differ. Compares
 * UTF-16 code units in place (no encoding, no allocation); equal strings have equal UTF-8 too.
 */
export function constantTimeEquals(a: string, b: string): bool {
  const n = max(a.length, b.length);
  let diff: u32 = <u32>(a.length ^ b.length);
  for (let i = 0; i < n; i++) {
    const p: u32 = i < a.length ? <u32>a.charCodeAt(i) : 0;
    const q: u32 = i < b.length ? <u32>b.charCodeAt(i) : 0;
    diff |= p ^ q;
  }
  return diff == 0;
}

/**
 * Sends a local reply (deferred by the host until the callback returns; return Action.PAUSE after it).
 * `contentType` "" sends no content-type; `extra` are more response headers.
 */
export function localReply(status: u32, details: string, body: string, contentType: string, extra: Array<string[]>): u32 {
  const headers = new Array<string[]>();
  if (contentType.length > 0) headers.push(["content-type", contentType]);
  for (let i = 0; i < extra.length; i++) headers.push(extra[i]);
  return sendLocalResponse(status, details, body, headers);
}
