// Schema and plugin agree: for every plugin with plugins/<name>/plugin.json, a config is valid by the schema
// exactly when the plugin's own on_configure (through the embedded host, release AND debug builds) accepts it.
// Corpus per plugin:
//   good: plugin.json examples + test/plugins/<name>/configs/good/*.json  (both must accept)
//   bad:  test/plugins/<name>/configs/bad/*.json                           (both must reject)
//   semantic: test/plugins/<name>/configs/semantic/*.json — rules JSON Schema cannot express (e.g. weights
//         summing to more than 100): the schema accepts, the plugin must reject. Keep this list short.
//   the empty config {} (what an empty pluginConfig means): both must give the same verdict
//   mutations of the first example derived from the schema (wrong type, out-of-range, unknown enum value,
//   unknown field): both must give the same verdict, and a rejection must be logged naming the field.
// Plugin engineers: add a case by dropping a JSON file into configs/good or configs/bad.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { buildPlugins } from "../../tools/build/plugins.ts";
import { pluginVerdict } from "../../tools/plugins/index.ts";
import { checkConfig, loadPluginMeta, pluginNames } from "../../tools/plugins/index.ts";
import { pluginWasm, repoRoot } from "../../tools/paths.ts";

type Obj = Record<string, unknown>;
interface Case { label: string; config: Obj; expect: "valid" | "invalid" | "semantic" | "agree"; field?: string }

function corpusDir(name: string, kind: "good" | "bad" | "semantic"): string {
  return join(repoRoot(), "test", "plugins", name, "configs", kind);
}

function filesIn(dir: string): Array<{ label: string; config: Obj }> {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => ({ label: f, config: JSON.parse(readFileSync(join(dir, f), "utf8")) as Obj }));
}

/** Values that break one property's schema in one way each (the schema decides; the plugin must agree). */
export function mutationsFor(schema: Obj): Array<{ key: string; value: unknown; why: string }> {
  const out: Array<{ key: string; value: unknown; why: string }> = [];
  const props = (schema.properties ?? {}) as Record<string, Obj>;
  for (const [key, p] of Object.entries(props)) {
    const types = Array.isArray(p.type) ? (p.type as string[]) : p.type ? [p.type as string] : [];
    if (types.length && !types.includes("string")) out.push({ key, value: "not-a-valid-value", why: "a string" });
    if (types.length && !types.some((t) => t === "number" || t === "integer")) out.push({ key, value: 12345, why: "a number" });
    if (types.length && !types.includes("array") && !types.includes("object")) out.push({ key, value: [], why: "a list" });
    if (types.length && !types.includes("object") && !types.includes("array")) out.push({ key, value: {}, why: "an object" });
    if (types.includes("integer")) out.push({ key, value: 1.5, why: "a fraction" });
    if (Array.isArray(p.enum)) out.push({ key, value: "definitely-not-an-option", why: "an unknown enum value" });
    if (typeof p.minimum === "number") out.push({ key, value: p.minimum - 1, why: "below the minimum" });
    if (typeof p.maximum === "number") out.push({ key, value: p.maximum + 1, why: "above the maximum" });
    if (typeof p.minLength === "number" && p.minLength > 0) out.push({ key, value: "", why: "empty" });
  }
  if (schema.additionalProperties === false || schema.unevaluatedProperties === false) out.push({ key: "zz_unknown_field", value: 1, why: "an unknown field" });
  return out;
}

/** A schema with its local $ref and allOf folded in (properties and strictness), enough for mutationsFor. */
export function flatten(root: Obj, s: Obj | undefined, depth = 0): Obj {
  if (!s || depth > 8) return {};
  let cur: Obj = s;
  if (typeof cur.$ref === "string" && cur.$ref.startsWith("#/")) {
    const target = (cur.$ref as string).slice(2).split("/").reduce((o: Obj | undefined, k) => o?.[k] as Obj | undefined, root);
    cur = { ...flatten(root, target, depth + 1), ...cur };
    delete cur.$ref;
  }
  const out: Obj = { ...cur, properties: { ...((cur.properties as Obj) ?? {}) } };
  for (const part of (cur.allOf ?? []) as Obj[]) {
    const f = flatten(root, part, depth + 1);
    Object.assign(out.properties as Obj, f.properties ?? {});
    if (f.additionalProperties === false || f.unevaluatedProperties === false) out.unevaluatedProperties = false;
  }
  return out;
}

