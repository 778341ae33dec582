// Envoy bootstrap v3 → the embedded engine's model. The file is first validated strictly against the Envoy
// API protos (what Envoy itself would reject, we reject); then every field is checked against the subset the
// embedded engine implements. Anything outside it is an error naming its YAML path — never silently ignored.
import { readFileSync, statSync } from "node:fs";
import { isIP } from "node:net";
import { isAbsolute, resolve } from "node:path";
import { protoBool, protoInt } from "../envoy/proto-json.ts";
import { validateBootstrap } from "../envoy/validate.ts";
import { parseEnvoyYaml } from "../envoy/yaml.ts";
import { API, arr, bool, durationMs, enumOf, get, join, obj, Reader, str, type Obj } from "./bootstrap-fields.ts";
import type { StatsSettings, StatsTag } from "./prometheus.ts";
import { RBAC_TYPE, rbacFilter, rbacPerRoute } from "./rbac.ts";
import { compileRe2, Re2SyntaxError } from "./re2.ts";
import type { Cluster, FailurePolicy, GatewayConfig, HeaderMatcher, HeaderToAdd, Listener, Route, RouteTarget, SocketAddress, StringMatch, VirtualHost, WasmFilter } from "./model.ts";

const T = "type.googleapis.com/";
export const HCM_TYPE = T + "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
export const WASM_TYPE = T + "envoy.extensions.filters.http.wasm.v3.Wasm";
export const ROUTER_TYPE = T + "envoy.extensions.filters.http.router.v3.Router";
const STRING_VALUE_TYPE = T + "google.protobuf.StringValue";

/** A bootstrap Envoy would reject, or one outside the embedded subset; `problems` are `<yaml path>: <why>`. */
export class BootstrapError extends Error {
  constructor(readonly file: string, readonly problems: string[]) {
    super(`${file}:\n${problems.map((p) => `  ${p}`).join("\n")}`);
    this.name = "BootstrapError";
  }
}

function socketAddress(r: Reader, v: unknown, path: string): SocketAddress {
  const a = obj(v);
  r.only(a, path, ["socket_address"]);
  const sa = obj(get(a, "socket_address"));
  const sp = join(path, "socket_address");
  r.only(sa, sp, ["address", "port_value", "protocol"]);
  const protocol = enumOf(API + "core.v3.SocketAddress.Protocol", get(sa, "protocol"), "TCP");
  if (protocol !== "TCP") r.unsupported(join(sp, "protocol"), `protocol ${protocol}`);
  return { address: str(get(sa, "address")), port: Number(get(sa, "port_value") ?? 0) };
}

function headerMatcher(r: Reader, v: unknown, path: string): HeaderMatcher {
  const h = obj(v);
  r.only(h, path, ["name", "exact_match", "prefix_match", "suffix_match", "contains_match", "present_match", "string_match", "invert_match", "treat_missing_header_as_empty"]);
  const name = str(get(h, "name")).toLowerCase();
  let match: StringMatch = { kind: "present", present: true };
  const sm = get(h, "string_match");
  if (sm !== undefined) {
    const s = obj(sm);
    const sp = join(path, "string_match");
    r.only(s, sp, ["exact", "prefix", "suffix", "contains", "safe_regex", "ignore_case"]);
    const ignoreCase = bool(get(s, "ignore_case"));
    for (const kind of ["exact", "prefix", "suffix", "contains"] as const) {
      const val = get(s, kind);
      if (typeof val === "string") match = { kind, value: val, ignoreCase };
    }
    const sr = get(s, "safe_regex");
    if (sr !== undefined) match = safeRegex(r, sr, join(sp, "safe_regex"));
  } else {
    for (const kind of ["exact", "prefix", "suffix", "contains"] as const) {
      const val = get(h, `${kind}_match`);
      if (typeof val === "string") match = { kind, value: val, ignoreCase: false };
    }
    const present = protoBool(get(h, "present_match"));
    if (present !== undefined) match = { kind: "present", present };
  }
  return { name, match, invert: bool(get(h, "invert_match")), treatMissingAsEmpty: bool(get(h, "treat_missing_header_as_empty")) };
}

