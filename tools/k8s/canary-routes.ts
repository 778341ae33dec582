// The routing that makes the canary plugin's tag route (issue 6): the plugin writes `tag_header`; Istio routes on
// it with a VirtualService (header match → subset) and a DestinationRule (subsets by the `version` label), and
// plain Envoy with route entries (header match → cluster). The stable route is last and catches the rest.
//
// Every entry carries the same route name (issue 15, item 3). Plugins that select `_rules_` by route read the
// name of the route Envoy matched on the request as the client sent it — Envoy 1.40 does not re-match for
// them after a filter rewrites the tag (measured: the name stays stale until the router), so per-tag names
// would let a client pick another tag's rules by sending the tag header. With one name, the tag only picks
// the version, never the auth / rate-limit / cors rules, in every filter order.
import type { Obj } from "./generate.ts";
import { GenError } from "./errors.ts";

export interface CanaryRouteOptions {
  /** The canary plugin's config (tag_header, rules[].tag, weights[].tag, canary_tag, …). */
  config: Obj;
  service: string;
  stable: string;
  canary: string;
  namespace?: string;
  gateways?: string[];
  /** VirtualService hosts: the external host names clients use through `gateways` (default: the service). */
  hosts?: string[];
  /** networking.istio.io version of the VirtualService and DestinationRule (older Istio: v1beta1, v1alpha3). */
  apiVersion?: "v1" | "v1beta1" | "v1alpha3";
  /** Label the subsets select on (default `version`). */
  label?: string;
  /** The one route name every tag's entry carries, for `_match_route_` (default: the service's short name). */
  routeName?: string;
}

export const DEFAULT_TAG_HEADER = "x-canary-version";

const TAG = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Every tag the config can write, besides the stable one: the canary, rule tags, weight tags, named tags. */
export function canaryTags(o: CanaryRouteOptions): string[] {
  const tags = new Set<string>([o.canary]);
  const c = o.config;
  const add = (v: unknown) => {
    if (typeof v === "string" && v) tags.add(v);
  };
  if (Array.isArray(c.rules)) for (const r of c.rules) add((r as Obj)?.tag);
  if (Array.isArray(c.weights)) for (const w of c.weights) add((w as Obj)?.tag);
  add(c.canary_tag);
  add(c.default_tag);
  add(c.stable_tag);
  if (Array.isArray(c._rules_)) {
    for (const r of c._rules_ as Obj[]) {
      if (Array.isArray(r?.rules)) for (const x of r.rules as Obj[]) add(x?.tag);
      if (Array.isArray(r?.weights)) for (const x of r.weights as Obj[]) add(x?.tag);
      add(r?.canary_tag);
      add(r?.default_tag);
      add(r?.stable_tag);
    }
  }
  tags.delete(o.stable);
  for (const t of [o.stable, ...tags]) {
    if (!TAG.test(t)) throw new GenError(`tag '${t}' cannot name a subset (letters, digits, '-', '_', '.'; alphanumeric at both ends)`, "rename the tag in the config or --stable/--canary");
  }
  return [...tags].sort((a, b) => (a === o.canary ? -1 : b === o.canary ? 1 : a.localeCompare(b)));
}

export function tagHeader(config: Obj): string {
  const h = config.tag_header ?? DEFAULT_TAG_HEADER;
  if (typeof h !== "string" || !/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(h)) throw new GenError(`'tag_header' must be a lowercase HTTP header name, got ${JSON.stringify(h)}`);
  return h;
}

function shortName(service: string): string {
  return service.split(".")[0].toLowerCase().replace(/[^a-z0-9-]/g, "-").replace(/^-+|-+$/g, "") || "service";
}

const ROUTE_NAME = /^[a-z0-9]([-a-z0-9._]*[a-z0-9])?$/;

/** The name all entries share: what `_match_route_` names to cover the service in every version. */
export function canaryRouteName(o: CanaryRouteOptions): string {
  const n = o.routeName ?? shortName(o.service);
  if (!ROUTE_NAME.test(n)) throw new GenError(`--route-name '${n}' must be lowercase letters, digits, '-', '.', '_' (alphanumeric at both ends)`, "e.g. --route-name reviews");
  return n;
}

/** Istio networking.istio.io/v1 VirtualService + DestinationRule. */
export function istioCanaryRoutes(o: CanaryRouteOptions): Obj[] {
  const header = tagHeader(o.config);
  const tags = canaryTags(o);
  const label = o.label ?? "version";
  const name = `${shortName(o.service)}-canary`;
  const routeName = canaryRouteName(o);
  const meta = (n: string) => (o.namespace ? { name: n, namespace: o.namespace } : { name: n });
  const vsSpec: Obj = { hosts: o.hosts?.length ? o.hosts : [o.service] };
  if (o.gateways?.length) vsSpec.gateways = o.gateways;
  vsSpec.http = [
    ...tags.map((t) => ({
      name: routeName,
      match: [{ headers: { [header]: { exact: t } } }],
      route: [{ destination: { host: o.service, subset: t } }],
    })),
    { name: routeName, route: [{ destination: { host: o.service, subset: o.stable } }] },
  ];
  return [
    { apiVersion: `networking.istio.io/${o.apiVersion ?? "v1"}`, kind: "VirtualService", metadata: meta(name), spec: vsSpec },
    {
      apiVersion: `networking.istio.io/${o.apiVersion ?? "v1"}`,
      kind: "DestinationRule",
      metadata: meta(name),
      spec: { host: o.service, subsets: [o.stable, ...tags].map((t) => ({ name: t, labels: { [label]: t } })) },
    },
  ];
}

/** Envoy route entries (envoy.config.route.v3.Route): tag header → cluster; the stable catch-all last. */
export function envoyCanaryRoutes(o: CanaryRouteOptions & { clusterFor: (tag: string) => string }): Obj[] {
  const header = tagHeader(o.config);
  const name = canaryRouteName(o);
  return [
    ...canaryTags(o).map((t) => ({
      name,
      match: { prefix: "/", headers: [{ name: header, string_match: { exact: t } }] },
      route: { cluster: o.clusterFor(t) },
    })),
    { name, match: { prefix: "/" }, route: { cluster: o.clusterFor(o.stable) } },
  ];
}
