// envoy.filters.http.rbac, the subset tollgate's bootstraps use: policies whose permissions are `any` and whose
// principals are client addresses (remote_ip, direct_remote_ip, any, or_ids, and_ids, not_id), as the filter's
// `rules` and per route (RBACPerRoute in typed_per_filter_config). Semantics as Envoy 1.40: policies are tried
// in name order; ALLOW admits a request some policy matches, DENY refuses it; a denied request gets the local
// reply 403 "RBAC: access denied" with details rbac_access_denied_matched_policy[<policy>|none]; a route's
// RBACPerRoute replaces the filter's rules (one without rules turns the filter off there); no rules, no check.
// Counters http.<prefix>.rbac.{allowed,denied} count the requests rules were applied to.
import { isIP } from "node:net";
import type { BodyBuffer, FilterCallbacks, HttpFilter } from "../host/filter-api.ts";
import type { HeaderMap } from "../host/header-map.ts";
import { API, arr, bool, enumOf, get, join, obj, str, type Obj, type Reader } from "./bootstrap-fields.ts";

export const RBAC_TYPE = "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC";
export const RBAC_PER_ROUTE_TYPE = "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBACPerRoute";

export type Principal =
  | { kind: "any" }
  | { kind: "remote_ip" | "direct_remote_ip"; family: 4 | 6; net: bigint; bits: number }
  | { kind: "or" | "and"; ids: Principal[] }
  | { kind: "not"; id: Principal };

export interface RbacRules {
  action: "ALLOW" | "DENY";
  /** Sorted by name, as Envoy's policy map iterates. */
  policies: Array<{ name: string; principals: Principal[] }>;
}

/** An rbac http filter of a listener; `rules` null: no check unless a route says otherwise. */
export interface RbacFilter {
  filterName: string;
  path: string;
  rules: RbacRules | null;
}

/** typed_per_filter_config values by filter name: null turns the filter off on the route. */
export type RbacPerRoute = Map<string, RbacRules | null>;

function addressBits(ip: string): { family: 4 | 6; value: bigint } | null {
  const v = isIP(ip);
  if (v === 4) return { family: 4, value: ip.split(".").reduce((a, o) => (a << 8n) | BigInt(Number(o)), 0n) };
  if (v !== 6) return null;
  let s = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const n = addressBits(v4[1])!.value;
    s = s.slice(0, -v4[1].length) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = s.includes("::") ? s.split("::") : [s, undefined];
  const h = head ? head.split(":") : [];
  const t = tail !== undefined && tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  return { family: 6, value: groups.reduce((a, g) => (a << 16n) | BigInt(parseInt(g, 16)), 0n) };
}

function cidr(r: Reader, v: unknown, path: string): { family: 4 | 6; net: bigint; bits: number } {
  const o = obj(v);
  r.only(o, path, ["address_prefix", "prefix_len"]);
  const prefix = str(get(o, "address_prefix"));
  const a = addressBits(prefix);
  if (!a) {
    r.invalid(join(path, "address_prefix"), `'${prefix}' is not an IP address`);
    return { family: 4, net: 0n, bits: 0 };
  }
  const max = a.family === 4 ? 32 : 128;
  const raw = get(o, "prefix_len");
  const bits = raw === undefined ? 0 : Number(raw);
  // Envoy clamps a prefix_len past the address width to the width.
  const len = Math.min(bits, max);
  return { family: a.family, net: len === 0 ? 0n : a.value >> BigInt(max - len), bits: len };
}

function principal(r: Reader, v: unknown, path: string): Principal {
  const o = obj(v);
  r.only(o, path, ["any", "remote_ip", "direct_remote_ip", "or_ids", "and_ids", "not_id"]);
  if (get(o, "any") !== undefined) {
    if (!bool(get(o, "any"))) r.invalid(join(path, "any"), "must be true");
    return { kind: "any" };
  }
  for (const kind of ["remote_ip", "direct_remote_ip"] as const) {
    if (get(o, kind) !== undefined) return { kind, ...cidr(r, get(o, kind), join(path, kind)) };
  }
  for (const [key, kind] of [["or_ids", "or"], ["and_ids", "and"]] as const) {
    const set = get(o, key);
    if (set !== undefined) {
      const so = obj(set);
      r.only(so, join(path, key), ["ids"]);
      return { kind, ids: arr(get(so, "ids")).map((x, i) => principal(r, x, join(join(join(path, key), "ids"), i))) };
    }
  }
  if (get(o, "not_id") !== undefined) return { kind: "not", id: principal(r, get(o, "not_id"), join(path, "not_id")) };
  r.unsupported(path, "a principal other than any, remote_ip, direct_remote_ip, or_ids, and_ids, not_id");
  return { kind: "any" };
}

