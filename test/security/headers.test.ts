// Attack class 4 (issue 15, attack-findings 4 and 9): a header a plugin writes must never break framing or
// identity. Every configurable header name a plugin writes — auth consumer_header, claims_to_headers[].header,
// ext_auth.allowed_upstream_headers (and allowed_client_headers on replies), canary tag_header — refuses the
// framing, hop-by-hop, routing and pseudo headers and the headers other plugins own, in any letter case.
// Checked three ways from ONE list (assembly/writable-headers.ts): the plugin's on_configure on the compiled .wasm
// (release and debug) logs a critical line naming the field and the rule; the plugin.json schema refuses
// the same names (so `tollgate validate` agrees); and the configs that once smuggled a response into another
// client's connection are refused at start by both engines, the same bootstrap on each.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { pluginVerdict } from "../../tools/plugins/index.ts";
import { checkConfig, loadPluginMeta } from "../../tools/plugins/index.ts";
import { pluginWasm } from "../../tools/paths.ts";
import { ENGINES } from "../helpers/engines.ts";
import { requireEnvoy } from "../helpers/envoy.ts";
import { BUILDS, compiledPlugin } from "../helpers/plugins.ts";
import { framingNames, headerLists, refusedPattern, unwritableNames } from "./header-lists.ts";
import { refusedAtStart } from "./support.ts";

type Obj = Record<string, unknown>;

const AUTH_KEYS: Obj = { consumers: [{ name: "alice", keys: ["k-alice-0123456789"] }], key_auth: { keys: ["x-api-key"] } };
const JWT: Obj = {
  consumers: [{ name: "svc", jwt: { issuer: "https://issuer.example", jwks: { keys: [{ kty: "oct", kid: "k1", alg: "HS256", k: "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ1Njc4" }] } } }],
};

interface Field {
  plugin: "auth" | "canary";
  /** The field path the rejection must name. */
  path: string;
  config: (name: string) => Obj;
  /** Names refused here. */
  refused: string[];
  /** Names accepted here (ordinary and the plugin's own). */
  accepted: string[];
  /** A response header (only framing and hop-by-hop names are refused). */
  response?: boolean;
}

const lists = headerLists();
const FIELDS: Field[] = [
  {
    plugin: "auth", path: "consumer_header", config: (h) => ({ ...AUTH_KEYS, consumer_header: h }),
    refused: unwritableNames("auth"), accepted: ["x-mse-consumer", "x-consumer", "X-Forwarded-User"],
  },
  {
    plugin: "auth", path: "jwt_auth.claims_to_headers[0].header", config: (h) => ({ ...JWT, jwt_auth: { claims_to_headers: [{ claim: "sub", header: h }] } }),
    refused: unwritableNames("auth"), accepted: ["x-jwt-sub"],
  },
  {
    plugin: "auth", path: "ext_auth.allowed_upstream_headers[0]", config: (h) => ({ ext_auth: { cluster: "authz", allowed_upstream_headers: [h] } }),
    refused: unwritableNames("auth"), accepted: ["x-user", "authorization", "x-mse-consumer"],
  },
  {
    plugin: "auth", path: "ext_auth.allowed_client_headers[0]", config: (h) => ({ ext_auth: { cluster: "authz", allowed_client_headers: [h] } }),
    refused: framingNames(), accepted: ["www-authenticate", "set-cookie", "x-envoy-upstream-service-time"], response: true,
  },
  {
    plugin: "auth", path: "key_auth.keys[0]", config: (h) => ({ ...AUTH_KEYS, key_auth: { keys: [h], hide_credentials: true } }),
    refused: unwritableNames("auth"), accepted: ["x-api-key", "apikey", "authorization"],
  },
  {
    plugin: "auth", path: "jwt_auth.from_headers[0].name", config: (h) => ({ ...JWT, jwt_auth: { from_headers: [{ name: h }], keep_token: false } }),
    refused: unwritableNames("auth"), accepted: ["authorization", "x-token"],
  },
  {
    plugin: "auth", path: "ext_auth.allowed_headers[0]", config: (h) => ({ ext_auth: { cluster: "authz", allowed_headers: [h] } }),
    refused: framingNames(), accepted: ["cookie", "x-forwarded-for", "x-envoy-external-address"], response: true,
  },
  {
    plugin: "canary", path: "tag_header", config: (h) => ({ tag_header: h, weights: [{ tag: "v2", weight: 10 }] }),
    refused: unwritableNames("canary"), accepted: ["x-canary-version", "x-version"],
  },
];