/** StringMatcher (exact, prefix, suffix, contains, safe_regex; ignore_case). */
function stringMatcher(r: Reader, v: unknown, path: string): StringMatch {
  const s = obj(v);
  r.only(s, path, ["exact", "prefix", "suffix", "contains", "safe_regex", "ignore_case"]);
  const ignoreCase = bool(get(s, "ignore_case"));
  for (const kind of ["exact", "prefix", "suffix", "contains"] as const) {
    const val = get(s, kind);
    if (typeof val === "string") return { kind, value: val, ignoreCase };
  }
  if (get(s, "safe_regex") !== undefined) return safeRegex(r, get(s, "safe_regex"), join(path, "safe_regex"));
  return { kind: "exact", value: "", ignoreCase };
}

/**
 * stats_config: `stats_tags` (regex extractors; `fixed_value` is not supported), `use_all_default_tags`, and
 * `stats_matcher` (reject_all, inclusion_list, exclusion_list) — what tollgate's metrics rely on.
 */
function statsConfig(r: Reader, v: unknown, path: string): StatsSettings {
  const o = obj(v);
  r.only(o, path, ["stats_tags", "use_all_default_tags", "stats_matcher"]);
  const tags: StatsTag[] = arr(get(o, "stats_tags")).map((t, i) => {
    const p = join(join(path, "stats_tags"), i);
    const to = obj(t);
    r.only(to, p, ["tag_name", "regex"]);
    const name = str(get(to, "tag_name"));
    const regex = str(get(to, "regex"));
    if (!regex) r.unsupported(join(p, "regex"), `a tag without a regex (Envoy's default extractor for '${name}')`);
    try {
      if (regex) new RegExp(regex);
    } catch (e) {
      r.invalid(join(p, "regex"), `invalid regex: ${(e as Error).message}`);
    }
    return { name, regex };
  });
  const seen = new Set<string>();
  tags.forEach((t, i) => {
    if (seen.has(t.name)) r.invalid(join(join(join(path, "stats_tags"), i), "tag_name"), `Tag name '${t.name}' specified twice.`);
    seen.add(t.name);
  });
  let matcher: StatsSettings["matcher"] = null;
  const sm = get(o, "stats_matcher");
  if (sm !== undefined) {
    const m = obj(sm);
    const mp = join(path, "stats_matcher");
    r.only(m, mp, ["reject_all", "inclusion_list", "exclusion_list"]);
    if (protoBool(get(m, "reject_all")) !== undefined) matcher = protoBool(get(m, "reject_all")) ? { rejectAll: true } : null;
    for (const [key, inclusion] of [["inclusion_list", true], ["exclusion_list", false]] as const) {
      if (get(m, key) === undefined) continue;
      const lp = join(mp, key);
      const l = obj(get(m, key));
      r.only(l, lp, ["patterns"]);
      matcher = { inclusion, patterns: arr(get(l, "patterns")).map((x, i) => stringMatcher(r, x, join(join(lp, "patterns"), i))) };
    }
  }
  return { tags, useDefaultTags: protoBool(get(o, "use_all_default_tags")) ?? true, matcher };
}

/** RegexMatcher (google_re2): Envoy refuses a pattern RE2 refuses at load, with RE2's message. */
function safeRegex(r: Reader, v: unknown, path: string): StringMatch {
  const o = obj(v);
  r.only(o, path, ["google_re2", "regex"]);
  const regex = str(get(o, "regex"));
  try {
    compileRe2(regex);
    // FullMatch: the group keeps an alternation in the pattern inside the anchors.
    const re = compileRe2(`^(?:${regex})$`);
    return { kind: "regex", regex, test: (value) => re.test(value) };
  } catch (e) {
    if (!(e instanceof Re2SyntaxError)) throw e;
    r.invalid(join(path, "regex"), e.message);
    return { kind: "present", present: false };
  }
}

