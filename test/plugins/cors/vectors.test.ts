// The shared CORS vectors (test/vectors/cors-cases.json, a copy of the public vectors: Envoy cors_filter_test.cc, Higress cors plugin
// tests and README, derived cases, Higress unit tables) run through the host on the compiled cors module,
// release and debug. Every vector is either translated into our config/request and asserted, or listed in
// NOT_APPLICABLE with the reason; a new vector in the file fails the test until it is classified.
// Where the sources disagree, each case records which one we follow (`follows`) and why (`why`).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { repoRoot } from "../../../tools/paths.ts";
import { AC_ALLOW, acHeaders, BUILDS, Testers, values, varyTokens, type Pairs } from "./helpers.ts";

interface Vector {
  id: string;
  group?: string;
  config: Record<string, unknown>;
  request: { method: string; headers: Record<string, string> };
  expect: Record<string, unknown>;
  note?: string;
}
interface VectorFile {
  cases: Vector[];
  derived_cases: Vector[];
  higress_unit_tables: Record<string, unknown>;
}

const vectors = JSON.parse(readFileSync(join(repoRoot(), "test", "vectors", "cors-cases.json"), "utf8")) as VectorFile;

/** What we assert for one request. */
interface Expect {
  /** Config rejected at configure; the critical log names this field path. */
  rejected?: string;
  /** true: reached the upstream, no local reply. false: local reply. */
  forwarded?: boolean;
  status?: number;
  details?: string;
  /** The complete set of access-control-* response headers. */
  acExact?: Record<string, string>;
  present?: Record<string, string>;
  presentNames?: string[];
  absent?: string[];
  varyHas?: string[];
  varyAbsent?: boolean;
}

interface Case {
  id: string;
  /** Which source our expectation follows. */
  follows: "envoy" | "higress" | "higress-unit" | "derived" | "fetch" | "issue";
  /** Why, when the sources disagree or the vector had to be adapted. */
  why?: string;
  config: Record<string, unknown>;
  method: string;
  authority: string;
  scheme: string;
  headers: Pairs;
  upstream?: { status?: number; headers: Pairs };
  expect: Expect;
}

// ---------------------------------------------------------------------------------------------------
// Envoy cases: Envoy's CorsPolicy is translated to our fields. Envoy's tests use bare hosts as origins
// ("localhost", "test-host"); our config accepts only serialized origins (a bare host in allow_origins is
// a config error: it could never match what a browser sends), so both sides get an `http://` prefix.
// preflight_status 200 reproduces Envoy's status.

const asOrigin = (o: string): string => (o.includes("://") ? o : `http://${o}`);
const split = (s: string): string[] => s.split(",").map((x) => x.trim()).filter(Boolean);

function envoyConfig(c: Record<string, unknown>): Record<string, unknown> {
  const origins: string[] = [];
  const patterns: string[] = [];
  for (const m of c.allow_origin as Array<{ exact?: string; safe_regex?: string }>) {
    if (m.exact === "*") origins.push("*");
    else if (m.exact !== undefined) origins.push(asOrigin(m.exact));
    else if (m.safe_regex === ".*") patterns.push("*");
    else if (m.safe_regex === ".*.envoyproxy.io") patterns.push("http://*.envoyproxy.io");
    else throw new Error(`untranslated Envoy matcher ${JSON.stringify(m)}`);
  }
  const out: Record<string, unknown> = {
    allow_origins: origins,
    allow_methods: split(c.allow_methods as string),
    allow_headers: split(c.allow_headers as string),
    expose_headers: split(c.expose_headers as string),
    allow_credentials: c.allow_credentials,
    max_age: Number(c.max_age),
    preflight_status: 200,
    allow_private_network: c.allow_private_network_access,
  };
  if (patterns.length) out.allow_origin_patterns = patterns;
  return out;
}

function translateAc(h: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (!k.startsWith("access-control-")) continue;
    out[k] = k === "access-control-allow-origin" ? asOrigin(v) : v;
  }
  return out;
}

