// The header-name lists of assembly/writable-headers.ts, read from its source (one list, no copy to drift), and the
// case-insensitive JSON Schema pattern that refuses them — the `not` every plugin.json puts on a header
// name the plugin writes. headers.test.ts checks each schema carries exactly this pattern.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../../tools/paths.ts";

function list(src: string, name: string): string[] {
  const m = new RegExp(`const ${name}: string\\[\\] = \\[([^\\]]*)\\]`).exec(src);
  if (!m) throw new Error(`assembly/writable-headers.ts: ${name} not found`);
  return [...m[1].matchAll(/"([^"]*)"/g)].map((x) => x[1]);
}

export interface HeaderLists { framing: string[]; hop: string[]; routing: string[]; envoyPrefix: string; owned: Array<{ name: string; owner: string }> }

export function headerLists(): HeaderLists {
  const src = readFileSync(join(repoRoot(), "assembly", "writable-headers.ts"), "utf8");
  const owned = list(src, "OWNED_HEADERS");
  const owners = list(src, "OWNERS");
  const prefix = /ENVOY_PREFIX = "([^"]+)"/.exec(src)?.[1];
  if (!prefix || owned.length !== owners.length) throw new Error("assembly/writable-headers.ts: ENVOY_PREFIX / OWNERS not as expected");
  return {
    framing: list(src, "FRAMING_HEADERS"),
    hop: list(src, "HOP_HEADERS"),
    routing: list(src, "ROUTING_HEADERS"),
    envoyPrefix: prefix,
    owned: owned.map((name, i) => ({ name, owner: owners[i] })),
  };
}

/** `content-length` → `[Cc][Oo][Nn]...`: ECMA-262 patterns in JSON Schema have no /i flag. */
function anyCase(s: string): string {
  return [...s].map((c) => (/[a-z]/.test(c) ? `[${c.toUpperCase()}${c}]` : c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))).join("");
}

/** Names a plugin may never write on any message (request or response). */
export function framingNames(l = headerLists()): string[] {
  return [...l.framing, ...l.hop];
}

/** Names `owner` may not write on a request: framing, hop-by-hop, routing, other plugins' headers (plus the x-envoy- prefix). */
export function unwritableNames(owner: string, l = headerLists()): string[] {
  return [...framingNames(l), ...l.routing, ...l.owned.filter((o) => o.owner !== owner).map((o) => o.name)];
}

/** The schema `not.pattern` for a request header `owner` writes (`response`: only framing and hop-by-hop). */
export function refusedPattern(owner: string, response = false): string {
  const l = headerLists();
  const names = response ? framingNames(l) : unwritableNames(owner, l);
  const exact = `^(?:${names.map(anyCase).join("|")})$`;
  return response ? exact : `${exact}|^${anyCase(l.envoyPrefix)}`;
}
