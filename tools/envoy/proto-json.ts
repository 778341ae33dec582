// How Envoy 1.40's JSON → proto step reads a scalar value (after tools/envoy/yaml.ts has turned the YAML into
// JSON). The proto check (validate.ts) uses these to decide what is valid, and the embedded engine
// (tools/gateway/bootstrap-fields.ts, config.ts) to read the value, so a field means the same thing in both. Verified on 1.40 with
// `--mode validate` and the admin /config_dump of a running Envoy.

/** Strings a bool field takes (absl::SimpleAtob, any case): `"yes"`, `"Y"`, `"1"`, `"f"` pass; `"on"`, `" true"`, `"2"` do not. */
export const BOOL_STRING = /^(true|t|yes|y|1|false|f|no|n|0)$/i;
const TRUE_STRING = /^(true|t|yes|y|1)$/i;

/** Strings an integer or float field takes as a number ("80", "1e3", "9901.0"; an integer field needs an integral value). */
export const NUMBER_STRING = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/**
 * A bool (or google.protobuf.BoolValue) field's value: a JSON bool, or one of BOOL_STRING's strings. Anything
 * else (absent, null, a number, another string) is undefined: the field's default applies (the proto check has
 * already refused the values Envoy refuses).
 */
export function protoBool(v: unknown): boolean | undefined {
  if (typeof v === "boolean") return v;
  if (typeof v === "string" && BOOL_STRING.test(v)) return TRUE_STRING.test(v);
  return undefined;
}

/** An integer field's value: a JSON number or a numeric string with an integral value; otherwise undefined. */
export function protoInt(v: unknown): number | undefined {
  const n = typeof v === "number" ? v : typeof v === "string" && NUMBER_STRING.test(v) ? Number(v) : NaN;
  return Number.isInteger(n) ? n : undefined;
}

/**
 * A repeated field's items. Envoy's JSON parser takes a single value where a list is expected as a list of one
 * (`domains: "*"`, `listeners: {…}`); absent or null is the empty list.
 */
export function protoList(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}
