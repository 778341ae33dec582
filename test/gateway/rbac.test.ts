// envoy.filters.http.rbac in the embedded engine (the subset `gen from-ingress` writes for whitelist-source-range):
// the same bootstrap on Envoy 1.40 and the embedded engine gives the same statuses, bodies and counters — filter
// rules, a route's RBACPerRoute replacing them (or turning the filter off), ALLOW/DENY, policies in name order,
// remote_ip after X-Forwarded-For trust vs direct_remote_ip, or_ids / and_ids / not_id. What is outside the subset
// is refused at load naming the field.
import assert from "node:assert/strict";
import { request } from "node:http";
import { test } from "node:test";
import { BootstrapError, parseBootstrap } from "../../tools/gateway/config.ts";
import { ENGINES, startEngine } from "../helpers/engines.ts";
import { requireEnvoy } from "../helpers/envoy.ts";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

const ip = (a: string, len: number) => ({ address_prefix: a, prefix_len: len });
const perRoute = (rules: object | null) => ({
  "envoy.filters.http.rbac": { "@type": "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBACPerRoute", rbac: rules ? { rules } : {} },
});
const direct = (path: string, body: string, extra: object = {}) => ({ match: { prefix: path }, direct_response: { status: 200, body: { inline_string: body } }, ...extra });

function listener(name: string, hops: number) {
  return {
    name,
    address: { socket_address: { address: "127.0.0.1", port_value: 0 } },
    filter_chains: [{
      filters: [{
        name: "envoy.filters.network.http_connection_manager",
        typed_config: {
          "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
          stat_prefix: name,
          use_remote_address: true,
          xff_num_trusted_hops: hops,
          http_filters: [
            {
              name: "envoy.filters.http.rbac",
              typed_config: {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC",
                rules: { action: "DENY", policies: { blocked: { permissions: [{ any: true }], principals: [{ remote_ip: ip("127.0.0.3", 32) }] } } },
              },
            },
            { name: "envoy.filters.http.router", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } },
          ],
          route_config: {
            name: "r",
            virtual_hosts: [{
              name: "all",
              domains: ["*"],
              routes: [
                direct("/off", "off", { typed_per_filter_config: perRoute(null) }),
                direct("/allow", "allow", {
                  typed_per_filter_config: perRoute({
                    action: "ALLOW",
                    policies: {
                      "b-hosts": { permissions: [{ any: true }], principals: [{ or_ids: { ids: [{ remote_ip: ip("127.0.0.2", 32) }, { remote_ip: ip("10.0.0.0", 8) }] } }] },
                      "a-not-loopback": { permissions: [{ any: true }], principals: [{ not_id: { remote_ip: ip("127.0.0.0", 8) } }] },
                    },
                  }),
                }),
                direct("/deny", "deny", {
                  typed_per_filter_config: perRoute({
                    action: "DENY",
                    policies: {
                      zeta: { permissions: [{ any: true }], principals: [{ any: true }] },
                      alpha: { permissions: [{ any: true }], principals: [{ and_ids: { ids: [{ remote_ip: ip("127.0.0.0", 8) }, { direct_remote_ip: ip("127.0.0.1", 32) }] } }] },
                    },
                  }),
                }),
                direct("/direct", "direct", { typed_per_filter_config: perRoute({ action: "ALLOW", policies: { peer: { permissions: [{ any: true }], principals: [{ direct_remote_ip: ip("127.0.0.2", 32) }] } } }) }),
                direct("/", "root"),
              ],
            }],
          },
        },
      }],
    }],
  };
}

const BOOTSTRAP = {
  admin: { address: { socket_address: { address: "127.0.0.1", port_value: 0 } } },
  static_resources: { listeners: [listener("edge", 0), listener("trusted", 1)], clusters: [] },
};

function send(port: number, path: string, from?: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; type: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, localAddress: from, headers, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), type: res.headers["content-type"] }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