function headersToAdd(r: Reader, v: unknown, path: string): HeaderToAdd[] {
  return arr(v).map((item, i) => {
    const p = join(path, i);
    const o = obj(item);
    r.only(o, p, ["header", "append", "append_action", "keep_empty_value"]);
    const hv = obj(get(o, "header"));
    r.only(hv, join(p, "header"), ["key", "value"]);
    const value = str(get(hv, "value"));
    const key = str(get(hv, "key"));
    // Envoy 1.40 refuses these at start (measured with --mode validate): a value with CR, LF or NUL fails the
    // HeaderValue proto constraint, a pseudo-header or host "may not be modified". Names with other bad
    // characters and values with other controls start fine there and 503 every request on the route.
    if (/[\r\n\0]/.test(value)) r.invalid(join(join(p, "header"), "value"), `contains ${/\r/.test(value) ? "CR" : /\n/.test(value) ? "LF" : "NUL"}: a header value cannot hold CR, LF or NUL (Envoy's HeaderValue constraint); remove it`);
    if (/[\r\n\0]/.test(key)) r.invalid(join(join(p, "header"), "key"), `contains CR, LF or NUL: not a header name (Envoy's HeaderValue constraint)`);
    if (key.startsWith(":") || key.toLowerCase() === "host") r.invalid(join(join(p, "header"), "key"), `'${key}': ":-prefixed or host headers may not be modified" (Envoy refuses this at start); route on another header`);
    // Envoy evaluates %COMMAND% substitutions in header values; we implement none of them.
    if (/%[A-Z_]+(\([^)]*\))?%/.test(value)) r.unsupported(join(join(p, "header"), "value"), `header value substitution ${JSON.stringify(value)}`);
    let action = enumOf(API + "core.v3.HeaderValueOption.HeaderAppendAction", get(o, "append_action"), "APPEND_IF_EXISTS_OR_ADD") as HeaderToAdd["action"];
    if (protoBool(get(o, "append")) === false) action = "OVERWRITE_IF_EXISTS_OR_ADD";
    // Envoy sends the value's UTF-8 bytes as they are (measured: "café €" arrives as those bytes); the engine
    // keeps header values as one char per byte, so a non-ASCII value is stored as its UTF-8 bytes ("é" → C3 A9).
    const bytes = /[^\x00-\x7f]/.test(value) ? Buffer.from(value, "utf8").toString("latin1") : value;
    return { key: key.toLowerCase(), value: bytes.replace(/%%/g, "%"), action, keepEmpty: bool(get(o, "keep_empty_value")) };
  });
}

