// plugins/<name>/plugin.json: the metadata every deploy output is made from (phase, priority, config schema,
// examples), and the config schema check `tollgate validate`, gen and the docs tables use.
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { createRequire } from "node:module";
import type { ValidateFunction } from "ajv";
import { projectRoot } from "../paths.ts";
import { assertPlugin, pluginMetaFile } from "./discover.ts";
import { PluginMetaError } from "./errors.ts";
import { formatSchemaErrors } from "./schema-errors.ts";

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
  /**
   * Cross-field rules JSON Schema cannot express (a sum of weights, names unique across items): `log` is a
   * regular expression matching the line on_configure logs when it rejects by that rule (the fuzzer's oracle).
   */
  "x-semantic-rules"?: Array<{ rule: string; log: string }>;
  /** plugins/<name>/plugin.json relative to the repo root, for messages. */
  file: string;
}

const cache = new Map<string, { meta: PluginMeta; validate: ValidateFunction }>();

/** Reads and checks plugins/<name>/plugin.json; every problem names the file, the field and the fix. */
export function loadPluginMeta(name: string): PluginMeta {
  return load(name).meta;
}

function load(name: string): { meta: PluginMeta; validate: ValidateFunction } {
  const hit = cache.get(name);
  if (hit) return hit;
  assertPlugin(name, "plugin.json");
  const path = pluginMetaFile(name);
  const file = relative(projectRoot(), path);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new PluginMetaError(file, "", `not valid JSON: ${(e as Error).message}`, "fix the JSON syntax");
  }
  const bad = (field: string, rule: string) => new PluginMetaError(file, field, rule);
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

/** Istio's order: filter-chain position by phase, then priority descending, then name (stable). */
export function sortByPhase(metas: PluginMeta[], priorityOf: (m: PluginMeta) => number = (m) => m.priority, phaseOf: (m: PluginMeta) => Phase = (m) => m.phase): PluginMeta[] {
  const rank = (p: Phase) => PHASES.indexOf(p);
  return [...metas].sort((a, b) => rank(phaseOf(a)) - rank(phaseOf(b)) || priorityOf(b) - priorityOf(a) || a.name.localeCompare(b.name));
}