/** config.rbac.v3.RBAC (the `rules` of the filter or of RBACPerRoute.rbac). */
function rules(r: Reader, v: unknown, path: string): RbacRules {
  const o = obj(v);
  r.only(o, path, ["action", "policies"]);
  const action = enumOf(API + "rbac.v3.RBAC.Action", get(o, "action"), "ALLOW");
  if (action !== "ALLOW" && action !== "DENY") r.unsupported(join(path, "action"), `action ${action}`);
  const policies = Object.entries(obj(get(o, "policies")))
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([name, p]) => {
      const pp = join(join(path, "policies"), name);
      const po = obj(p);
      r.only(po, pp, ["permissions", "principals"]);
      arr(get(po, "permissions")).forEach((perm, i) => {
        const x = obj(perm);
        if (Object.keys(x).length !== 1 || !bool(get(x, "any"))) r.unsupported(join(join(pp, "permissions"), i), "a permission other than {any: true}");
      });
      return { name, principals: arr(get(po, "principals")).map((x, i) => principal(r, x, join(join(pp, "principals"), i))) };
    });
  return { action: action === "DENY" ? "DENY" : "ALLOW", policies };
}

/** The http filter's typed_config (extensions.filters.http.rbac.v3.RBAC). */
export function rbacFilter(r: Reader, name: string, tc: Obj, path: string): RbacFilter {
  r.only(tc, path, ["@type", "rules"]);
  return { filterName: name, path, rules: get(tc, "rules") === undefined ? null : rules(r, get(tc, "rules"), join(path, "rules")) };
}

/** A route's typed_per_filter_config: the RBACPerRoute entries (anything else is outside the subset). */
export function rbacPerRoute(r: Reader, v: unknown, path: string): RbacPerRoute {
  const out: RbacPerRoute = new Map();
  for (const [name, cfg] of Object.entries(obj(v))) {
    const p = join(path, name);
    const c = obj(cfg);
    if (c["@type"] !== RBAC_PER_ROUTE_TYPE) {
      r.unsupported(join(p, "@type"), `per-route config ${String(c["@type"])}`);
      continue;
    }
    r.only(c, p, ["@type", "rbac"]);
    const rb = obj(get(c, "rbac"));
    r.only(rb, join(p, "rbac"), ["rules"]);
    out.set(name, get(rb, "rules") === undefined ? null : rules(r, get(rb, "rules"), join(join(p, "rbac"), "rules")));
  }
  return out;
}

function inNet(p: { family: 4 | 6; net: bigint; bits: number }, ip: string): boolean {
  const a = addressBits(ip);
  if (!a || a.family !== p.family) return false;
  const max = p.family === 4 ? 32 : 128;
  return (p.bits === 0 ? 0n : a.value >> BigInt(max - p.bits)) === p.net;
}

function matches(p: Principal, remote: string, direct: string): boolean {
  switch (p.kind) {
    case "any":
      return true;
    case "remote_ip":
      return inNet(p, remote);
    case "direct_remote_ip":
      return inNet(p, direct);
    case "or":
      return p.ids.some((x) => matches(x, remote, direct));
    case "and":
      return p.ids.every((x) => matches(x, remote, direct));
    case "not":
      return !matches(p.id, remote, direct);
  }
}

/** The verdict on a request: null allows it, else the matched-policy details of the denial. */
export function rbacDecide(rules: RbacRules, remote: string, direct: string): string | null {
  const hit = rules.policies.find((p) => p.principals.some((x) => matches(x, remote, direct)));
  if (rules.action === "ALLOW") return hit ? null : "rbac_access_denied_matched_policy[none]";
  return hit ? `rbac_access_denied_matched_policy[${hit.name}]` : null;
}

const DENIED_BODY = new TextEncoder().encode("RBAC: access denied");

/** One stream's rbac filter; `perRoute` reads the current route's RBACPerRoute for this filter's name. */
export class RbacHttpFilter implements HttpFilter {
  private cb!: FilterCallbacks;

  constructor(
    private readonly cfg: RbacFilter,
    private readonly addresses: { remote: string; direct: string },
    private readonly perRoute: (cb: FilterCallbacks) => RbacPerRoute | undefined,
    private readonly count: (name: "allowed" | "denied") => void,
  ) {}

  setCallbacks(cb: FilterCallbacks): void {
    this.cb = cb;
  }
  decodeHeaders(_h: HeaderMap, _end: boolean): number {
    const per = this.perRoute(this.cb);
    const rules = per?.has(this.cfg.filterName) ? per.get(this.cfg.filterName)! : this.cfg.rules;
    if (!rules) return 0;
    const denied = rbacDecide(rules, this.addresses.remote, this.addresses.direct);
    if (denied === null) {
      this.count("allowed");
      return 0;
    }
    this.count("denied");
    this.cb.sendLocalReply(403, DENIED_BODY, [], null, denied);
    return 1; // StopIteration
  }
  decodeData(_b: BodyBuffer, _end: boolean): number {
    return 0;
  }
  decodeTrailers(_t: HeaderMap): number {
    return 0;
  }
  encodeHeaders(_h: HeaderMap, _end: boolean): number {
    return 0;
  }
  encodeData(_b: BodyBuffer, _end: boolean): number {
    return 0;
  }
  encodeTrailers(_t: HeaderMap): number {
    return 0;
  }
  onLog(): void {}
  onDestroy(): void {}
}
