// Kubernetes Ingress (networking.k8s.io/v1) with ingress-nginx / Higress annotations → tollgate (issue 21).
// Reads Ingresses into one route model (this file; who may reach a route — basic auth, source ranges — in
// ingress-access.ts, manifests read by ingress-read.ts); ingress-plugins.ts turns it into plugin configs and
// ingress-out.ts writes it for Istio (Gateway + VirtualService + WasmPlugins, in the shape Higress produces: every
// http route named `<namespace>/<ingress>`), for Higress (WasmPlugins with matchRules by ingress) and for plain
// Envoy (a runnable bootstrap whose clusters are the backend services).
//
// Semantics follow ingress-nginx's annotation docs (Higress accepts the same names under `higress.io/`):
// - enable-cors: allow-origin "*", methods "GET, PUT, POST, DELETE, PATCH, OPTIONS", headers
//   "DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization",
//   credentials true, max-age 1728000, no expose headers; a preflight is answered 204.
// - canary: the canary Ingress joins the non-canary Ingress with the same host and path; canary-by-header
//   ("always" → canary, "never" → stable, other values fall through; with canary-by-header-value only that value
//   selects the canary, with canary-by-header-pattern a regex), then canary-by-cookie ("always"/"never"), then
//   canary-weight out of canary-weight-total (default 100). Other annotations on a canary Ingress are ignored, as
//   ingress-nginx ignores them.
// - limit-rps / limit-rpm: per client IP, nginx limit_req with burst = limit × limit-burst-multiplier (default 5)
//   and nodelay, rejected with 503. nginx admits burst + 1 requests at once (a request is refused once its
//   excess would pass `burst`), then one per 1/rate: a token bucket of burst + 1 refilled at the rate.
// - canary-by-header-pattern: PCRE matched anywhere in the value (ngx.re.match, unanchored), so the route regex
//   (RE2, whole value in Envoy and Istio) is `.*(?:<pattern>).*`; a pattern RE2 cannot run is refused.
// - auth-type basic + auth-secret (+ auth-secret-type auth-file|auth-map, auth-realm): the htpasswd Secret
//   (same input) becomes auth plugin Basic consumers (htpasswd.ts says which entries can be); ingress-nginx
//   strips Authorization before the upstream (hide_credentials). An auth the translation cannot carry is an
//   error, never a route served open.
// - whitelist-source-range: CIDRs of the client address (403 otherwise): an Istio AuthorizationPolicy, Envoy's RBAC
//   filter per route in the bootstrap.
import { compileRe2, Re2SyntaxError } from "../gateway/re2.ts";
import { IngressError } from "./errors.ts";
import { AUTH_KEYS, basicAuth, checkBasicAuth, sourceRanges, type BasicAuthPolicy, type SecretDoc } from "./ingress-access.ts";

export type { BasicAuthPolicy, SecretDoc } from "./ingress-access.ts";

export const PREFIXES = ["nginx.ingress.kubernetes.io/", "higress.io/"] as const;

/** ingress-nginx's enable-cors defaults (annotations docs, "Enable CORS"). */
export const CORS_DEFAULTS = {
  allowOrigin: "*",
  allowMethods: "GET, PUT, POST, DELETE, PATCH, OPTIONS",
  allowHeaders: "DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization",
  allowCredentials: true,
  maxAge: 1728000,
};
export const DEFAULT_BURST_MULTIPLIER = 5;
/** ingress-nginx's limit-req-status-code default. */
export const LIMIT_STATUS = 503;
export const CANARY_TAG_HEADER = "x-canary-version";

const CORS_KEYS = ["enable-cors", "cors-allow-origin", "cors-allow-methods", "cors-allow-headers", "cors-expose-headers", "cors-allow-credentials", "cors-max-age"];
const CANARY_KEYS = ["canary", "canary-weight", "canary-weight-total", "canary-by-header", "canary-by-header-value", "canary-by-header-pattern", "canary-by-cookie"];
const LIMIT_KEYS = ["limit-rps", "limit-rpm", "limit-burst-multiplier"];
const HANDLED = new Set([...CORS_KEYS, ...CANARY_KEYS, ...LIMIT_KEYS, ...AUTH_KEYS, "whitelist-source-range"]);
/** Annotations no controller reads for routing; listed as not translated only when they name an ingress class. */
const NOISE = new Set(["kubectl.kubernetes.io/last-applied-configuration"]);