function envoyCase(v: Vector): Case {
  const e = v.expect;
  const headers: Pairs = Object.entries(v.request.headers).map(([k, val]) => [k, k === "origin" ? asOrigin(val) : val]);
  const expect: Expect = {};
  if (e.action === "local_reply") {
    expect.forwarded = false;
    expect.status = e.status as number;
    if (e.response_headers_exact) expect.acExact = translateAc(e.response_headers_exact as Record<string, string>);
  } else {
    expect.forwarded = true;
  }
  if (e.response_headers_present) expect.present = translateAc(e.response_headers_present as Record<string, string>);
  if (e.response_headers_absent) expect.absent = e.response_headers_absent as string[];
  return { id: v.id, follows: "envoy", config: envoyConfig(v.config), method: v.request.method, authority: "envoy.test", scheme: "http", headers, expect };
}

/** Refused preflights: Envoy forwards them upstream (forward_not_matching_preflights); we answer them. */
const REFUSED_PREFLIGHT_WHY =
  "Envoy forwards a non-matching preflight upstream (forward_not_matching_preflights, default true); we follow " +
  "Higress 2.0.1 and the issue: answered locally with preflight_status and no Access-Control-Allow-*, so the " +
  "upstream never sees preflights";

const ENVOY_OVERRIDES: Record<string, (c: Case) => Case> = {
  "envoy-OptionsRequestNotMatchingOrigin": (c) => ({ ...c, follows: "higress", why: REFUSED_PREFLIGHT_WHY, expect: { forwarded: false, status: 200, details: "cors.preflight.invalid", absent: AC_ALLOW } }),
  "envoy-OptionsRequestEmptyOriginList": (c) => ({ ...c, follows: "higress", why: REFUSED_PREFLIGHT_WHY, expect: { forwarded: false, status: 200, details: "cors.preflight.invalid", absent: AC_ALLOW } }),
  "envoy-OptionsRequestNotMatchingOriginByRegex": (c) => ({ ...c, follows: "higress", why: REFUSED_PREFLIGHT_WHY, expect: { forwarded: false, status: 200, details: "cors.preflight.invalid", absent: AC_ALLOW } }),
  "envoy-NoVHostCorsEntry_emptyAllowMethods": (c) => ({
    ...c,
    follows: "issue",
    why: "Envoy omits Access-Control-Allow-Methods for an empty allow_methods string; our allow_methods is a list and an empty one could only refuse every preflight, so it is a config error naming the field",
    expect: { rejected: "allow_methods" },
  }),
  "envoy-EncodeWithAllowCredentialsTrue": (c) => ({
    ...c,
    follows: "issue",
    why: "allow_origins [\"*\"] with allow_credentials is rejected at configure (issue, STYLE.md); see the -adapted case for the echo",
    expect: { rejected: "allow_credentials" },
  }),
  "envoy-NoCorsEntry": (c) => ({
    ...c,
    why: "Envoy: no CORS policy on the route. Ours: only a _rules_ entry for another route and no global policy, so the plugin does nothing",
    config: { _rules_: [{ _match_route_: ["some-other-route"], allow_origins: ["*"] }] },
  }),
};

/** Extra cases derived from vectors whose literal config we reject. */
const ENVOY_EXTRA: Case[] = [
  {
    id: "envoy-EncodeWithAllowCredentialsTrue-adapted",
    follows: "envoy",
    why: "same request with the origin listed (any origin with credentials is refused in every spelling, test/security/cors-credentials.test.ts); the origin is echoed as in Envoy",
    config: { ...envoyConfig((vectors.cases.find((c) => c.id === "envoy-EncodeWithAllowCredentialsTrue") as Vector).config), allow_origins: ["http://localhost"] },
    method: "GET",
    authority: "envoy.test",
    scheme: "http",
    headers: [["origin", "http://localhost"]],
    expect: { forwarded: true, present: { "access-control-allow-origin": "http://localhost", "access-control-allow-credentials": "true" } },
  },
];

// ---------------------------------------------------------------------------------------------------
// Higress cases: already in our field names. Pseudo-headers in the vectors become the request line.

