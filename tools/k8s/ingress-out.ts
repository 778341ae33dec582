// The Ingress route model (ingress.ts) written for each target: Istio objects, Higress WasmPlugins, an Envoy
// bootstrap. Plain data; the caller validates (CRDs, Envoy protos, the plugins' on_configure) and serializes.
import type { Obj, PluginInput, HostPort } from "./generate.ts";
import { higressPlugins, listenerBootstrap, ordered, staticCluster, wasmHttpFilter, wasmPlugins } from "./generate.ts";
import { CANARY_TAG_HEADER, backends, headerPatternRegex, routesByHost, type Backend, type IngressModel, type Route } from "./ingress.ts";

/** Cluster names for backends: `<service>.<namespace>`, plus `.<port>` when one Service is used on several ports. */
export function clusterNames(model: IngressModel): Map<string, string> {
  const all = backends(model);
  const count = new Map<string, number>();
  for (const b of all) count.set(`${b.service}.${b.namespace}`, (count.get(`${b.service}.${b.namespace}`) ?? 0) + 1);
  const out = new Map<string, string>();
  for (const b of all) {
    const base = `${b.service}.${b.namespace}`;
    out.set(backendKey(b), count.get(base)! > 1 ? `${base}.${b.port}` : base);
  }
  return out;
}

export function backendKey(b: Backend): string {
  return `${b.namespace}/${b.service}:${b.port}`;
}

type PathMatch = { kind: "exact" | "prefix"; value: string };

/** Kubernetes path semantics as exact/prefix matches: Prefix is element-wise (/foo matches /foo and /foo/…, not /foobar). */
export function pathMatches(r: Route): PathMatch[] {
  if (r.pathType === "Exact") return [{ kind: "exact", value: r.path }];
  if (r.pathType === "ImplementationSpecific") return [{ kind: "prefix", value: r.path }];
  if (r.path.endsWith("/")) return [{ kind: "prefix", value: r.path }];
  return [{ kind: "exact", value: r.path }, { kind: "prefix", value: `${r.path}/` }];
}

/** Route decisions in ingress-nginx's canary precedence: header, then cookie, then weight. */
interface Branch {
  header?: { name: string; exact?: string; regex?: string };
  cookie?: { name: string; value: string };
  to: "canary" | "stable" | "split";
}

function branches(r: Route): Branch[] {
  const c = r.canary;
  if (!c) return [{ to: "stable" }];
  const out: Branch[] = [];
  if (c.header) {
    if (c.header.value !== undefined) out.push({ header: { name: c.header.name, exact: c.header.value }, to: "canary" });
    else if (c.header.pattern !== undefined) out.push({ header: { name: c.header.name, regex: headerPatternRegex(c.header.pattern) }, to: "canary" });
    else {
      out.push({ header: { name: c.header.name, exact: "always" }, to: "canary" });
      out.push({ header: { name: c.header.name, exact: "never" }, to: "stable" });
    }
  }
  if (c.cookie) {
    out.push({ cookie: { name: c.cookie, value: "always" }, to: "canary" });
    out.push({ cookie: { name: c.cookie, value: "never" }, to: "stable" });
  }
  out.push({ to: c.weight === 0 ? "stable" : c.weight >= c.total ? "canary" : "split" });
  return out;
}

// ---- Istio ----------------------------------------------------------------------------------------------------

export interface IstioOptions {
  gatewayName: string;
  gatewayNamespace: string;
  gatewaySelector: Record<string, string>;
  plugins: PluginInput[];
}

function svcHost(b: Backend): string {
  return `${b.service}.${b.namespace}.svc.cluster.local`;
}

function destination(b: Backend): Obj {
  const d: Obj = { host: svcHost(b) };
  if (typeof b.port === "number") d.port = { number: b.port };
  return d;
}

function dnsName(s: string): string {
  return s.replace(/^\*\./, "wildcard.").replace(/[^a-z0-9.-]/g, "-").replace(/^[-.]+|[-.]+$/g, "").slice(0, 253) || "any-host";
}

/** Escapes a string for RE2 / ECMAScript regex. */
function reEscape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A Cookie header regex for `name=value` as one cookie of the list (what Higress generates for canary-by-cookie). */
export function cookieRegex(name: string, value: string): string {
  return `^(.*?;\\s*)?(${reEscape(name)}=${reEscape(value)})(;.*)?$`;
}