function route(r: Reader, v: unknown, path: string, clusters: Set<string>): Route {
  const o = obj(v);
  r.only(o, path, ["name", "match", "route", "direct_response", "request_headers_to_add", "typed_per_filter_config"]);
  const m = obj(get(o, "match"));
  const mp = join(path, "match");
  r.only(m, mp, ["prefix", "path", "headers", "case_sensitive"]);
  const prefix = get(m, "prefix");
  const exact = get(m, "path");
  if (prefix === undefined && exact === undefined) r.unsupported(mp, "a route match other than 'prefix' or 'path'");
  const cs = get(m, "case_sensitive");
  const match = {
    prefix: typeof prefix === "string" ? prefix : undefined,
    path: typeof exact === "string" ? exact : undefined,
    caseSensitive: bool(cs, true),
    headers: arr(get(m, "headers")).map((h, i) => headerMatcher(r, h, join(join(mp, "headers"), i))),
  };
  let action: Route["action"];
  const dr = get(o, "direct_response");
  if (dr !== undefined) {
    const d = obj(dr);
    const dp = join(path, "direct_response");
    r.only(d, dp, ["status", "body"]);
    let body: string | null = null;
    const b = get(d, "body");
    if (b !== undefined) {
      const bo = obj(b);
      r.only(bo, join(dp, "body"), ["inline_string"]);
      body = str(get(bo, "inline_string"));
    }
    action = { kind: "direct", status: Number(get(d, "status")), body };
  } else {
    const ra = obj(get(o, "route"));
    const rp = join(path, "route");
    if (get(o, "route") === undefined) r.unsupported(path, "a route without 'route' or 'direct_response'");
    r.only(ra, rp, ["cluster", "cluster_header", "weighted_clusters", "timeout", "cluster_not_found_response_code"]);
    const notFound = enumOf(API + "route.v3.RouteAction.ClusterNotFoundResponseCode", get(ra, "cluster_not_found_response_code"), "SERVICE_UNAVAILABLE");
    if (notFound !== "SERVICE_UNAVAILABLE") r.unsupported(join(rp, "cluster_not_found_response_code"), `cluster_not_found_response_code ${notFound}`);
    let target: RouteTarget = { kind: "cluster", cluster: "" };
    const cluster = get(ra, "cluster");
    const header = get(ra, "cluster_header");
    const weighted = get(ra, "weighted_clusters");
    if (typeof cluster === "string") {
      target = { kind: "cluster", cluster };
      if (!clusters.has(cluster)) r.invalid(join(rp, "cluster"), `unknown cluster '${cluster}' (Envoy rejects a static route to an undefined cluster; define it under static_resources.clusters)`);
    } else if (typeof header === "string") {
      target = { kind: "header", header: header.toLowerCase() };
    } else if (weighted !== undefined) {
      const w = obj(weighted);
      const wp = join(rp, "weighted_clusters");
      r.only(w, wp, ["clusters", "total_weight"]);
      const list = arr(get(w, "clusters")).map((c, i) => {
        const co = obj(c);
        const cp = join(join(wp, "clusters"), i);
        r.only(co, cp, ["name", "weight", "request_headers_to_add"]);
        const name = str(get(co, "name"));
        if (!clusters.has(name)) r.invalid(join(cp, "name"), `unknown cluster '${name}' (define it under static_resources.clusters)`);
        return { name, weight: Number(get(co, "weight") ?? 0), headersToAdd: headersToAdd(r, get(co, "request_headers_to_add"), join(cp, "request_headers_to_add")) };
      });
      const sum = list.reduce((s, c) => s + c.weight, 0);
      const totalRaw = get(w, "total_weight");
      const total = totalRaw === undefined ? sum : Number(totalRaw);
      if (total !== sum) r.invalid(join(wp, "total_weight"), `is ${total} but the cluster weights sum to ${sum} (Envoy rejects this)`);
      if (sum <= 0) r.invalid(wp, "the cluster weights must sum to more than 0");
      if (sum > 0xffffffff) r.invalid(wp, `the cluster weights sum to ${sum}, which exceeds 4294967295 (Envoy refuses this: "The sum of weights of all weighted clusters of route exceeds 4294967295")`);
      target = { kind: "weighted", clusters: list, total: sum };
    } else {
      r.unsupported(rp, "a route action other than 'cluster', 'cluster_header' or 'weighted_clusters'");
    }
    action = { kind: "route", target, timeoutMs: durationMs(get(ra, "timeout"), 15000) };
  }
  return {
    name: str(get(o, "name")),
    path,
    match,
    action,
    headersToAdd: headersToAdd(r, get(o, "request_headers_to_add"), join(path, "request_headers_to_add")),
    ...(get(o, "typed_per_filter_config") !== undefined ? { rbac: rbacPerRoute(r, get(o, "typed_per_filter_config"), join(path, "typed_per_filter_config")) } : {}),
  };
}