function higressCase(v: Vector): Case {
  const e = v.expect;
  const h = v.request.headers;
  const headers: Pairs = Object.entries(h).filter(([k]) => !k.startsWith(":")) as Pairs;
  const expect: Expect = {};
  if (e.action === "local_reply") expect.forwarded = false;
  if (e.action === "forward_to_upstream") expect.forwarded = true;
  if (typeof e.status === "number") expect.status = e.status;
  if (e.response_code_details) expect.details = e.response_code_details as string;
  if (e.response_headers_present) {
    // Vary is checked by token: our preflights add the Access-Control-Request-* names after Origin (issue).
    const { vary, ...rest } = e.response_headers_present as Record<string, string>;
    expect.present = rest;
    if (vary) expect.varyHas = vary.split(",").map((v) => v.trim());
  }
  if (e.response_headers_present_names) expect.presentNames = e.response_headers_present_names as string[];
  if (e.response_headers_absent) expect.absent = (e.response_headers_absent as string[]).filter((n) => n !== "vary");
  if (e.response_vary_values_contain) expect.varyHas = e.response_vary_values_contain as string[];
  let upstream: Case["upstream"];
  if (e.upstream_response) {
    const u = e.upstream_response as Record<string, string>;
    upstream = { status: Number(u[":status"] ?? 200), headers: Object.entries(u).filter(([k]) => k !== ":status") as Pairs };
  }
  return {
    id: v.id,
    follows: "higress",
    config: v.config,
    method: v.request.method,
    authority: h[":authority"] ?? "api.example.com",
    scheme: h[":scheme"] ?? "http",
    headers,
    upstream,
    expect,
  };
}

const SAME_ORIGIN_WHY =
  "the vector's Origin equals scheme://:authority, which Higress's own isCorsRequest (and higress-same-origin-options-forwarded) " +
  "treats as same-origin and passes untouched; the case is run cross-origin (:authority api.example.com, as the sibling vary cases) " +
  "to check what it means to check";
const NO_EXPOSE_ON_PREFLIGHT_WHY =
  "Higress also sends Access-Control-Expose-Headers on preflights; browsers read it only on actual responses (Fetch 4.8), " +
  "Envoy and Kong leave it off, and so do we";
const REFUSED_204_WHY =
  "the older Higress README answers 403 'Invalid CORS request'; Higress 2.0.1 (and the issue) answer 204 without CORS headers";

const HIGRESS_OVERRIDES: Record<string, (c: Case) => Case> = {
  "higress-simple-request-valid-origin": (c) => ({ ...c, why: SAME_ORIGIN_WHY, authority: "api.example.com" }),
  "higress-vary-append-preserves-existing": (c) => ({ ...c, why: SAME_ORIGIN_WHY, authority: "api.example.com" }),
  "higress-preflight-pause": (c) => ({ ...c, why: SAME_ORIGIN_WHY, authority: "api.example.com" }),
  "higress-valid-preflight-204": (c) => {
    const present = { ...c.expect.present };
    delete present["access-control-expose-headers"];
    return { ...c, why: NO_EXPOSE_ON_PREFLIGHT_WHY, expect: { ...c.expect, present, absent: [...(c.expect.absent ?? []), "access-control-expose-headers"] } };
  },
  "higress-no-vary-for-literal-wildcard": (c) => ({
    ...c,
    follows: "higress-unit",
    why: "this vector assumes ACAO '*'; Higress's checkOrigin table (and the issue) echo the request origin even for allow_origins ['*'], " +
      "and an echoed origin needs Vary: Origin (Fetch 3.2.5)",
    expect: { forwarded: true, present: { "access-control-allow-origin": "http://x.test" }, varyHas: ["Origin"] },
  }),
  "higress-allow-all-origins-simple": (c) => ({ ...c, expect: { ...c.expect, present: { "access-control-allow-origin": "http://any-domain.com" }, varyHas: ["Origin"] } }),
  "higress-pattern-match-simple": (c) => ({ ...c, expect: { ...c.expect, present: { "access-control-allow-origin": "http://sub.example.com", "access-control-allow-credentials": "true", "access-control-expose-headers": "X-Custom-Header,X-Env-UTM" } } }),
  "higress-credentials-response": (c) => ({
    ...c,
    follows: "issue",
    why: "Higress accepts allow_origin_patterns ['*'] with credentials and echoes any origin with ACAC: true; that hands every site the user's session, so tollgate refuses it like allow_origins ['*'] (issue 15)",
    expect: { rejected: "allow_credentials" },
  }),
  "higress-readme-simple": (c) => ({ ...c, expect: { ...c.expect, forwarded: true } }),
  "higress-readme-preflight": (c) => {
    const present = { ...c.expect.present };
    delete present["access-control-expose-headers"];
    return { ...c, why: "README shows 200 (204 in the 2.0.1 tests, which we follow); " + NO_EXPOSE_ON_PREFLIGHT_WHY, expect: { forwarded: false, status: 204, present, absent: ["access-control-expose-headers"] } };
  },
  "higress-readme-illegal-origin-preflight": (c) => ({ ...c, why: REFUSED_204_WHY, expect: { forwarded: false, status: 204, details: "cors.preflight.invalid", absent: AC_ALLOW } }),
  "higress-readme-illegal-method-preflight": (c) => ({ ...c, why: REFUSED_204_WHY, expect: { forwarded: false, status: 204, details: "cors.preflight.invalid", absent: AC_ALLOW } }),
  "higress-readme-illegal-header-preflight": (c) => ({ ...c, why: REFUSED_204_WHY, expect: { forwarded: false, status: 204, details: "cors.preflight.invalid", absent: AC_ALLOW } }),
};

