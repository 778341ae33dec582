// Attack class 5 (issue 15, attack-findings 7): host matching without bypass. `_match_domain_` compares the
// request's :authority lower-cased, without the port and without trailing dots, so no spelling of a host
// escapes the rule written for it; patterns that could never match are refused (a port, stray '*', bad
// characters) or normalised with a warning (upper case, trailing dot) at configure time, and the schemas
// agree. Plugin logic runs on the compiled .wasm (release and debug); the black-box cases through both
// engines are test/scenarios/security-hosts.yaml. The last test pins down the Envoy 1.40 routing facts the
// design rests on, on both engines from one bootstrap.
import assert from "node:assert/strict";
import { request } from "node:http";
import { describe, test } from "node:test";
import { pluginVerdict } from "../../tools/plugins/index.ts";
import { PluginTester } from "../../tools/host/testing.ts";
import { checkConfig } from "../../tools/plugins/index.ts";
import { pluginWasm } from "../../tools/paths.ts";
import { bootstrapDoc } from "../helpers/bootstrap.ts";
import { ENGINES, startEngine } from "../helpers/engines.ts";
import { requireEnvoy } from "../helpers/envoy.ts";
import { BUILDS, compiledPlugin } from "../helpers/plugins.ts";

type Obj = Record<string, unknown>;

/** auth: a consumer needed for the listed hosts only (global_auth false). */
function authFor(domains: string[]): Obj {
  return {
    consumers: [{ name: "alice", keys: ["k-alice-0123456789"] }],
    key_auth: { keys: ["x-api-key"] },
    global_auth: false,
    _rules_: [{ _match_domain_: domains, allow: ["alice"] }],
  };
}

for (const build of BUILDS) {
  describe(`_match_domain_ on the request host (auth, ${build})`, () => {
    async function statuses(domains: string[], hosts: string[]): Promise<Map<string, number>> {
      const t = await PluginTester.load({ wasm: await compiledPlugin("auth", build), configuration: authFor(domains) });
      try {
        assert.ok(t.configured, t.logs.map((l) => l.message).join(" | "));
        const out = new Map<string, number>();
        for (const h of hosts) out.set(h, (await t.exchange({ authority: h, path: "/account" })).status);
        return out;
      } finally {
        t.close();
      }
    }

    test("every spelling of the host is the host: case, port, trailing dots", async () => {
      const spellings = [
        "secure.example.com", "SECURE.EXAMPLE.COM", "Secure.Example.Com", "secure.example.com.", "secure.example.com..",
        "secure.example.com:80", "secure.example.com:443", "secure.example.com.:80", "SECURE.example.COM.:8443",
      ];
      const got = await statuses(["secure.example.com"], [...spellings, "example.com", "secure.example.com.evil.test", "xsecure.example.com", "secure.example.co"]);
      for (const h of spellings) assert.equal(got.get(h), 401, `${h} must need a consumer`);
      for (const h of ["example.com", "secure.example.com.evil.test", "xsecure.example.com", "secure.example.co"]) assert.equal(got.get(h), 200, `${h} is another host`);
    });

    test("wildcards as Envoy's virtual host domains: *.suffix and prefix.*, at least one character", async () => {
      const got = await statuses(["*.internal.example.com", "admin.*"], [
        "a.internal.example.com", "A.B.Internal.Example.COM.", "x.internal.example.com:8080",
        "admin.example.org", "ADMIN.test.:80",
        "internal.example.com", "ainternal.example.com.evil", "admin", "admin.", "xadmin.example.org",
      ]);
      for (const h of ["a.internal.example.com", "A.B.Internal.Example.COM.", "x.internal.example.com:8080", "admin.example.org", "ADMIN.test.:80"]) {
        assert.equal(got.get(h), 401, `${h} matches`);
      }
      for (const h of ["internal.example.com", "ainternal.example.com.evil", "admin", "admin.", "xadmin.example.org"]) assert.equal(got.get(h), 200, `${h} does not match`);
    });

    test("IPv6 literals: brackets kept, port dropped", async () => {
      const got = await statuses(["[::1]"], ["[::1]", "[::1]:8080", "[::2]:8080"]);
      assert.deepEqual([...got.values()], [401, 401, 200]);
    });
  });
}

