// What each plugin documents (its README's "failure replies" and owned headers), as fuzz invariants:
// which local-reply statuses may appear for a config, and which values its identity/tag headers may carry.
import type { ExchangeResult } from "../host/testing.ts";
import type { FuzzRequest, HeaderList } from "./arbitraries.ts";

export interface FuzzProfile {
  /** Statuses the plugin may answer locally with this config. */
  localStatuses(config: unknown): number[];
  /** A violation message, or null: checks headers the plugin owns on the upstream request. */
  checkUpstreamRequest?(config: unknown, req: FuzzRequest, headers: HeaderList): string | null;
  /** A violation message, or null: checks the response the client gets. */
  checkResponse?(config: unknown, req: FuzzRequest, r: ExchangeResult): string | null;
}

/** Every value of `key` anywhere in a JSON tree (global config and `_rules_` alike). */
function valuesOf(tree: unknown, key: string, out: unknown[] = []): unknown[] {
  if (Array.isArray(tree)) for (const v of tree) valuesOf(v, key, out);
  else if (tree && typeof tree === "object") {
    for (const [k, v] of Object.entries(tree)) {
      if (k === key) out.push(v);
      valuesOf(v, key, out);
    }
  }
  return out;
}

function first(headers: HeaderList, name: string): string | undefined {
  return headers.find((h) => h[0] === name)?.[1];
}

function all(headers: HeaderList, name: string): string[] {
  return headers.filter((h) => h[0] === name).map((h) => h[1]);
}

const profiles: Record<string, FuzzProfile> = {
  noop: { localStatuses: () => [] },

  cors: {
    localStatuses: (c) => [204, 200, ...valuesOf(c, "preflight_status").map(Number)],
    checkResponse(_c, req, r) {
      const acao = all(r.headers, "access-control-allow-origin");
      if (!acao.length) return null;
      // Requests cors leaves alone (no Origin, same origin) keep the upstream's own headers, as Envoy's filter does.
      const fromUpstream = all(req.upstreamHeaders, "access-control-allow-origin");
      if (!r.localReply && JSON.stringify(acao) === JSON.stringify(fromUpstream)) return null;
      if (acao.length > 1) return `access-control-allow-origin doubled: ${JSON.stringify(acao)}`;
      const origin = first(req.headers, "origin");
      if (acao[0] !== origin && acao[0] !== "*") return `access-control-allow-origin ${JSON.stringify(acao[0])} is neither the request origin nor *`;
      if (acao[0] === "*" && first(r.headers, "access-control-allow-credentials") === "true") return "access-control-allow-origin * together with credentials";
      return null;
    },
  },

  canary: {
    localStatuses: () => [],
    checkUpstreamRequest(c, req, headers) {
      const name = String((c as Record<string, unknown>)?.tag_header ?? "x-canary-version").toLowerCase();
      const values = all(headers, name);
      if (values.length > 1) return `tag header ${name} doubled: ${JSON.stringify(values)}`;
      if (!values.length) return null;
      const tags = new Set(["tag", "default_tag", "canary_tag", "stable_tag"].flatMap((k) => valuesOf(c, k)).map(String));
      const trusted = valuesOf(c, "trust_client_tag").includes(true) && all(req.headers, name).includes(values[0]);
      if (!tags.has(values[0]) && !trusted) return `tag header ${name}=${JSON.stringify(values[0])} is not a configured tag`;
      return null;
    },
  },

  "rate-limit": {
    localStatuses: (c) => [429, ...valuesOf(c, "status").map(Number)],
  },

  auth: {
    // 401 missing/invalid credential, 403 not allowed / ext-auth denied or failed; ext-auth passes its own status through.
    localStatuses: () => [401, 403, 400, 503],
    checkUpstreamRequest(c, _req, headers) {
      const name = String((c as Record<string, unknown>)?.consumer_header ?? "x-mse-consumer").toLowerCase();
      const values = all(headers, name);
      if (values.length > 1) return `consumer header ${name} doubled: ${JSON.stringify(values)}`;
      if (!values.length) return null;
      const consumers = valuesOf(c, "consumers").flatMap((list) => (Array.isArray(list) ? list.map((x) => String((x as Record<string, unknown>).name)) : []));
      if (!consumers.includes(values[0])) return `consumer header ${name}=${JSON.stringify(values[0])} names no configured consumer (client input leaked?)`;
      return null;
    },
  },
};

export function profileFor(name: string): FuzzProfile {
  return profiles[name] ?? { localStatuses: () => [400, 401, 403, 429, 503] };
}

export const FUZZED_PLUGINS = ["cors", "canary", "rate-limit", "auth", "noop"];
