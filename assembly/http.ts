// HTTP helpers over plain strings: cookies, query strings, authorities, header-value hygiene, constant-time
// comparison, and the one local-reply helper every plugin outcome goes through. None of them traps.
import { hexDigit } from "./number";
import { bytesEqual, decodeBytes, decodeInto } from "./values";

/** `s.charCodeAt(i)` without the bounds check, for loops that already keep 0 <= i < s.length. */
// @ts-ignore: decorator
@inline export function codeAt(s: string, i: i32): i32 {
  return <i32>load<u16>(changetype<usize>(s) + (<usize>i << 1));
}

/**
 * Value of cookie `name` in a Cookie header (RFC 6265 §5.4 pairs separated by ';'), or null. Spaces
 * around pairs are ignored, a name that merely prefixes another never matches, the first occurrence
 * wins, and a value in double quotes is unquoted. One pass over the header: each pair's '=' is looked
 * for inside that pair only, names are compared in place, and only the value found is copied.
 */
export function cookieValue(header: string, name: string): string | null {
  const n = name.length;
  if (n == 0) return null;
  const len = header.length;
  let start = 0;
  while (start < len) {
    let end = start;
    while (end < len && codeAt(header, end) != 0x3b) end++;
    let a = start;
    while (a < end && isSpace(codeAt(header, a))) a++;
    let eq = a;
    while (eq < end && codeAt(header, eq) != 0x3d) eq++;
    if (eq > a && eq < end) {
      let ke = eq;
      while (ke > a && isSpace(codeAt(header, ke - 1))) ke--;
      if (ke - a == n && regionEquals(header, a, name)) {
        let vs = eq + 1;
        let ve = end;
        while (vs < ve && isSpace(codeAt(header, vs))) vs++;
        while (ve > vs && isSpace(codeAt(header, ve - 1))) ve--;
        if (ve - vs >= 2 && codeAt(header, vs) == 0x22 && codeAt(header, ve - 1) == 0x22) {
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

/** True when `s` holds `name` at `at` (the caller checked that it fits). Compares in place. */
function regionEquals(s: string, at: i32, name: string): bool {
  return bytesEqual(changetype<usize>(s) + (<usize>at << 1), changetype<usize>(name), <usize>name.length << 1);
}

/**
 * `s` without the cookie pairs named `name` (all of them), the others joined by "; " as RFC 6265 §5.4
 * writes them; "" when nothing is left. One pass, one output allocation.
 */
export function removeCookie(header: string, name: string): string {
  const len = header.length;
  const n = name.length;
  // Each ';' may come out as "; ": room for the input plus one unit per separator.
  let seps = 0;
  for (let i = 0; i < len; i++) if (codeAt(header, i) == 0x3b) seps++;
  const cap = <usize>(len + seps);
  const out = __new(cap << 1, idof<string>());
  let w: usize = 0;
  let start = 0;
  while (start < len) {
    let end = start;
    while (end < len && codeAt(header, end) != 0x3b) end++;
    let a = start;
    let b = end;
    while (a < b && isSpace(codeAt(header, a))) a++;
    while (b > a && isSpace(codeAt(header, b - 1))) b--;
    let ke = a;
    while (ke < b && codeAt(header, ke) != 0x3d) ke++;
    while (ke > a && isSpace(codeAt(header, ke - 1))) ke--;
    if (b > a && !(ke - a == n && regionEquals(header, a, name))) {
      if (w > 0) {
        store<u16>(out + (w << 1), 0x3b);
        store<u16>(out + ((w + 1) << 1), 0x20);
        w += 2;
      }
      memory.copy(out + (w << 1), changetype<usize>(header) + (<usize>a << 1), <usize>(b - a) << 1);
      w += <usize>(b - a);
    }
    start = end + 1;
  }
  return changetype<string>(w == cap ? out : __renew(out, w << 1));
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

/** [start, end) of the query string in a request path (after '?', before '#'); start > end when there is none. */
function queryBounds(path: string): u64 {
  const len = path.length;
  let q = 0;
  while (q < len) {
    const c = codeAt(path, q);
    if (c == 0x3f) break;
    if (c == 0x23) return <u64>1;
    q++;
  }
  if (q == len) return <u64>1;
  let end = q + 1;
  while (end < len && codeAt(path, end) != 0x23) end++;
  return (<u64>(q + 1) << 32) | <u64>end;
}

/**
 * True when the query key `path[a, b)` names `name` once percent-decoded ('+' is a space): the same
 * answer as `percentDecode(path.substring(a, b)) == name`, without allocating per key. A key without
 * '%' or '+' is compared in place; an encoded one is decoded into a scratch block that is reused.
 */
function queryKeyIs(path: string, a: i32, b: i32, name: string): bool {
  let plain = true;
  for (let i = a; i < b; i++) {
    const c = codeAt(path, i);
    if (c == 0x25 || c == 0x2b) {
      plain = false;
      break;
    }
  }
  if (plain) return b - a == name.length && regionEquals(path, a, name);
  // An escape encodes one byte in three characters and a char takes at most three bytes: a longer key cannot match.
  if (b - a > name.length * 9 + 9) return false;
  // Room for the key's UTF-8 (at most 3 bytes a char), then for its decoded UTF-16 (at most 2 bytes a byte).
  const cap = <usize>(b - a) * 3;
  if (<usize>keyScratch.byteLength < cap * 3 + 1) keyScratch = new ArrayBuffer(<i32>max<usize>(cap * 3 + 1, 256));
  const buf = changetype<usize>(keyScratch);
  const n = unescapeBytes(buf, String.UTF8.encodeUnsafe(changetype<usize>(path) + (<usize>a << 1), b - a, buf));
  // Decoded as percentDecode decodes (decodeBytes), without building the string.
  const units = buf + ((cap + 1) & ~1);
  const m = decodeInto(buf, n, units);
  return m == <usize>name.length && bytesEqual(units, changetype<usize>(name), m << 1);
}

/** Scratch for queryKeyIs, grown to the longest encoded key compared (bounded by the names configured). */
let keyScratch = new ArrayBuffer(0);

/** Percent-decodes the `n` bytes at `buf` in place ('+' is a space; malformed escapes stay); returns the new length. */
function unescapeBytes(buf: usize, n: usize): usize {
  // The write index never passes the read index.
  let j: usize = 0;
  for (let i: usize = 0; i < n; i++) {
    const c = load<u8>(buf + i);
    if (c == 0x2b) {
      store<u8>(buf + j++, 0x20);
    } else if (c == 0x25 && i + 2 < n && hexDigit(load<u8>(buf + i + 1)) >= 0 && hexDigit(load<u8>(buf + i + 2)) >= 0) {
      store<u8>(buf + j++, <u8>((hexDigit(load<u8>(buf + i + 1)) << 4) | hexDigit(load<u8>(buf + i + 2))));
      i += 2;
    } else {
      store<u8>(buf + j++, c);
    }
  }
  return j;
}

/**
 * The query parameter starting at `start`: where it ends ('&' or `end`) in the high half, where its name
 * ends (its first '=', else the parameter's end) in the low half. Looks only inside the parameter.
 */
function paramSpan(path: string, start: i32, end: i32): u64 {
  let amp = start;
  let eq = -1;
  while (amp < end) {
    const c = codeAt(path, amp);
    if (c == 0x26) break;
    if (c == 0x3d && eq < 0) eq = amp;
    amp++;
  }
  return (<u64>amp << 32) | <u64>(<u32>(eq >= 0 ? eq : amp));
}

/**
 * Value of query parameter `name` in a request path (`/p?a=1&b=2`), percent-decoded with '+' as space;
 * "" for a bare `?name`; null when absent. The first occurrence wins. One pass over the query: each
 * parameter's '=' is looked for inside that parameter only, and only the matching value is decoded.
 */
export function queryParam(path: string, name: string): string | null {
  const bounds = queryBounds(path);
  let start = <i32>(bounds >> 32);
  const end = <i32>(bounds & 0xffffffff);
  if (start > end) return null;
  while (start < end) {
    const span = paramSpan(path, start, end);
    const amp = <i32>(span >> 32);
    const keyEnd = <i32>(span & 0xffffffff);
    if (keyEnd > start && queryKeyIs(path, start, keyEnd, name)) {
      return keyEnd == amp ? "" : percentDecode(path.substring(keyEnd + 1, amp));
    }
    start = amp + 1;
  }
  return null;
}

/**
 * `path` without every query parameter whose percent-decoded name is `name` (hide_credentials,
 * keep_token: false); empty parameters go too, the rest keep their order and spelling. One pass, one
 * output allocation: memory stays proportional to the path however many parameters it has.
 */
export function removeQueryParam(path: string, name: string): string {
  const bounds = queryBounds(path);
  const qs = <i32>(bounds >> 32);
  const end = <i32>(bounds & 0xffffffff);
  if (qs > end) return path;
  const len = path.length;
  const src = changetype<usize>(path);
  const out = __new(<usize>len << 1, idof<string>());
  // The path before '?' and the '?' itself; the '?' is dropped again below when no parameter is kept.
  memory.copy(out, src, <usize>qs << 1);
  let w: usize = <usize>qs;
  let kept = 0;
  let start = qs;
  while (start <= end) {
    const span = paramSpan(path, start, end);
    const amp = <i32>(span >> 32);
    const keyEnd = <i32>(span & 0xffffffff);
    if (amp > start && !queryKeyIs(path, start, keyEnd, name)) {
      if (kept > 0) store<u16>(out + (w++ << 1), 0x26);
      memory.copy(out + (w << 1), src + (<usize>start << 1), <usize>(amp - start) << 1);
      w += <usize>(amp - start);
      kept++;
    }
    start = amp + 1;
  }
  if (kept == 0) w--;
  memory.copy(out + (w << 1), src + (<usize>end << 1), <usize>(len - end) << 1);
  w += <usize>(len - end);
  return changetype<string>(w == <usize>len ? out : __renew(out, w << 1));
}

/** Decodes %XX escapes and '+' → space; malformed escapes stay as written. Bytes that are not valid UTF-8 decode one char per byte. */
export function percentDecode(s: string): string {
  if (s.indexOf("%") < 0 && s.indexOf("+") < 0) return s;
  const buf = String.UTF8.encode(s, false);
  return decodeBytes(changetype<usize>(buf), unescapeBytes(changetype<usize>(buf), <usize>buf.byteLength));
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
  const n = s.length;
  let i = 0;
  for (; i < n; i++) {
    const c = codeAt(s, i);
    if ((c < 0x20 && c != 0x09) || c == 0x7f) break;
  }
  if (i == n) return s.trim();
  // One copy without the controls (std Array#join is quadratic at shrinkLevel >= 1).
  const out = __new(<usize>n << 1, idof<string>());
  memory.copy(out, changetype<usize>(s), <usize>i << 1);
  let w = <usize>i;
  for (; i < n; i++) {
    const c = codeAt(s, i);
    if ((c < 0x20 && c != 0x09) || c == 0x7f) continue;
    store<u16>(out + (w++ << 1), <u16>c);
  }
  return changetype<string>(__renew(out, w << 1)).trim();
}

/**
 * ASCII lower case (header names, hosts, schemes). String#toLowerCase would pull Unicode case tables
 * (~9 KB) into every module; HTTP tokens are ASCII. One copy, only when something changes.
 */
export function toLowerAscii(s: string): string {
  const n = s.length;
  let i = 0;
  for (; i < n; i++) {
    const c = codeAt(s, i);
    if (c >= 0x41 && c <= 0x5a) break;
  }
  if (i == n) return s;
  const out = __new(<usize>n << 1, idof<string>());
  memory.copy(out, changetype<usize>(s), <usize>i << 1);
  for (; i < n; i++) {
    const c = codeAt(s, i);
    store<u16>(out + (<usize>i << 1), <u16>(c >= 0x41 && c <= 0x5a ? c + 32 : c));
  }
  return changetype<string>(out);
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

/**
 * `parts` joined by `sep` in one allocation. Use this, not Array<string>#join: at shrinkLevel >= 1 (release
 * builds) AssemblyScript joins strings by repeated concatenation, quadratic in the number of parts.
 */
export function joinStrings(parts: string[], sep: string): string {
  const n = parts.length;
  if (n == 0) return "";
  let len = sep.length * (n - 1);
  for (let i = 0; i < n; i++) len += unchecked(parts[i]).length;
  const out = __new(<usize>len << 1, idof<string>());
  const sepBytes = <usize>sep.length << 1;
  let w: usize = 0;
  for (let i = 0; i < n; i++) {
    if (i > 0 && sepBytes > 0) {
      memory.copy(out + w, changetype<usize>(sep), sepBytes);
      w += sepBytes;
    }
    const p = unchecked(parts[i]);
    const bytes = <usize>p.length << 1;
    memory.copy(out + w, changetype<usize>(p), bytes);
    w += bytes;
  }
  return changetype<string>(out);
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