describe("_match_domain_ patterns at configure time: refused or normalised, and the schema agrees", () => {
  const REFUSED: Array<[string, RegExp]> = [
    ["secure.example.com:443", /'_rules_\[0\]\._match_domain_\[0\]' cannot have a port: hosts are compared without the port, so it would never match/],
    ["secure.example.com.:80", /cannot have a port/],
    ["a*b.example.com", /may only have one '\*', as its first or last character/],
    ["*.example.*", /may only have one '\*'/],
    ["https://secure.example.com", /cannot have a port|must be a host name/],
    ["secure example.com", /must be a host name \(letters, digits/],
    ["", /must be a host name, not empty/],
    ["..", /must be a host name, not only dots/],
    ["[::1]:443", /must be an IPv6 literal without a port/],
  ];
  const NORMALISED: Array<[string, string]> = [
    ["Secure.Example.COM", "secure.example.com"],
    ["secure.example.com.", "secure.example.com"],
    ["*.Internal.Example.com.", "*.internal.example.com"],
  ];
  for (const plugin of ["auth", "cors", "canary", "rate-limit"]) {
    const config = (domain: string): Obj => {
      switch (plugin) {
        case "auth": return authFor([domain]);
        case "cors": return { _rules_: [{ _match_domain_: [domain], allow_origins: ["https://app.example.com"] }] };
        case "canary": return { _rules_: [{ _match_domain_: [domain], weights: [{ tag: "v2", weight: 10 }] }] };
        default: return { _rules_: [{ _match_domain_: [domain], rules: [{ name: "r", key: { global: {} }, limit: { requests: 1, per: "second" } }] }] };
      }
    };
    for (const build of BUILDS) {
      test(`${plugin} (${build})`, async () => {
        await compiledPlugin(plugin, build);
        const wasm = pluginWasm(plugin, build === "debug");
        for (const [domain, rule] of REFUSED) {
          const v = await pluginVerdict(wasm, plugin, config(domain));
          const critical = v.logs.filter((l) => l.levelName === "critical").map((l) => l.message).join(" | ");
          assert.equal(v.accepted, false, `${plugin}: ${JSON.stringify(domain)} accepted`);
          assert.match(critical, rule, `${plugin}: ${JSON.stringify(domain)}`);
          assert.match(critical, /'_rules_\[0\]\._match_domain_\[0\]'/);
          assert.notDeepEqual(checkConfig(plugin, config(domain)), [], `${plugin} schema accepts ${JSON.stringify(domain)}`);
        }
        for (const [domain, as] of NORMALISED) {
          const v = await pluginVerdict(wasm, plugin, config(domain));
          assert.equal(v.accepted, true, `${plugin}: ${JSON.stringify(domain)}: ${v.message}`);
          const warn = v.logs.filter((l) => l.levelName === "warn").map((l) => l.message).join(" | ");
          assert.ok(warn.includes(`'_rules_[0]._match_domain_[0]' is compared as "${as}"`), `${plugin}: warning for ${domain}: ${warn}`);
          assert.deepEqual(checkConfig(plugin, config(domain)), [], `${plugin} schema refuses ${JSON.stringify(domain)}`);
        }
        for (const domain of ["secure.example.com", "*", "*.example.com", "example.*", "[::1]", "localhost", "xn--bcher-kva.example"]) {
          const v = await pluginVerdict(wasm, plugin, config(domain));
          assert.equal(v.accepted, true, `${plugin}: ${JSON.stringify(domain)}: ${v.message}`);
          assert.deepEqual(v.logs.filter((l) => l.levelName === "warn"), [], `${plugin}: no warning for ${domain}`);
          assert.deepEqual(checkConfig(plugin, config(domain)), [], `${plugin} schema refuses ${JSON.stringify(domain)}`);
        }
      });
    }
  }
});

function get(port: number, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/", headers: { host }, timeout: 10_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve(body));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

describe("Envoy 1.40 virtual host selection (the facts the plugin's normalisation is stricter than)", () => {
  // Defaults of HttpConnectionManager: strip_trailing_host_dot false, strip_any_host_port false,
  // strip_matching_host_port false; RouteConfiguration ignore_port_in_host_matching false. So Envoy matches
  // domains case-insensitively but sends `host.` and `host:port` to the wildcard virtual host: a plugin that
  // compared like Envoy would let those spellings skip its rule while the upstream serves the same host.
  const bootstrap = bootstrapDoc({
    name: "main",
    filters: [],
    virtualHosts: [
      { name: "secure", domains: ["secure.example.com"], routes: [{ match: { prefix: "/" }, direct_response: { status: 200, body: { inline_string: "secure" } } }] },
      { name: "other", domains: ["*"], routes: [{ match: { prefix: "/" }, direct_response: { status: 200, body: { inline_string: "other" } } }] },
    ],
  });

  const EXPECT: Array<[string, string]> = [
    ["secure.example.com", "secure"],
    ["SECURE.Example.COM", "secure"],
    ["secure.example.com.", "other"],
    ["secure.example.com:80", "other"],
    ["secure.example.com.:80", "other"],
  ];
  for (const engine of ENGINES) {
    test(engine, async (t) => {
      const envoy = engine === "envoy" ? requireEnvoy(t) : null;
      if (engine === "envoy" && !envoy) return;
      const gw = await startEngine(engine, bootstrap, envoy);
      try {
        const got: Array<[string, string]> = [];
        for (const [host] of EXPECT) got.push([host, await get(gw.port("main"), host)]);
        assert.deepEqual(got, EXPECT);
      } finally {
        await gw.stop();
      }
    });
  }
});