/** Gateway + one VirtualService per (namespace, host) + WasmPlugins; `differences` collects weight roundings. */
export function istioObjects(model: IngressModel, o: IstioOptions, differences: string[]): Obj[] {
  const hosts = new Set(model.routes.map((r) => r.host || "*"));
  const servers: Obj[] = [{ port: { number: 80, name: "http", protocol: "HTTP" }, hosts: [...hosts].sort() }];
  model.tls.forEach((t, i) => {
    if (!t.secretName) return;
    servers.push({
      port: { number: 443, name: `https-${i}`, protocol: "HTTPS" },
      hosts: t.hosts.length ? t.hosts : ["*"],
      tls: { mode: "SIMPLE", credentialName: t.secretName },
    });
  });
  const gwRef = `${o.gatewayNamespace}/${o.gatewayName}`;
  const out: Obj[] = [{
    apiVersion: "networking.istio.io/v1",
    kind: "Gateway",
    metadata: { name: o.gatewayName, namespace: o.gatewayNamespace },
    spec: { selector: o.gatewaySelector, servers },
  }];
  const vs = new Map<string, { ns: string; host: string; http: Obj[] }>();
  for (const [host, routes] of routesByHost(model)) {
    for (const r of routes) {
      const ns = r.name.split("/")[0];
      const k = `${ns} ${host}`;
      const v = vs.get(k) ?? { ns, host, http: [] };
      vs.set(k, v);
      for (const b of branches(r)) {
        const match = pathMatches(r).map((m) => {
          const e: Obj = { uri: { [m.kind]: m.value } };
          if (b.header) e.headers = { [b.header.name]: b.header.exact !== undefined ? { exact: b.header.exact } : { regex: b.header.regex } };
          if (b.cookie) e.headers = { cookie: { regex: cookieRegex(b.cookie.name, b.cookie.value) } };
          return e;
        });
        let route: Obj[];
        if (b.to === "stable") route = [{ destination: destination(r.backend) }];
        else if (b.to === "canary") route = [{ destination: destination(r.canary!.backend) }];
        else {
          const pct = Math.round((r.canary!.weight * 100) / r.canary!.total);
          if (pct * r.canary!.total !== r.canary!.weight * 100) differences.push(`Ingress ${r.canary!.ingress}: canary-weight ${r.canary!.weight}/${r.canary!.total} is ${pct}% in the VirtualService (Istio weights are whole percents)`);
          route = [{ destination: destination(r.backend), weight: 100 - pct }, { destination: destination(r.canary!.backend), weight: pct }];
        }
        v.http.push({ name: r.name, match, route });
      }
    }
  }
  for (const v of vs.values()) {
    out.push({
      apiVersion: "networking.istio.io/v1",
      kind: "VirtualService",
      metadata: { name: `${dnsName(v.host)}-ingress`, namespace: v.ns },
      spec: { hosts: [v.host || "*"], gateways: [gwRef], http: v.http },
    });
  }
  out.push(...sourceRangePolicies(model, o));
  out.push(...wasmPlugins(o.plugins, { namespace: o.gatewayNamespace, selector: o.gatewaySelector }));
  return out;
}

/** Kubernetes path semantics as AuthorizationPolicy paths (exact, or `prefix*`). */
function policyPaths(r: Route): string[] {
  return pathMatches(r).map((m) => (m.kind === "exact" ? m.value : `${m.value}*`));
}

/**
 * whitelist-source-range → one DENY AuthorizationPolicy per Ingress on the gateway: requests to its hosts/paths from
 * outside the ranges get 403 (ingress-nginx's answer). DENY, not ALLOW: an ALLOW policy on the gateway would deny
 * every other route. remoteIpBlocks is the client address (the peer, or what numTrustedProxies/proxy protocol
 * trust), as nginx's $remote_addr.
 */
function sourceRangePolicies(model: IngressModel, o: IstioOptions): Obj[] {
  const out: Obj[] = [];
  const named = [...new Set(model.routes.map((r) => r.host).filter(Boolean))].sort();
  for (const [name, ranges] of [...model.sourceRanges].sort((a, b) => a[0].localeCompare(b[0]))) {
    const to = model.routes.filter((r) => r.name === name).map((r) => {
      const operation: Obj = {};
      if (r.host) operation.hosts = [r.host, `${r.host}:*`];
      // A rule without host serves the hosts no rule names (ingress-nginx's default server), not every host.
      else if (named.length) operation.notHosts = named.flatMap((h) => [h, `${h}:*`]);
      operation.paths = policyPaths(r);
      return { operation };
    });
    if (to.length === 0) continue;
    out.push({
      apiVersion: "security.istio.io/v1",
      kind: "AuthorizationPolicy",
      metadata: { name: `${dnsName(name.replace("/", "-"))}-source-range`.slice(0, 253), namespace: o.gatewayNamespace },
      spec: { selector: { matchLabels: o.gatewaySelector }, action: "DENY", rules: [{ from: [{ source: { notRemoteIpBlocks: ranges } }], to }] },
    });
  }
  return out;
}

