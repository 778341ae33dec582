// A small strict JSON parser (RFC 8259) for plugin config and for client-supplied JSON (JWT parts).
// It never traps: malformed input, deep nesting and huge numbers yield null and a message in jsonError().
import { ErrorSink } from "./errors";
import { decimal, hexDigit } from "./number";

/** Kinds of JsonValue. */
export namespace JsonKind {
  // @ts-ignore: decorator
  @inline export const NULL: u8 = 0;
  // @ts-ignore: decorator
  @inline export const BOOL: u8 = 1;
  // @ts-ignore: decorator
  @inline export const NUMBER: u8 = 2;
  // @ts-ignore: decorator
  @inline export const STRING: u8 = 3;
  // @ts-ignore: decorator
  @inline export const ARRAY: u8 = 4;
  // @ts-ignore: decorator
  @inline export const OBJECT: u8 = 5;
}

/** Nesting deeper than this is rejected, so hostile input cannot exhaust the wasm stack. */
// @ts-ignore: decorator
@inline const MAX_DEPTH: i32 = 64;

// Scalars share these empty containers (only the parser fills containers, and only fresh ones), so
// parsing a token header or a config allocates one object per scalar instead of four.
const NO_VALUES = new Array<JsonValue>(0);
const NO_KEYS = new Array<string>(0);

/** A parsed JSON value. Arrays use `items`; objects use parallel `keys` / `values` in document order. */
export class JsonValue {
  kind: u8 = JsonKind.NULL;
  b: bool = false;
  n: f64 = 0;
  /** A string's value; for a number, its text as written in the source. */
  s: string = "";
  items: JsonValue[] = NO_VALUES;
  keys: string[] = NO_KEYS;
  values: JsonValue[] = NO_VALUES;

  /** The member named `key` (the last one when duplicated, as most parsers do), or null. */
  get(key: string): JsonValue | null {
    if (this.kind != JsonKind.OBJECT) return null;
    for (let i = this.keys.length - 1; i >= 0; i--) {
      if (this.keys[i] == key) return this.values[i];
    }
    return null;
  }

  has(key: string): bool {
    return this.get(key) !== null;
  }

  isString(): bool { return this.kind == JsonKind.STRING; }
  isNumber(): bool { return this.kind == JsonKind.NUMBER; }
  isBool(): bool { return this.kind == JsonKind.BOOL; }
  isNull(): bool { return this.kind == JsonKind.NULL; }
  isArray(): bool { return this.kind == JsonKind.ARRAY; }
  isObject(): bool { return this.kind == JsonKind.OBJECT; }

  /** True for a number with no fractional part within ±2^53. */
  isInteger(): bool {
    return this.kind == JsonKind.NUMBER && isFinite(this.n) && Math.floor(this.n) == this.n && Math.abs(this.n) <= 9007199254740992.0;
  }
}

/** A short description of a value for error messages: `42`, `"abc"`, `an object`, `an array`, `null`, `true`. */
export function describeJson(v: JsonValue | null): string {
  if (v === null) return "nothing";
  switch (v.kind) {
    case JsonKind.NULL: return "null";
    case JsonKind.BOOL: return v.b ? "true" : "false";
    case JsonKind.NUMBER: return v.s;
    case JsonKind.STRING: return "\"" + (v.s.length > 40 ? v.s.substring(0, 40) + "…" : v.s) + "\"";
    case JsonKind.ARRAY: return "an array";
    default: return "an object";
  }
}

/**
 * A number for error messages: integers without ".0", others with up to 6 decimals. Avoids f64.toString,
 * whose shortest-round-trip printer (and its tables) would otherwise be linked into every plugin.
 */
export function formatNumber(n: f64): string {
  if (isNaN(n)) return "NaN";
  if (!isFinite(n)) return n > 0 ? "Infinity" : "-Infinity";
  const a = Math.abs(n);
  const sign = n < 0 ? "-" : "";
  if (Math.floor(a) == a && a < 9007199254740992.0) return sign + decimal(<i64>(<i64>a));
  if (a >= 1e15) {
    let m = a;
    let e = 0;
    while (m >= 10) {
      m /= 10;
      e++;
    }
    return sign + formatNumber(m) + "e" + decimal(<i64>e);
  }
  const scaled = <i64>Math.round(a * 1e6);
  const whole = scaled / 1000000;
  let frac = decimal(<i64>(scaled % 1000000));
  while (frac.length < 6) frac = "0" + frac;
  let end = frac.length;
  while (end > 0 && frac.charCodeAt(end - 1) == 0x30) end--;
  return end == 0 ? sign + decimal(<i64>whole) : sign + decimal(<i64>whole) + "." + frac.substring(0, end);
}

/**
 * Value of a JSON number already checked against the grammar: mantissa digits times a power of ten.
 * Exact for integers up to 2^53 and for decimals with few digits (configs); avoids linking strtod.
 */
