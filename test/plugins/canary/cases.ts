// Table data for the canary tests: config rejections and the shared canary-cases.json vectors
// translated into this plugin's config (ingress-nginx annotations → override header, rules, weights).
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** Configs on_configure must reject, with the message (the field path and the rule) it must log. */
export const REJECTED: Array<{ name: string; config: unknown; message: string; schemaCatches: boolean }> = [
  { name: "weights over 100 in total", config: { weights: [{ tag: "v2", weight: 60 }, { tag: "v3", weight: 50 }] },
    message: "'weights' must sum to at most 100, got 110", schemaCatches: false },
  { name: "a weight over 100", config: { weights: [{ tag: "v2", weight: 101 }] },
    message: "'weights[0].weight' must be an integer between 0 and 100, got 101", schemaCatches: true },
  { name: "a negative weight", config: { weights: [{ tag: "v2", weight: -1 }] },
    message: "'weights[0].weight' must be an integer between 0 and 100, got -1", schemaCatches: true },
  { name: "a fractional weight", config: { weights: [{ tag: "v2", weight: 1.5 }] },
    message: "'weights[0].weight' must be an integer between 0 and 100, got 1.5", schemaCatches: true },
  { name: "a weight without weight", config: { weights: [{ tag: "v2" }] },
    message: "'weights[0].weight' is required", schemaCatches: true },
  { name: "a repeated weighted tag", config: { weights: [{ tag: "v2", weight: 10 }, { tag: "v2", weight: 10 }] },
    message: "'weights[1].tag' repeats tag \"v2\"", schemaCatches: false },
  { name: "weights not an array", config: { weights: { v2: 10 } },
    message: "'weights' must be an array of objects", schemaCatches: true },
  { name: "an unknown operator", config: { rules: [{ match: { all: [{ type: "header", key: "x", op: "regex", value: "a" }] }, tag: "v2" }] },
    message: "'rules[0].match.all[0].op' must be one of equal, not_equal, prefix, suffix, contains, in, not_in, present, absent, percentage, got \"regex\"", schemaCatches: true },
  { name: "an unknown condition type", config: { rules: [{ match: { all: [{ type: "body", key: "x", op: "equal", value: "a" }] }, tag: "v2" }] },
    message: "'rules[0].match.all[0].type' must be one of header, cookie, query, path, method, got \"body\"", schemaCatches: true },
  { name: "a header condition without key", config: { rules: [{ match: { all: [{ type: "header", op: "equal", value: "a" }] }, tag: "v2" }] },
    message: "'rules[0].match.all[0].key' is required for type \"header\"", schemaCatches: true },
  { name: "a condition without op", config: { rules: [{ match: { any: [{ type: "cookie", key: "c", value: "a" }] }, tag: "v2" }] },
    message: "'rules[0].match.any[0].op' is required", schemaCatches: true },
  { name: "a condition without type", config: { rules: [{ match: { any: [{ key: "c", op: "equal", value: "a" }] }, tag: "v2" }] },
    message: "'rules[0].match.any[0].type' is required", schemaCatches: true },
  { name: "a value operator without value", config: { rules: [{ match: { all: [{ type: "query", key: "q", op: "prefix" }] }, tag: "v2" }] },
    message: "'rules[0].match.all[0].value' is required for op \"prefix\"", schemaCatches: true },
  { name: "a number where a string belongs", config: { rules: [{ match: { all: [{ type: "header", key: "x", op: "equal", value: 5 }] }, tag: "v2" }] },
    message: "'rules[0].match.all[0].value' must be a string, got 5", schemaCatches: true },
  { name: "in with a string", config: { rules: [{ match: { all: [{ type: "header", key: "x", op: "in", value: "a" }] }, tag: "v2" }] },
    message: "'rules[0].match.all[0].value' must be an array of strings, got \"a\"", schemaCatches: true },
  { name: "in with an empty list", config: { rules: [{ match: { all: [{ type: "header", key: "x", op: "not_in", value: [] }] }, tag: "v2" }] },
    message: "'rules[0].match.all[0].value' must list at least one value for op \"not_in\"", schemaCatches: true },
  { name: "percentage with a string", config: { rules: [{ match: { all: [{ type: "header", key: "x", op: "percentage", value: "5" }] }, tag: "v2" }] },
    message: "'rules[0].match.all[0].value' must be an integer between 0 and 100, got \"5\"", schemaCatches: true },
  { name: "percentage over 100", config: { rules: [{ match: { all: [{ type: "cookie", key: "x", op: "percentage", value: 101 }] }, tag: "v2" }] },
    message: "'rules[0].match.all[0].value' must be an integer between 0 and 100, got 101", schemaCatches: true },
  { name: "a key on a path condition", config: { rules: [{ match: { all: [{ type: "path", key: "x", op: "prefix", value: "/" }] }, tag: "v2" }] },
    message: "'rules[0].match.all[0].key' is not used with type \"path\"", schemaCatches: true },
  { name: "present on the method", config: { rules: [{ match: { all: [{ type: "method", op: "present" }] }, tag: "v2" }] },
    message: "'rules[0].match.all[0].op' must be a value operator for type \"method\"", schemaCatches: true },
  { name: "a value on present", config: { rules: [{ match: { all: [{ type: "header", key: "x", op: "present", value: "a" }] }, tag: "v2" }] },
    message: "'rules[0].match.all[0].value' is not used with op \"present\"", schemaCatches: true },
  { name: "both all and any", config: { rules: [{ match: { all: [{ type: "header", key: "x", op: "present" }], any: [{ type: "header", key: "y", op: "present" }] }, tag: "v2" }] },
    message: "'rules[0].match' must have exactly one of \"all\" or \"any\"", schemaCatches: true },
  { name: "an empty condition list", config: { rules: [{ match: { any: [] }, tag: "v2" }] },
    message: "'rules[0].match.any' must list at least one condition", schemaCatches: true },
  { name: "a rule without match", config: { rules: [{ tag: "v2" }] },
    message: "'rules[0].match' is required", schemaCatches: true },
  { name: "a rule without tag", config: { rules: [{ match: { all: [{ type: "header", key: "x", op: "present" }] } }] },
    message: "'rules[0].tag' is required", schemaCatches: true },
  { name: "an unknown rule field", config: { rules: [{ match: { all: [{ type: "header", key: "x", op: "present" }] }, tag: "v2", weight: 3 }] },
    message: "'rules[0].weight' is not a known field", schemaCatches: true },
  { name: "a tag with a space", config: { default_tag: "v 2" },
    message: "'default_tag' must be a tag made of letters, digits", schemaCatches: true },
  { name: "a tag with CR LF", config: { weights: [{ tag: "v2\r\nx-evil: 1", weight: 5 }] },
    message: "'weights[0].tag' must be a tag made of letters, digits", schemaCatches: true },
  { name: "a header name with a space", config: { tag_header: "x canary" },
    message: "'tag_header' must be an HTTP header name", schemaCatches: true },
  { name: "a pseudo-header as tag_header", config: { tag_header: ":authority" },
    message: "'tag_header' must be an HTTP header name", schemaCatches: true },
  { name: "a framing header as tag_header", config: { tag_header: "Content-Length" },
    message: "'tag_header' cannot be \"content-length\": a framing header", schemaCatches: true },
  { name: "a hop-by-hop header as tag_header", config: { tag_header: "transfer-encoding" },
    message: "'tag_header' cannot be \"transfer-encoding\": a framing header", schemaCatches: true },
  { name: "Host as tag_header", config: { tag_header: "HOST" },
    message: "'tag_header' cannot be \"host\": a routing header", schemaCatches: true },
  { name: "an x-envoy-* header as tag_header", config: { tag_header: "x-envoy-original-path" },
    message: "'tag_header' cannot be \"x-envoy-original-path\": an x-envoy-* header", schemaCatches: true },
  { name: "auth's consumer header as tag_header", config: { tag_header: "X-Mse-Consumer" },
    message: "'tag_header' cannot be \"x-mse-consumer\": the auth plugin owns it", schemaCatches: true },
  { name: "an empty sticky_by", config: { weights: [{ tag: "v2", weight: 5 }], sticky_by: {} },
    message: "'sticky_by' must have exactly one of \"header\", \"cookie\" or \"query\"", schemaCatches: true },
  { name: "two sticky sources", config: { weights: [{ tag: "v2", weight: 5 }], sticky_by: { header: "x-user", cookie: "uid" } },
    message: "'sticky_by' must have exactly one of \"header\", \"cookie\" or \"query\"", schemaCatches: true },
  { name: "sticky_by without weights", config: { sticky_by: { header: "x-user" } },
    message: "'sticky_by' needs 'weights'", schemaCatches: true },
  { name: "an unknown sticky source", config: { weights: [{ tag: "v2", weight: 5 }], sticky_by: { ip: true } },
    message: "'sticky_by.ip' is not a known field", schemaCatches: true },
  { name: "override_header without canary_tag", config: { override_header: "x-canary" },
    message: "'canary_tag' is required when 'override_header' is set", schemaCatches: true },
  { name: "override_header equal to tag_header", config: { override_header: "x-canary-version", canary_tag: "v2" },
    message: "'override_header' must differ from 'tag_header', got \"x-canary-version\"", schemaCatches: false },
  { name: "pin_cookie without weights", config: { pin_cookie: "pin" },
    message: "'pin_cookie' needs 'weights'", schemaCatches: true },
  { name: "pin_cookie with an unpinnable remainder", config: { pin_cookie: "pin", weights: [{ tag: "v2", weight: 5 }] },
    message: "'pin_cookie' needs a non-empty 'default_tag'", schemaCatches: false },
  { name: "pin_cookie_max_age of 0", config: { pin_cookie: "pin", default_tag: "v1", weights: [{ tag: "v2", weight: 5 }], pin_cookie_max_age: 0 },
    message: "'pin_cookie_max_age' must be an integer between 1 and 34560000, got 0", schemaCatches: true },
  { name: "pin_cookie_max_age without pin_cookie", config: { pin_cookie_max_age: 60 },
    message: "'pin_cookie_max_age' has no effect without 'pin_cookie'", schemaCatches: true },
  { name: "an unknown field", config: { tagheader: "x" },
    message: "'tagheader' is not a known field", schemaCatches: true },
  { name: "a non-boolean trust_client_tag", config: { trust_client_tag: "yes" },
    message: "'trust_client_tag' must be true or false, got \"yes\"", schemaCatches: true },
  { name: "an invalid _rules_ item", config: { _rules_: [{ _match_route_: ["a"], weights: [{ tag: "v2", weight: 200 }] }] },
    message: "'_rules_[0].weights[0].weight' must be an integer between 0 and 100, got 200", schemaCatches: true },
  { name: "a _rules_ item without matcher", config: { _rules_: [{ default_tag: "v2" }] },
    message: "'_rules_[0]' must have one of", schemaCatches: true },
];

