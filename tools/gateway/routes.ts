// Route selection with Envoy's semantics (envoy.config.route.v3): virtual host by :authority (exact, then
// longest suffix wildcard, then longest prefix wildcard, then "*"), first matching route in order.
import type { HeaderMatcher, Route, RouteTarget, VirtualHost } from "./model.ts";

/** What a header lookup needs: Envoy joins repeated headers with "," for matching. */
export interface HeaderSource {
  getAll(name: string): string[];
}

/** The route chosen for one request, plus the cluster picked when the action routes to one. */
export interface SelectedRoute {
  virtualHost: VirtualHost;
  route: Route;
  /** Cluster for route actions; null for direct_response or a cluster_header naming nothing. */
  cluster: string | null;
  /** weighted_clusters: the per-cluster request_headers_to_add of the picked cluster. */
  clusterHeadersToAdd: Route["headersToAdd"];
}

export function selectVirtualHost(hosts: VirtualHost[], authority: string): VirtualHost | null {
  const host = authority.toLowerCase();
  let star: VirtualHost | null = null;
  let suffix: { vh: VirtualHost; len: number } | null = null;
  let prefix: { vh: VirtualHost; len: number } | null = null;
  for (const vh of hosts) {
    for (const d of vh.domains) {
      if (d === "*") {
        star ??= vh;
      } else if (d === host) {
        return vh;
      } else if (d.startsWith("*")) {
        // Envoy requires a non-empty remainder: "*.foo.com" matches "a.foo.com", not ".foo.com".
        const rest = d.slice(1);
        if (host.length > rest.length && host.endsWith(rest) && (!suffix || rest.length > suffix.len)) suffix = { vh, len: rest.length };
      } else if (d.endsWith("*")) {
        const rest = d.slice(0, -1);
        if (host.length > rest.length && host.startsWith(rest) && (!prefix || rest.length > prefix.len)) prefix = { vh, len: rest.length };
      }
    }
  }
  return suffix?.vh ?? prefix?.vh ?? star;
}

export function headerMatches(m: HeaderMatcher, headers: HeaderSource): boolean {
  let values = headers.getAll(m.name);
  if (m.match.kind === "present") {
    const present = values.length > 0;
    return (present === m.match.present) !== m.invert;
  }
  if (values.length === 0) {
    // Envoy: an absent header never matches a value rule (even inverted) unless treated as empty.
    if (!m.treatMissingAsEmpty) return false;
    values = [""];
  }
  // A repeated header matches when one of its values does (Envoy 1.40, seen live: `x: a` + `x: v2`
  // matches exact "v2").
  const s = m.match;
  if (s.kind === "regex") return values.some(s.test) !== m.invert;
  const want = s.ignoreCase ? s.value.toLowerCase() : s.value;
  const one = (value: string): boolean => {
    const v = s.ignoreCase ? value.toLowerCase() : value;
    switch (s.kind) {
      case "exact":
        return v === want;
      case "prefix":
        return v.startsWith(want);
      case "suffix":
        return v.endsWith(want);
      case "contains":
        return v.includes(want);
    }
  };
  return values.some(one) !== m.invert;
}

function pathMatches(route: Route, path: string): boolean {
  const m = route.match;
  if (m.path !== undefined) {
    // `path` compares the path without query string or fragment.
    const q = path.search(/[?#]/);
    const p = q < 0 ? path : path.slice(0, q);
    return m.caseSensitive ? p === m.path : p.toLowerCase() === m.path.toLowerCase();
  }
  if (m.prefix !== undefined) {
    return m.caseSensitive ? path.startsWith(m.prefix) : path.toLowerCase().startsWith(m.prefix.toLowerCase());
  }
  return false;
}

export function routeMatches(route: Route, path: string, headers: HeaderSource): boolean {
  return pathMatches(route, path) && route.match.headers.every((h) => headerMatches(h, headers));
}

/**
 * Picks the route for a request; `random` draws the weighted_clusters value (Envoy uses the stream's random
 * value, one per request), so tests can pass a fixed one.
 */
export function selectRoute(hosts: VirtualHost[], headers: HeaderSource, random: () => number = Math.random): SelectedRoute | null {
  const authority = headers.getAll(":authority")[0] ?? headers.getAll("host")[0] ?? "";
  const path = headers.getAll(":path")[0] ?? "/";
  const vh = selectVirtualHost(hosts, authority);
  if (!vh) return null;
  const route = vh.routes.find((r) => routeMatches(r, path, headers));
  if (!route) return null;
  if (route.action.kind === "direct") return { virtualHost: vh, route, cluster: null, clusterHeadersToAdd: [] };
  const picked = pickCluster(route.action.target, headers, random);
  return { virtualHost: vh, route, cluster: picked.name, clusterHeadersToAdd: picked.headersToAdd };
}

function pickCluster(t: RouteTarget, headers: HeaderSource, random: () => number): { name: string | null; headersToAdd: Route["headersToAdd"] } {
  switch (t.kind) {
    case "cluster":
      return { name: t.cluster, headersToAdd: [] };
    case "header": {
      const v = headers.getAll(t.header)[0];
      return { name: v ? v : null, headersToAdd: [] };
    }
    case "weighted": {
      // Envoy: value = random % total; walk the list, the first cluster whose running sum exceeds it wins.
      const draw = Math.floor(random() * t.total) % t.total;
      let sum = 0;
      for (const c of t.clusters) {
        sum += c.weight;
        if (draw < sum) return { name: c.name, headersToAdd: c.headersToAdd };
      }
      const last = t.clusters[t.clusters.length - 1];
      return { name: last.name, headersToAdd: last.headersToAdd };
    }
  }
}
