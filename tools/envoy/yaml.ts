// Reads YAML the way Envoy 1.40 does before its JSON → proto step (yaml-cpp, then Envoy's YAML → JSON
// conversion), which is not YAML 1.2's core schema. Verified on Envoy 1.40 with `--mode validate`:
// - a quoted or block scalar is a string;
// - a plain scalar is null for ~ / null / Null / NULL / nothing, a bool for yaml-cpp's words (y, yes, true, on,
//   n, no, false, off in lower, Capitalised or UPPER case: `vm_id: on` is the bool true, which a string field
//   rejects), an integer when it is one (decimal, 0x hex, 0o octal: `stat_prefix: 0x10` is rejected), and
//   otherwise a string — floats included (`stat_prefix: 1.5` is the string "1.5"; `port_value: 1e3` the
//   string "1e3", which the proto JSON parser reads as 1000).
// The proto check (validate.ts) and the embedded engine (tools/gateway/config.ts) read files through this, so
// they see what Envoy sees; whatever writes a bootstrap (gen, test and diff harnesses) writes it through
// stringifyEnvoyYaml, so Envoy reads back the values that were written.
import { Alias, Document, isMap, isScalar, isSeq, parseDocument, visit, type Node, type ToStringOptions } from "yaml";

const TRUE = /^(y|Y|yes|Yes|YES|true|True|TRUE|on|On|ON)$/;
const FALSE = /^(n|N|no|No|NO|false|False|FALSE|off|Off|OFF)$/;
const NULL = /^(~|null|Null|NULL|)$/;
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/** A plain (unquoted) scalar's value as Envoy's YAML → JSON conversion gives it. */
export function envoyPlainScalar(s: string): string | number | boolean | null {
  if (NULL.test(s)) return null;
  if (TRUE.test(s)) return true;
  if (FALSE.test(s)) return false;
  let n: bigint | null = null;
  if (/^[-+]?\d+$/.test(s)) n = BigInt(s);
  else if (/^0x[0-9a-fA-F]+$/.test(s)) n = BigInt(s);
  else if (/^0o[0-7]+$/.test(s)) n = BigInt(s);
  if (n !== null && n >= INT64_MIN && n <= INT64_MAX) return Number(n);
  return s;
}

/** Thrown for YAML syntax errors (message as the yaml parser gives it). */
export class EnvoyYamlError extends Error {}

function convert(node: Node | null | undefined, doc: Document): unknown {
  if (node === null || node === undefined) return null;
  if (node instanceof Alias) return convert(node.resolve(doc) as Node | undefined, doc);
  if (isScalar(node)) {
    const v = node.value;
    if (typeof v !== "string") return v;
    return node.type === "PLAIN" ? envoyPlainScalar(v) : v;
  }
  if (isSeq(node)) return node.items.map((i) => convert(i as Node, doc));
  if (isMap(node)) {
    const out: Record<string, unknown> = {};
    for (const pair of node.items) {
      const k = isScalar(pair.key) ? String(pair.key.value) : String(convert(pair.key as Node, doc));
      out[k] = convert(pair.value as Node | null, doc);
    }
    return out;
  }
  return null;
}

/** Parses one YAML document into the JSON value Envoy builds from it. */
export function parseEnvoyYaml(text: string): unknown {
  const doc = parseDocument(text, { schema: "failsafe", uniqueKeys: false });
  if (doc.errors.length) throw new EnvoyYamlError(doc.errors[0].message);
  return convert(doc.contents as Node | null, doc);
}

/**
 * Writes `value` as YAML that Envoy (and YAML 1.1 readers such as Kubernetes' sigs.k8s.io/yaml) reads back as
 * the same JSON: every string a plain scalar would turn into something else (`on`, `yes`, `n`, `~`, `0x10`,
 * `0o17`, `1_000`, …) is double-quoted. The `yaml` package's default (YAML 1.2) writes `on` and `yes` plain,
 * which Envoy reads as the bool true; its YAML 1.1 mode misses yaml-cpp's `0o` octal.
 */
export function stringifyEnvoyYaml(value: unknown, options: ToStringOptions = {}): string {
  const doc = new Document(value, { version: "1.1" });
  visit(doc, {
    Scalar(_, node) {
      if (typeof node.value === "string" && envoyPlainScalar(node.value) !== node.value) node.type = "QUOTE_DOUBLE";
    },
  });
  return doc.toString(options);
}