interface VectorCase {
  id: string;
  config: { header?: string; header_value?: string; header_pattern?: string; cookie?: string; weight?: number };
  request: { method: string; path: string; headers: Record<string, string | string[]> };
  expect_backend: string;
}

export const CANARY_TAG = "canary";
export const STABLE_TAG = "stable";

/** How this plugin answers the implementation-defined vectors (documented in the README). */
const DECIDED: Record<string, string> = {
  "hdr-always-uppercase-value": STABLE_TAG, // the literal "always" only
  "value-always-still-works": STABLE_TAG, // a header_value rule does not also honour "always"
  "multiple-header-values": CANARY_TAG, // the first value wins, as Envoy's get_header_map_value
};

/** Vectors that need the HTTP layer (Envoy's codec trims OWS); covered by test/scenarios/canary.yaml. */
export const NEEDS_HTTP_LAYER = new Set(["value-whitespace"]);

/** ingress-nginx annotations → this plugin's config. Regexes are limited to anchored alternations (→ `in`). */
export function translate(c: VectorCase["config"]): Record<string, unknown> {
  const cfg: Record<string, unknown> = { default_tag: STABLE_TAG };
  const rules: unknown[] = [];
  if (c.header && c.header_value === undefined && c.header_pattern === undefined) {
    Object.assign(cfg, { override_header: c.header, canary_tag: CANARY_TAG, stable_tag: STABLE_TAG });
  }
  if (c.header && c.header_value !== undefined) {
    rules.push({ match: { all: [{ type: "header", key: c.header, op: "equal", value: c.header_value }] }, tag: CANARY_TAG });
  }
  if (c.header && c.header_pattern !== undefined) {
    const m = /^\^\(([^()]+)\)\$$/.exec(c.header_pattern);
    if (!m) throw new Error(`pattern ${c.header_pattern} is not an anchored alternation`);
    rules.push({ match: { all: [{ type: "header", key: c.header, op: "in", value: m[1].split("|") }] }, tag: CANARY_TAG });
  }
  if (c.cookie) {
    rules.push({ match: { all: [{ type: "cookie", key: c.cookie, op: "equal", value: "always" }] }, tag: CANARY_TAG });
    rules.push({ match: { all: [{ type: "cookie", key: c.cookie, op: "equal", value: "never" }] }, tag: STABLE_TAG });
  }
  if (rules.length) cfg.rules = rules;
  if (c.weight !== undefined) cfg.weights = [{ tag: CANARY_TAG, weight: c.weight }];
  return cfg;
}

/** canary-cases.json: test/vectors (a verbatim copy of the public vectors). */
export function vectorCases(): Array<VectorCase & { expectTag: string }> {
  const file = JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "vectors", "canary-cases.json"), "utf8")) as { cases: VectorCase[] };
  return file.cases.map((c) => {
    const word = c.expect_backend.split(/[\s(]/)[0];
    const expectTag = DECIDED[c.id] ?? (word === "canary" ? CANARY_TAG : word === "stable" ? STABLE_TAG : "");
    return { ...c, expectTag };
  });
}