/** A name in the letter case an operator might type: `Content-Length`, `X-Mse-Consumer`. */
function titleCase(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_, d: string, c: string) => d + c.toUpperCase());
}

describe("written header names: one list, refused by the plugin and its schema", () => {
  test("the list covers framing, hop-by-hop, routing and every plugin's own headers", () => {
    for (const n of ["content-length", "transfer-encoding", "host", "connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade"]) {
      assert.ok(unwritableNames("nobody").includes(n), n);
    }
    assert.deepEqual(lists.owned.map((o) => o.name).sort(), ["authorization", "x-canary-version", "x-mse-consumer", "x-ratelimit-shadow"]);
    assert.equal(lists.envoyPrefix, "x-envoy-");
  });

  test("each schema carries the pattern built from assembly/writable-headers.ts", () => {
    const auth = loadPluginMeta("auth").schema as Obj;
    const props = auth.properties as Record<string, Obj>;
    const p = (o: Obj) => (o.not as Obj | undefined)?.pattern;
    assert.equal(p(props.consumer_header), refusedPattern("auth"));
    const jwt = ((props.jwt_auth.properties as Obj).claims_to_headers as Obj).items as Obj;
    assert.equal(p((jwt.properties as Record<string, Obj>).header), refusedPattern("auth"));
    const ext = props.ext_auth.properties as Record<string, Obj>;
    assert.equal(p(ext.allowed_upstream_headers.items as Obj), refusedPattern("auth"));
    assert.equal(p(ext.allowed_client_headers.items as Obj), refusedPattern("auth", true));
    assert.equal(p(ext.allowed_headers.items as Obj), refusedPattern("auth", true));
    assert.equal(p(((props.key_auth.properties as Obj).keys as Obj).items as Obj), refusedPattern("auth"));
    const from = ((props.jwt_auth.properties as Obj).from_headers as Obj).items as Obj;
    assert.equal(p((from.properties as Record<string, Obj>).name), refusedPattern("auth"));
    const canary = loadPluginMeta("canary").schema as Obj;
    assert.equal(p((canary.$defs as Record<string, Obj>).writableHeader), refusedPattern("canary"));
  });

  for (const build of BUILDS) {
    test(`on_configure refuses them naming the field and the rule; the schema agrees (${build})`, async () => {
      for (const plugin of ["auth", "canary"]) await compiledPlugin(plugin, build);
      const problems: string[] = [];
      for (const f of FIELDS) {
        const wasm = pluginWasm(f.plugin, build === "debug");
        const envoyNames = f.response ? [] : [`${lists.envoyPrefix}original-path`, "X-Envoy-Upstream-Rq-Timeout-Ms"];
        const names = [...f.refused, ...f.refused.map(titleCase), ...envoyNames, ":authority"];
        for (const name of names) {
          const cfg = f.config(name);
          const v = await pluginVerdict(wasm, f.plugin, cfg);
          const schema = checkConfig(f.plugin, cfg);
          const critical = v.logs.filter((l) => l.levelName === "critical").map((l) => l.message);
          const lower = name.toLowerCase();
          if (v.accepted) problems.push(`${f.plugin} ${f.path} = ${JSON.stringify(name)}: accepted`);
          else if (!critical.some((m) => m.includes(`'${f.path}'`) && (m.includes(`"${lower}"`) || name.startsWith(":")))) {
            problems.push(`${f.plugin} ${f.path} = ${JSON.stringify(name)}: log does not name the field and the value: ${critical.join(" | ")}`);
          }
          if (schema.length === 0) problems.push(`${f.plugin} ${f.path} = ${JSON.stringify(name)}: the schema accepts it`);
        }
        for (const name of f.accepted) {
          const cfg = f.config(name);
          const v = await pluginVerdict(wasm, f.plugin, cfg);
          if (!v.accepted) problems.push(`${f.plugin} ${f.path} = ${JSON.stringify(name)}: refused (${v.message})`);
          const schema = checkConfig(f.plugin, cfg);
          if (schema.length) problems.push(`${f.plugin} ${f.path} = ${JSON.stringify(name)}: schema refuses: ${schema.join("; ")}`);
        }
      }
      assert.deepEqual(problems, []);
    });
  }

  test("`tollgate validate`'s schema line says what the name must not be", () => {
    assert.deepEqual(checkConfig("canary", { tag_header: "Content-Length" }), [
      `'tag_header' cannot be "Content-Length": a header no plugin may write: framing (content-length, transfer-encoding), hop-by-hop (connection, keep-alive, proxy-connection, te, trailer, upgrade, expect, proxy-authorization), routing (host, forwarded, x-forwarded-for/-host/-proto, x-envoy-*) or another plugin's own header`,
    ]);
    assert.match(checkConfig("auth", { ext_auth: { cluster: "authz", allowed_client_headers: ["transfer-encoding"] } }).join(" | "), /'ext_auth\.allowed_client_headers\[0\]' cannot be "transfer-encoding": a framing or hop-by-hop header/);
  });

  test("the rule says why: framing, hop-by-hop, routing, x-envoy-*, another plugin's", async () => {
    await compiledPlugin("canary", "release");
    const why = async (h: string) => {
      const v = await pluginVerdict(pluginWasm("canary"), "canary", { tag_header: h });
      return v.logs.filter((l) => l.levelName === "critical").map((l) => l.message).join(" | ");
    };
    assert.match(await why("Content-Length"), /'tag_header' cannot be "content-length": a framing header/);
    assert.match(await why("upgrade"), /'tag_header' cannot be "upgrade": a hop-by-hop header/);
    assert.match(await why("Host"), /'tag_header' cannot be "host": a routing header/);
    assert.match(await why("x-envoy-original-path"), /an x-envoy-\* header/);
    assert.match(await why("x-mse-consumer"), /'tag_header' cannot be "x-mse-consumer": the auth plugin owns it/);
    assert.match(await why("x-ratelimit-shadow"), /the rate-limit plugin owns it/);
  });
});