// ---------------------------------------------------------------------------------------------------
// Derived cases (no single upstream source): our expectation for each, with the rule it follows.

function derivedCase(v: Vector): Case {
  return {
    id: v.id,
    follows: "derived",
    config: v.config,
    method: v.request.method,
    authority: "api.example.test",
    scheme: "https",
    headers: Object.entries(v.request.headers) as Pairs,
    expect: {},
  };
}

const DERIVED: Record<string, (c: Case) => Case> = {
  "derived-null-origin": (c) => ({ ...c, follows: "fetch", expect: { forwarded: true, absent: AC_ALLOW } }),
  "derived-null-origin-wildcard-credentials": (c) => ({ ...c, follows: "issue", why: "allow_origins ['*'] with credentials is a config error", expect: { rejected: "allow_credentials" } }),
  "derived-credentials-wildcard-echo": (c) => ({ ...c, follows: "issue", why: "allow_origins ['*'] with credentials is a config error; see the -adapted case", expect: { rejected: "allow_credentials" } }),
  "derived-origin-trailing-slash": (c) => ({ ...c, follows: "fetch", why: "an Origin with a path is not a serialized origin: no exact entry matches it", expect: { forwarded: true, absent: AC_ALLOW } }),
  "derived-origin-suffix-attack": (c) => ({ ...c, expect: { forwarded: true, absent: AC_ALLOW } }),
  "derived-origin-case": (c) => ({ ...c, follows: "higress", why: "Envoy's exact matcher is case-sensitive, Higress compares case-insensitively and echoes the original bytes; we follow Higress (browsers always send lower case)", expect: { forwarded: true, present: { "access-control-allow-origin": "HTTPS://A.EXAMPLE" } } }),
  "derived-preflight-disallowed-method": (c) => ({ ...c, follows: "higress", why: "Envoy answers 200 with the allowed list; Higress 2.0.1 answers 204 without CORS headers; either makes the browser fail", expect: { forwarded: false, status: 204, details: "cors.preflight.invalid", absent: AC_ALLOW } }),
  "derived-preflight-acrh-case-and-spaces": (c) => ({ ...c, expect: { forwarded: false, status: 204, presentNames: ["access-control-allow-headers", "access-control-allow-methods", "access-control-allow-origin"], present: { "access-control-allow-headers": "X-A,x-b,Content-Type" } } }),
  "derived-vary-on-preflight": (c) => ({ ...c, expect: { forwarded: false, status: 204, varyHas: ["Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"] } }),
  // The vector writes "absent" as null; tollgate rejects a JSON null like its schema does, so the case runs with the key absent.
  "derived-max-age-absent": (c) => ({ ...c, config: Object.fromEntries(Object.entries(c.config as Record<string, unknown>).filter(([k]) => k !== "max_age")), follows: "issue", why: "an absent max_age gets the issue's default (86400, Higress) instead of omitting the header (Envoy)", expect: { forwarded: false, present: { "access-control-max-age": "86400" } } }),
};

