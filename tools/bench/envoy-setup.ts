// What `tollgate bench --envoy` runs: one Envoy bootstrap per target (router only, the noop wasm filter, each
// plugin with the demo's configuration, and Envoy's native filter doing the same job), and the scenarios
// measured on them — a request shape sent by wrk plus the functional checks that must pass on that target
// before any figure is taken, so a ratio is never taken against a misconfigured filter.
import { createHash, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { join } from "node:path";
import { pluginWasm, repoRoot } from "../paths.ts";
import { wasmFilter } from "../envoy/bootstrap.ts";

type Json = Record<string, unknown>;

/** The loopback upstream's two listeners (a second Envoy answering with direct_response). */
export interface Upstreams {
  stable: number;
  canary: number;
  /** The rate limit service's gRPC port (tools/ratelimit/service.ts), when the run started one. */
  rls?: number;
}

/** One Envoy bootstrap to measure. */
export interface Target {
  name: string;
  bootstrap: (up: Upstreams) => Json;
}

/** A request as wrk sends it; `vary` headers take a fresh value per request (`<prefix><n mod count>`, or the next of `values`). */
export interface RequestShape {
  method: string;
  path: string;
  headers: Record<string, string>;
  vary?: Record<string, { prefix: string; count: number } | { values: string[] }>;
}

/** A functional check against a running target: throws with what differed. */
export type Check = (send: Send) => Promise<void>;
export type Send = (r: { method?: string; path?: string; headers?: Record<string, string> }) => Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>;

export interface Scenario {
  /** Key in the report, e.g. "cors-preflight" or "native:cors-preflight". */
  name: string;
  target: string;
  kind: "baseline" | "noop" | "plugin" | "native" | "calls";
  /** For a plugin scenario: the native scenario doing the same job (none for rate-limit-global). */
  native?: string;
  /** What the target needs besides Envoy: "rls" = the rate limit service (Redis + envoyproxy/ratelimit). */
  needs?: "rls";
  /** A scenario always measured beside this one, for a comparison in the report (rate-limit-global: the local rule). */
  alongside?: string;
  request: RequestShape;
  checks: Check[];
  /** What the scenario is, for the report. */
  note: string;
}

// ---- request material ----

/** The Node floor's typical request (tools/bench/context.ts TYPICAL_REQUEST) as HTTP/1.1 headers. */
const TYPICAL: Record<string, string> = {
  "user-agent": "Mozilla/5.0 (X11; Linux x86_64) tollgate-bench",
  accept: "application/json",
  "accept-encoding": "gzip, deflate, br",
  "accept-language": "en-US,en;q=0.9",
  "x-request-id": "8f14e45f-ceea-467f-a0e6-3f1b1e5e2d1c",
};
const PATH = "/api/v1/items?page=2";
const ORIGIN = "https://app.example.com";
const SECURE = "secure.example.com";
const get = (headers: Record<string, string> = {}, vary?: RequestShape["vary"]): RequestShape => ({ method: "GET", path: PATH, headers: { ...TYPICAL, ...headers }, vary });

const b64u = (b: Uint8Array | string): string => Buffer.from(b).toString("base64url");
const ISSUER = "https://issuer.tollgate.example";

/** Signing keys and tokens made fresh per run (node:crypto), as test/plugins/auth does. */
export interface JwtMaterial {
  jwks: { keys: object[] };
  rs256: string;
  es256: string;
  /** TOKENS distinct tokens per algorithm (sub differs), sent in turn: no two consecutive requests repeat one. */
  rs256Pool: string[];
  es256Pool: string[];
  /** An RS256 token with a flipped signature byte: must be refused by every JWT target. */
  tampered: string;
}

/**
 * Distinct tokens per algorithm in the JWT scenarios. A single token repeated would measure whatever the filter
 * remembers about the previous request (the plugin reads a repeated header value as the same string), not its
 * cache or its verification; 64 in turn fit both caches (1024) and defeat any last-value memo.
 */
export const TOKENS = 64;

export function jwtMaterial(): JwtMaterial {
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const exp = Math.floor(Date.now() / 1000) + 86400 * 7;
  const token = (alg: "RS256" | "ES256", kid: string, key: KeyObject, sub = "service-42"): string => {
    const claims = { iss: ISSUER, aud: "demo", sub, exp };
    const input = `${b64u(JSON.stringify({ alg, typ: "JWT", kid }))}.${b64u(JSON.stringify(claims))}`;
    const sig = alg === "RS256" ? sign("sha256", Buffer.from(input), key) : sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" });
    return `${input}.${b64u(sig)}`;
  };
  const rs256 = token("RS256", "r1", rsa.privateKey);
  const last = rs256.charAt(rs256.length - 2);
  return {
    jwks: {
      keys: [
        { ...rsa.publicKey.export({ format: "jwk" }), kid: "r1", alg: "RS256", use: "sig" },
        { ...ec.publicKey.export({ format: "jwk" }), kid: "e1", alg: "ES256", use: "sig" },
      ],
    },
    rs256,
    es256: token("ES256", "e1", ec.privateKey),
    rs256Pool: Array.from({ length: TOKENS }, (_, i) => token("RS256", "r1", rsa.privateKey, `service-${i}`)),
    es256Pool: Array.from({ length: TOKENS }, (_, i) => token("ES256", "e1", ec.privateKey, `service-${i}`)),
    tampered: rs256.slice(0, -2) + (last === "A" ? "B" : "A") + rs256.slice(-1),
  };
}

// ---- bootstrap building blocks ----

const HCM = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
const ROUTER = { name: "envoy.filters.http.router", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } };

