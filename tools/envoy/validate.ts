// Strict validation of Envoy v3 messages (bootstrap YAML, typed_config) against Envoy 1.40's API: the proto
// definitions of github.com/envoyproxy/go-control-plane/envoy v1.40.0 (generated from Envoy's data-plane-api at
// that release), dumped to tools/envoy/api/envoy-api.json by tools/envoy/api/regenerate.sh. Used where
// `envoy --mode validate` cannot run (no Envoy installed); test/tools/envoy-validate.test.ts holds the two to
// the same verdicts. Every field must exist in the proto (unknown fields fail, as in Envoy's strict loader),
// every `@type` must resolve, values must have the proto3-JSON shape of their field, and the
// protoc-gen-validate rules Envoy enforces at load time that matter for hand-written configs (required,
// min_len, min_items, numeric bounds, oneof required, defined enums) are checked.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import protobuf from "protobufjs";
import { repoRoot } from "../paths.ts";
import { BOOL_STRING, NUMBER_STRING, protoBool } from "./proto-json.ts";
import { parseEnvoyYaml } from "./yaml.ts";

type Type = protobuf.Type;
type Field = protobuf.Field;

const TYPE_URL_PREFIX = "type.googleapis.com/";

/** The API dump: where it came from, and the protobufjs namespace. */
export interface EnvoyApiSource {
  module: string;
  version: string;
  files: number;
}

interface ApiDef {
  fields?: Record<string, { type: string }>;
  values?: Record<string, number>;
  nested?: Record<string, ApiDef>;
}

/** The dump indexed by full type name; protobufjs types are built on demand (a bootstrap needs ~300 of ~2,500). */
interface Api {
  source: EnvoyApiSource;
  defs: Map<string, ApiDef>;
  root: protobuf.Root;
  built: Set<string>;
}
let api: Api | undefined;

/** The committed API dump (the bundled CLI and the sources both read it from the package root). */
export function envoyApiFile(): string {
  return join(repoRoot(), "tools", "envoy", "api", "envoy-api.json");
}

function loadApi(): Api {
  if (api) return api;
  let text: string;
  try {
    text = readFileSync(envoyApiFile(), "utf8");
  } catch (e) {
    throw new Error(`the Envoy API definitions are missing (${envoyApiFile()}: ${(e as Error).message}); regenerate them with tools/envoy/api/regenerate.sh`);
  }
  const json = JSON.parse(text) as { source: EnvoyApiSource; nested: Record<string, ApiDef> };
  const defs = new Map<string, ApiDef>();
  const walk = (nested: Record<string, ApiDef> | undefined, prefix: string): void => {
    for (const [k, v] of Object.entries(nested ?? {})) {
      const full = prefix ? `${prefix}.${k}` : k;
      if (v.fields || v.values) defs.set(full, v);
      walk(v.nested, full);
    }
  };
  walk(json.nested, "");
  api = { source: json.source, defs, root: new protobuf.Root(), built: new Set() };
  return api;
}

/** Which Envoy API the proto check uses (module and version of the dump). */
export function envoyApiSource(): EnvoyApiSource {
  return loadApi().source;
}

/** Adds `name` and every type it refers to (and their enclosing types) to the protobufjs root. */
function build(a: Api, name: string): void {
  const need = new Set<string>();
  const stack = [name];
  while (stack.length) {
    const t = stack.pop()!;
    if (need.has(t) || a.built.has(t)) continue;
    const d = a.defs.get(t);
    if (!d) continue;
    need.add(t);
    const parts = t.split(".");
    for (let i = parts.length - 1; i > 0; i--) {
      const parent = parts.slice(0, i).join(".");
      if (a.defs.has(parent)) {
        stack.push(parent);
        break;
      }
    }
    for (const f of Object.values(d.fields ?? {})) if (f.type.startsWith(".")) stack.push(f.type.slice(1));
    for (const [k, v] of Object.entries(d.nested ?? {})) if (v.fields || v.values) stack.push(`${t}.${k}`);
  }
  if (need.size === 0) return;
  // Outermost first: a type brings its nested types along.
  for (const t of [...need].sort((x, y) => x.split(".").length - y.split(".").length)) {
    if (a.built.has(t)) continue;
    const d = a.defs.get(t)!;
    const dot = t.lastIndexOf(".");
    const ns = a.root.define(t.slice(0, dot));
    ns.add(d.values ? protobuf.Enum.fromJSON(t.slice(dot + 1), d as protobuf.IEnum) : protobuf.Type.fromJSON(t.slice(dot + 1), d as protobuf.IType));
    const mark = (full: string, def: ApiDef): void => {
      a.built.add(full);
      for (const [k, v] of Object.entries(def.nested ?? {})) if (v.fields || v.values) mark(`${full}.${k}`, v);
    };
    mark(t, d);
  }
  a.root.resolveAll();
}