function wasmFilter(r: Reader, name: string, tc: Obj, path: string, cwd: string): WasmFilter {
  r.only(tc, path, ["@type", "config"]);
  const cfg = obj(get(tc, "config"));
  const cp = join(path, "config");
  r.only(cfg, cp, ["name", "root_id", "vm_config", "configuration", "fail_open", "failure_policy", "reload_config", "allow_on_headers_stop_iteration"]);
  const vm = obj(get(cfg, "vm_config"));
  const vp = join(cp, "vm_config");
  r.only(vm, vp, ["vm_id", "runtime", "code", "configuration", "allow_precompiled"]);
  const runtime = str(get(vm, "runtime"));
  // Envoy's official builds (the PyPI / func-e / Istio binaries) link V8 only: another runtime fails to load
  // there ("Unable to create Wasm plugin"), so it must not pass here either.
  if (runtime && runtime !== "envoy.wasm.runtime.v8") {
    if (["envoy.wasm.runtime.wasmtime", "envoy.wasm.runtime.wamr", "envoy.wasm.runtime.wavm", "envoy.wasm.runtime.null"].includes(runtime)) {
      r.invalid(join(vp, "runtime"), `runtime '${runtime}' is not in Envoy's official builds (they have envoy.wasm.runtime.v8 only); use envoy.wasm.runtime.v8`);
    } else r.unsupported(join(vp, "runtime"), `runtime '${runtime}'`);
  }
  // failure_policy (Envoy 1.33+) and the deprecated fail_open: Envoy refuses fail_open: true with a policy.
  const failOpen = bool(get(cfg, "fail_open"));
  // By name or number: the enum's numbers are UNSPECIFIED 0, FAIL_RELOAD 1, FAIL_CLOSED 2, FAIL_OPEN 3.
  const policy = enumOf("envoy.extensions.wasm.v3.FailurePolicy", get(cfg, "failure_policy"), "UNSPECIFIED");
  let failurePolicy: FailurePolicy = failOpen ? "FAIL_OPEN" : "FAIL_CLOSED";
  if (policy !== "UNSPECIFIED") {
    if (failOpen) r.invalid(join(cp, "failure_policy"), "only one of fail_open or failure_policy can be set (Envoy's rule); drop fail_open, which is deprecated");
    if (policy === "FAIL_CLOSED" || policy === "FAIL_RELOAD" || policy === "FAIL_OPEN") failurePolicy = policy;
    else r.invalid(join(cp, "failure_policy"), `unknown value ${JSON.stringify(get(cfg, "failure_policy"))} (one of FAIL_CLOSED, FAIL_OPEN, FAIL_RELOAD)`);
  }
  const reload = obj(get(cfg, "reload_config"));
  r.only(reload, join(cp, "reload_config"), ["backoff"]);
  const backoff = obj(get(reload, "backoff"));
  r.only(backoff, join(join(cp, "reload_config"), "backoff"), ["base_interval", "max_interval"]);
  const code = obj(get(vm, "code"));
  r.only(code, join(vp, "code"), ["local"]);
  const local = obj(get(code, "local"));
  r.only(local, join(join(vp, "code"), "local"), ["filename"]);
  const filename = str(get(local, "filename"));
  if (!filename) r.unsupported(join(join(vp, "code"), "local"), "Wasm code other than 'local.filename'");
  else {
    // A directory or a device (/dev/zero never ends) is refused here with its path, before anything reads it;
    // a missing file is reported when the plugin loads.
    const fp = join(join(join(vp, "code"), "local"), "filename");
    try {
      const st = statSync(isAbsolute(filename) ? filename : resolve(cwd, filename));
      if (st.isDirectory()) r.invalid(fp, `'${filename}' is a directory, not a .wasm file; name the module, e.g. dist/plugins/<name>.wasm`);
      else if (!st.isFile()) r.invalid(fp, `'${filename}' is not a regular file (a device, socket or pipe); name a .wasm module file`);
    } catch {
      // missing or unreadable: the load step says so with the path
    }
  }
  const stringValue = (v: unknown, p: string): string => {
    if (v === undefined) return "";
    const sv = obj(v);
    if (sv["@type"] !== STRING_VALUE_TYPE) {
      r.unsupported(join(p, "@type"), `configuration of type ${String(sv["@type"])} (use google.protobuf.StringValue)`);
      return "";
    }
    return str(sv.value);
  };
  return {
    filterName: name,
    path,
    name: str(get(cfg, "name")),
    rootId: str(get(cfg, "root_id")),
    vmId: str(get(vm, "vm_id")),
    vmConfig: stringValue(get(vm, "configuration"), join(vp, "configuration")),
    configuration: stringValue(get(cfg, "configuration"), join(cp, "configuration")),
    filename,
    wasmFile: isAbsolute(filename) ? filename : resolve(cwd, filename),
    failOpen,
    failurePolicy,
    reloadBackoffMs: durationMs(get(backoff, "base_interval"), 1000),
    allowOnHeadersStopIteration: bool(get(cfg, "allow_on_headers_stop_iteration")),
  };
}