function numberValue(t: string, start: i32, end: i32): f64 {
  let i = start;
  let neg = false;
  if (t.charCodeAt(i) == 0x2d) {
    neg = true;
    i++;
  }
  let mant: f64 = 0;
  let exp: i32 = 0;
  for (; i < end; i++) {
    const c = t.charCodeAt(i);
    if (c < 0x30 || c > 0x39) break;
    mant = mant * 10 + <f64>(c - 0x30);
  }
  if (i < end && t.charCodeAt(i) == 0x2e) {
    for (i++; i < end; i++) {
      const c = t.charCodeAt(i);
      if (c < 0x30 || c > 0x39) break;
      mant = mant * 10 + <f64>(c - 0x30);
      exp--;
    }
  }
  if (i < end) {
    i++; // e or E
    let eneg = false;
    const sc = t.charCodeAt(i);
    if (sc == 0x2b || sc == 0x2d) {
      eneg = sc == 0x2d;
      i++;
    }
    let e: i32 = 0;
    for (; i < end; i++) if (e < 100000) e = e * 10 + (t.charCodeAt(i) - 0x30);
    exp += eneg ? -e : e;
  }
  let v = mant;
  if (v != 0) {
    if (exp > 400) v = Infinity;
    else if (exp < -400) v = 0;
    else if (exp > 0) for (let k = 0; k < exp; k++) v *= 10;
    else if (exp < 0) {
      // Divide by one power of ten when it is exact (≤ 1e22), so 0.1 and 1.5 round correctly.
      let k = -exp;
      while (k > 22) {
        v /= 1e22;
        k -= 22;
      }
      let p: f64 = 1;
      for (let j = 0; j < k; j++) p *= 10;
      v /= p;
    }
  }
  return neg ? -v : v;
}

/** Parses a complete JSON text; null on any error, whose description goes to `errors` when given. */
export function parseJson(text: string, errors: ErrorSink | null = null): JsonValue | null {
  const p = new Parser(text);
  p.skipWs();
  const v = p.value(0);
  if (v === null) {
    if (errors !== null) errors.fail(p.error);
    return null;
  }
  p.skipWs();
  if (p.pos < text.length) {
    if (errors !== null) errors.fail("unexpected data after the JSON value at offset " + decimal(<i64>p.pos));
    return null;
  }
  return v;
}

class Parser {
  pos: i32 = 0;
  error: string = "";
  constructor(public text: string) {}

  fail(what: string): JsonValue | null {
    if (this.error.length == 0) this.error = what + " at offset " + decimal(<i64>this.pos);
    return null;
  }

  peek(): i32 {
    return this.pos < this.text.length ? this.text.charCodeAt(this.pos) : -1;
  }

