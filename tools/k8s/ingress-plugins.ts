// The plugin configs an Ingress route model (ingress.ts) translates to: cors, rate-limit, auth (basic auth from
// htpasswd Secrets) and (plain Envoy's cookie canaries) canary, each a `_rules_` list scoped by route name
// (`_match_route_`).
import type { Obj } from "./generate.ts";
import { CANARY_TAG_HEADER, LIMIT_STATUS, type IngressModel } from "./ingress.ts";

/** Groups route names by an equal policy, so one `_rules_` entry covers every route with the same settings. */
function grouped<T>(byRoute: Map<string, T>): Array<{ names: string[]; value: T }> {
  const out = new Map<string, { names: string[]; value: T }>();
  for (const [name, value] of [...byRoute].sort((a, b) => a[0].localeCompare(b[0]))) {
    const k = JSON.stringify(value);
    const g = out.get(k) ?? { names: [], value };
    g.names.push(name);
    out.set(k, g);
  }
  return [...out.values()];
}

/** ingress-nginx enable-cors → the cors plugin, one rule per equal policy. */
function corsConfig(model: IngressModel): Obj | null {
  if (model.cors.size === 0) return null;
  return {
    _rules_: grouped(model.cors).map(({ names, value }) => {
      const rule: Obj = { _match_route_: names, allow_origins: value.allow_origins };
      if (value.allow_origin_patterns.length) rule.allow_origin_patterns = value.allow_origin_patterns;
      if (value.allow_origins.length === 0) delete rule.allow_origins;
      Object.assign(rule, {
        allow_methods: value.allow_methods,
        allow_headers: value.allow_headers,
        expose_headers: value.expose_headers,
        allow_credentials: value.allow_credentials,
        max_age: value.max_age,
        preflight_status: 204,
      });
      return rule;
    }),
  };
}

/** limit-rps / limit-rpm → the rate-limit plugin: per client IP, 503 as nginx answers. */
function rateLimitConfig(model: IngressModel): Obj | null {
  if (model.limits.size === 0) return null;
  return {
    _rules_: grouped(model.limits).map(({ names, value }) => ({
      _match_route_: names,
      status: LIMIT_STATUS,
      body: "Service Temporarily Unavailable",
      headers: "none",
      rules: value.map((l) => ({
        name: l.name,
        key: { client_ip: {} },
        limit: { max_tokens: l.burst + 1, tokens_per_fill: l.limit, fill_interval_ms: l.perSecond ? 1000 : 60000 },
      })),
    })),
  };
}

/**
 * auth-type basic → the auth plugin: one consumer per user (named as nginx's $remote_user), `allow` per route, other
 * routes open (global_auth false); Authorization removed before the upstream, as ingress-nginx does.
 */
function authConfig(model: IngressModel): Obj | null {
  if (model.basicAuth.size === 0) return null;
  const byRoute = [...model.basicAuth].sort((a, b) => a[0].localeCompare(b[0]));
  const consumers = new Map<string, string>();
  for (const [, a] of byRoute) for (const u of a.users) consumers.set(u.user, u.credential);
  return {
    basic_auth: { realm: byRoute[0][1].realm, hide_credentials: true },
    consumers: [...consumers].map(([name, credential]) => ({ name, basic: [credential] })),
    global_auth: false,
    _rules_: grouped(new Map(byRoute.map(([name, a]) => [name, a.users.map((u) => u.user)]))).map(({ names, value }) => ({ _match_route_: names, allow: value })),
  };
}

/** Cookie canaries on plain Envoy: the canary plugin tags the request from the cookie; routes match the tag. */
function canaryConfig(model: IngressModel): Obj | null {
  const byRoute = new Map<string, string>();
  for (const r of model.routes) if (r.canary?.cookie) byRoute.set(r.name, r.canary.cookie);
  if (byRoute.size === 0) return null;
  return {
    _rules_: grouped(byRoute).map(({ names, value }) => ({
      _match_route_: names,
      tag_header: CANARY_TAG_HEADER,
      rules: [
        { match: { all: [{ type: "cookie", key: value, op: "equal", value: "always" }] }, tag: "canary" },
        { match: { all: [{ type: "cookie", key: value, op: "equal", value: "never" }] }, tag: "stable" },
      ],
    })),
  };
}

/** The plugin configs the model needs, by plugin name. */
export function pluginConfigs(model: IngressModel, target: "istio" | "higress" | "envoy"): Map<string, Obj> {
  const out = new Map<string, Obj>();
  const cors = corsConfig(model);
  if (cors) out.set("cors", cors);
  const rl = rateLimitConfig(model);
  if (rl) out.set("rate-limit", rl);
  // Higress checks auth-type basic against the Secret itself; a WasmPlugin would copy the hashes out of it.
  const auth = target === "higress" ? null : authConfig(model);
  if (auth) out.set("auth", auth);
  if (target === "envoy") {
    const canary = canaryConfig(model);
    if (canary) out.set("canary", canary);
  }
  return out;
}