const DERIVED_EXTRA: Case[] = [
  {
    id: "derived-credentials-wildcard-echo-adapted",
    follows: "issue",
    why: "allow_origin_patterns ['*'] with credentials admits every site like allow_origins ['*'] (test/security/cors-credentials.test.ts): refused",
    config: { allow_origin_patterns: ["*"], allow_credentials: true },
    method: "GET",
    authority: "api.example.test",
    scheme: "https",
    headers: [["origin", "https://a.example"]],
    expect: { rejected: "allow_credentials" },
  },
  {
    id: "derived-credentials-subdomain-pattern-echo",
    follows: "derived",
    why: "credentials with a pattern confined to one domain: the origin is echoed, never '*'",
    config: { allow_origin_patterns: ["https://*.a.example"], allow_credentials: true },
    method: "GET",
    authority: "api.example.test",
    scheme: "https",
    headers: [["origin", "https://app.a.example"]],
    expect: { forwarded: true, present: { "access-control-allow-origin": "https://app.a.example", "access-control-allow-credentials": "true" }, varyHas: ["Origin"] },
  },
  {
    id: "derived-null-origin-patterns-wildcard-credentials",
    follows: "fetch",
    why: "'null' (sandboxed documents) is matched only by a literal \"null\" entry, never by a pattern",
    config: { allow_origin_patterns: ["https://*.a.example"], allow_credentials: true },
    method: "GET",
    authority: "api.example.test",
    scheme: "https",
    headers: [["origin", "null"], ["cookie", "a=b"]],
    expect: { forwarded: true, absent: AC_ALLOW },
  },
];

const NOT_APPLICABLE: Record<string, string> = {
  "envoy-OptionsRequestWithOriginCorsDisabled": "filter_enabled (a runtime fraction) has no equivalent: a route without a policy is expressed with _rules_ (see envoy-NoCorsEntry)",
  "envoy-OptionsRequestWithOriginCorsDisabledShadowEnabled": "shadow_enabled (stats-only mode) has no equivalent",
  "envoy-RedirectRoute": "about Envoy skipping CORS on direct-response/redirect routes, which a wasm filter cannot tell apart",
};

// ---------------------------------------------------------------------------------------------------

function allCases(): Case[] {
  const out: Case[] = [];
  const seen = new Set<string>();
  for (const v of [...vectors.cases, ...vectors.derived_cases]) {
    seen.add(v.id);
    if (v.id in NOT_APPLICABLE) continue;
    if (v.group === "envoy_cors_filter") out.push((ENVOY_OVERRIDES[v.id] ?? ((c) => c))(envoyCase(v)));
    else if (v.group === "higress_cors_plugin") out.push((HIGRESS_OVERRIDES[v.id] ?? ((c) => c))(higressCase(v)));
    else if (v.id in DERIVED) out.push(DERIVED[v.id](derivedCase(v)));
    else throw new Error(`vector ${v.id} is not classified: translate it or list it in NOT_APPLICABLE`);
  }
  for (const id of [...Object.keys(ENVOY_OVERRIDES), ...Object.keys(HIGRESS_OVERRIDES), ...Object.keys(DERIVED), ...Object.keys(NOT_APPLICABLE)]) {
    if (!seen.has(id)) throw new Error(`classification for ${id}, which is not in cors-cases.json`);
  }
  return [...out, ...ENVOY_EXTRA, ...DERIVED_EXTRA];
}

// ---- Higress unit tables, as requests ----

interface UnitRow { name: string; c: Case }