function listener(r: Reader, v: unknown, path: string, clusters: Set<string>, cwd: string): Listener {
  const l = obj(v);
  r.only(l, path, ["name", "address", "filter_chains"]);
  const address = socketAddress(r, get(l, "address"), join(path, "address"));
  if (!isIP(address.address)) r.invalid(join(join(path, "address"), "socket_address.address"), `'${address.address}' is not an IP address (Envoy listens on IP addresses only)`);
  const chains = arr(get(l, "filter_chains"));
  if (chains.length !== 1) r.unsupported(join(path, "filter_chains"), `${chains.length} filter chains (exactly one is supported)`);
  const fcp = join(join(path, "filter_chains"), 0);
  const fc = obj(chains[0]);
  r.only(fc, fcp, ["filters", "name"]);
  const filters = arr(get(fc, "filters"));
  if (filters.length !== 1) r.unsupported(join(fcp, "filters"), `${filters.length} network filters (exactly one http_connection_manager is supported)`);
  const fp = join(join(fcp, "filters"), 0);
  const f = obj(filters[0]);
  r.only(f, fp, ["name", "typed_config"]);
  const hcm = obj(get(f, "typed_config"));
  const hp = join(fp, "typed_config");
  if (hcm["@type"] !== HCM_TYPE) r.unsupported(join(hp, "@type"), `network filter ${String(hcm["@type"] ?? get(f, "name"))}`);
  r.only(hcm, hp, ["@type", "stat_prefix", "codec_type", "route_config", "http_filters", "use_remote_address", "xff_num_trusted_hops", "skip_xff_append"]);
  const hopsRaw = get(hcm, "xff_num_trusted_hops");
  const hops = protoInt(hopsRaw);
  if (hopsRaw !== undefined && !(hops !== undefined && hops >= 0 && hops <= 0xffffffff)) r.invalid(join(hp, "xff_num_trusted_hops"), "must be a non-negative integer (uint32)");
  const codec = enumOf("envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.CodecType", get(hcm, "codec_type"), "AUTO");
  if (codec !== "AUTO" && codec !== "HTTP1") r.unsupported(join(hp, "codec_type"), `codec_type ${codec}`);
  const rc = obj(get(hcm, "route_config"));
  const rcp = join(hp, "route_config");
  if (get(hcm, "route_config") === undefined) r.unsupported(hp, "an HttpConnectionManager without an inline 'route_config'");
  r.only(rc, rcp, ["name", "virtual_hosts"]);
  const virtualHosts = arr(get(rc, "virtual_hosts")).map((vh, i) => {
    const vp = join(join(rcp, "virtual_hosts"), i);
    const o = obj(vh);
    r.only(o, vp, ["name", "domains", "routes"]);
    return {
      name: str(get(o, "name")),
      domains: arr(get(o, "domains")).map((d) => str(d).toLowerCase()),
      routes: arr(get(o, "routes")).map((rt, j) => route(r, rt, join(join(vp, "routes"), j), clusters)),
    };
  });
  const seenDomains = new Map<string, string>();
  virtualHosts.forEach((vh, i) =>
    vh.domains.forEach((d, j) => {
      const p = `${join(join(rcp, "virtual_hosts"), i)}.domains[${j}]`;
      if (seenDomains.has(d)) r.invalid(p, `domain '${d}' is also used at ${seenDomains.get(d)} (Envoy rejects duplicate domains)`);
      else seenDomains.set(d, p);
    }),
  );
  const hfs = arr(get(hcm, "http_filters"));
  const hfp = join(hp, "http_filters");
  const wasm: WasmFilter[] = [];
  const rbac: Listener["rbac"] = [];
  hfs.forEach((hf, i) => {
    const p = join(hfp, i);
    const o = obj(hf);
    r.only(o, p, ["name", "typed_config"]);
    const tc = obj(get(o, "typed_config"));
    const type = tc["@type"];
    const last = i === hfs.length - 1;
    if (type === ROUTER_TYPE) {
      r.only(tc, join(p, "typed_config"), ["@type"]);
      if (!last) r.invalid(p, "the router must be the last http filter (Envoy rejects filters after a terminal filter)");
    } else if (type === WASM_TYPE) {
      wasm.push(wasmFilter(r, str(get(o, "name")), tc, join(p, "typed_config"), cwd));
    } else if (type === RBAC_TYPE) {
      rbac.push({ ...rbacFilter(r, str(get(o, "name")), tc, join(p, "typed_config")), position: wasm.length });
    } else {
      r.unsupported(join(join(p, "typed_config"), "@type"), `http filter ${String(type ?? get(o, "name"))}`);
    }
  });
  if (hfs.length === 0 || obj(hfs[hfs.length - 1]).typed_config === undefined || obj(obj(hfs[hfs.length - 1]).typed_config)["@type"] !== ROUTER_TYPE) {
    r.invalid(hfp, "the last http filter must be envoy.filters.http.router (typed_config @type " + ROUTER_TYPE + ")");
  }
  return {
    name: str(get(l, "name")),
    address,
    statPrefix: str(get(hcm, "stat_prefix")),
    forwarding: {
      useRemoteAddress: bool(get(hcm, "use_remote_address")),
      xffNumTrustedHops: hops ?? 0,
      skipXffAppend: bool(get(hcm, "skip_xff_append")),
    },
    routeConfigName: str(get(rc, "name")),
    virtualHosts,
    filters: wasm,
    rbac,
  };
}

