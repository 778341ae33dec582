// From a rate-limit plugin config to the config of Envoy's rate limit service (envoyproxy/ratelimit), and the
// plugin's `rls` settings that `tollgate gen envoy` turns into a gRPC cluster. Pure: no I/O.
//
// What the plugin sends for a rule with `scope: "global"` is one descriptor with one entry,
// `{key: <rule name>, value: <the rule's key value>}` (`_` for a `global: {}` key). The service matches
// an entry against its config by key and then by value; a config descriptor with a key and no value matches
// every value, and its counter is per value (the service's cache key is built from the request's entry
// values: src/limiter/cache_key.go), so:
//   - `global: {}`                → `{key: <name>, value: "_"}`          (one counter);
//   - `values: [a, b]`            → `{key: <name>, value: a}`, `{…, b}`  (a counter per listed value);
//   - any other key without values → `{key: <name>}`                      (a counter per distinct value).
// The service counts fixed windows aligned to the unit (now % unit), in the units its proto knows:
// second, minute, hour, day, week, month (30 days), year (365 days) (RateLimitResponse.RateLimit.Unit;
// src/utils/utilities.go UnitToDivider). The token-bucket limit form has no equivalent and is refused.
import { stringifyEnvoyYaml } from "../envoy/yaml.ts";

/** The plugin's top-level `rls` object. */
export interface RlsSettings {
  cluster: string;
  domain: string;
  timeout_ms: number;
  failure_mode_deny: boolean;
}

export interface ServiceDescriptor {
  key: string;
  value?: string;
  rate_limit: { unit: ServiceUnit; requests_per_unit: number };
}

export interface ServiceConfig {
  domain: string;
  descriptors: ServiceDescriptor[];
}

/** The rate limit service's units (lower-case as its YAML takes them). */
export const SERVICE_UNITS = ["second", "minute", "hour", "day", "week", "month", "year"] as const;
export type ServiceUnit = (typeof SERVICE_UNITS)[number];

/** A config the service cannot express, or a malformed `rls`/`scope`; the message names the field and the fix. */
export class RateLimitConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RateLimitConfigError";
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const q = (v: unknown) => JSON.stringify(v);

/** The plugin's default `rls.timeout_ms` (the issue's value). */
export const DEFAULT_RLS_TIMEOUT_MS = 100;

/** Reads and checks an `rls` object at `path` (for the fields this tool needs; the plugin checks the rest). */
export function parseRls(v: unknown, path: string): RlsSettings {
  if (!isObj(v)) throw new RateLimitConfigError(`'${path}' must be an object {cluster, domain, timeout_ms, failure_mode_deny}, got ${q(v)}`);
  const known = ["cluster", "domain", "timeout_ms", "failure_mode_deny"];
  for (const k of Object.keys(v)) {
    if (!known.includes(k)) throw new RateLimitConfigError(`'${path}.${k}' is not a field of rls (known: ${known.join(", ")})`);
  }
  const str = (k: string) => {
    const s = v[k];
    if (typeof s !== "string" || s === "") throw new RateLimitConfigError(`'${path}.${k}' must be a non-empty string, got ${q(s)}`);
    return s;
  };
  const cluster = str("cluster");
  const domain = str("domain");
  const timeout = v.timeout_ms ?? DEFAULT_RLS_TIMEOUT_MS;
  if (typeof timeout !== "number" || !Number.isInteger(timeout) || timeout < 1 || timeout > 60_000) {
    throw new RateLimitConfigError(`'${path}.timeout_ms' must be an integer from 1 to 60000, got ${q(v.timeout_ms)}`);
  }
  const deny = v.failure_mode_deny ?? false;
  if (typeof deny !== "boolean") throw new RateLimitConfigError(`'${path}.failure_mode_deny' must be a boolean, got ${q(deny)}`);
  return { cluster, domain, timeout_ms: timeout, failure_mode_deny: deny };
}

interface GlobalRule {
  path: string;
  rls: RlsSettings;
  descriptors: ServiceDescriptor[];
}

