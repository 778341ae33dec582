// ajv's errors as one line each, in the plugins' own path style (`_rules_[0].max_age`), so `tollgate validate`
// reads like the plugin's on_configure log.
import type { ErrorObject } from "ajv";

/** `/a/0/b` (+ `extra`) → `a[0].b`; `(root)` for the empty path. */
export function jsonPath(instancePath: string, extra?: string): string {
  const parts = instancePath.split("/").filter(Boolean).map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  if (extra !== undefined) parts.push(extra);
  return parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join("") || "(root)";
}

export function formatSchemaErrors(errors: ErrorObject[], declared: Set<string> = new Set()): string[] {
  const out: string[] = [];
  // When a branch of allOf/anyOf fails, ajv drops what it evaluated and reports the branch's known fields as
  // "unevaluated" too: with other errors present, only undeclared names are really unknown fields.
  const others = errors.some((e) => e.keyword !== "unevaluatedProperties");
  const failed = new Set(errors.filter((e) => e.keyword !== "unevaluatedProperties").map((e) => e.instancePath));
  // `required` failures from the branches of one oneOf/anyOf ("one matcher of …") read better as one line.
  const branchOf = (e: ErrorObject) => (e.keyword === "required" ? /^(.*\/(oneOf|anyOf))\/\d+\/required$/.exec(e.schemaPath) : null);
  const groups = new Map<string, { kind: string; path: string; keys: string[] }>();
  for (const e of errors) {
    const m = branchOf(e);
    if (!m) continue;
    const key = `${e.instancePath}|${m[1]}`;
    const g = groups.get(key) ?? { kind: m[2], path: e.instancePath, keys: [] };
    g.keys.push(String((e.params as { missingProperty: string }).missingProperty));
    groups.set(key, g);
  }
  // Where several alternatives matched, the failures of the other branches are noise.
  const multi = new Set(errors.filter((e) => e.keyword === "oneOf" && Array.isArray((e.params as { passingSchemas?: number[] }).passingSchemas)).map((e) => e.instancePath));
  for (const e of errors) {
    if (e.keyword === "required" && multi.has(e.instancePath) && /\/(oneOf|anyOf)\/\d+\//.test(e.schemaPath)) continue;
    const m = branchOf(e);
    const g = m ? groups.get(`${e.instancePath}|${m[1]}`) : undefined;
    if (e.keyword === "oneOf" && Array.isArray((e.params as { passingSchemas?: number[] }).passingSchemas)) {
      // Several alternatives matched: name them when they are "has field X" alternatives.
      const branches = (Array.isArray(e.schema) ? e.schema : []) as Array<{ required?: string[] }>;
      const names = ((e.params as { passingSchemas: number[] }).passingSchemas).map((i) => branches[i]?.required?.join("+")).filter(Boolean);
      const msg = names.length
        ? `'${jsonPath(e.instancePath)}' must have exactly one of ${branches.map((b) => `'${b.required?.join("+")}'`).join(", ")}, got ${names.map((n) => `'${n}'`).join(" and ")}`
        : `'${jsonPath(e.instancePath)}' matches more than one alternative of its schema`;
      if (!out.includes(msg)) out.push(msg);
      continue;
    }
    if (g && g.keys.length > 1) {
      const msg = `'${jsonPath(g.path)}' must have ${g.kind === "oneOf" ? "exactly one" : "at least one"} of ${g.keys.map((k) => `'${k}'`).join(", ")}`;
      if (!out.includes(msg)) out.push(msg);
      continue;
    }
    const p = e.params as Record<string, unknown>;
    let msg: string;
    if (e.keyword === "unevaluatedProperties") {
      const path = `${e.instancePath}/${String(p.unevaluatedProperty)}`;
      if ([...failed].some((f) => f === path || f.startsWith(`${path}/`))) continue;
      if (others && declared.has(String(p.unevaluatedProperty))) continue;
      msg = `'${jsonPath(e.instancePath, String(p.unevaluatedProperty))}' is not a known field`;
    } else if (e.keyword === "additionalProperties") msg = `'${jsonPath(e.instancePath, String(p.additionalProperty))}' is not a known field`;
    else if (e.keyword === "required") msg = `'${jsonPath(e.instancePath, String(p.missingProperty))}' is required`;
    else if (e.keyword === "enum") msg = `'${jsonPath(e.instancePath)}' must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
    else if (e.keyword === "if" || e.keyword === "anyOf" || e.keyword === "oneOf") continue; // the branch errors say more
    else if (e.keyword === "not" && typeof (e.schema as { description?: unknown } | undefined)?.description === "string") {
      // A refused value ("not": {pattern, description}): the description says what it must not be.
      msg = `'${jsonPath(e.instancePath)}' cannot be ${JSON.stringify(e.data)}: ${(e.schema as { description: string }).description}`;
    }
    else msg = `'${jsonPath(e.instancePath)}' ${e.message}`;
    if (!out.includes(msg)) out.push(msg);
  }
  if (out.length === 0 && errors.length) out.push(`'${jsonPath(errors[0].instancePath)}' ${errors[0].message}`);
  return out;
}