  skipWs(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d) this.pos++;
      else break;
    }
  }

  literal(word: string): bool {
    if (this.text.length - this.pos < word.length) return false;
    for (let i = 0; i < word.length; i++) {
      if (this.text.charCodeAt(this.pos + i) != word.charCodeAt(i)) return false;
    }
    this.pos += word.length;
    return true;
  }

  value(depth: i32): JsonValue | null {
    if (depth > MAX_DEPTH) return this.fail("nesting deeper than " + decimal(<i64>MAX_DEPTH));
    const c = this.peek();
    if (c == 0x7b) return this.object(depth);
    if (c == 0x5b) return this.array(depth);
    const v = new JsonValue();
    if (c == 0x22) {
      const s = this.string();
      if (s === null) return null;
      v.kind = JsonKind.STRING;
      v.s = s;
      return v;
    }
    if (c == 0x74) {
      if (!this.literal("true")) return this.fail("invalid literal");
      v.kind = JsonKind.BOOL;
      v.b = true;
      return v;
    }
    if (c == 0x66) {
      if (!this.literal("false")) return this.fail("invalid literal");
      v.kind = JsonKind.BOOL;
      return v;
    }
    if (c == 0x6e) {
      if (!this.literal("null")) return this.fail("invalid literal");
      return v;
    }
    if (c == 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    if (c < 0) return this.fail("unexpected end of input");
    return this.fail("unexpected character");
  }

  object(depth: i32): JsonValue | null {
    const v = new JsonValue();
    v.kind = JsonKind.OBJECT;
    v.keys = new Array<string>();
    v.values = new Array<JsonValue>();
    this.pos++; // {
    this.skipWs();
    if (this.peek() == 0x7d) {
      this.pos++;
      return v;
    }
    while (true) {
      this.skipWs();
      if (this.peek() != 0x22) return this.fail("expected a string key");
      const k = this.string();
      if (k === null) return null;
      this.skipWs();
      if (this.peek() != 0x3a) return this.fail("expected ':'");
      this.pos++;
      this.skipWs();
      const item = this.value(depth + 1);
      if (item === null) return null;
      v.keys.push(k);
      v.values.push(item);
      this.skipWs();
      const c = this.peek();
      this.pos++;
      if (c == 0x2c) continue;
      if (c == 0x7d) return v;
      this.pos--;
      return this.fail("expected ',' or '}'");
    }
  }

  array(depth: i32): JsonValue | null {
    const v = new JsonValue();
    v.kind = JsonKind.ARRAY;
    v.items = new Array<JsonValue>();
    this.pos++; // [
    this.skipWs();
    if (this.peek() == 0x5d) {
      this.pos++;
      return v;
    }
    while (true) {
      this.skipWs();
      const item = this.value(depth + 1);
      if (item === null) return null;
      v.items.push(item);
      this.skipWs();
      const c = this.peek();
      this.pos++;
      if (c == 0x2c) continue;
      if (c == 0x5d) return v;
      this.pos--;
      return this.fail("expected ',' or ']'");
    }
  }

  number(): JsonValue | null {
    const t = this.text;
    const start = this.pos;
    if (this.peek() == 0x2d) this.pos++;
    let c = this.peek();
    if (c == 0x30) {
      this.pos++;
    } else if (c >= 0x31 && c <= 0x39) {
      while (this.peek() >= 0x30 && this.peek() <= 0x39) this.pos++;
    } else {
      return this.fail("invalid number");
    }
    if (this.peek() == 0x2e) {
      this.pos++;
      if (!(this.peek() >= 0x30 && this.peek() <= 0x39)) return this.fail("invalid number");
      while (this.peek() >= 0x30 && this.peek() <= 0x39) this.pos++;
    }
    c = this.peek();
    if (c == 0x65 || c == 0x45) {
      this.pos++;
      c = this.peek();
      if (c == 0x2b || c == 0x2d) this.pos++;
      if (!(this.peek() >= 0x30 && this.peek() <= 0x39)) return this.fail("invalid number");
      while (this.peek() >= 0x30 && this.peek() <= 0x39) this.pos++;
    }
    const v = new JsonValue();
    v.kind = JsonKind.NUMBER;
    v.n = numberValue(t, start, this.pos);
    // The number as written: error messages and claim headers show what the user or issuer wrote.
    v.s = t.substring(start, this.pos);
    return v;
  }

  /** A string token starting at '"'; null (with error) when malformed. */
  string(): string | null {
    const t = this.text;
    this.pos++; // opening quote
    let out: string[] | null = null;
    let runStart = this.pos;
    while (true) {
      if (this.pos >= t.length) {
        this.fail("unterminated string");
        return null;
      }
      const c = t.charCodeAt(this.pos);
      if (c == 0x22) {
        const tail = t.substring(runStart, this.pos);
        this.pos++;
        if (out === null) return tail;
        out.push(tail);
        return concatAll(out);
      }
      if (c < 0x20) {
        this.fail("control character in string");
        return null;
      }
      if (c != 0x5c) {
        this.pos++;
        continue;
      }
      if (out === null) out = new Array<string>();
      out.push(t.substring(runStart, this.pos));
      this.pos++;
      if (this.pos >= t.length) {
        this.fail("unterminated escape");
        return null;
      }
      const e = t.charCodeAt(this.pos);
      this.pos++;
      if (e == 0x22) out.push("\"");
      else if (e == 0x5c) out.push("\\");
      else if (e == 0x2f) out.push("/");
      else if (e == 0x62) out.push("\b");
      else if (e == 0x66) out.push("\f");
      else if (e == 0x6e) out.push("\n");
      else if (e == 0x72) out.push("\r");
      else if (e == 0x74) out.push("\t");
      else if (e == 0x75) {
        const u = this.hex4();
        if (u < 0) {
          this.fail("invalid \\u escape");
          return null;
        }
        out.push(String.fromCharCode(u));
      } else {
        this.pos--;
        this.fail("invalid escape");
        return null;
      }
      runStart = this.pos;
    }
  }

  hex4(): i32 {
    if (this.text.length - this.pos < 4) return -1;
    let v = 0;
    for (let i = 0; i < 4; i++) {
      const d = hexDigit(this.text.charCodeAt(this.pos + i));
      if (d < 0) return -1;
      v = (v << 4) | d;
    }
    this.pos += 4;
    return v;
  }
}

/**
 * The parts joined, in one allocation. Array<string>#join concatenates pairwise in AssemblyScript builds
 * with shrinkLevel >= 1 (ours): quadratic in the number of parts, i.e. in the escapes of one string.
 */
function concatAll(parts: string[]): string {
  let n = 0;
  for (let i = 0; i < parts.length; i++) n += unchecked(parts[i]).length;
  const out = __new(<usize>n << 1, idof<string>());
  let w: usize = 0;
  for (let i = 0; i < parts.length; i++) {
    const p = unchecked(parts[i]);
    const bytes = <usize>p.length << 1;
    memory.copy(out + w, changetype<usize>(p), bytes);
    w += bytes;
  }
  return changetype<string>(out);
}