function cluster(name: string, port: number): Json {
  return {
    name,
    type: "STATIC",
    connect_timeout: "1s",
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: port } } } }] }] },
  };
}

/** A bootstrap with one listener on an ephemeral loopback port, the given filters and routes, and both upstreams. */
function bootstrap(up: Upstreams, httpFilters: Json[], routes: Json[], vhostExtra: Json = {}): Json {
  return {
    admin: { address: { socket_address: { address: "127.0.0.1", port_value: 0 } } },
    static_resources: {
      listeners: [{
        name: "bench",
        address: { socket_address: { address: "127.0.0.1", port_value: 0 } },
        filter_chains: [{
          filters: [{
            name: "envoy.filters.network.http_connection_manager",
            typed_config: {
              "@type": HCM,
              stat_prefix: "bench",
              use_remote_address: true,
              codec_type: "AUTO",
              route_config: { name: "bench", virtual_hosts: [{ name: "bench", domains: ["*"], routes, ...vhostExtra }] },
              http_filters: [...httpFilters, ROUTER],
            },
          }],
        }],
      }],
      clusters: [cluster("stable", up.stable), cluster("canary", up.canary), ...(up.rls ? [rlsCluster(up.rls)] : [])],
    },
  };
}

/** The rate limit service's gRPC cluster as `tollgate gen envoy` writes it: HTTP/2 to the service. */
function rlsCluster(port: number): Json {
  return {
    name: "rls",
    type: "STATIC",
    connect_timeout: "1s",
    lb_policy: "ROUND_ROBIN",
    typed_extension_protocol_options: {
      "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
        "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
        explicit_http_config: { http2_protocol_options: {} },
      },
    },
    load_assignment: { cluster_name: "rls", endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: port } } } }] }] },
  };
}

const STABLE_ROUTE = { match: { prefix: "/" }, route: { cluster: "stable", timeout: "15s" } };
/** demo.yaml's routes: the canary plugin's tag re-selects the route. */
const DEMO_ROUTES = [
  { match: { prefix: "/", headers: [{ name: "x-canary-version", string_match: { exact: "v2" } }] }, route: { cluster: "canary", timeout: "15s" } },
  STABLE_ROUTE,
];

function wasm(name: string, configuration: object): Json {
  return wasmFilter(name, pluginWasm(name), { configuration: JSON.stringify(configuration) }) as Json;
}

// ---- the demo's plugin configurations (envoy-configs/demo.yaml, envoy-configs/auth.yaml) ----

const CORS = {
  allow_origins: ["https://app.example.com", "http://localhost:3000"],
  allow_methods: ["GET", "POST", "PUT", "DELETE", "PATCH"],
  allow_headers: ["Content-Type", "Authorization", "X-Api-Key", "X-User-Id"],
  expose_headers: ["X-Request-Id", "Retry-After", "X-RateLimit-Remaining"],
  allow_credentials: true,
  max_age: 600,
};
const CANARY = {
  default_tag: "v1",
  override_header: "x-canary",
  canary_tag: "v2",
  stable_tag: "v1",
  rules: [{ match: { all: [{ type: "header", key: "x-beta", op: "equal", value: "true" }] }, tag: "v2" }],
  weights: [{ tag: "v2", weight: 30 }],
  sticky_by: { header: "x-user-id" },
  pin_cookie: "canary_pin",
};
// demo.yaml allows 5 per minute; the bench measures the allowed path, so the same rule with a limit no client reaches.
const LIMIT = 1_000_000_000;
const PER_CLIENT = LIMIT - 1;
const RATE_LIMIT = { max_keys: 1000, rules: [{ name: "per-client", key: { header: "x-client-id" }, limit: { requests: PER_CLIENT, per: "minute" } }] };
/**
 * The same per-client rule counted by the rate limit service (scope global): one ShouldRateLimit call per
 * request, descriptor {per-client: <x-client-id>}; the limit (per minute, the service's uint32) is one no client
 * reaches, so the bench measures the allowed path. The service's config is generated from this
 * (tools/ratelimit/config.ts serviceConfigYaml), as `tollgate gen ratelimit-config` does.
 */