function cluster(r: Reader, v: unknown, path: string): Cluster {
  const c = obj(v);
  r.only(c, path, ["name", "type", "connect_timeout", "lb_policy", "load_assignment", "dns_lookup_family", "typed_extension_protocol_options"]);
  const type = enumOf(API + "cluster.v3.Cluster.DiscoveryType", get(c, "type"), "STATIC");
  if (type !== "STATIC" && type !== "STRICT_DNS") r.unsupported(join(path, "type"), `cluster type ${type}`);
  const lb = enumOf(API + "cluster.v3.Cluster.LbPolicy", get(c, "lb_policy"), "ROUND_ROBIN");
  if (lb !== "ROUND_ROBIN") r.unsupported(join(path, "lb_policy"), `lb_policy ${lb}`);
  const la = obj(get(c, "load_assignment"));
  const lap = join(path, "load_assignment");
  r.only(la, lap, ["cluster_name", "endpoints"]);
  const endpoints: SocketAddress[] = [];
  arr(get(la, "endpoints")).forEach((e, i) => {
    const ep = join(join(lap, "endpoints"), i);
    const eo = obj(e);
    r.only(eo, ep, ["lb_endpoints"]);
    arr(get(eo, "lb_endpoints")).forEach((le, j) => {
      const lp = join(join(ep, "lb_endpoints"), j);
      const leo = obj(le);
      r.only(leo, lp, ["endpoint"]);
      const en = obj(get(leo, "endpoint"));
      r.only(en, join(lp, "endpoint"), ["address"]);
      const ap = join(join(lp, "endpoint"), "address");
      const sa = socketAddress(r, get(en, "address"), ap);
      if (type === "STATIC" && !isIP(sa.address)) {
        r.invalid(`${ap}.socket_address.address`, `'${sa.address}' is not an IP address (Envoy rejects hostnames in a STATIC cluster; use type: STRICT_DNS)`);
      }
      endpoints.push(sa);
    });
  });
  // Envoy: connect_timeout defaults to 5s.
  return { name: str(get(c, "name")), type: type as Cluster["type"], connectTimeoutMs: durationMs(get(c, "connect_timeout"), 5000), endpoints, http2: http2Upstream(r, c, path) };
}

const HTTP_PROTOCOL_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

/** explicit_http_config: http2_protocol_options {} (what a gRPC cluster needs) or http_protocol_options {}. */
function http2Upstream(r: Reader, c: Obj, path: string): boolean {
  const teo = get(c, "typed_extension_protocol_options");
  if (teo === undefined) return false;
  const tp = join(path, "typed_extension_protocol_options");
  // A map keyed by extension name (not fields: no snake_case folding).
  for (const k of Object.keys(obj(teo))) if (k !== HTTP_PROTOCOL_OPTIONS) r.unsupported(`${tp}["${k}"]`, `protocol options '${k}'`);
  const hp = `${tp}["${HTTP_PROTOCOL_OPTIONS}"]`;
  const hpo = obj(get(obj(teo), HTTP_PROTOCOL_OPTIONS));
  r.only(hpo, hp, ["@type", "explicit_http_config"]);
  const ehc = obj(get(hpo, "explicit_http_config"));
  const ep = join(hp, "explicit_http_config");
  r.only(ehc, ep, ["http_protocol_options", "http2_protocol_options"]);
  for (const k of ["http_protocol_options", "http2_protocol_options"]) {
    if (get(ehc, k) !== undefined) r.only(obj(get(ehc, k)), join(ep, k), []);
  }
  return get(ehc, "http2_protocol_options") !== undefined;
}