export interface Backend {
  service: string;
  namespace: string;
  port: number | string;
}

export interface Ingress {
  file: string;
  /** YAML path of the object in its file (`[2]` = the third document). */
  at: string;
  namespace: string;
  name: string;
  /** Annotations without prefix; a key given under both prefixes keeps the higress.io/ value (Higress' rule). */
  ann: Map<string, { value: string; key: string }>;
  /** Every annotation as written. */
  raw: Record<string, string>;
  ingressClass?: string;
  defaultBackend?: Backend;
  rules: Array<{ host: string; paths: Array<{ path: string; pathType: PathType; backend: Backend; at: string }> }>;
  tls: Array<{ hosts: string[]; secretName?: string }>;
}

export type PathType = "Exact" | "Prefix" | "ImplementationSpecific";

export interface CorsPolicy {
  allow_origins: string[];
  allow_origin_patterns: string[];
  allow_methods: string[];
  allow_headers: string[];
  expose_headers: string[];
  allow_credentials: boolean;
  max_age: number;
}

export interface LimitRule {
  name: "rps" | "rpm";
  perSecond: boolean;
  limit: number;
  burst: number;
}

export interface CanarySpec {
  ingress: string;
  backend: Backend;
  header?: { name: string; value?: string; pattern?: string };
  cookie?: string;
  weight: number;
  total: number;
}

/** One path of one host, from a non-canary Ingress, with its canary twin when there is one. */
export interface Route {
  /** `<namespace>/<ingress>`: the route name `_match_route_` / Higress matchRules select. */
  name: string;
  host: string;
  path: string;
  pathType: PathType;
  backend: Backend;
  canary?: CanarySpec;
  /** Index of the Ingress for ordering ties. */
  order: number;
}

export interface Note {
  ingress: string;
  annotation?: string;
  message: string;
}

export interface IngressModel {
  ingresses: Ingress[];
  routes: Route[];
  /** Policies by route name. */
  cors: Map<string, CorsPolicy>;
  limits: Map<string, LimitRule[]>;
  basicAuth: Map<string, BasicAuthPolicy>;
  /** whitelist-source-range CIDRs by route name. */
  sourceRanges: Map<string, string[]>;
  /** Annotations and fields not translated (each with its Ingress), and why. */
  untranslated: Note[];
  /** Translated, but not exactly as the source controller behaves. */
  differences: Note[];
  /** Other input notes (kinds ignored, Secrets read). */
  notes: string[];
  tls: Array<{ ingress: string; hosts: string[]; secretName?: string }>;
}

const id = (i: { namespace: string; name: string }) => `${i.namespace}/${i.name}`;

function csv(s: string): string[] {
  return s.split(",").map((x) => x.trim()).filter(Boolean);
}

function intAnn(ing: Ingress, key: string, min: number, max: number): number | undefined {
  const a = ing.ann.get(key);
  if (!a) return undefined;
  const t = a.value.trim();
  if (!/^\d+$/.test(t) || Number(t) < min || Number(t) > max) {
    throw new IngressError(ing.file, `${ing.at ? `${ing.at}.` : ""}metadata.annotations["${a.key}"]`, `must be an integer ${min}-${max}, got "${a.value}"`, `set a number between ${min} and ${max}`);
  }
  return Number(t);
}

