// The identity providers an auth config fetches signing keys from (consumers[].jwt.remote_jwks): the plugin
// calls them over proxy_http_call through a named Envoy cluster, so a deployment needs that cluster. `gen envoy`
// adds it to the bootstrap (TLS with SNI for https); `gen wasmplugin` prints what makes it exist in Istio: a
// ServiceEntry for the IdP host (mesh-external; in-cluster *.svc hosts need none) and, for https, a
// DestinationRule originating TLS, as Istio's egress TLS origination guide does. Istio names that cluster
// outbound|<port>||<host>, which is what remote_jwks.cluster must say there.
import { isIP } from "node:net";
import { ServiceEntry } from "@kubernetes-models/istio/networking.istio.io/v1beta1";
import { checkK8sObject } from "../../k8s/check.ts";
import type { PluginInput } from "../../k8s/generate.ts";
import { GenError } from "../../k8s/errors.ts";
import type { Obj } from "./kind.ts";

export interface IdpSource {
  /** Where in the plugin config, for messages: auth consumers[0].jwt.remote_jwks. */
  field: string;
  cluster: string;
  https: boolean;
  host: string;
  port: number;
}

/** Every remote_jwks of every auth input (discovery: the issuer's host; its jwks_uri must share the cluster). */
export function idpSources(inputs: PluginInput[]): IdpSource[] {
  const out: IdpSource[] = [];
  for (const p of inputs) {
    const consumers = (p.config?.consumers ?? []) as Obj[];
    consumers.forEach((c, i) => {
      const jwt = c.jwt as Obj | undefined;
      const remote = jwt?.remote_jwks as Obj | undefined;
      if (!remote) return;
      const field = `${p.meta.name} consumers[${i}].jwt.remote_jwks`;
      const raw = remote.discovery === true ? String(jwt!.issuer) : String(remote.uri);
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        throw new GenError(`${field}: '${raw}' is not a URL`, "remote_jwks.uri (or the issuer, with discovery) must be an http(s) URL");
      }
      const https = url.protocol === "https:";
      const host = url.hostname.replace(/^\[|\]$/g, "");
      out.push({ field, cluster: String(remote.cluster), https, host, port: url.port ? Number(url.port) : https ? 443 : 80 });
    });
  }
  return out;
}

/** One Envoy cluster per remote_jwks cluster name (two sources naming one cluster must agree on its host). */
export function idpClusters(sources: IdpSource[]): Obj[] {
  const byName = new Map<string, IdpSource>();
  for (const s of sources) {
    const prior = byName.get(s.cluster);
    if (prior && (prior.host !== s.host || prior.port !== s.port || prior.https !== s.https)) {
      throw new GenError(`${s.field}: cluster '${s.cluster}' is also the cluster of ${prior.field}, for another host`, "give each identity provider its own cluster name");
    }
    byName.set(s.cluster, s);
  }
  return [...byName.values()].map((s) => {
    const c: Obj = {
      name: s.cluster,
      type: isIP(s.host) ? "STATIC" : "STRICT_DNS",
      connect_timeout: "5s",
      dns_lookup_family: "V4_PREFERRED",
      load_assignment: { cluster_name: s.cluster, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: s.host, port_value: s.port } } } }] }] },
    };
    if (s.https) {
      c.transport_socket = {
        name: "envoy.transport_sockets.tls",
        typed_config: {
          "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
          sni: s.host,
          common_tls_context: { validation_context: { trusted_ca: { filename: "/etc/ssl/certs/ca-certificates.crt" }, match_typed_subject_alt_names: [{ san_type: "DNS", matcher: { exact: s.host } }] } },
        },
      };
    }
    return c;
  });
}

/** Istio's name for the cluster of `host`:`port`, what remote_jwks.cluster must be in a mesh. */
export function istioCluster(s: IdpSource): string {
  return `outbound|${s.https ? 80 : s.port}||${s.host}`;
}

const inCluster = (host: string) => /\.svc(\.cluster\.local)?$/.test(host);

/**
 * ServiceEntry (and for https a TLS-originating DestinationRule) per external IdP host; warnings for a
 * remote_jwks.cluster that is not the Istio cluster name of its host.
 */
export function idpIstioResources(sources: IdpSource[], namespace?: string): { docs: Obj[]; warnings: string[] } {
  const docs: Obj[] = [];
  const warnings: string[] = [];
  const seen = new Set<string>();
  for (const s of sources) {
    if (inCluster(s.host)) {
      const want = `outbound|${s.port}||${s.host}`;
      if (s.cluster !== want) warnings.push(`${s.field}.cluster is '${s.cluster}'; in Istio the in-mesh IdP's cluster is '${want}'`);
      continue;
    }
    const want = istioCluster(s);
    if (s.cluster !== want) warnings.push(`${s.field}.cluster is '${s.cluster}'; with the ServiceEntry below, Istio names the IdP's cluster '${want}'`);
    if (seen.has(s.host)) continue;
    seen.add(s.host);
    const name = `idp-${s.host.replace(/[^a-z0-9-]+/gi, "-").toLowerCase()}`.slice(0, 63).replace(/-+$/, "");
    const metadata: Obj = { name, ...(namespace ? { namespace } : {}) };
    // https: the plugin sends plain HTTP to port 80 and the sidecar/gateway originates TLS to 443.
    const ports = s.https
      ? [{ number: 80, name: "http", protocol: "HTTP", targetPort: s.port }, { number: s.port, name: "https", protocol: "HTTPS" }]
      : [{ number: s.port, name: "http", protocol: "HTTP" }];
    docs.push({
      apiVersion: "networking.istio.io/v1",
      kind: "ServiceEntry",
      metadata,
      spec: { hosts: [s.host], location: "MESH_EXTERNAL", resolution: isIP(s.host) ? "STATIC" : "DNS", ports, ...(isIP(s.host) ? { endpoints: [{ address: s.host }] } : {}) },
    });
    if (s.https) {
      docs.push({
        apiVersion: "networking.istio.io/v1",
        kind: "DestinationRule",
        metadata,
        spec: { host: s.host, trafficPolicy: { portLevelSettings: [{ port: { number: 80 }, tls: { mode: "SIMPLE", sni: s.host } }] } },
      });
    }
  }
  return { docs, warnings };
}

/**
 * Schema errors of a generated IdP resource. The bundled CRDs (tools/k8s/crds) have no ServiceEntry: it is
 * checked with @kubernetes-models/istio's model, whose v1beta1 schema is the v1 one (Istio serves both).
 */
export function checkIdpResource(doc: Obj): string[] {
  if (doc.kind !== "ServiceEntry") return checkK8sObject(doc);
  try {
    new ServiceEntry({ ...doc, apiVersion: "networking.istio.io/v1beta1" } as never).validate();
    return [];
  } catch (e) {
    return [`ServiceEntry ${(doc.metadata as Obj)?.name}: ${(e as Error).message}`];
  }
}