/** Parses a bootstrap document; throws BootstrapError listing every problem (proto errors first). */
export function parseBootstrap(doc: unknown, file: string, cwd = process.cwd()): GatewayConfig {
  const protoErrors = validateBootstrap(doc);
  if (protoErrors.length) throw new BootstrapError(file, protoErrors.map((e) => `${e} (Envoy would reject this too)`));
  const r = new Reader();
  const root = obj(doc);
  r.only(root, "", ["admin", "static_resources", "node", "stats_config"]);
  const node = obj(get(root, "node"));
  r.only(node, "node", ["id", "cluster"]);
  let admin: SocketAddress | null = null;
  if (get(root, "admin") !== undefined) {
    const a = obj(get(root, "admin"));
    r.only(a, "admin", ["address", "access_log"]);
    if (arr(get(a, "access_log")).length) r.unsupported("admin.access_log", "admin access logs");
    if (get(a, "address") !== undefined) admin = socketAddress(r, get(a, "address"), "admin.address");
  }
  const stats = get(root, "stats_config") !== undefined ? statsConfig(r, get(root, "stats_config"), "stats_config") : undefined;
  const sr = obj(get(root, "static_resources"));
  r.only(sr, "static_resources", ["listeners", "clusters"]);
  const clusterList = arr(get(sr, "clusters")).map((c, i) => cluster(r, c, `static_resources.clusters[${i}]`));
  const clusters = new Map<string, Cluster>();
  clusterList.forEach((c, i) => {
    if (clusters.has(c.name)) r.invalid(`static_resources.clusters[${i}].name`, `duplicate cluster name '${c.name}'`);
    clusters.set(c.name, c);
  });
  const names = new Set(clusters.keys());
  const listeners = arr(get(sr, "listeners")).map((l, i) => listener(r, l, `static_resources.listeners[${i}]`, names, cwd));
  // The embedded engine forwards requests over HTTP/1.1; its HTTP/2 clusters serve gRPC calls (proxy_grpc_call).
  for (const rt of listeners.flatMap((l) => l.virtualHosts.flatMap((vh) => vh.routes))) {
    if (rt.action.kind !== "route") continue;
    const t = rt.action.target;
    const targets = t.kind === "cluster" ? [t.cluster] : t.kind === "weighted" ? t.clusters.map((w) => w.name) : [];
    for (const name of targets) {
      if (clusters.get(name)?.http2) r.unsupported(join(rt.path, "route"), `a route to the HTTP/2 cluster '${name}' (the embedded engine forwards over HTTP/1.1; HTTP/2 clusters serve gRPC calls)`);
    }
  }
  if (listeners.length === 0) r.invalid("static_resources.listeners", "no listener: nothing to serve");
  if (r.problems.length) throw new BootstrapError(file, r.problems);
  const nodeOut: GatewayConfig["node"] = {};
  if (typeof get(node, "id") === "string") nodeOut.id = get(node, "id") as string;
  if (typeof get(node, "cluster") === "string") nodeOut.cluster = get(node, "cluster") as string;
  return { file, node: nodeOut, admin, listeners, clusters, ...(stats ? { stats } : {}) };
}

/** Reads a bootstrap YAML file (relative paths in it resolve against `cwd`, like Envoy's working directory). */
export function loadBootstrap(file: string, cwd = process.cwd()): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new BootstrapError(file, [`cannot read the file: ${(e as Error).message}`]);
  }
  let doc: unknown;
  try {
    doc = parseEnvoyYaml(text);
  } catch (e) {
    throw new BootstrapError(file, [`invalid YAML: ${(e as Error).message}`]);
  }
  return parseBootstrap(doc, file, cwd);
}
