// README config tables generated from plugins/<name>/plugin.json's schema: `Name | Type | Required | Default |
// Description`, one row per field (nested fields dotted, list items as `[]`), written between markers in the
// plugin's README and, for all plugins, in the root README. `check` reports drift instead of writing.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { projectRoot } from "../paths.ts";
import { loadPluginMeta, pluginNames, type PluginMeta } from "../plugins/index.ts";

type S = Record<string, any>;

export const PLUGIN_MARKERS = ["<!-- config-table:start -->", "<!-- config-table:end -->"] as const;
export const ROOT_MARKERS = ["<!-- config-tables:start -->", "<!-- config-tables:end -->"] as const;

const MAX_DEPTH = 4;

function resolve(root: S, s: S | undefined): S {
  let cur = s ?? {};
  for (let i = 0; i < 10 && typeof cur.$ref === "string" && cur.$ref.startsWith("#/"); i++) {
    const target = cur.$ref.slice(2).split("/").reduce((o: S | undefined, k: string) => o?.[k.replace(/~1/g, "/").replace(/~0/g, "~")], root);
    const { $ref: _ignored, ...rest } = cur;
    cur = { ...(target ?? {}), ...rest };
  }
  return cur;
}

function typeOf(root: S, s0: S): string {
  const s = resolve(root, s0);
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  if (Array.isArray(s.enum)) return s.enum.map((v: unknown) => `\`${JSON.stringify(v)}\``).join(" | ");
  const alts = s.oneOf ?? s.anyOf;
  if (Array.isArray(alts) && !s.type) return [...new Set(alts.map((a: S) => typeOf(root, a)))].join(" | ");
  const t = Array.isArray(s.type) ? s.type.join(" | ") : (s.type ?? "any");
  if (t === "array" && s.items) return `array of ${typeOf(root, s.items)}`;
  return t;
}

function objectish(root: S, s: S): S | null {
  const r = resolve(root, s);
  return r.properties ? r : null;
}

function cell(text: string): string {
  return text.replace(/\r?\n+/g, " ").replace(/\|/g, "\\|").trim();
}

function rangeNote(s: S): string {
  const parts: string[] = [];
  if (s.minimum !== undefined) parts.push(`≥ ${s.minimum}`);
  if (s.exclusiveMinimum !== undefined) parts.push(`> ${s.exclusiveMinimum}`);
  if (s.maximum !== undefined) parts.push(`≤ ${s.maximum}`);
  if (s.exclusiveMaximum !== undefined) parts.push(`< ${s.exclusiveMaximum}`);
  if (s.minItems !== undefined) parts.push(`at least ${s.minItems} item${s.minItems === 1 ? "" : "s"}`);
  if (s.maxItems !== undefined) parts.push(`at most ${s.maxItems} items`);
  if (s.minLength !== undefined && s.minLength > 0) parts.push(`min length ${s.minLength}`);
  if (s.maxLength !== undefined) parts.push(`max length ${s.maxLength}`);
  if (s.pattern !== undefined) parts.push(`pattern \`${s.pattern}\``);
  return parts.length ? ` (${parts.join(", ")})` : "";
}

export interface Row { name: string; type: string; required: boolean; default: string; description: string }

export function configRows(schema: S): Row[] {
  const rows: Row[] = [];
  const walk = (s0: S, prefix: string, depth: number) => {
    const s = resolve(schema, s0);
    const required = new Set<string>(Array.isArray(s.required) ? s.required : []);
    for (const [key, p0] of Object.entries((s.properties ?? {}) as S)) {
      const p = resolve(schema, p0 as S);
      const name = `${prefix}${key}`;
      const desc = (p.description ?? p.title ?? "") + rangeNote(p);
      rows.push({
        name,
        type: typeOf(schema, p),
        required: required.has(key),
        default: p.default === undefined ? "" : `\`${JSON.stringify(p.default)}\``,
        description: desc,
      });
      if (depth >= MAX_DEPTH || key === "_rules_") continue;
      const obj = objectish(schema, p);
      if (obj) walk(obj, `${name}.`, depth + 1);
      const items = p.items ? objectish(schema, p.items) : null;
      if (items) walk(items, `${name}[].`, depth + 1);
      for (const alt of (p.oneOf ?? p.anyOf ?? []) as S[]) {
        const a = objectish(schema, alt);
        if (a) walk(a, `${name}.`, depth + 1);
      }
    }
  };
  walk(schema, "", 0);
  // A field reachable through several oneOf branches appears once.
  const seen = new Set<string>();
  return rows.filter((r) => !seen.has(r.name) && seen.add(r.name));
}

export function configTable(meta: PluginMeta): string {
  const rows = configRows(meta.schema);
  const lines = ["| Name | Type | Required | Default | Description |", "| --- | --- | --- | --- | --- |"];
  for (const r of rows) lines.push(`| \`${r.name}\` | ${cell(r.type)} | ${r.required ? "yes" : "no"} | ${cell(r.default)} | ${cell(r.description)} |`);
  if (rows.length === 0) lines.push("| _(none)_ | | | | This plugin takes no configuration fields. |");
  return lines.join("\n");
}

function rootSection(metas: PluginMeta[]): string {
  return metas
    .map((m) => [`### ${m.name}`, "", `${m.description} Phase \`${m.phase}\`, priority ${m.priority}. Details: [plugins/${m.name}/README.md](plugins/${m.name}/README.md).`, "", configTable(m)].join("\n"))
    .join("\n\n");
}

/** Replaces the text between the markers; null when the markers are missing or out of order. */
export function replaceBetween(text: string, [start, end]: readonly [string, string], body: string): string | null {
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) return null;
  return `${text.slice(0, i + start.length)}\n${body}\n${text.slice(j)}`;
}

export interface DocsResult { updated: string[]; drifted: string[]; problems: string[] }

/** Regenerates every table (check: only report files whose tables are out of date). */
export function updateDocs(opts: { check?: boolean; root?: string } = {}): DocsResult {
  const root = opts.root ?? projectRoot();
  const res: DocsResult = { updated: [], drifted: [], problems: [] };
  const metas = pluginNames().map(loadPluginMeta);
  const targets: Array<{ file: string; markers: readonly [string, string]; body: string; required: boolean }> = metas.map((m) => ({
    file: join(root, "plugins", m.name, "README.md"),
    markers: PLUGIN_MARKERS,
    body: configTable(m),
    required: true,
  }));
  targets.push({ file: join(root, "README.md"), markers: ROOT_MARKERS, body: rootSection(metas), required: false });
  for (const t of targets) {
    const rel = relative(root, t.file);
    if (!existsSync(t.file)) {
      if (t.required) res.problems.push(`${rel} does not exist: write it with the markers ${t.markers[0]} / ${t.markers[1]} where the config table goes`);
      continue;
    }
    const text = readFileSync(t.file, "utf8");
    const next = replaceBetween(text, t.markers, t.body);
    if (next === null) {
      res.problems.push(`${rel} lacks the markers ${t.markers[0]} … ${t.markers[1]}: add them where the table goes`);
      continue;
    }
    if (next === text) continue;
    if (opts.check) res.drifted.push(rel);
    else {
      writeFileSync(t.file, next);
      res.updated.push(rel);
    }
  }
  return res;
}