/** The value the plugin sends for a `global: {}` key (the issue's choice: the value `_`). */
export const GLOBAL_KEY_VALUE = "_";

function ruleDescriptors(rule: Obj, path: string): ServiceDescriptor[] {
  const name = rule.name;
  if (typeof name !== "string" || name === "") throw new RateLimitConfigError(`'${path}.name' must be a non-empty string, got ${q(name)}`);
  const where = `${path} (${q(name)})`;
  const limit = rule.limit;
  if (!isObj(limit)) throw new RateLimitConfigError(`${where}: 'limit' must be an object {requests, per}, got ${q(limit)}`);
  if ("max_tokens" in limit || "tokens_per_fill" in limit || "fill_interval_ms" in limit) {
    throw new RateLimitConfigError(
      `${where}: 'limit' {max_tokens, tokens_per_fill, fill_interval_ms} cannot be global: the rate limit service counts ` +
      `fixed windows of one ${SERVICE_UNITS.join(", ")}; write 'limit' as {"requests": N, "per": "<unit>"} or set 'scope' to "local"`);
  }
  if (rule.algorithm === "token_bucket") {
    throw new RateLimitConfigError(
      `${where}: 'algorithm' "token_bucket" cannot be global: the rate limit service counts calendar-aligned fixed ` +
      `windows; remove 'algorithm' or set it to "fixed_window", or set 'scope' to "local"`);
  }
  const requests = limit.requests;
  if (typeof requests !== "number" || !Number.isInteger(requests) || requests < 1 || requests > 0xffffffff) {
    throw new RateLimitConfigError(`${where}: 'limit.requests' must be an integer from 1 to 4294967295 (the service's requests_per_unit is a uint32), got ${q(requests)}`);
  }
  const per = limit.per;
  if (typeof per !== "string" || !(SERVICE_UNITS as readonly string[]).includes(per)) {
    throw new RateLimitConfigError(`${where}: 'limit.per' must be one of ${SERVICE_UNITS.map((u) => q(u)).join(", ")} (the rate limit service's units), got ${q(per)}`);
  }
  const rate_limit = { unit: per as ServiceUnit, requests_per_unit: requests };
  const key = rule.key;
  if (!isObj(key) || Object.keys(key).length !== 1) throw new RateLimitConfigError(`${where}: 'key' must be an object with exactly one member, got ${q(key)}`);
  if ("global" in key) {
    if (rule.values !== undefined) throw new RateLimitConfigError(`${where}: 'values' has no meaning with a 'global' key; remove it`);
    return [{ key: name, value: GLOBAL_KEY_VALUE, rate_limit }];
  }
  if (rule.values !== undefined) {
    const values = rule.values;
    if (!Array.isArray(values) || values.length === 0 || values.some((x) => typeof x !== "string")) {
      throw new RateLimitConfigError(`${where}: 'values' must be a non-empty list of strings, got ${q(values)}`);
    }
    return [...new Set(values as string[])].map((value) => ({ key: name, value, rate_limit }));
  }
  return [{ key: name, rate_limit }];
}

/** Every rule with scope "global" in the config and its `_rules_` items, each with the `rls` in force there. */
function globalRules(config: unknown): GlobalRule[] {
  if (!isObj(config)) throw new RateLimitConfigError(`the rate-limit config must be a JSON object, got ${q(config)}`);
  const top = config.rls === undefined ? null : parseRls(config.rls, "rls");
  const out: GlobalRule[] = [];
  const scan = (c: Obj, prefix: string) => {
    const rls = c.rls === undefined ? top : parseRls(c.rls, `${prefix}rls`);
    const rules = c.rules;
    if (rules === undefined) return;
    if (!Array.isArray(rules)) throw new RateLimitConfigError(`'${prefix}rules' must be a list of rules, got ${q(rules)}`);
    rules.forEach((rule, i) => {
      const path = `${prefix}rules[${i}]`;
      if (!isObj(rule)) throw new RateLimitConfigError(`'${path}' must be an object, got ${q(rule)}`);
      const scope = rule.scope ?? "local";
      if (scope !== "local" && scope !== "global") throw new RateLimitConfigError(`'${path}.scope' must be "local" or "global", got ${q(scope)}`);
      if (scope !== "global") return;
      if (!rls) {
        throw new RateLimitConfigError(`${path} (${q(rule.name)}) has scope "global" but no 'rls' is configured: add "rls": {"cluster": "<envoy cluster>", "domain": "<rls domain>"} at the top level`);
      }
      out.push({ path, rls, descriptors: ruleDescriptors(rule, path) });
    });
  };
  scan(config, "");
  const items = config._rules_;
  if (items !== undefined) {
    if (!Array.isArray(items)) throw new RateLimitConfigError(`'_rules_' must be a list, got ${q(items)}`);
    items.forEach((item, i) => {
      if (!isObj(item)) throw new RateLimitConfigError(`'_rules_[${i}]' must be an object, got ${q(item)}`);
      scan(item, `_rules_[${i}].`);
    });
  }
  return out;
}