function boolAnn(ing: Ingress, key: string): boolean | undefined {
  const a = ing.ann.get(key);
  if (!a) return undefined;
  const t = a.value.trim().toLowerCase();
  if (t !== "true" && t !== "false") throw new IngressError(ing.file, `${ing.at ? `${ing.at}.` : ""}metadata.annotations["${a.key}"]`, `must be "true" or "false", got "${a.value}"`, 'write "true" or "false"');
  return t === "true";
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function corsPolicy(ing: Ingress, model: IngressModel): CorsPolicy | null {
  if (!boolAnn(ing, "enable-cors")) {
    for (const k of CORS_KEYS.slice(1)) if (ing.ann.has(k)) model.untranslated.push({ ingress: id(ing), annotation: ing.ann.get(k)!.key, message: "has no effect without enable-cors: \"true\" (as in ingress-nginx)" });
    return null;
  }
  const field = (k: string) => `${ing.at ? `${ing.at}.` : ""}metadata.annotations["${ing.ann.get(k)?.key ?? k}"]`;
  const list = (k: string, def: string) => {
    const items = csv(ing.ann.get(k)?.value ?? def);
    for (const x of items) if (!TOKEN.test(x) && x !== "*") throw new IngressError(ing.file, field(k), `'${x}' is not an HTTP token`, "list names separated by commas");
    return items;
  };
  const origins: string[] = [];
  const patterns: string[] = [];
  for (const o of csv(ing.ann.get("cors-allow-origin")?.value ?? CORS_DEFAULTS.allowOrigin)) {
    if (o === "*") origins.push("*");
    else if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/\s]+$/.test(o)) throw new IngressError(ing.file, field("cors-allow-origin"), `'${o}' is not an origin (scheme://host[:port]) or "*"`, "list origins separated by commas, e.g. https://app.example.com, https://*.example.com");
    else if (o.includes("*")) patterns.push(o);
    else origins.push(o);
  }
  let credentials = boolAnn(ing, "cors-allow-credentials") ?? CORS_DEFAULTS.allowCredentials;
  if (credentials && origins.includes("*")) {
    // ingress-nginx echoes any Origin with credentials; the cors plugin refuses that (any site could read a
    // signed-in user's responses), so the translation keeps "*" and drops credentials, and says so.
    credentials = false;
    model.differences.push({
      ingress: id(ing),
      annotation: ing.ann.get("cors-allow-credentials")?.key ?? ing.ann.get("enable-cors")!.key,
      message: 'cors-allow-credentials is true (the default) with cors-allow-origin "*": the cors plugin refuses credentials for every origin, so Access-Control-Allow-Credentials is not sent; list the origins in cors-allow-origin to keep credentials',
    });
  }
  if (credentials && patterns.some((p) => !/^[A-Za-z][A-Za-z0-9+.-]*:\/\/\*\.[A-Za-z0-9-]+\.[A-Za-z0-9.-]+(:\d+)?$/.test(p))) {
    throw new IngressError(ing.file, field("cors-allow-origin"), `a wildcard origin not confined to a domain (${patterns.join(", ")}) with credentials would let other sites read credentialed responses`, 'confine the wildcard (https://*.example.com) or set cors-allow-credentials: "false"');
  }
  return {
    allow_origins: origins,
    allow_origin_patterns: patterns,
    allow_methods: list("cors-allow-methods", CORS_DEFAULTS.allowMethods).map((m) => m.toUpperCase()),
    allow_headers: list("cors-allow-headers", CORS_DEFAULTS.allowHeaders),
    expose_headers: list("cors-expose-headers", ""),
    allow_credentials: credentials,
    max_age: intAnn(ing, "cors-max-age", 0, 2147483647) ?? CORS_DEFAULTS.maxAge,
  };
}

function limitRules(ing: Ingress): LimitRule[] {
  const mult = intAnn(ing, "limit-burst-multiplier", 1, 1000) ?? DEFAULT_BURST_MULTIPLIER;
  const out: LimitRule[] = [];
  const rps = intAnn(ing, "limit-rps", 0, 1000000);
  const rpm = intAnn(ing, "limit-rpm", 0, 1000000);
  // 0 disables the limit in ingress-nginx.
  if (rps) out.push({ name: "rps", perSecond: true, limit: rps, burst: rps * mult });
  if (rpm) out.push({ name: "rpm", perSecond: false, limit: rpm, burst: rpm * mult });
  return out;
}

