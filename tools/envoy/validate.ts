// Strict validation of Envoy v3 messages (bootstrap YAML, typed_config) against the Envoy API protos that
// @grpc/grpc-js-xds ships. Our stand-in for `envoy --mode validate`, which cannot run here: every field must
// exist in the proto (unknown fields fail, as in Envoy's strict loader), every `@type` must resolve, values
// must have the proto3-JSON shape of their field, and the protoc-gen-validate rules Envoy enforces at load
// time that matter for hand-written configs (required, min_len, min_items, numeric bounds, oneof required,
// defined enums) are checked.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import protobuf from "protobufjs";
import { parse as parseYaml } from "yaml";

type Type = protobuf.Type;
type Field = protobuf.Field;

const TYPE_URL_PREFIX = "type.googleapis.com/";

let cachedRoot: protobuf.Root | undefined;
let protoRoots: string[] = [];

function protoDirs(): string[] {
  const req = createRequire(import.meta.url);
  const xds = dirname(req.resolve("@grpc/grpc-js-xds/package.json"));
  const pbjs = dirname(req.resolve("protobufjs/package.json"));
  const deps = join(xds, "deps");
  // protobufjs carries descriptor.proto; the well-known types are built into protobufjs ("common").
  return [join(deps, "envoy-api"), join(deps, "xds"), join(deps, "protoc-gen-validate"), join(deps, "googleapis"), pbjs];
}

function root(): protobuf.Root {
  if (cachedRoot) return cachedRoot;
  protoRoots = protoDirs();
  if (!existsSync(join(protoRoots[0], "envoy"))) {
    throw new Error(`the Envoy API protos are missing (${protoRoots[0]}); run 'npm install'`);
  }
  const r = new protobuf.Root();
  r.resolvePath = (_origin, target) => {
    for (const dir of protoRoots) {
      const p = join(dir, target);
      if (existsSync(p)) return p;
    }
    return target; // well-known types: protobufjs resolves google/protobuf/*.proto from its bundled set
  };
  r.loadSync(["envoy/config/bootstrap/v3/bootstrap.proto"], { keepCase: true });
  r.resolveAll();
  cachedRoot = r;
  return r;
}

/** Finds a message type by full name, loading the protos of its package directory on demand. */
function findType(fullName: string): Type | null {
  const r = root();
  const existing = lookup(r, fullName);
  if (existing) return existing;
  const parts = fullName.split(".");
  // Package = leading lower-case segments; the directory mirrors it (Envoy's, xds' and udpa's layout).
  const pkg = parts.filter((p, i) => i < parts.length - 1 && /^[a-z0-9_]+$/.test(p));
  const rel = join(...pkg);
  const files: string[] = [];
  for (const dir of protoRoots) {
    const d = join(dir, rel);
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d)) if (f.endsWith(".proto")) files.push(join(rel, f));
  }
  if (files.length === 0) return null;
  try {
    r.loadSync(files, { keepCase: true });
    r.resolveAll();
  } catch {
    return null;
  }
  return lookup(r, fullName);
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
const INT = /^-?\d+$/;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

const INT32_TYPES = new Set(["int32", "sint32", "sfixed32", "uint32", "fixed32"]);
const INT64_TYPES = new Set(["int64", "sint64", "sfixed64", "uint64", "fixed64"]);

class Checker {
  errors: string[] = [];

  err(path: string, msg: string): void {
    this.errors.push(`${path || "(root)"}: ${msg}`);
  }

  message(type: Type, value: unknown, path: string): void {
    const name = type.fullName.replace(/^\./, "");
    if (this.wellKnown(name, value, path)) return;
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
      if (o["(validate.rules).message.required"] === true) this.err(p, `is required in ${name}`);
      else if (f.repeated && typeof o["(validate.rules).repeated.min_items"] === "number" && o["(validate.rules).repeated.min_items"] > 0) {
        this.err(p, `is required in ${name} (at least ${o["(validate.rules).repeated.min_items"]} item)`);
      } else if (!f.repeated && f.type === "string" && ((o["(validate.rules).string.min_len"] as number) > 0 || (o["(validate.rules).string.min_bytes"] as number) > 0)) {
        this.err(p, `is required in ${name} (non-empty string)`);
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
      if (!Array.isArray(v)) return this.err(path, `must be a list, got ${describe(v)}`);
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
    if (rt instanceof protobuf.Type) return this.message(rt, v, path);
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
      if (typeof v !== "boolean") this.err(path, `must be true or false, got ${describe(v)}`);
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
      const n = typeof v === "number" ? v : typeof v === "string" && INT.test(v) ? Number(v) : NaN;
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

  bounds(n: number, path: string, o: Record<string, unknown>, type: string): void {
    const k = `(validate.rules).${type}.`;
    const lt = o[k + "lt"], lte = o[k + "lte"], gt = o[k + "gt"], gte = o[k + "gte"];
    if (typeof lt === "number" && !(n < lt)) this.err(path, `must be less than ${lt}, got ${n}`);
    if (typeof lte === "number" && !(n <= lte)) this.err(path, `must be at most ${lte}, got ${n}`);
    if (typeof gt === "number" && !(n > gt)) this.err(path, `must be greater than ${gt}, got ${n}`);
    if (typeof gte === "number" && !(n >= gte)) this.err(path, `must be at least ${gte}, got ${n}`);
  }

  /** proto3 JSON mapping of the well-known types; returns false when `name` is an ordinary message. */
  wellKnown(name: string, v: unknown, path: string): boolean {
    switch (name) {
      case "google.protobuf.Any":
        this.any(v, path);
        return true;
      case "google.protobuf.Duration":
        if (typeof v !== "string" || !DURATION.test(v)) this.err(path, `must be a duration string like "1s" or "0.250s", got ${describe(v)}`);
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

/** Reads and validates a bootstrap YAML file; YAML syntax errors are reported like field errors. */
export function validateBootstrapFile(file: string): string[] {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, "utf8"));
  } catch (e) {
    return [`(yaml): ${(e as Error).message}`];
  }
  return validateBootstrap(doc);
}