/**
 * The service config for the config's global rules. One domain: rules whose `rls.domain` differ are refused
 * (the service reads one domain per file). Rules of the same name share descriptors (their counters are the
 * same in the service); two definitions of one descriptor with different limits are refused.
 */
export function serviceConfig(config: unknown): ServiceConfig {
  const rules = globalRules(config);
  if (rules.length === 0) {
    throw new RateLimitConfigError(`no rule has "scope": "global": the rate limit service config would be empty (local rules need no service)`);
  }
  const domain = rules[0].rls.domain;
  const byKey = new Map<string, { d: ServiceDescriptor; path: string }>();
  const descriptors: ServiceDescriptor[] = [];
  for (const r of rules) {
    if (r.rls.domain !== domain) {
      throw new RateLimitConfigError(`${r.path} uses rls domain ${q(r.rls.domain)} but ${rules[0].path} uses ${q(domain)}: one service config holds one domain; use one 'rls.domain'`);
    }
    for (const d of r.descriptors) {
      const id = d.value === undefined ? `${d.key}` : `${d.key}\u0000${d.value}`;
      const seen = byKey.get(id);
      if (seen) {
        if (seen.d.rate_limit.unit !== d.rate_limit.unit || seen.d.rate_limit.requests_per_unit !== d.rate_limit.requests_per_unit) {
          throw new RateLimitConfigError(
            `${r.path} and ${seen.path} are both named ${q(d.key)}${d.value === undefined ? "" : ` (value ${q(d.value)})`} but have different limits: ` +
            `the service has one counter per name, so give the rules different names or the same limit`);
        }
        continue;
      }
      byKey.set(id, { d, path: r.path });
      descriptors.push(d);
    }
  }
  // A key-only descriptor and valued descriptors of the same key would mean two different rules (the service
  // prefers the exact value): refuse rather than guess.
  for (const d of descriptors) {
    if (d.value === undefined && descriptors.some((o) => o.key === d.key && o.value !== undefined)) {
      throw new RateLimitConfigError(`rules named ${q(d.key)} limit both every value and a 'values' list: give them different names`);
    }
  }
  return { domain, descriptors };
}

/**
 * The service config as the YAML file envoyproxy/ratelimit reads (RUNTIME_ROOT/…/config/<name>.yaml). Written
 * as for Envoy: its Go YAML reader (yaml.v2) is YAML 1.1 too, so a rule named `on` or a value `y` is quoted
 * rather than read back as a bool.
 */
export function serviceConfigYaml(config: unknown): string {
  return stringifyEnvoyYaml(serviceConfig(config), { lineWidth: 0 });
}

/** The `rls` settings of the config (top level, else the first `_rules_` item that has one), or null. */
export function rlsOf(config: unknown): RlsSettings | null {
  if (!isObj(config)) return null;
  if (config.rls !== undefined) return parseRls(config.rls, "rls");
  const items = Array.isArray(config._rules_) ? config._rules_ : [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (isObj(item) && item.rls !== undefined) return parseRls(item.rls, `_rules_[${i}].rls`);
  }
  return null;
}
