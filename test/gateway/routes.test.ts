// Route selection semantics (Envoy's): virtual host domains with wildcards, prefix/path/header matches,
// weighted_clusters and cluster_header. Table-driven over the parsed config model.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parse } from "yaml";
import { parseBootstrap } from "../../tools/gateway/config.ts";
import { selectRoute, selectVirtualHost } from "../../tools/gateway/routes.ts";
import { HeaderMap } from "../../tools/host/header-map.ts";

const CLUSTERS = ["a", "b", "c", "star", "exact", "suffix", "long-suffix", "prefix"].map(
  (n) => `  - {name: ${n}, type: STATIC, connect_timeout: 1s, load_assignment: {cluster_name: ${n}, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 1}}}}]}]}}`,
);

function bootstrap(virtualHosts: string): string {
  return `
static_resources:
  listeners:
  - name: l
    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: t
          route_config:
            virtual_hosts:
${virtualHosts.replace(/^/gm, "            ")}
          http_filters:
          - name: envoy.filters.http.router
            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
  clusters:
${CLUSTERS.join("\n")}
`;
}

function hosts(vh: string) {
  return parseBootstrap(parse(bootstrap(vh)), "test.yaml").listeners[0].virtualHosts;
}

function req(path: string, authority: string, extra: Array<[string, string]> = []): HeaderMap {
  return new HeaderMap("request", [[":authority", authority], [":path", path], [":method", "GET"], [":scheme", "http"], ...extra]);
}

test("virtual hosts: exact, then longest suffix wildcard, then longest prefix wildcard, then *", () => {
  const vhs = hosts(`
- {name: star, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: star}}]}
- {name: exact, domains: ["api.example.com"], routes: [{match: {prefix: "/"}, route: {cluster: exact}}]}
- {name: suffix, domains: ["*.example.com"], routes: [{match: {prefix: "/"}, route: {cluster: suffix}}]}
- {name: long-suffix, domains: ["*.eu.example.com"], routes: [{match: {prefix: "/"}, route: {cluster: long-suffix}}]}
- {name: prefix, domains: ["shop.*"], routes: [{match: {prefix: "/"}, route: {cluster: prefix}}]}
`);
  const cases: Array<[string, string]> = [
    ["api.example.com", "exact"],
    ["API.Example.com", "exact"],
    ["www.example.com", "suffix"],
    ["x.eu.example.com", "long-suffix"],
    ["shop.example.org", "prefix"],
    ["shop.example.com", "suffix"], // suffix wildcards win over prefix wildcards
    [".example.com", "star"], // the wildcard must match at least one character
    // Envoy matches the Host value as sent, port included (no strip_any_host_port here).
    ["api.example.com:10000", "star"],
    ["other.org", "star"],
  ];
  for (const [authority, want] of cases) {
    assert.equal(selectVirtualHost(vhs, authority)?.name, want, authority);
  }
});

test("routes: first match in order; prefix, exact path (query ignored), case_sensitive", () => {
  const vhs = hosts(`
- name: v
  domains: ["*"]
  routes:
  - {match: {path: "/exact"}, route: {cluster: a}}
  - {match: {prefix: "/API/", case_sensitive: false}, route: {cluster: b}}
  - {match: {prefix: "/"}, route: {cluster: c}}
`);
  const cases: Array<[string, string]> = [
    ["/exact", "a"],
    ["/exact?x=1", "a"],
    ["/exact/more", "c"],
    ["/Exact", "c"],
    ["/api/users", "b"],
    ["/Api/users", "b"],
    ["/other", "c"],
  ];
  for (const [path, want] of cases) assert.equal(selectRoute(vhs, req(path, "h"))?.cluster, want, path);
});