/** Finds a message type by full name. */
function findType(fullName: string): Type | null {
  const a = loadApi();
  if (!a.built.has(fullName)) build(a, fullName);
  return lookup(a.root, fullName);
}

function lookup(r: protobuf.Root, fullName: string): Type | null {
  try {
    const t = r.lookup(fullName);
    return t instanceof protobuf.Type ? t : null;
  } catch {
    return null;
  }
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "an object";
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v);
  return `${typeof v} ${String(v)}`;
}

function join2(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

const DURATION = /^-?\d+(\.\d{1,9})?s$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

const INT32_TYPES = new Set(["int32", "sint32", "sfixed32", "uint32", "fixed32"]);
const INT64_TYPES = new Set(["int64", "sint64", "sfixed64", "uint64", "fixed64"]);

class Checker {
  errors: string[] = [];

  err(path: string, msg: string): void {
    this.errors.push(`${path || "(root)"}: ${msg}`);
  }

  message(type: Type, value: unknown, path: string, rules?: Record<string, unknown>): void {
    const name = type.fullName.replace(/^\./, "");
    if (this.wellKnown(name, value, path, rules)) return;
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      this.err(path, `must be an object (${name}), got ${describe(value)}`);
      return;
    }
    const obj = value as Record<string, unknown>;
    const seen = new Map<Field, string>();
    for (const [key, v] of Object.entries(obj)) {
      const field = type.fields[key] ?? type.fieldsArray.find((f) => (f.options?.json_name ?? camel(f.name)) === key);
      const p = join2(path, key);
      if (!field) {
        if (key === "@type") this.err(p, `'@type' is only allowed inside a google.protobuf.Any (here: ${name})`);
        else this.err(p, `unknown field '${key}' in ${name}`);
        continue;
      }
      if (seen.has(field)) {
        this.err(p, `field '${field.name}' is also given as '${seen.get(field)}'`);
        continue;
      }
      seen.set(field, key);
      if (v === null) continue; // JSON null = field default
      this.field(field, v, p);
    }
    for (const oneof of type.oneofsArray) {
      const set = oneof.fieldsArray.filter((f) => seen.has(f) && obj[seen.get(f)!] !== null);
      if (set.length > 1) this.err(path, `only one of ${oneof.oneof.map((n) => `'${n}'`).join(", ")} may be set, got ${set.map((f) => `'${f.name}'`).join(" and ")}`);
      if (set.length === 0 && oneof.options?.["(validate.required)"] === true && !oneof.name.startsWith("_")) {
        this.err(path, `one of ${oneof.oneof.map((n) => `'${n}'`).join(", ")} is required in ${name}`);
      }
    }
    // PGV checks run on unset fields too (a missing string is "" and fails min_len).
    for (const f of type.fieldsArray) {
      if (seen.has(f) && obj[seen.get(f)!] !== null) continue;
      if (f.partOf) continue;
      const o = f.options ?? {};
      const p = join2(path, f.name);
      if (["message", "duration", "timestamp", "any"].some((k) => o[`(validate.rules).${k}.required`] === true)) this.err(p, `is required in ${name}`);
      else if (f.repeated && typeof o["(validate.rules).repeated.min_items"] === "number" && o["(validate.rules).repeated.min_items"] > 0) {
        this.err(p, `is required in ${name} (at least ${o["(validate.rules).repeated.min_items"]} item)`);
      } else if (!f.repeated && f.type === "string" && ((o["(validate.rules).string.min_len"] as number) > 0 || (o["(validate.rules).string.min_bytes"] as number) > 0)) {
        this.err(p, `is required in ${name} (non-empty string)`);
      }
    }
    const given = (field: string): unknown => {
      const f = type.fields[field];
      return f && seen.has(f) ? obj[seen.get(f)!] : undefined;
    };
    this.envoyRules(name, given, path);
  }

  /**
   * Rules Envoy 1.40's official build enforces when it creates the object (so `envoy --mode validate` refuses
   * them) although the proto allows them; each verified on 1.40.
   */
  envoyRules(name: string, value: (field: string) => unknown, path: string): void {
    if (name === "envoy.extensions.wasm.v3.PluginConfig") {
      const failOpen = value("fail_open");
      const policy = value("failure_policy");
      if (protoBool(failOpen) === true && policy !== undefined && policy !== null && policy !== "UNSPECIFIED" && policy !== 0) {
        this.err(join2(path, "failure_policy"), "only one of fail_open or failure_policy can be set (Envoy refuses both; fail_open is deprecated: use failure_policy)");
      }
    }
    if (name === "envoy.extensions.wasm.v3.VmConfig") {
      const runtime = value("runtime");
      if (typeof runtime === "string" && runtime !== "" && runtime !== "envoy.wasm.runtime.v8") {
        this.err(join2(path, "runtime"), `Envoy's official build has only the envoy.wasm.runtime.v8 runtime ("Unable to create Wasm plugin" otherwise), got ${describe(runtime)}`);
      }
    }
  }

  field(f: Field, v: unknown, path: string): void {
    if (f.map) {
      if (typeof v !== "object" || Array.isArray(v)) return this.err(path, `must be a map (object), got ${describe(v)}`);
      for (const [k, item] of Object.entries(v as Record<string, unknown>)) this.single(f, item, join2(path, k));
      return;
    }
    if (f.repeated) {
      // Envoy's JSON parser takes a single value where a list is expected, as a list of one (verified on 1.40).
      if (!Array.isArray(v)) return this.single(f, v, path);
      const min = f.options?.["(validate.rules).repeated.min_items"];
      if (typeof min === "number" && v.length < min) this.err(path, `must have at least ${min} item(s), got ${v.length}`);
      v.forEach((item, i) => this.single(f, item, `${path}[${i}]`));
      return;
    }
    this.single(f, v, path);
  }

  single(f: Field, v: unknown, path: string): void {
    const rt = f.resolvedType;
    const o = f.options ?? {};
    if (rt instanceof protobuf.Type) return this.message(rt, v, path, o);
    if (rt instanceof protobuf.Enum) {
      if (typeof v === "string") {
        if (!(v in rt.values)) this.err(path, `must be one of ${Object.keys(rt.values).join(", ")} (${rt.name}), got ${describe(v)}`);
      } else if (typeof v === "number" && Number.isInteger(v)) {
        if (o["(validate.rules).enum.defined_only"] === true && !Object.values(rt.values).includes(v)) this.err(path, `is not a defined ${rt.name} value: ${v}`);
      } else this.err(path, `must be an enum name (${rt.name}), got ${describe(v)}`);
      return;
    }
    this.scalar(f.type, v, path, o, f.name);
  }

  scalar(type: string, v: unknown, path: string, o: Record<string, unknown> = {}, name = ""): void {
    if (type === "string") {
      if (typeof v !== "string") return this.err(path, `must be a string, got ${describe(v)}`);
      const min = (o["(validate.rules).string.min_len"] ?? o["(validate.rules).string.min_bytes"]) as number | undefined;
      if (typeof min === "number" && v.length < min) this.err(path, `must be at least ${min} character(s) long`);
      const max = (o["(validate.rules).string.max_len"] ?? o["(validate.rules).string.max_bytes"]) as number | undefined;
      if (typeof max === "number" && v.length > max) this.err(path, `must be at most ${max} character(s) long`);
      return;
    }
    if (type === "bool") {
      // Envoy's JSON parser also takes these strings (absl::SimpleAtob; `"yes"` and `"0"` pass on 1.40, `"off"` does not).
      if (typeof v !== "boolean" && !(typeof v === "string" && BOOL_STRING.test(v))) this.err(path, `must be true or false, got ${describe(v)}`);
      return;
    }
    if (type === "bytes") {
      if (typeof v !== "string" || !BASE64.test(v)) this.err(path, `must be base64 bytes, got ${describe(v)}`);
      return;
    }
    if (type === "double" || type === "float") {
      if (typeof v === "number" || (typeof v === "string" && (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(v) || ["NaN", "Infinity", "-Infinity"].includes(v)))) {
        this.bounds(Number(v), path, o, type);
      } else this.err(path, `must be a number, got ${describe(v)}`);
      return;
    }
    if (INT32_TYPES.has(type) || INT64_TYPES.has(type)) {
      const n = typeof v === "number" ? v : typeof v === "string" && NUMBER_STRING.test(v) ? Number(v) : NaN;
      if (!Number.isInteger(n)) return this.err(path, `must be an integer (${type}), got ${describe(v)}`);
      if (type.startsWith("u") || type.startsWith("fixed")) {
        if (n < 0) return this.err(path, `must be a non-negative integer (${type}), got ${n}`);
      }
      if (INT32_TYPES.has(type) && (n > 0xffffffff || n < -0x80000000)) return this.err(path, `is out of range for ${type}: ${n}`);
      this.bounds(n, path, o, type);
      return;
    }
    this.err(path, `has an unsupported scalar type ${type} (${name})`);
  }

  /** PGV duration rules (gt/gte/lt/lte as {seconds, nanos}; an empty bound is 0s), e.g. connect_timeout > 0. */
  durationBounds(v: string, path: string, o: Record<string, unknown>): void {
    const seconds = (s: string): number => Number(s.slice(0, -1));
    const bound = (k: string): number | undefined => {
      const key = `(validate.rules).duration.${k}`;
      if (key in o) return 0;
      const s = o[`${key}.seconds`], n = o[`${key}.nanos`];
      if (s === undefined && n === undefined) return undefined;
      return Number(s ?? 0) + Number(n ?? 0) / 1e9;
    };
    const d = seconds(v);
    const fmt = (x: number): string => `${x}s`;
    const gt = bound("gt"), gte = bound("gte"), lt = bound("lt"), lte = bound("lte");
    if (gt !== undefined && !(d > gt)) this.err(path, `must be longer than ${fmt(gt)}, got ${v}`);
    if (gte !== undefined && !(d >= gte)) this.err(path, `must be at least ${fmt(gte)}, got ${v}`);
    if (lt !== undefined && !(d < lt)) this.err(path, `must be shorter than ${fmt(lt)}, got ${v}`);
    if (lte !== undefined && !(d <= lte)) this.err(path, `must be at most ${fmt(lte)}, got ${v}`);
  }

  bounds(n: number, path: string, o: Record<string, unknown>, type: string): void {
    const k = `(validate.rules).${type}.`;
    const lt = o[k + "lt"], lte = o[k + "lte"], gt = o[k + "gt"], gte = o[k + "gte"];
    if (typeof lt === "number" && !(n < lt)) this.err(path, `must be less than ${lt}, got ${n}`);
    if (typeof lte === "number" && !(n <= lte)) this.err(path, `must be at most ${lte}, got ${n}`);
    if (typeof gt === "number" && !(n > gt)) this.err(path, `must be greater than ${gt}, got ${n}`);
    if (typeof gte === "number" && !(n >= gte)) this.err(path, `must be at least ${gte}, got ${n}`);
  }

  /** proto3 JSON mapping of the well-known types; returns false when `name` is an ordinary message. */
  wellKnown(name: string, v: unknown, path: string, rules?: Record<string, unknown>): boolean {
    switch (name) {
      case "google.protobuf.Any":
        this.any(v, path);
        return true;
      case "google.protobuf.Duration":
        if (typeof v !== "string" || !DURATION.test(v)) this.err(path, `must be a duration string like "1s" or "0.250s", got ${describe(v)}`);
        else if (rules) this.durationBounds(v, path, rules);
        return true;
      case "google.protobuf.Timestamp":
        if (typeof v !== "string" || !TIMESTAMP.test(v)) this.err(path, `must be an RFC 3339 timestamp, got ${describe(v)}`);
        return true;
      case "google.protobuf.FieldMask":
        if (typeof v !== "string") this.err(path, `must be a field mask string, got ${describe(v)}`);
        return true;
      case "google.protobuf.Struct":
        if (v === null || typeof v !== "object" || Array.isArray(v)) this.err(path, `must be an object (Struct), got ${describe(v)}`);
        return true;
      case "google.protobuf.ListValue":
        if (!Array.isArray(v)) this.err(path, `must be a list (ListValue), got ${describe(v)}`);
        return true;
      case "google.protobuf.Value":
        return true;
      case "google.protobuf.Empty":
        if (v === null || typeof v !== "object" || Array.isArray(v) || Object.keys(v).length) this.err(path, `must be an empty object, got ${describe(v)}`);
        return true;
    }
    const wrapper = /^google\.protobuf\.(Double|Float|Int64|UInt64|Int32|UInt32|Bool|String|Bytes)Value$/.exec(name);
    if (wrapper) {
      this.scalar(wrapper[1].toLowerCase(), v, path);
      return true;
    }
    return false;
  }

  any(v: unknown, path: string): void {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return this.err(path, `must be an object with '@type' (google.protobuf.Any), got ${describe(v)}`);
    const obj = v as Record<string, unknown>;
    const url = obj["@type"];
    if (typeof url !== "string" || url === "") return this.err(join2(path, "@type"), "is required (google.protobuf.Any needs a type URL such as type.googleapis.com/envoy.extensions.filters.http.router.v3.Router)");
    const slash = url.lastIndexOf("/");
    const typeName = url.slice(slash + 1);
    if (slash < 0 || !typeName) return this.err(join2(path, "@type"), `is not a type URL: ${describe(url)}`);
    const t = findType(typeName);
    if (!t) return this.err(join2(path, "@type"), `type ${typeName} is not defined in the Envoy API protos`);
    const rest = { ...obj };
    delete rest["@type"];
    const tn = t.fullName.replace(/^\./, "");
    if (this.isSpecialJson(tn)) {
      // WKTs with a special JSON form carry it in "value".
      for (const k of Object.keys(rest)) if (k !== "value") this.err(join2(path, k), `unknown field '${k}' in ${tn} (inside Any only '@type' and 'value' are allowed)`);
      if (!("value" in rest)) return;
      this.wellKnown(tn, rest.value, join2(path, "value"));
      return;
    }
    if (tn === "xds.type.v3.TypedStruct" || tn === "udpa.type.v1.TypedStruct") {
      this.message(t, rest, path);
      const inner = rest.type_url;
      if (typeof inner === "string" && rest.value && typeof rest.value === "object") {
        const innerType = findType(inner.slice(inner.lastIndexOf("/") + 1));
        if (!innerType) this.err(join2(path, "type_url"), `type ${inner} is not defined in the Envoy API protos`);
        else this.message(innerType, rest.value, join2(path, "value"));
      }
      return;
    }
    this.message(t, rest, path);
  }

  isSpecialJson(name: string): boolean {
    return /^google\.protobuf\.(Duration|Timestamp|FieldMask|Struct|ListValue|Value|Any|(Double|Float|Int64|UInt64|Int32|UInt32|Bool|String|Bytes)Value)$/.test(name);
  }
}

