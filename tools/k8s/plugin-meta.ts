// plugins/<name>/plugin.json: the metadata every deploy output is made from (phase, priority, config schema,
// examples), and the config schema check `tollgate validate` and the docs tables use.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { createRequire } from "node:module";
import type { ErrorObject, ValidateFunction } from "ajv";
import { repoRoot } from "../paths.ts";
import { CliError, UsageError } from "../cli/errors.ts";

// ajv's draft-2020 and draft-07 classes are CommonJS default exports; require keeps their types simple.
const require = createRequire(import.meta.url);
const Ajv2020 = require("ajv/dist/2020.js").default as typeof import("ajv").default;
const Ajv07 = require("ajv").default as typeof import("ajv").default;
const addFormats = require("ajv-formats").default as (a: unknown) => void;

export const PHASES = ["AUTHN", "AUTHZ", "STATS", "UNSPECIFIED_PHASE"] as const;
export type Phase = (typeof PHASES)[number];

export interface PluginMeta {
  name: string;
  version: string;
  description: string;
  phase: Phase;
  priority: number;
  schema: Record<string, unknown>;
  examples: Array<{ title: string; config: Record<string, unknown> }>;
  /** plugins/<name>/plugin.json relative to the repo root, for messages. */
  file: string;
}

/** Plugins that have a plugins/<name>/plugin.json, sorted by name. */
export function pluginsWithMeta(): string[] {
  const dir = join(repoRoot(), "plugins");
  return readdirSync(dir)
    .filter((n) => existsSync(join(dir, n, "plugin.json")))
    .sort();
}

const cache = new Map<string, { meta: PluginMeta; validate: ValidateFunction }>();

/** Reads and checks plugins/<name>/plugin.json; every problem names the file, the field and the fix. */
export function loadPluginMeta(name: string): PluginMeta {
  return load(name).meta;
}

function load(name: string): { meta: PluginMeta; validate: ValidateFunction } {
  const hit = cache.get(name);
  if (hit) return hit;
  const path = join(repoRoot(), "plugins", name, "plugin.json");
  const file = relative(repoRoot(), path);
  if (!existsSync(path)) {
    const known = pluginsWithMeta();
    throw new UsageError(`no plugin named '${name}' (${file} does not exist)`, known.length ? `one of: ${known.join(", ")}` : "add plugins/<name>/plugin.json");
  }
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new CliError(`${file}: not valid JSON: ${(e as Error).message}`, 1, "fix the JSON syntax");
  }
  const bad = (field: string, rule: string) => new CliError(`${file}: '${field}' ${rule}`, 1, `edit ${file}`);
  if (raw.name !== name) throw bad("name", `must equal the directory name '${name}', got ${JSON.stringify(raw.name)}`);
  for (const f of ["version", "description"]) if (typeof raw[f] !== "string" || !raw[f]) throw bad(f, "must be a non-empty string");
  if (!PHASES.includes(raw.phase as Phase)) throw bad("phase", `must be one of ${PHASES.join(", ")}, got ${JSON.stringify(raw.phase)}`);
  if (!Number.isInteger(raw.priority) || Math.abs(raw.priority as number) >= 2 ** 31) throw bad("priority", `must be an int32, got ${JSON.stringify(raw.priority)}`);
  if (!raw.schema || typeof raw.schema !== "object") throw bad("schema", "must be a JSON Schema object");
  if (!Array.isArray(raw.examples)) throw bad("examples", "must be a list of {title, config}");
  const schema = raw.schema as Record<string, unknown>;
  const draft07 = typeof schema.$schema === "string" && schema.$schema.includes("draft-07");
  const ajv = draft07 ? new Ajv07({ allErrors: true, strict: false, verbose: true }) : new Ajv2020({ allErrors: true, strict: false, verbose: true });
  addFormats(ajv);
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(schema);
  } catch (e) {
    throw bad("schema", `is not a valid JSON Schema: ${(e as Error).message}`);
  }
  const meta = { ...(raw as object), file } as PluginMeta;
  meta.examples.forEach((ex, i) => {
    if (typeof ex?.title !== "string" || !ex.config || typeof ex.config !== "object") throw bad(`examples[${i}]`, "must be {title: string, config: object}");
    if (!validate(ex.config)) throw bad(`examples[${i}].config`, `does not match the schema: ${formatSchemaErrors(validate.errors ?? []).join("; ")}`);
  });
  const entry = { meta, validate };
  cache.set(name, entry);
  return entry;
}

/** Schema errors for a config, each `'<json path>' <message>` in the plugins' path style (`_rules_[0].max_age`). */
export function checkConfig(name: string, config: unknown): string[] {
  const { meta, validate } = load(name);
  return validate(config) ? [] : formatSchemaErrors(validate.errors ?? [], declaredKeys(meta.schema));
}

/** Every property name the schema declares anywhere. */
function declaredKeys(schema: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(schema)) for (const s of schema) declaredKeys(s, out);
  else if (schema && typeof schema === "object") {
    for (const [k, v] of Object.entries(schema)) {
      if (k === "properties" && v && typeof v === "object") for (const p of Object.keys(v)) out.add(p);
      declaredKeys(v, out);
    }
  }
  return out;
}

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

/** Istio's order: filter-chain position by phase, then priority descending, then name (stable). */
export function sortByPhase(metas: PluginMeta[], priorityOf: (m: PluginMeta) => number = (m) => m.priority, phaseOf: (m: PluginMeta) => Phase = (m) => m.phase): PluginMeta[] {
  const rank = (p: Phase) => PHASES.indexOf(p);
  return [...metas].sort((a, b) => rank(phaseOf(a)) - rank(phaseOf(b)) || priorityOf(b) - priorityOf(a) || a.name.localeCompare(b.name));
}