test("header matchers: string_match exact/prefix/suffix/contains/ignore_case, present, invert, missing headers", () => {
  const m = (matcher: string): string =>
    `- name: v\n  domains: ["*"]\n  routes:\n  - {match: {prefix: "/", headers: [${matcher}]}, route: {cluster: a}}\n  - {match: {prefix: "/"}, route: {cluster: b}}\n`;
  const cases: Array<[string, Array<[string, string]>, string]> = [
    ['{name: x-v, string_match: {exact: v2}}', [["x-v", "v2"]], "a"],
    ['{name: x-v, string_match: {exact: v2}}', [["x-v", "V2"]], "b"],
    ['{name: x-v, string_match: {exact: v2, ignore_case: true}}', [["x-v", "V2"]], "a"],
    ['{name: x-v, string_match: {prefix: v}}', [["x-v", "v9"]], "a"],
    ['{name: x-v, string_match: {suffix: "-beta"}}', [["x-v", "v2-beta"]], "a"],
    ['{name: x-v, string_match: {contains: "beta"}}', [["x-v", "v2-beta-1"]], "a"],
    ['{name: x-v, exact_match: v2}', [["x-v", "v2"]], "a"],
    ['{name: x-v, prefix_match: v}', [["x-v", "w"]], "b"],
    ['{name: x-v, present_match: true}', [["x-v", ""]], "a"],
    ['{name: x-v, present_match: true}', [], "b"],
    ['{name: x-v, present_match: false}', [], "a"],
    ['{name: x-v, present_match: true, invert_match: true}', [], "a"],
    ['{name: x-v, string_match: {exact: v2}, invert_match: true}', [["x-v", "v1"]], "a"],
    // An absent header never matches a value rule, even inverted (Envoy's HeaderMatcher docs).
    ['{name: x-v, string_match: {exact: v2}, invert_match: true}', [], "b"],
    ['{name: x-v, string_match: {exact: v2}, invert_match: true, treat_missing_header_as_empty: true}', [], "a"],
    // A repeated header matches when one of its values does, never as the joined list (Envoy 1.40, seen live).
    ['{name: x-v, string_match: {exact: "a,b"}}', [["x-v", "a"], ["x-v", "b"]], "b"],
    ['{name: x-v, string_match: {exact: v2}}', [["x-v", "a"], ["x-v", "v2"]], "a"],
    ['{name: x-v, string_match: {exact: v2}}', [["x-v", "v2"], ["x-v", "a"]], "a"],
    ['{name: X-V, string_match: {exact: v2}}', [["x-v", "v2"]], "a"],
  ];
  for (const [matcher, headers, want] of cases) {
    assert.equal(selectRoute(hosts(m(matcher)), req("/", "h", headers))?.cluster, want, `${matcher} with ${JSON.stringify(headers)}`);
  }
});

test("weighted_clusters: the draw walks the cumulative weights; per-cluster headers come along", () => {
  const vhs = hosts(`
- name: v
  domains: ["*"]
  routes:
  - match: {prefix: "/"}
    route:
      weighted_clusters:
        clusters:
        - {name: a, weight: 90}
        - {name: b, weight: 10, request_headers_to_add: [{header: {key: x-picked, value: b}}]}
`);
  assert.equal(selectRoute(vhs, req("/", "h"), () => 0)?.cluster, "a");
  assert.equal(selectRoute(vhs, req("/", "h"), () => 0.899)?.cluster, "a");
  const b = selectRoute(vhs, req("/", "h"), () => 0.9);
  assert.equal(b?.cluster, "b");
  assert.deepEqual(b?.clusterHeadersToAdd.map((h) => [h.key, h.value]), [["x-picked", "b"]]);
  assert.equal(selectRoute(vhs, req("/", "h"), () => 0.99999)?.cluster, "b");
  const counts = { a: 0, b: 0 };
  for (let i = 0; i < 1000; i++) counts[selectRoute(vhs, req("/", "h"), () => i / 1000)!.cluster as "a" | "b"]++;
  assert.deepEqual(counts, { a: 900, b: 100 });
});

test("cluster_header picks the cluster named by a request header; direct_response has no cluster", () => {
  const vhs = hosts(`
- name: v
  domains: ["*"]
  routes:
  - {match: {prefix: "/direct"}, direct_response: {status: 418, body: {inline_string: "teapot"}}}
  - {match: {prefix: "/"}, route: {cluster_header: X-Target}}
`);
  assert.equal(selectRoute(vhs, req("/", "h", [["x-target", "b"]]))?.cluster, "b");
  assert.equal(selectRoute(vhs, req("/", "h"))?.cluster, null);
  const d = selectRoute(vhs, req("/direct", "h"));
  assert.equal(d?.cluster, null);
  assert.deepEqual(d?.route.action, { kind: "direct", status: 418, body: "teapot" });
});

test("no virtual host or no route → null (the router answers 404)", () => {
  const vhs = hosts(`- {name: v, domains: ["only.example.com"], routes: [{match: {path: "/x"}, route: {cluster: a}}]}`);
  assert.equal(selectRoute(vhs, req("/x", "other")), null);
  assert.equal(selectRoute(vhs, req("/y", "only.example.com")), null);
});