function canarySpec(ing: Ingress, backend: Backend, model: IngressModel): CanarySpec {
  const field = (k: string) => `${ing.at ? `${ing.at}.` : ""}metadata.annotations["${ing.ann.get(k)?.key ?? k}"]`;
  const total = intAnn(ing, "canary-weight-total", 1, 1000000) ?? 100;
  let weight = intAnn(ing, "canary-weight", 0, 1000000) ?? 0;
  if (weight > total) {
    model.differences.push({ ingress: id(ing), annotation: ing.ann.get("canary-weight")!.key, message: `canary-weight ${weight} is more than canary-weight-total ${total}: every request goes to the canary` });
    weight = total;
  }
  const spec: CanarySpec = { ingress: id(ing), backend, weight, total };
  const header = ing.ann.get("canary-by-header")?.value.trim();
  if (header) {
    if (!TOKEN.test(header)) throw new IngressError(ing.file, field("canary-by-header"), `'${header}' is not a header name`, "name a request header");
    spec.header = { name: header.toLowerCase() };
    const value = ing.ann.get("canary-by-header-value")?.value;
    const pattern = ing.ann.get("canary-by-header-pattern")?.value;
    if (value !== undefined && value !== "") {
      spec.header.value = value;
      if (pattern) model.untranslated.push({ ingress: id(ing), annotation: ing.ann.get("canary-by-header-pattern")!.key, message: "ignored because canary-by-header-value is set (ingress-nginx's precedence)" });
    } else if (pattern) {
      try {
        compileRe2(headerPatternRegex(pattern));
      } catch (e) {
        if (!(e instanceof Re2SyntaxError)) throw e;
        throw new IngressError(ing.file, field("canary-by-header-pattern"), `cannot run as RE2 (Envoy's regex engine): ${e.message}`, "rewrite the pattern without PCRE-only features (backreferences, lookaround, possessive quantifiers)");
      }
      spec.header.pattern = pattern;
    }
  } else {
    for (const k of ["canary-by-header-value", "canary-by-header-pattern"]) if (ing.ann.has(k)) model.untranslated.push({ ingress: id(ing), annotation: ing.ann.get(k)!.key, message: "has no effect without canary-by-header" });
  }
  const cookie = ing.ann.get("canary-by-cookie")?.value.trim();
  if (cookie) {
    if (!TOKEN.test(cookie)) throw new IngressError(ing.file, field("canary-by-cookie"), `'${cookie}' is not a cookie name`, "name a cookie");
    spec.cookie = cookie;
  }
  return spec;
}

/** ingress-nginx matches the pattern anywhere in the value; Envoy's and Istio's regex must match the whole value. */
export function headerPatternRegex(pattern: string): string {
  return `.*(?:${pattern}).*`;
}

function isCanary(ing: Ingress): boolean {
  return boolAnn(ing, "canary") === true;
}

/** The route model: routes per host/path with canary twins joined, policies per route name, notes. */
export function translate(ingresses: Ingress[], notes: string[] = [], secrets: Map<string, SecretDoc> = new Map()): IngressModel {
  const model: IngressModel = { ingresses, routes: [], cors: new Map(), limits: new Map(), basicAuth: new Map(), sourceRanges: new Map(), untranslated: [], differences: [], notes, tls: [] };
  const seen = new Map<string, Ingress>();
  for (const ing of ingresses) {
    if (seen.has(id(ing))) throw new IngressError(ing.file, `${ing.at ? `${ing.at}.` : ""}metadata.name`, `Ingress ${id(ing)} is given twice (also in ${seen.get(id(ing))!.file})`, "give each Ingress once");
    seen.set(id(ing), ing);
  }
  const stable = ingresses.filter((i) => !isCanary(i));
  const canaries = ingresses.filter(isCanary);
  const key = (host: string, path: string) => `${host} ${path}`;
  const byPath = new Map<string, Route>();
  stable.forEach((ing, order) => {
    const name = id(ing);
    for (const r of ing.rules) {
      const paths = r.paths.length ? r.paths : ing.defaultBackend ? [{ path: "/", pathType: "Prefix" as PathType, backend: ing.defaultBackend, at: "" }] : [];
      for (const p of paths) {
        const k = key(r.host, p.path);
        const prev = byPath.get(k);
        // ingress-nginx: the first Ingress (oldest) keeps a host/path given twice.
        if (prev) {
          model.untranslated.push({ ingress: name, message: `path ${r.host || "*"}${p.path} is also defined by ${prev.name}; that one is used` });
          continue;
        }
        const route: Route = { name, host: r.host, path: p.path, pathType: p.pathType, backend: p.backend, order };
        byPath.set(k, route);
        model.routes.push(route);
      }
    }
    if (ing.defaultBackend && !byPath.has(key("", "/"))) {
      const route: Route = { name, host: "", path: "/", pathType: "Prefix", backend: ing.defaultBackend, order: Number.MAX_SAFE_INTEGER };
      byPath.set(key("", "/"), route);
      model.routes.push(route);
    }
    const cors = corsPolicy(ing, model);
    if (cors) model.cors.set(name, cors);
    const limits = limitRules(ing);
    if (limits.length) model.limits.set(name, limits);
    const auth = basicAuth(ing, model, secrets);
    if (auth) model.basicAuth.set(name, auth);
    const ranges = sourceRanges(ing);
    if (ranges) model.sourceRanges.set(name, ranges);
    for (const t of ing.tls) model.tls.push({ ingress: name, ...t });
    reportOthers(ing, model, false);
  });
  for (const ing of canaries) {
    reportOthers(ing, model, true);
    for (const r of ing.rules) {
      for (const p of r.paths) {
        const twin = byPath.get(key(r.host, p.path));
        if (!twin) {
          model.untranslated.push({ ingress: id(ing), message: `canary path ${r.host || "*"}${p.path} has no non-canary Ingress with the same host and path, so it routes nothing (as in ingress-nginx)` });
          continue;
        }
        if (twin.canary) {
          model.untranslated.push({ ingress: id(ing), message: `path ${r.host || "*"}${p.path} already has the canary ${twin.canary.ingress} (ingress-nginx allows one canary per path)` });
          continue;
        }
        twin.canary = canarySpec(ing, p.backend, model);
      }
    }
  }
  checkBasicAuth(model);
  const used = new Set([...model.basicAuth.values()].map((a) => a.secret));
  for (const [key, sec] of secrets) {
    notes.push(used.has(key) ? `${sec.file}${sec.at}: Secret ${key} read for basic auth` : `${sec.file}${sec.at}: Secret ${key} ignored (no translated auth-secret names it)`);
  }
  return model;
}