function unitRows(): UnitRow[] {
  const t = vectors.higress_unit_tables as Record<string, Array<Record<string, unknown>>>;
  const rows: UnitRow[] = [];
  const base = { method: "GET", authority: "httpbin.example.com", scheme: "http" };
  for (const r of t.isCorsRequest) {
    const origin = r.origin as string;
    const headers: Pairs = origin ? [["origin", origin]] : [];
    rows.push({
      name: `isCorsRequest: ${r.name}`,
      c: {
        id: "unit", follows: "higress-unit", config: { allow_origins: ["*"] }, ...base, scheme: r.scheme as string, authority: r.host as string, headers,
        // Not a CORS request → untouched; a CORS request with allow_origins * → the origin echoed as sent.
        expect: r.want ? { forwarded: true, present: { "access-control-allow-origin": origin.trim() } } : { forwarded: true, absent: AC_ALLOW, varyAbsent: true },
      },
    });
  }
  for (const r of t.getHostAndPort) {
    // Default ports are folded: Origin scheme://host:<default> is the same origin as :authority host.
    if (r.wantPort === "") continue; // Higress gives wss no default port; no browser sends a ws(s) Origin.
    const authority = r.host as string;
    const origin = `${(r.scheme as string).toLowerCase()}://${r.wantHost}:${r.wantPort}`;
    rows.push({
      name: `getHostAndPort: ${r.scheme} ${authority} = ${origin}`,
      c: { id: "unit", follows: "higress-unit", config: { allow_origins: ["*"] }, method: "GET", scheme: r.scheme as string, authority, headers: [["origin", origin]], expect: { forwarded: true, absent: AC_ALLOW, varyAbsent: true } },
    });
  }
  for (const r of t.isPreFlight) {
    const headers: Pairs = [];
    if (r.origin) headers.push(["origin", r.origin as string]);
    if (r.acrm) headers.push(["access-control-request-method", r.acrm as string]);
    rows.push({
      name: `isPreFlight: ${r.method || "(none)"} ${r.acrm || ""}`,
      c: { id: "unit", follows: "higress-unit", config: { allow_origins: ["*"] }, method: (r.method as string) || "GET", authority: "api.example.com", scheme: "http", headers, expect: { forwarded: !r.want } },
    });
  }
  for (const r of t.checkMethods) {
    const methods = r.allow_methods === "<defaults>" ? undefined : r.allow_methods;
    const acrm = r.request_method as string;
    const headers: Pairs = [["origin", "http://client.example.com"]];
    if (acrm) headers.push(["access-control-request-method", acrm]);
    let expect: Expect;
    let why: string | undefined;
    if (!acrm) {
      why = "no Access-Control-Request-Method: not a preflight at all, so the OPTIONS goes upstream";
      expect = { forwarded: true };
    } else if (!r.want_ok) {
      expect = { forwarded: false, status: 204, absent: AC_ALLOW };
    } else {
      const want = r.want_header === "<defaultAllAllowMethods>" ? acrm : (r.want_header as string);
      if (r.want_header === "<defaultAllAllowMethods>") why = "issue1743: '*' echoes the requested method (the pre-1743 table sent the default list)";
      expect = { forwarded: false, status: 204, present: { "access-control-allow-methods": want } };
    }
    rows.push({
      name: `checkMethods: ${JSON.stringify(r.allow_methods)} ${acrm || "(none)"}`,
      c: { id: "unit", follows: "higress-unit", why, config: { allow_origins: ["*"], ...(methods ? { allow_methods: methods } : {}) }, method: "OPTIONS", authority: "api.example.com", scheme: "http", headers, expect },
    });
  }
  for (const r of t.checkHeaders) {
    const acrh = r.request_headers as string;
    const headers: Pairs = [["origin", "http://client.example.com"], ["access-control-request-method", "GET"]];
    if (acrh) headers.push(["access-control-request-headers", acrh]);
    let expect: Expect;
    let why: string | undefined;
    // The unit test's nil list is "no headers allowed", not the defaults the plugin fills in.
    const allow = (r.allow_headers as string[] | null) ?? [];
    if (!r.want_ok && !acrh) {
      why = "Higress's unit table refuses an empty allow list even when no header is requested; a preflight that asks for no header needs none allowed (Fetch 4.8), so we allow it and send no Allow-Headers";
      expect = { forwarded: false, status: 204, present: { "access-control-allow-origin": "http://client.example.com" }, absent: ["access-control-allow-headers"] };
    } else if (!r.want_ok) {
      expect = { forwarded: false, status: 204, absent: AC_ALLOW };
    } else if (r.want_header === "") {
      expect = { forwarded: false, status: 204, absent: ["access-control-allow-headers"], present: { "access-control-allow-origin": "http://client.example.com" } };
    } else {
      expect = { forwarded: false, status: 204, present: { "access-control-allow-headers": r.want_header as string } };
    }
    rows.push({
      name: `checkHeaders: ${JSON.stringify(r.allow_headers)} ${JSON.stringify(acrh)}`,
      c: { id: "unit", follows: "higress-unit", why, config: { allow_origins: ["*"], allow_headers: allow }, method: "OPTIONS", authority: "api.example.com", scheme: "http", headers, expect },
    });
  }
  for (const r of t.checkOrigin) {
    const cfg: Record<string, unknown> = {};
    if ((r.allow_origins as string[]).length) cfg.allow_origins = r.allow_origins;
    if ((r.patterns as string[]).length) cfg.allow_origin_patterns = r.patterns;
    rows.push({
      name: `checkOrigin: ${JSON.stringify(r.allow_origins)} ${JSON.stringify(r.patterns)} ${r.origin}`,
      c: {
        id: "unit", follows: "higress-unit", config: cfg, method: "GET", authority: "gateway.test", scheme: "http", headers: [["origin", r.origin as string]],
        expect: r.want_ok ? { forwarded: true, present: { "access-control-allow-origin": r.want as string } } : { forwarded: true, absent: AC_ALLOW },
      },
    });
  }
  for (const r of t.process_wildcard_preflight) {
    const want = r.want as Record<string, unknown>;
    const expect: Expect = { forwarded: false, status: 204, present: { "access-control-allow-methods": want.allow_methods as string } };
    if (want.allow_headers) expect.present!["access-control-allow-headers"] = want.allow_headers as string;
    else expect.absent = ["access-control-allow-headers"];
    rows.push({
      name: `process_wildcard_preflight: ${JSON.stringify(r.headers)}`,
      c: { id: "unit", follows: "higress-unit", config: r.config as Record<string, unknown>, method: r.method as string, authority: r.host as string, scheme: r.scheme as string, headers: Object.entries(r.headers as Record<string, string>) as Pairs, expect },
    });
  }
  return rows;
}