export const RLS_DOMAIN = "tollgate-bench";
export const RATE_LIMIT_GLOBAL = {
  rls: { cluster: "rls", domain: RLS_DOMAIN, timeout_ms: 1000 },
  rules: [{ name: "per-client", scope: "global", key: { header: "x-client-id" }, limit: { requests: PER_CLIENT, per: "minute" } }],
};
const BOB_PASSWORD = "bob-password";
function authConfig(jwt: JwtMaterial, cacheSize: number): object {
  return {
    consumers: [
      { name: "alice", keys: ["alice-demo-key"] },
      { name: "bob", basic: [`bob:{SHA256}${createHash("sha256").update(BOB_PASSWORD).digest("base64")}`] },
      { name: "svc", jwt: { issuer: ISSUER, audiences: ["demo"], jwks: jwt.jwks } },
    ],
    key_auth: { keys: ["x-api-key"] },
    basic_auth: { realm: "tollgate demo" },
    jwt_auth: { keep_token: false, claims_to_headers: [{ claim: "sub", header: "x-jwt-sub" }], cache_size: cacheSize },
    global_auth: false,
    _rules_: [{ _match_domain_: [SECURE], allow: ["alice", "bob", "svc"] }],
  };
}

// ---- Envoy's native equivalents ----

const NATIVE_CORS_FILTER = { name: "envoy.filters.http.cors", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors" } };
const NATIVE_CORS_POLICY = {
  typed_per_filter_config: {
    "envoy.filters.http.cors": {
      "@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy",
      allow_origin_string_match: CORS.allow_origins.map((o) => ({ exact: o })),
      allow_methods: CORS.allow_methods.join(","),
      allow_headers: CORS.allow_headers.join(","),
      expose_headers: CORS.expose_headers.join(","),
      allow_credentials: true,
      max_age: String(CORS.max_age),
    },
  },
};
/** canary natively: the plugin's rules as route header matches, its sticky 30% as a hash-policy weighted split. */
const NATIVE_CANARY_ROUTES = [
  { match: { prefix: "/", headers: [{ name: "x-canary", string_match: { exact: "always" } }] }, route: { cluster: "canary", timeout: "15s" } },
  { match: { prefix: "/", headers: [{ name: "x-canary", string_match: { exact: "never" } }] }, route: { cluster: "stable", timeout: "15s" } },
  { match: { prefix: "/", headers: [{ name: "x-beta", string_match: { exact: "true" } }] }, route: { cluster: "canary", timeout: "15s" } },
  {
    match: { prefix: "/" },
    route: {
      weighted_clusters: { clusters: [{ name: "canary", weight: 30 }, { name: "stable", weight: 70 }], use_hash_policy: true },
      hash_policy: [{ header: { header_name: "x-user-id" } }],
      timeout: "15s",
    },
  },
];
const bucket = (n: number) => ({ max_tokens: n, tokens_per_fill: n, fill_interval: "60s" });
const NATIVE_RATE_LIMIT = {
  name: "envoy.filters.http.local_ratelimit",
  typed_config: {
    "@type": "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
    stat_prefix: "per_client",
    token_bucket: bucket(LIMIT),
    filter_enabled: { runtime_key: "per_client_enabled", default_value: { numerator: 100, denominator: "HUNDRED" } },
    filter_enforced: { runtime_key: "per_client_enforced", default_value: { numerator: 100, denominator: "HUNDRED" } },
    enable_x_ratelimit_headers: "DRAFT_VERSION_03",
    rate_limits: [{ actions: [{ request_headers: { header_name: "x-client-id", descriptor_key: "client" } }] }],
    // An entry without a value is a dynamic descriptor: one bucket per distinct x-client-id, up to 1000.
    descriptors: [{ entries: [{ key: "client" }], token_bucket: bucket(PER_CLIENT) }],
    max_dynamic_descriptors: 1000,
  },
};
/** The same per-client descriptor through Envoy's own ratelimit filter and the same service (route rate_limits). */
const NATIVE_GLOBAL_RATE_LIMIT = {
  name: "envoy.filters.http.ratelimit",
  typed_config: {
    "@type": "type.googleapis.com/envoy.extensions.filters.http.ratelimit.v3.RateLimit",
    domain: RLS_DOMAIN,
    timeout: "1s",
    enable_x_ratelimit_headers: "DRAFT_VERSION_03",
    rate_limit_service: { grpc_service: { envoy_grpc: { cluster_name: "rls" } }, transport_api_version: "V3" },
  },
};
const NATIVE_GLOBAL_ROUTE = {
  match: { prefix: "/" },
  route: { cluster: "stable", timeout: "15s", rate_limits: [{ actions: [{ request_headers: { header_name: "x-client-id", descriptor_key: "per-client" } }] }] },
};
/**
 * A bootstrap needing the rate limit service gets its cluster: the run's service port, or (a bootstrap made
 * without one, e.g. to validate it) envoyproxy/ratelimit's default gRPC port.
 */
const withRls = (up: Upstreams): Upstreams => ({ ...up, rls: up.rls ?? 8081 });
const NATIVE_KEY_AUTH = {
  name: "envoy.filters.http.api_key_auth",
  typed_config: {
    "@type": "type.googleapis.com/envoy.extensions.filters.http.api_key_auth.v3.ApiKeyAuth",
    credentials: [{ key: "alice-demo-key", client: "alice" }],
    key_sources: [{ header: "x-api-key" }],
    forwarding: { header: "x-mse-consumer" },
  },
};
const NATIVE_BASIC_AUTH = {
  name: "envoy.filters.http.basic_auth",
  typed_config: {
    "@type": "type.googleapis.com/envoy.extensions.filters.http.basic_auth.v3.BasicAuth",
    // htpasswd's {SHA} (SHA-1) is the only hash Envoy's filter reads; the plugin's demo user is {SHA256}.
    users: { inline_string: `bob:{SHA}${createHash("sha1").update(BOB_PASSWORD).digest("base64")}` },
    forward_username_header: "x-mse-consumer",
  },
};
function nativeJwt(jwt: JwtMaterial, cached: boolean): Json {
  return {
    name: "envoy.filters.http.jwt_authn",
    typed_config: {
      "@type": "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication",
      providers: {
        svc: {
          issuer: ISSUER,
          audiences: ["demo"],
          local_jwks: { inline_string: JSON.stringify(jwt.jwks) },
          forward: false,
          claim_to_headers: [{ header_name: "x-jwt-sub", claim_name: "sub" }],
          ...(cached ? { jwt_cache_config: { jwt_cache_size: 1024 } } : {}),
        },
      },
      rules: [{ match: { prefix: "/" }, requires: { provider_name: "svc" } }],
    },
  };
}

/** Every bootstrap the bench can run, by name. */
export function targets(jwt: JwtMaterial): Target[] {
  return [
    { name: "baseline", bootstrap: (up) => bootstrap(up, [], [STABLE_ROUTE]) },
    { name: "noop", bootstrap: (up) => bootstrap(up, [wasm("noop", {})], [STABLE_ROUTE]) },
    { name: "cors", bootstrap: (up) => bootstrap(up, [wasm("cors", CORS)], [STABLE_ROUTE]) },
    { name: "native-cors", bootstrap: (up) => bootstrap(up, [NATIVE_CORS_FILTER], [STABLE_ROUTE], NATIVE_CORS_POLICY) },
    { name: "canary", bootstrap: (up) => bootstrap(up, [wasm("canary", CANARY)], DEMO_ROUTES) },
    { name: "native-canary", bootstrap: (up) => bootstrap(up, [], NATIVE_CANARY_ROUTES) },
    { name: "rate-limit", bootstrap: (up) => bootstrap(up, [wasm("rate-limit", RATE_LIMIT)], [STABLE_ROUTE]) },
    { name: "rate-limit-global", bootstrap: (up) => bootstrap(withRls(up), [wasm("rate-limit", RATE_LIMIT_GLOBAL)], [STABLE_ROUTE]) },
    { name: "native-rate-limit-global", bootstrap: (up) => bootstrap(withRls(up), [NATIVE_GLOBAL_RATE_LIMIT], [NATIVE_GLOBAL_ROUTE]) },
    { name: "native-rate-limit", bootstrap: (up) => bootstrap(up, [NATIVE_RATE_LIMIT], [STABLE_ROUTE]) },
    { name: "auth", bootstrap: (up) => bootstrap(up, [wasm("auth", authConfig(jwt, 1024))], [STABLE_ROUTE]) },
    { name: "auth-nocache", bootstrap: (up) => bootstrap(up, [wasm("auth", authConfig(jwt, 0))], [STABLE_ROUTE]) },
    { name: "native-key-auth", bootstrap: (up) => bootstrap(up, [NATIVE_KEY_AUTH], [STABLE_ROUTE]) },
    { name: "native-basic-auth", bootstrap: (up) => bootstrap(up, [NATIVE_BASIC_AUTH], [STABLE_ROUTE]) },
    { name: "native-jwt-cached", bootstrap: (up) => bootstrap(up, [nativeJwt(jwt, true)], [STABLE_ROUTE]) },
    { name: "native-jwt", bootstrap: (up) => bootstrap(up, [nativeJwt(jwt, false)], [STABLE_ROUTE]) },
    {
      name: "all-plugins",
      bootstrap: (up) => bootstrap(up, [wasm("cors", CORS), wasm("auth", authConfig(jwt, 1024)), wasm("rate-limit", RATE_LIMIT), wasm("canary", CANARY)], DEMO_ROUTES),
    },
    { name: "all-native", bootstrap: (up) => bootstrap(up, [NATIVE_CORS_FILTER, NATIVE_KEY_AUTH, NATIVE_RATE_LIMIT], NATIVE_CANARY_ROUTES, NATIVE_CORS_POLICY) },
  ];
}

// ---- functional checks ----

function fail(what: string, got: unknown): never {
  throw new Error(`${what}; got ${JSON.stringify(got)}`);
}
function header(res: Awaited<ReturnType<Send>>, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
/** `req` answers `status` (a number, or "2xx") with `headers` present (value or any when ""), and `body` when given. */
function expect(req: Parameters<Send>[0], status: number | "2xx", headers: Record<string, string> = {}, body?: string): Check {
  return async (send) => {
    const res = await send(req);
    const ok = status === "2xx" ? res.status >= 200 && res.status < 300 : res.status === status;
    if (!ok) fail(`${req.method ?? "GET"} ${JSON.stringify(req.headers ?? {})} must answer ${status}`, { status: res.status, body: res.body.slice(0, 200) });
    for (const [h, v] of Object.entries(headers)) {
      const got = header(res, h);
      if (got === undefined || (v !== "" && got !== v)) fail(`response header ${h} must be ${v || "present"}`, res.headers);
    }
    if (body !== undefined && res.body !== body) fail(`body must be '${body}' (the ${body} upstream)`, res.body);
  };
}
/** Requests with the same x-user-id always reach the same upstream, and both upstreams get some users. */
const sticky: Check = async (send) => {
  const seen = new Set<string>();
  for (let i = 0; i < 24; i++) {
    const a = await send({ headers: { "x-user-id": `user-${i}` } });
    const b = await send({ headers: { "x-user-id": `user-${i}` } });
    if (a.status !== 200 || a.body !== b.body) fail(`user-${i} must reach the same upstream twice`, [a.status, a.body, b.body]);
    seen.add(a.body);
  }
  if (seen.size !== 2) fail("24 users must be split across both upstreams", [...seen]);
};
/**
 * The per-client rule applies: X-RateLimit-Limit names the per-client quota (PER_CLIENT), which differs from the
 * native filter's default bucket (LIMIT), so a request that fell through to the default would show.
 * (Remaining cannot show per-client buckets here: at a quota no client reaches, both report it unchanged.)
 */
const perClient: Check = async (send) => {
  for (const c of ["client-1", "client-2"]) {
    const r = await send({ headers: { "x-client-id": c } });
    const v = header(r, "x-ratelimit-limit");
    if (r.status !== 200 || !v?.startsWith(String(PER_CLIENT))) fail(`x-client-id ${c} must be allowed under the per-client quota (X-RateLimit-Limit ${PER_CLIENT})`, { status: r.status, headers: r.headers });
  }
};

// ---- scenarios ----

/** Every scenario, plugin scenarios paired with the native scenario doing the same job. */
export function scenarios(jwt: JwtMaterial): Scenario[] {
  const simple = get({ origin: ORIGIN });
  const preflight: RequestShape = { method: "OPTIONS", path: PATH, headers: { ...TYPICAL, origin: ORIGIN, "access-control-request-method": "PUT", "access-control-request-headers": "content-type,x-api-key" } };
  const corsChecks: Check[] = [
    expect({ headers: { origin: ORIGIN } }, 200, { "access-control-allow-origin": ORIGIN, "access-control-allow-credentials": "true" }, "stable"),
    expect({ method: "OPTIONS", headers: preflight.headers }, "2xx", { "access-control-allow-origin": ORIGIN, "access-control-max-age": "600" }),
  ];
  const beta = get({ "x-beta": "true" });
  const userSplit = get({}, { "x-user-id": { prefix: "user-", count: 1000 } });
  const canaryChecks: Check[] = [expect({ headers: { "x-beta": "true" } }, 200, {}, "canary"), expect({ headers: { "x-canary": "never", "x-beta": "true" } }, 200, {}, "stable"), sticky];
  const perClientReq = get({}, { "x-client-id": { prefix: "client-", count: 100 } });
  const key = get({ host: SECURE, "x-api-key": "alice-demo-key" });
  const keyChecks = [expect({ headers: { host: SECURE, "x-api-key": "alice-demo-key" } }, 200), expect({ headers: { host: SECURE, "x-api-key": "wrong-key" } }, 401)];
  const basicValue = "Basic " + Buffer.from(`bob:${BOB_PASSWORD}`).toString("base64");
  const basic = get({ host: SECURE, authorization: basicValue });
  const basicChecks = [expect({ headers: { host: SECURE, authorization: basicValue } }, 200), expect({ headers: { host: SECURE, authorization: "Basic " + Buffer.from("bob:wrong").toString("base64") } }, 401)];
  const bearer = (pool: string[]) => get({ host: SECURE }, { authorization: { values: pool.map((t) => `Bearer ${t}`) } });
  const jwtChecks = [
    expect({ headers: { host: SECURE, authorization: `Bearer ${jwt.rs256}` } }, 200),
    expect({ headers: { host: SECURE, authorization: `Bearer ${jwt.es256}` } }, 200),
    expect({ headers: { host: SECURE, authorization: `Bearer ${jwt.tampered}` } }, 401),
    expect({ headers: { host: SECURE } }, 401),
  ];
  const all = get({ host: SECURE, origin: ORIGIN, "x-api-key": "alice-demo-key" }, { "x-client-id": { prefix: "client-", count: 100 }, "x-user-id": { prefix: "user-", count: 1000 } });
  const allChecks = [
    expect({ headers: { host: SECURE, origin: ORIGIN, "x-api-key": "alice-demo-key", "x-client-id": "c1", "x-beta": "true" } }, 200, { "access-control-allow-origin": ORIGIN, "x-ratelimit-remaining": "" }, "canary"),
    expect({ headers: { host: SECURE, origin: ORIGIN, "x-api-key": "wrong-key" } }, 401),
  ];
  const pair = (name: string, target: string, nativeTarget: string, request: RequestShape, checks: Check[], note: string, nativeNote: string): Scenario[] => [
    { name, target, kind: "plugin", native: `native:${name}`, request, checks, note },
    { name: `native:${name}`, target: nativeTarget, kind: "native", request, checks, note: nativeNote },
  ];
  return [
    { name: "baseline", target: "baseline", kind: "baseline", request: get(), checks: [expect({}, 200, {}, "stable")], note: "router only: the GET every scenario starts from (5 headers + Host)" },
    { name: "noop", target: "noop", kind: "noop", request: get(), checks: [expect({}, 200, {}, "stable")], note: "the noop wasm filter: the wasm floor" },
    ...pair("cors-simple", "cors", "native-cors", simple, corsChecks, "cors plugin (demo config), GET with an allowed Origin", "envoy.filters.http.cors + the same policy on the virtual host"),
    ...pair("cors-preflight", "cors", "native-cors", preflight, corsChecks, "cors plugin, preflight answered by the filter", "envoy.filters.http.cors answering the preflight"),
    ...pair("canary-header", "canary", "native-canary", beta, canaryChecks, "canary plugin (demo config), x-beta: true rule → canary route", "route header matches (x-canary, x-beta) → canary cluster"),
    ...pair("canary-sticky", "canary", "native-canary", userSplit, canaryChecks, "canary plugin, 30% split sticky by x-user-id (1000 users)", "weighted_clusters 30/70 with use_hash_policy on x-user-id"),
    ...pair("rate-limit", "rate-limit", "native-rate-limit", perClientReq, [perClient], "rate-limit plugin, per-client key (x-client-id, 100 clients), allowed path", "envoy.filters.http.local_ratelimit, dynamic descriptor per x-client-id, X-RateLimit headers"),
    ...pair("rate-limit-global", "rate-limit-global", "native-rate-limit-global", perClientReq, [perClient], "rate-limit plugin, the same per-client rule with scope global: one ShouldRateLimit call per request to envoyproxy/ratelimit on Redis (gRPC cluster, HTTP/2)", "envoy.filters.http.ratelimit against the same service, route rate_limits descriptor per x-client-id, X-RateLimit headers").map((x) => ({ ...x, needs: "rls" as const, alongside: x.kind === "plugin" ? "rate-limit" : "native:rate-limit" })),
    ...pair("auth-key", "auth", "native-key-auth", key, keyChecks, "auth plugin (demo consumers + a JWT consumer), API key", "envoy.filters.http.api_key_auth"),
    ...pair("auth-basic", "auth", "native-basic-auth", basic, basicChecks, "auth plugin, Basic ({SHA256} password)", "envoy.filters.http.basic_auth ({SHA} htpasswd)"),
    ...pair("auth-jwt-cached-rs256", "auth", "native-jwt-cached", bearer(jwt.rs256Pool), jwtChecks, "auth plugin, RS256 JWT (64 tokens in turn), verified-token cache on (1024)", "jwt_authn local_jwks with jwt_cache_config (1024)"),
    ...pair("auth-jwt-cached-es256", "auth", "native-jwt-cached", bearer(jwt.es256Pool), jwtChecks, "auth plugin, ES256 JWT, cache on", "jwt_authn local_jwks with jwt_cache_config (1024)"),
    ...pair("auth-jwt-rs256", "auth-nocache", "native-jwt", bearer(jwt.rs256Pool), jwtChecks, "auth plugin, RS256 JWT (64 tokens in turn) verified on every request (cache_size 0)", "jwt_authn local_jwks, no cache"),
    ...pair("auth-jwt-es256", "auth-nocache", "native-jwt", bearer(jwt.es256Pool), jwtChecks, "auth plugin, ES256 JWT verified on every request", "jwt_authn local_jwks, no cache"),
    ...pair("all", "all-plugins", "all-native", all, allChecks, "cors + auth (key) + rate-limit + canary chained (demo order)", "cors + api_key_auth + local_ratelimit + canary routes"),
  ];
}

// ---- host-call calibration (`bench --envoy --host-calls`) ----

/** Copies of the one call each calibration request makes. */
export const CALLS_PER_REQUEST = 20;

/**
 * What one ABI call costs Envoy, measured with the probe fixture (test/fixtures/probe, built by `tollgate
 * build` in a checkout): each request carries a script of CALLS_PER_REQUEST copies of one call, run in
 * on_request_headers (or on_response_headers). The probe logs each command's result with proxy_log (below
 * the logger level: Envoy drops it after a level check), so every kind but `none` is "the call + one
 * dropped proxy_log"; `get_log_level` is the cheapest call there is, so kind − get_log_level is what the call
 * itself adds over the ABI's fixed crossing. `none` runs the same parser over `return 0` commands.
 */
export const HOST_CALL_KINDS: Record<string, { request?: string; response?: string; note: string }> = {
  none: { request: "return 0", note: "the script parser only (no host call)" },
  get_log_level: { request: "get_log_level", note: "proxy_get_log_level: the fixed cost of crossing the boundary" },
  time: { request: "time", note: "proxy_get_current_time_nanoseconds" },
  get_header_absent: { request: "get_header 0 x-absent", note: "proxy_get_header_map_value, header absent (NotFound)" },
  get_header_found: { request: "get_header 0 user-agent", note: "proxy_get_header_map_value, 46-byte value copied in (one call into the guest's malloc)" },
  remove_request_header: { request: "remove_header 0 x-absent", note: "proxy_remove_header_map_value on the request, header absent (clears the route cache)" },
  replace_request_header: { request: "replace_header 0 x-probe-set v", note: "proxy_replace_header_map_value on the request (clears the route cache)" },
  replace_response_header: { response: "replace_header 2 x-probe-set v", note: "proxy_replace_header_map_value on the response" },
  increment_metric: { request: "increment_metric last 1", note: "proxy_increment_metric (a counter defined at configure)" },
  get_shared_data: { request: "get_shared probe-k", note: "proxy_get_shared_data, a 16-byte value copied in" },
  set_shared_data: { request: "set_shared probe-k 0123456789abcdef 0", note: "proxy_set_shared_data, 16 bytes, no CAS" },
};

/** Where the calibration's probe is built (release), from the checkout's test/fixtures/probe. */
export function hostCallProbe(): { source: string; wasm: string } {
  return { source: join(repoRoot(), "test", "fixtures", "probe", "index.ts"), wasm: join(repoRoot(), "dist", "fixtures", "probe.wasm") };
}

/** The probe behind the calibration scenarios: a counter defined and a shared-data key set at configure. */
export function hostCallTarget(): Target {
  const probe = hostCallProbe().wasm;
  const configuration = "on_configure=define_metric 0 probe_calls;set_shared probe-k 0123456789abcdef 0\n";
  return { name: "host-calls", bootstrap: (up) => bootstrap(up, [wasmFilter("probe", probe, { configuration, rootId: "" })], [STABLE_ROUTE]) };
}

export function hostCallScenarios(): Scenario[] {
  return Object.entries(HOST_CALL_KINDS).map(([kind, k]) => {
    const script = (cmd: string | undefined) => (cmd ? Array.from({ length: CALLS_PER_REQUEST }, () => cmd).join(";") : undefined);
    const headers: Record<string, string> = {};
    const req = script(k.request ?? "return 0");
    if (req) headers["x-probe-request-headers"] = req;
    const res = script(k.response);
    if (res) headers["x-probe-response-headers"] = res;
    return { name: `calls:${kind}`, target: "host-calls", kind: "calls", request: get(headers), checks: [expect({ headers }, 200, {}, "stable")], note: k.note } satisfies Scenario;
  });
}

/** What `--host-calls` reports: per kind, Envoy CPU µs per call, and with `--profile` the split by region. */
export interface HostCallCosts {
  method: string;
  perCall: Record<string, { note: string; cpuUs: number; overCrossingUs?: number; envoyUs?: number; jitUs?: number }>;
}

type RegionFigures = { envoy: number; jit: number; kernel: number; libc: number };

/**
 * Per call = (the kind's median CPU µs per request − kind none's) ÷ CALLS_PER_REQUEST; envoyUs / jitUs the same
 * over the profiled regions (Envoy's C++ + kernel + libc, V8-generated code); overCrossingUs = minus
 * get_log_level's. Undefined when `none` was not measured.
 */
export function hostCallCosts(scenarios: Record<string, object>): HostCallCosts | undefined {
  type Figures = { cpuUsPerRequest: number; cpuByRegion?: RegionFigures };
  const fig = (name: string): Figures | undefined => {
    const f = scenarios[name];
    return f && "cpuUsPerRequest" in f ? (f as Figures) : undefined;
  };
  const none = fig("calls:none");
  if (!none) return undefined;
  const per = (a: number, b: number): number => Math.round(((a - b) / CALLS_PER_REQUEST) * 100) / 100;
  const host = (r: RegionFigures): number => r.envoy + r.kernel + r.libc;
  const perCall: HostCallCosts["perCall"] = {};
  for (const [kind, k] of Object.entries(HOST_CALL_KINDS)) {
    const f = fig(`calls:${kind}`);
    if (kind === "none" || !f) continue;
    perCall[kind] = { note: k.note, cpuUs: per(f.cpuUsPerRequest, none.cpuUsPerRequest) };
    if (f.cpuByRegion && none.cpuByRegion) {
      perCall[kind].envoyUs = per(host(f.cpuByRegion), host(none.cpuByRegion));
      perCall[kind].jitUs = per(f.cpuByRegion.jit, none.cpuByRegion.jit);
    }
  }
  const floor = perCall.get_log_level?.cpuUs;
  if (floor !== undefined) for (const [kind, c] of Object.entries(perCall)) if (kind !== "get_log_level") c.overCrossingUs = Math.round((c.cpuUs - floor) * 100) / 100;
  return {
    method: `the probe fixture makes ${CALLS_PER_REQUEST} copies of one call per request (each followed by one proxy_log below the logger level); per call = (the kind's median CPU µs per request − kind none's, the same parser over 'return 0') ÷ ${CALLS_PER_REQUEST}; envoyUs = Envoy's C++ + kernel + libc regions, jitUs = V8-generated code (with --profile)`,
    perCall,
  };
}