for (const engine of ENGINES) {
  test(`rbac on ${engine}: filter rules, per-route rules and off, remote vs direct address`, async (t) => {
    const envoy = engine === "envoy" ? requireEnvoy(t) : null;
    if (engine === "envoy" && !envoy) return;
    const h = await startEngine(engine, structuredClone(BOOTSTRAP), envoy);
    try {
      const edge = h.port("edge");
      const trusted = h.port("trusted");
      const cases: Array<[number, string, string | undefined, Record<string, string>, number, string]> = [
        [edge, "/", undefined, {}, 200, "root"],
        [edge, "/", "127.0.0.3", {}, 403, "RBAC: access denied"], // the filter's DENY rules
        [edge, "/off", "127.0.0.3", {}, 200, "off"], // RBACPerRoute without rules: no check
        [edge, "/allow", "127.0.0.3", {}, 403, "RBAC: access denied"], // the route's rules replace the filter's
        [edge, "/allow", "127.0.0.2", {}, 200, "allow"],
        [edge, "/allow", undefined, { "x-forwarded-for": "10.1.1.1" }, 403, "RBAC: access denied"], // no trusted hop
        [trusted, "/allow", undefined, { "x-forwarded-for": "10.1.1.1" }, 200, "allow"], // remote_ip from one trusted hop
        [trusted, "/allow", undefined, { "x-forwarded-for": "127.0.0.9" }, 403, "RBAC: access denied"],
        [trusted, "/direct", undefined, { "x-forwarded-for": "127.0.0.2" }, 403, "RBAC: access denied"], // direct is the peer
        [trusted, "/direct", "127.0.0.2", { "x-forwarded-for": "127.0.0.5" }, 200, "direct"],
        [edge, "/deny", undefined, {}, 403, "RBAC: access denied"],
        [edge, "/deny", "127.0.0.2", {}, 403, "RBAC: access denied"],
      ];
      for (const [port, path, from, headers, status, body] of cases) {
        const r = await send(port, path, from, headers);
        assert.equal(r.status, status, `${port === edge ? "edge" : "trusted"} ${path} from ${from ?? "127.0.0.1"} ${JSON.stringify(headers)}`);
        assert.equal(r.body, body, path);
        if (status === 403) assert.equal(r.type, "text/plain");
      }
      const stats = await h.stats();
      assert.deepEqual(["allowed", "denied", "shadow_allowed", "shadow_denied"].map((n) => stats.get(`http.edge.rbac.${n}`)), ["2", "5", "0", "0"]);
      assert.deepEqual(["allowed", "denied"].map((n) => stats.get(`http.trusted.rbac.${n}`)), ["2", "2"]);
    } finally {
      await h.stop();
    }
  });
}

test("rbac outside the embedded subset is refused at load, naming the field", () => {
  const at = (f: (b: Any) => void) => {
    const b = structuredClone(BOOTSTRAP) as Any;
    f(b);
    try {
      parseBootstrap(b, "rbac.yaml");
      return "";
    } catch (e) {
      assert.ok(e instanceof BootstrapError, String(e));
      return e.message;
    }
  };
  const rules = (b: Any) => b.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config.rules;
  assert.match(at((b) => (rules(b).policies.blocked.permissions = [{ header: { name: "x", present_match: true } }])), /policies\.blocked\.permissions\[0\]: a permission other than \{any: true\} is not supported/);
  assert.match(at((b) => (rules(b).policies.blocked.principals = [{ authenticated: { principal_name: { exact: "x" } } }])), /policies\.blocked\.principals\[0\]\.authenticated: field 'authenticated' is not supported/);
  assert.match(at((b) => (rules(b).action = "LOG")), /rules\.action: action LOG is not supported/);
  assert.match(at((b) => (b.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config.shadow_rules = { action: "ALLOW" })), /shadow_rules: field 'shadow_rules' is not supported/);
  assert.equal(at(() => {}), "");
});