function camel(s: string): string {
  return s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * The name of an enum value given as a name or a number (proto3 JSON takes both: a cluster's `type: 1` is
 * STRICT_DNS), e.g. enumName("envoy.config.cluster.v3.Cluster.DiscoveryType", 1); undefined when it is neither.
 */
export function enumName(enumType: string, v: unknown): string | undefined {
  const values = loadApi().defs.get(enumType)?.values;
  if (!values) throw new Error(`${enumType} is not an enum of the Envoy API`);
  if (typeof v === "string") return v in values ? v : undefined;
  if (typeof v === "number") return Object.entries(values).find(([, n]) => n === v)?.[0];
  return undefined;
}

/** Validates `obj` (YAML/JSON form) as the Envoy v3 message `typeName`; returns errors as `<yaml path>: <problem>`. */
export function validateEnvoyMessage(typeName: string, obj: unknown): string[] {
  const name = typeName.startsWith(TYPE_URL_PREFIX) ? typeName.slice(TYPE_URL_PREFIX.length) : typeName;
  const t = findType(name);
  if (!t) return [`(root): type ${name} is not defined in the Envoy API protos`];
  const c = new Checker();
  c.message(t, obj, "");
  return c.errors;
}

/** Validates an Envoy bootstrap (envoy.config.bootstrap.v3.Bootstrap) given as parsed YAML. */
export function validateBootstrap(obj: unknown): string[] {
  return validateEnvoyMessage("envoy.config.bootstrap.v3.Bootstrap", obj);
}

/** Reads (as Envoy reads YAML: ./yaml.ts) and validates a bootstrap file; YAML syntax errors are reported like field errors. */
export function validateBootstrapFile(file: string): string[] {
  let doc: unknown;
  try {
    doc = parseEnvoyYaml(readFileSync(file, "utf8"));
  } catch (e) {
    return [`(yaml): ${(e as Error).message}`];
  }
  return validateBootstrap(doc);
}
