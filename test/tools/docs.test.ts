// README config tables: generated from plugin.json; this test fails when a README drifts from its schema.
import { test } from "node:test";
import assert from "node:assert/strict";
import { configRows, configTable, replaceBetween, updateDocs } from "../../tools/docs/config-table.ts";
import type { PluginMeta } from "../../tools/plugins/index.ts";

test("README tables match plugin.json (run 'tollgate docs' to fix)", () => {
  const res = updateDocs({ check: true });
  assert.deepEqual(res.problems, [], res.problems.join("\n"));
  assert.deepEqual(res.drifted, [], `out of date: ${res.drifted.join(", ")} — run 'node bin/tollgate.js docs'`);
});

test("rows: nested objects dotted, list items [], required, defaults, enums, ranges, $ref; _rules_ not expanded", () => {
  const schema = {
    type: "object",
    required: ["mode"],
    $defs: { limit: { type: "object", required: ["n"], properties: { n: { type: "integer", minimum: 1, description: "count" } } } },
    properties: {
      mode: { enum: ["a", "b"], default: "a", description: "the | mode" },
      sticky_by: { type: "object", properties: { header: { type: "string" } } },
      rules: { type: "array", items: { type: "object", properties: { limit: { $ref: "#/$defs/limit" } } } },
      _rules_: { type: "array", items: { type: "object", properties: { hidden: { type: "string" } } } },
    },
  };
  const rows = configRows(schema);
  assert.deepEqual(rows.map((r) => r.name), ["mode", "sticky_by", "sticky_by.header", "rules", "rules[].limit", "rules[].limit.n", "_rules_"]);
  assert.deepEqual(rows[0], { name: "mode", type: '`"a"` | `"b"`', required: true, default: '`"a"`', description: "the | mode" });
  assert.equal(rows[3].type, "array of object");
  assert.equal(rows[5].required, true);
  assert.equal(rows[5].description, "count (≥ 1)");
  const table = configTable({ name: "x", schema } as unknown as PluginMeta);
  assert.match(table, /^\| Name \| Type \| Required \| Default \| Description \|$/m);
  assert.match(table, /^\| `mode` \| `"a"` \\\| `"b"` \| yes \| `"a"` \| the \\\| mode \|$/m);
});

test("replaceBetween keeps the text around the markers and is idempotent", () => {
  const m = ["<!-- s -->", "<!-- e -->"] as const;
  const once = replaceBetween("intro\n<!-- s -->\nold\n<!-- e -->\noutro", m, "NEW")!;
  assert.equal(once, "intro\n<!-- s -->\nNEW\n<!-- e -->\noutro");
  assert.equal(replaceBetween(once, m, "NEW"), once);
  assert.equal(replaceBetween("no markers", m, "x"), null);
});