const UPSTREAM_MARK = "x-reached-upstream";

async function check(testers: Testers, c: Case): Promise<void> {
  const t = await testers.get(c.config);
  const label = `${c.id} (follows ${c.follows}${c.why ? `: ${c.why}` : ""})`;
  if (c.expect.rejected) {
    assert.equal(t.configured, false, `${label}: config must be rejected`);
    const crit = t.logsAt("critical").join("\n");
    assert.match(crit, new RegExp(`'${c.expect.rejected.replace(/[[\]]/g, "\\$&")}'`), `${label}: the log names the field`);
    return;
  }
  assert.equal(t.configured, true, `${label}: config accepted; logs: ${JSON.stringify(t.logs)}`);
  const res = await t.exchange({
    method: c.method,
    path: "/api/test",
    authority: c.authority,
    scheme: c.scheme,
    headers: c.headers,
    upstream: () => ({ status: c.upstream?.status ?? 200, headers: [[UPSTREAM_MARK, "1"], ...(c.upstream?.headers ?? [])], body: "ok" }),
  });
  const e = c.expect;
  const headers = res.headers as Pairs;
  if (e.forwarded !== undefined) {
    assert.equal(res.upstreamRequest !== null, e.forwarded, `${label}: reached upstream`);
    assert.equal(res.localReply, !e.forwarded, `${label}: local reply`);
  }
  if (e.status !== undefined) assert.equal(res.status, e.status, `${label}: status`);
  if (e.details !== undefined) assert.equal(res.details, e.details, `${label}: details`);
  const ac = acHeaders(headers);
  if (e.acExact) assert.deepEqual(ac, e.acExact, `${label}: exact access-control-* set`);
  for (const [k, v] of Object.entries(e.present ?? {})) assert.equal(ac[k] ?? values(headers, k)[0], v, `${label}: ${k}`);
  for (const k of e.presentNames ?? []) assert.ok(values(headers, k).length === 1, `${label}: ${k} present once`);
  for (const k of e.absent ?? []) assert.deepEqual(values(headers, k), [], `${label}: ${k} absent`);
  for (const v of e.varyHas ?? []) assert.ok(varyTokens(headers).includes(v.toLowerCase()), `${label}: Vary has ${v}, got ${JSON.stringify(values(headers, "vary"))}`);
  if (e.varyAbsent) assert.deepEqual(values(headers, "vary"), [], `${label}: no Vary`);
  // Never ACAO '*' together with credentials, whatever the case.
  if (ac["access-control-allow-credentials"]) assert.notEqual(ac["access-control-allow-origin"], "*", `${label}: '*' with credentials`);
}

for (const build of BUILDS) {
  describe(`cors vectors (${build})`, () => {
    const testers = new Testers(build);
    after(() => testers.close());
    const cases = allCases();
    for (const c of cases) test(c.id, () => check(testers, c));
    for (const r of unitRows()) test(r.name, () => check(testers, r.c));
  });
}
