// Chain safety (issue 15, item 3): which orders and configs let a client steer one plugin around another.
// Measured on Envoy 1.40: a wasm plugin reads xds.route_name / xds.cluster_name of the route the HTTP
// connection manager matched on the request *as the client sent it*; after a filter rewrites a header and
// clears the route cache, those stay stale for every later filter until the router re-matches. So a
// plugin's `_rules_` chosen by route see the client's route, whatever the order, and only route names
// that do not depend on client-controlled headers (canary-routes gives every tag's route one name) keep
// them honest. Headers another plugin owns (auth's consumer header) are trustworthy only after it ran.
import type { Obj } from "./generate.ts";

export interface ChainPlugin {
  name: string;
  config: Obj | null;
}

const DEFAULT_TAG_HEADER = "x-canary-version";
const DEFAULT_CONSUMER_HEADER = "x-mse-consumer";

/** The global config and every `_rules_` entry's config (each is a full config of its own). */
function configsOf(config: Obj | null): Obj[] {
  if (!config) return [];
  const out: Obj[] = [config];
  if (Array.isArray(config._rules_)) for (const r of config._rules_) if (r && typeof r === "object") out.push(r as Obj);
  return out;
}

function ruleMatchers(config: Obj | null, key: string): string[] {
  if (!config || !Array.isArray(config._rules_)) return [];
  const out: string[] = [];
  for (const r of config._rules_ as Obj[]) {
    const v = r?.[key];
    if (Array.isArray(v)) for (const x of v) if (typeof x === "string") out.push(x);
  }
  return out;
}

function lower(v: unknown): string | null {
  return typeof v === "string" && v ? v.toLowerCase() : null;
}

/** Request headers a canary config decides on (conditions, sticky_by, override_header). */
function canaryReads(config: Obj | null): Set<string> {
  const out = new Set<string>();
  for (const c of configsOf(config)) {
    const add = (v: unknown) => {
      const h = lower(v);
      if (h) out.add(h);
    };
    add(c.override_header);
    add((c.sticky_by as Obj | undefined)?.header);
    if (Array.isArray(c.rules)) {
      for (const rule of c.rules as Obj[]) {
        const m = rule?.match as Obj | undefined;
        for (const list of [m?.all, m?.any]) {
          if (Array.isArray(list)) for (const cond of list as Obj[]) if (cond?.type === "header") add(cond.key);
        }
      }
    }
  }
  return out;
}

/** Request headers rate-limit keys on. */
function rateLimitReads(config: Obj | null): Set<string> {
  const out = new Set<string>();
  for (const c of configsOf(config)) {
    if (!Array.isArray(c.rules)) continue;
    for (const rule of c.rules as Obj[]) {
      const h = lower((rule?.key as Obj | undefined)?.header);
      if (h) out.add(h);
    }
  }
  return out;
}

function consumerHeaders(config: Obj | null): Set<string> {
  const out = new Set<string>();
  for (const c of configsOf(config)) out.add(lower(c.consumer_header) ?? DEFAULT_CONSUMER_HEADER);
  return out;
}

function tagHeaders(config: Obj | null): Set<string> {
  const out = new Set<string>();
  for (const c of configsOf(config)) if (c.trust_client_tag !== true) out.add(lower(c.tag_header) ?? DEFAULT_TAG_HEADER);
  if (out.size === 0) out.add(DEFAULT_TAG_HEADER);
  return out;
}

/**
 * Warnings for a chain in request order (each says what a client can do and the fix). Empty = safe for
 * every pair of tollgate's plugins.
 */
export function chainWarnings(chain: ChainPlugin[]): string[] {
  const warnings: string[] = [];
  const at = (name: string) => chain.findIndex((p) => p.name === name);
  const canary = at("canary");
  const auth = at("auth");
  const cors = at("cors");
  const rateLimit = at("rate-limit");
  const order = chain.map((p) => p.name).join(" → ");

  if (canary >= 0) {
    const tags = [...tagHeaders(chain[canary].config)].join(", ");
    for (const p of chain) {
      const services = ruleMatchers(p.config, "_match_service_");
      if (services.length) {
        warnings.push(
          `${p.name} selects _rules_ by _match_service_ (${services.join(", ")}) in a chain with canary (${order}): the cluster a plugin sees is the one Envoy matched with the client's own ${tags}, while canary can send the request to another; a client picks ${p.name}'s rules by sending ${tags}. Fix: scope ${p.name} with _match_route_ on the routes of 'tollgate gen canary-routes' (one name for every tag) or with _match_domain_.`,
        );
      }
      const routes = [...ruleMatchers(p.config, "_match_route_"), ...ruleMatchers(p.config, "_match_route_prefix_")];
      const perTag = routes.filter((r) => /^tag-/.test(r));
      if (perTag.length) {
        warnings.push(
          `${p.name} has _rules_ for per-tag routes (${perTag.join(", ")}) in a chain with canary (${order}): a plugin sees the route matched with the client's own ${tags}, so a client picks which of these rules apply by sending ${tags}. Fix: give every tag's route of one path the same name ('tollgate gen canary-routes --route-name <name>' does) and name that in _match_route_.`,
        );
      }
    }
    if (auth >= 0 && canary < auth) {
      const reads = canaryReads(chain[canary].config);
      const owned = [...consumerHeaders(chain[auth].config)].filter((h) => reads.has(h));
      if (owned.length) {
        warnings.push(
          `canary decides on ${owned.join(", ")} (auth's consumer header) but runs before auth (${order}): a client sends that header itself and picks the version. Fix: run canary after auth (its default phase/priority) or tag on another input.`,
        );
      }
    }
  }
  if (rateLimit >= 0 && auth >= 0 && rateLimit < auth) {
    const reads = rateLimitReads(chain[rateLimit].config);
    const owned = [...consumerHeaders(chain[auth].config)].filter((h) => reads.has(h));
    if (owned.length) {
      warnings.push(
        `rate-limit keys on ${owned.join(", ")} (auth's consumer header) but runs before auth (${order}): a client sends another consumer's name and spends that consumer's budget. Fix: run rate-limit after auth (its default phase/priority).`,
      );
    }
  }
  if (cors >= 0 && auth >= 0 && cors > auth) {
    warnings.push(
      `cors runs after auth (${order}): preflights reach auth and get 401, and auth's 401/403 replies carry no Access-Control-* headers, so browsers show a CORS error instead. Fix: run cors first (its default phase/priority).`,
    );
  }
  return warnings;
}