/** Higress WasmPlugins (matchRules by ingress `<namespace>/<name>`); Higress routes the Ingresses itself. */
export function higressObjects(plugins: PluginInput[], namespace?: string): Obj[] {
  return higressPlugins(plugins, { namespace });
}

// ---- Envoy ----------------------------------------------------------------------------------------------------

export interface EnvoyOptions {
  listen: HostPort;
  admin: HostPort | null;
  /** Address of each cluster (by cluster name). */
  upstreams: Map<string, HostPort>;
  plugins: PluginInput[];
  wasmFile: (name: string) => string;
}

export const RBAC_FILTER = "envoy.filters.http.rbac";

/** whitelist-source-range on a route: Envoy's RBAC (per route) admits the client addresses in the ranges. */
function sourceRangeRbac(ranges: string[]): Obj {
  return {
    [RBAC_FILTER]: {
      "@type": "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBACPerRoute",
      rbac: {
        rules: {
          action: "ALLOW",
          policies: {
            "whitelist-source-range": {
              permissions: [{ any: true }],
              principals: ranges.map((c) => {
                const [address_prefix, len] = c.split("/");
                return { remote_ip: { address_prefix, prefix_len: Number(len) } };
              }),
            },
          },
        },
      },
    },
  };
}

/** Envoy route entries for the model, in ingress-nginx's canary precedence. */
export function envoyRoutes(model: IngressModel, clusters: Map<string, string>): Array<{ host: string; routes: Obj[] }> {
  const out: Array<{ host: string; routes: Obj[] }> = [];
  const cl = (b: Backend) => clusters.get(backendKey(b))!;
  for (const [host, routes] of routesByHost(model)) {
    const entries: Obj[] = [];
    for (const r of routes) {
      for (const b of branches(r)) {
        let action: Obj;
        if (b.to === "stable") action = { cluster: cl(r.backend) };
        else if (b.to === "canary") action = { cluster: cl(r.canary!.backend) };
        else {
          action = { weighted_clusters: { clusters: [{ name: cl(r.backend), weight: r.canary!.total - r.canary!.weight }, { name: cl(r.canary!.backend), weight: r.canary!.weight }] } };
        }
        for (const m of pathMatches(r)) {
          const match: Obj = m.kind === "exact" ? { path: m.value } : { prefix: m.value };
          if (b.header) match.headers = [{ name: b.header.name, string_match: b.header.regex !== undefined ? { safe_regex: { regex: b.header.regex } } : { exact: b.header.exact } }];
          // The canary plugin turns the cookie into its tag header (it removes a client-sent copy first).
          if (b.cookie) match.headers = [{ name: CANARY_TAG_HEADER, string_match: { exact: b.to } }];
          const entry: Obj = { name: r.name, match, route: action };
          const ranges = model.sourceRanges.get(r.name);
          if (ranges) entry.typed_per_filter_config = sourceRangeRbac(ranges);
          entries.push(entry);
        }
      }
    }
    out.push({ host, routes: entries });
  }
  return out;
}

/**
 * The plugins in chain order, with Envoy's RBAC filter (no rules of its own: routes of Ingresses with
 * whitelist-source-range carry them) after cors, as nginx answers a CORS preflight (rewrite phase) before its
 * allow/deny and auth checks (access phase).
 */
function httpFilters(model: IngressModel, o: EnvoyOptions): Obj[] {
  const out = ordered(o.plugins, {}).map((p) => wasmHttpFilter(p, { local: { filename: o.wasmFile(p.meta.name) } }));
  if (model.sourceRanges.size) {
    const at = out.findIndex((f) => f.name === "cors") + 1;
    out.splice(at, 0, { name: RBAC_FILTER, typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC" } });
  }
  return out;
}

/** A runnable bootstrap: listener → HCM (use_remote_address) → plugins in chain order → router → a cluster per service. */
export function envoyIngressBootstrap(model: IngressModel, o: EnvoyOptions): Obj {
  const clusters = clusterNames(model);
  const vhosts = envoyRoutes(model, clusters).map((v) => ({
    name: v.host || "any-host",
    domains: v.host ? [v.host] : ["*"],
    routes: v.routes,
  }));
  return listenerBootstrap({
    name: "ingress",
    listen: o.listen,
    admin: o.admin,
    // An edge proxy: the client is the TCP peer, so a client cannot pick its rate-limit bucket with
    // X-Forwarded-For (limit-rps is per client IP).
    hcm: { use_remote_address: true, route_config: { name: "ingress", virtual_hosts: vhosts } },
    httpFilters: httpFilters(model, o),
    clusters: [...new Set(clusters.values())].map((name) => {
      const up = o.upstreams.get(name);
      if (!up) throw new Error(`no upstream address for cluster ${name}`);
      return staticCluster(name, up);
    }),
  });
}