describe("the smuggling configs of attack-findings 4 and 9 do not start, on either engine", () => {
  const CASES: Array<{ plugin: string; config: Obj; log: RegExp }> = [
    { plugin: "auth", config: { ...AUTH_KEYS, consumer_header: "Content-Length" }, log: /'consumer_header' cannot be "content-length": a framing header/ },
    { plugin: "auth", config: { ...AUTH_KEYS, consumer_header: "host" }, log: /'consumer_header' cannot be "host": a routing header/ },
    { plugin: "canary", config: { tag_header: "transfer-encoding", weights: [{ tag: "v2", weight: 50 }] }, log: /'tag_header' cannot be "transfer-encoding": a framing header/ },
    { plugin: "canary", config: { tag_header: "x-mse-consumer", weights: [{ tag: "v2", weight: 50 }] }, log: /'tag_header' cannot be "x-mse-consumer": the auth plugin owns it/ },
  ];
  for (const engine of ENGINES) {
    test(engine, async (t) => {
      const envoy = engine === "envoy" ? requireEnvoy(t) : null;
      if (engine === "envoy" && !envoy) return;
      for (const c of CASES) assert.match(await refusedAtStart(engine, envoy, c.plugin, c.config), c.log, `${engine}: ${c.plugin} refusal names the field and the rule`);
    });
  }
});