function corpus(name: string): Case[] {
  const meta = loadPluginMeta(name);
  const cases: Case[] = [];
  meta.examples.forEach((ex, i) => cases.push({ label: `example ${i}: ${ex.title}`, config: ex.config, expect: "valid" }));
  for (const f of filesIn(corpusDir(name, "good"))) cases.push({ ...f, label: `good/${f.label}`, expect: "valid" });
  for (const f of filesIn(corpusDir(name, "bad"))) cases.push({ ...f, label: `bad/${f.label}`, expect: "invalid" });
  for (const f of filesIn(corpusDir(name, "semantic"))) cases.push({ ...f, label: `semantic/${f.label}`, expect: "semantic" });
  cases.push({ label: "the empty config {}", config: {}, expect: "agree" });
  const base = meta.examples[0]?.config ?? {};
  for (const m of mutationsFor(flatten(meta.schema, meta.schema))) {
    cases.push({ label: `mutation: '${m.key}' = ${JSON.stringify(m.value)} (${m.why})`, config: { ...base, [m.key]: m.value }, expect: "agree", field: m.key });
  }
  // The same inside the first `_rules_` item of the first example that has one (Higress-style scoped config).
  const scoped = meta.examples.find((ex) => Array.isArray(ex.config._rules_) && (ex.config._rules_ as unknown[]).length > 0)?.config;
  const rulesSchema = ((meta.schema.properties as Obj | undefined)?._rules_ as Obj | undefined)?.items as Obj | undefined;
  if (scoped && rulesSchema) {
    const rule0 = (scoped._rules_ as Obj[])[0];
    for (const m of mutationsFor(flatten(meta.schema, rulesSchema))) {
      if (m.key.startsWith("_match_")) continue;
      const rules = [{ ...rule0, [m.key]: m.value }, ...(scoped._rules_ as Obj[]).slice(1)];
      cases.push({ label: `mutation: '_rules_[0].${m.key}' = ${JSON.stringify(m.value)} (${m.why})`, config: { ...scoped, _rules_: rules }, expect: "agree", field: m.key });
    }
  }
  return cases;
}

const plugins = pluginNames();

for (const name of plugins) {
  describe(`${name}: schema ⇔ on_configure`, () => {
    for (const debug of [false, true]) {
      test(debug ? "debug build" : "release build", async () => {
        await buildPlugins([name]); // cached by input hash; a compile error fails only this plugin's tests
        const problems: string[] = [];
        for (const c of corpus(name)) {
          const schemaErrors = checkConfig(name, c.config);
          const verdict = await pluginVerdict(pluginWasm(name, debug), name, c.config);
          const schemaOk = schemaErrors.length === 0;
          const show = `${c.label}\n      schema: ${schemaOk ? "valid" : schemaErrors.join("; ")}\n      plugin: ${verdict.accepted ? "accepted" : `rejected (${verdict.message})`}${verdict.logs.length ? `\n      log: ${verdict.logs.map((l) => `[${l.levelName}] ${l.message}`).join(" | ")}` : ""}`;
          if (c.expect === "valid" && !(schemaOk && verdict.accepted)) problems.push(`expected valid: ${show}`);
          else if (c.expect === "invalid" && (schemaOk || verdict.accepted)) problems.push(`expected invalid: ${show}`);
          else if (c.expect === "semantic" && !(schemaOk && !verdict.accepted)) problems.push(`expected schema-valid but rejected by the plugin: ${show}`);
          else if (c.expect === "agree" && schemaOk !== verdict.accepted) problems.push(`schema and plugin disagree: ${show}`);
          if (!verdict.accepted) {
            const logged = verdict.logs.filter((l) => l.levelName === "critical" || l.levelName === "error");
            if (logged.length === 0) problems.push(`rejected without a critical/error log line: ${show}`);
            else if (c.field && !logged.some((l) => l.message.includes(c.field!))) problems.push(`rejection log does not name the field '${c.field}': ${show}`);
          }
        }
        assert.equal(problems.length, 0, `plugins/${name}: ${problems.length} problem(s):\n  ${problems.join("\n  ")}`);
      });
    }
  });
}

test("the mutation generator covers types, ranges, enums and unknown fields", () => {
  const m = mutationsFor({ type: "object", additionalProperties: false, properties: { a: { type: "integer", minimum: 0, maximum: 10 }, b: { enum: ["x"] , type: "string" }, c: { type: "boolean" } } });
  const whys = m.map((x) => `${x.key}:${x.why}`);
  for (const w of ["a:a string", "a:a fraction", "a:below the minimum", "a:above the maximum", "b:an unknown enum value", "b:a number", "c:a string", "zz_unknown_field:an unknown field"]) assert.ok(whys.includes(w), w);
});