function reportOthers(ing: Ingress, model: IngressModel, canary: boolean): void {
  const name = id(ing);
  for (const [k, v] of Object.entries(ing.raw)) {
    if (NOISE.has(k)) continue;
    const prefix = PREFIXES.find((p) => k.startsWith(p));
    const short = prefix ? k.slice(prefix.length) : null;
    // A key given under both prefixes: the one not used is reported.
    if (short && ing.ann.get(short)?.key !== k) {
      model.untranslated.push({ ingress: name, annotation: k, message: `overridden by ${ing.ann.get(short)!.key}` });
      continue;
    }
    if (short && canary && !CANARY_KEYS.includes(short)) {
      model.untranslated.push({ ingress: name, annotation: k, message: "ignored on a canary Ingress (ingress-nginx applies the stable Ingress' annotations to canary traffic)" });
      continue;
    }
    if (short && !canary && CANARY_KEYS.includes(short) && short !== "canary") {
      model.untranslated.push({ ingress: name, annotation: k, message: 'has no effect without canary: "true"' });
      continue;
    }
    if (short && HANDLED.has(short)) continue;
    let why = "no tollgate translation";
    if (short === "denylist-source-range") why = "IP deny lists are not translated; enforce them at the load balancer or with an Istio AuthorizationPolicy (DENY, remoteIpBlocks)";
    else if (k === "kubernetes.io/ingress.class") why = "ingress class is not used: tollgate translates every Ingress it is given";
    else if (!prefix) why = "not an ingress-nginx or Higress annotation";
    model.untranslated.push({ ingress: name, annotation: k, message: `${why} (value "${v.length > 60 ? `${v.slice(0, 60)}…` : v}")` });
  }
}

/** `<ns>/<ingress>: <annotation>: <why>` lines for stderr. */
export function formatNotes(model: IngressModel): string[] {
  const lines = model.notes.map((n) => `note: ${n}`);
  for (const u of model.untranslated) lines.push(`not translated: Ingress ${u.ingress}${u.annotation ? `: ${u.annotation}` : ""}: ${u.message}`);
  for (const d of model.differences) lines.push(`difference: Ingress ${d.ingress}${d.annotation ? `: ${d.annotation}` : ""}: ${d.message}`);
  return lines;
}

// ---- routes ---------------------------------------------------------------------------------------------------

/** Routes per host, most specific first: Exact before Prefix, longer paths first (as ingress-nginx orders them). */
export function routesByHost(model: IngressModel): Map<string, Route[]> {
  const out = new Map<string, Route[]>();
  for (const r of model.routes) {
    const l = out.get(r.host) ?? [];
    l.push(r);
    out.set(r.host, l);
  }
  for (const l of out.values()) {
    l.sort((a, b) => (a.pathType === "Exact" ? 0 : 1) - (b.pathType === "Exact" ? 0 : 1) || b.path.length - a.path.length || a.order - b.order);
  }
  return new Map([...out].sort((a, b) => (a[0] === "" ? 1 : b[0] === "" ? -1 : a[0].localeCompare(b[0]))));
}

/** Every backend, unique, in first-use order. */
export function backends(model: IngressModel): Backend[] {
  const out = new Map<string, Backend>();
  for (const r of model.routes) {
    for (const b of [r.backend, r.canary?.backend]) if (b) out.set(`${b.namespace}/${b.service}:${b.port}`, b);
  }
  return [...out.values()];
}
