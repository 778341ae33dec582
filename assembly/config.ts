// Reading plugin config with field paths: every getter validates its field and records the FIRST error
// as `'<path>' <rule>, got <value>` (e.g. `'max_age' must be a non-negative integer, got -1`), so
// on_configure can log exactly one precise line and return false. Getters never trap.
import { decimal } from "./number";
import { ErrorSink } from "./errors";
import { describeJson, formatNumber, JsonKind, JsonValue, parseJson } from "./json";

const EMPTY_STRINGS = new Array<string>(0);

function isJsonSpace(c: i32): bool {
  return c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d;
}

export class ConfigReader {
  /** Keys that allowOnly() accepts in addition to the listed ones (e.g. `_rules_`, `_match_route_`). */
  ignored: string[] = EMPTY_STRINGS;

  constructor(public readonly value: JsonValue, public readonly prefix: string = "", public readonly sink: ErrorSink = new ErrorSink()) {}

  /** Parses `text` as a JSON object; on failure the reader carries the parse error. Empty text = `{}`. */
  static parse(text: string): ConfigReader {
    // Only JSON whitespace (or nothing) reads as `{}`: Envoy passes an empty buffer for no configuration.
    let i = 0;
    while (i < text.length && isJsonSpace(text.charCodeAt(i))) i++;
    const why = new ErrorSink();
    const v = parseJson(i == text.length ? "{}" : text, why);
    if (v === null) {
      const r = new ConfigReader(new JsonValue());
      r.sink.message = "configuration is not valid JSON: " + why.message;
      return r;
    }
    const r = new ConfigReader(v);
    if (!v.isObject()) r.sink.message = "configuration must be a JSON object, got " + describeJson(v);
    return r;
  }

  /** The first error recorded, or "" when the config read so far is valid. */
  get error(): string {
    return this.sink.message;
  }

  ok(): bool {
    return this.sink.message.length == 0;
  }

  /** Full path of a field: `_rules_[0].allow_origins`. */
  path(key: string): string {
    if (key.length == 0) return this.prefix;
    if (this.prefix.length == 0) return key;
    return key.startsWith("[") ? this.prefix + key : this.prefix + "." + key;
  }

  /** Records `'<path>' <message>` unless an error is already recorded. Returns false for chaining. */
  fail(key: string, message: string): bool {
    if (this.sink.message.length == 0) {
      const p = this.path(key);
      this.sink.message = p.length > 0 ? "'" + p + "' " + message : message;
    }
    return false;
  }

  /** True when the key is present (a JSON null counts as present: getters reject it, as the schemas do). */
  has(key: string): bool {
    return this.value.get(key) !== null;
  }

  raw(key: string): JsonValue | null {
    return this.value.get(key);
  }

  /** Records an error for the first key not in `keys` (nor in `ignored`). */
  allowOnly(keys: string[]): bool {
    if (!this.value.isObject()) return this.fail("", "must be an object, got " + describeJson(this.value));
    for (let i = 0; i < this.value.keys.length; i++) {
      const k = this.value.keys[i];
      if (!keys.includes(k) && !this.ignored.includes(k)) {
        return this.fail(k, "is not a known field; allowed: " + keys.join(", "));
      }
    }
    return true;
  }

  /** Records an error when `key` is absent. */
  require(key: string): bool {
    if (this.has(key)) return true;
    return this.fail(key, "is required");
  }

  str(key: string, def: string): string {
    const v = this.value.get(key);
    if (v === null) return def;
    if (!v.isString()) {
      this.fail(key, "must be a string, got " + describeJson(v));
      return def;
    }
    return v.s;
  }

  strOpt(key: string): string | null {
    const v = this.value.get(key);
    if (v === null) return null;
    if (!v.isString()) {
      this.fail(key, "must be a string, got " + describeJson(v));
      return null;
    }
    return v.s;
  }

  bool(key: string, def: bool): bool {
    const v = this.value.get(key);
    if (v === null) return def;
    if (!v.isBool()) {
      this.fail(key, "must be true or false, got " + describeJson(v));
      return def;
    }
    return v.b;
  }

  int(key: string, def: i64, min: i64, max: i64): i64 {
    const v = this.value.get(key);
    if (v === null) return def;
    if (!v.isInteger() || v.n < <f64>min || v.n > <f64>max) {
      this.fail(key, "must be " + intRule(min, max) + ", got " + describeJson(v));
      return def;
    }
    return <i64>v.n;
  }

  num(key: string, def: f64, min: f64, max: f64): f64 {
    const v = this.value.get(key);
    if (v === null) return def;
    if (!v.isNumber() || !isFinite(v.n) || v.n < min || v.n > max) {
      this.fail(key, "must be a number between " + formatNumber(min) + " and " + formatNumber(max) + ", got " + describeJson(v));
      return def;
    }
    return v.n;
  }

  /** An array of strings; `def` when absent. Element errors name `key[i]`. */
  strList(key: string, def: string[]): string[] {
    const v = this.value.get(key);
    if (v === null) return def;
    if (!v.isArray()) {
      this.fail(key, "must be an array of strings, got " + describeJson(v));
      return def;
    }
    const out = new Array<string>(v.items.length);
    for (let i = 0; i < v.items.length; i++) {
      const item = v.items[i];
      if (!item.isString()) {
        this.fail(key + "[" + decimal(<i64>i) + "]", "must be a string, got " + describeJson(item));
        return def;
      }
      out[i] = item.s;
    }
    return out;
  }

  /** A string restricted to `allowed`. */
  oneOf(key: string, allowed: string[], def: string): string {
    const v = this.value.get(key);
    if (v === null) return def;
    if (!v.isString() || !allowed.includes(v.s)) {
      this.fail(key, "must be one of " + allowed.join(", ") + ", got " + describeJson(v));
      return def;
    }
    return v.s;
  }

  /** An object field as a reader; null when absent (or wrong type, with an error). */
  child(key: string): ConfigReader | null {
    const v = this.value.get(key);
    if (v === null) return null;
    if (!v.isObject()) {
      this.fail(key, "must be an object, got " + describeJson(v));
      return null;
    }
    return new ConfigReader(v, this.path(key), this.sink);
  }

  /** An array of objects as readers (`key[i]`); empty when absent. */
  children(key: string): ConfigReader[] {
    const out = new Array<ConfigReader>();
    const v = this.value.get(key);
    if (v === null) return out;
    if (!v.isArray()) {
      this.fail(key, "must be an array of objects, got " + describeJson(v));
      return out;
    }
    for (let i = 0; i < v.items.length; i++) {
      const item = v.items[i];
      const p = key + "[" + decimal(<i64>i) + "]";
      if (item.kind != JsonKind.OBJECT) {
        this.fail(p, "must be an object, got " + describeJson(item));
        return new Array<ConfigReader>();
      }
      out.push(new ConfigReader(item, this.path(p), this.sink));
    }
    return out;
  }
}

function intRule(min: i64, max: i64): string {
  if (min == 0 && max >= <i64>i32.MAX_VALUE) return "a non-negative integer";
  if (min == 1 && max >= <i64>i32.MAX_VALUE) return "a positive integer";
  return "an integer between " + decimal(<i64>min) + " and " + decimal(<i64>max);
}
