// Reading Ingress manifests (networking.k8s.io/v1, YAML 1.1 as kubectl reads them) into ingress.ts's Ingress
// objects; every shape problem is an IngressError naming the file, the field and the fix.
import { IngressError } from "./errors.ts";
import type { Obj } from "./generate.ts";
import { PREFIXES, type Backend, type Ingress, type SecretDoc } from "./ingress.ts";

function isObj(v: unknown): v is Obj {
  return Boolean(v) && typeof v === "object" && !Array.isArray(v);
}

/** Parses every document of every file; Ingresses are kept, Secrets collected (basic auth), other kinds noted. */
export async function readIngresses(inputs: Array<{ file: string; text: string }>, notes: string[], secrets: Map<string, SecretDoc> = new Map()): Promise<Ingress[]> {
  const { parseAllDocuments } = await import("yaml");
  const out: Ingress[] = [];
  for (const { file, text } of inputs) {
    // YAML 1.1, as kubectl (sigs.k8s.io/yaml) reads manifests: an unquoted `true` or `20` is not a string.
    const docs = parseAllDocuments(text, { version: "1.1" });
    const list = Array.isArray(docs) ? docs : [docs];
    list.forEach((doc, i) => {
      if (doc.errors.length) throw new IngressError(file, `document ${i + 1}`, `cannot parse: ${doc.errors[0].message}`, "fix the YAML syntax");
      const v = doc.toJS() as unknown;
      if (v === null || v === undefined) return;
      const items = isObj(v) && v.kind === "List" && Array.isArray(v.items) ? (v.items as unknown[]) : [v];
      items.forEach((item, j) => {
        const at = items.length > 1 || list.length > 1 ? `[${i}]${items.length > 1 || (isObj(v) && v.kind === "List") ? `.items[${j}]` : ""}` : "";
        if (!isObj(item)) throw new IngressError(file, at || "(root)", "is not a Kubernetes object", "each document must be a mapping with apiVersion and kind");
        if (item.kind === "Secret" && item.apiVersion === "v1") {
          const sec = readSecret(file, at, item);
          const key = `${sec.namespace}/${sec.name}`;
          if (secrets.has(key)) throw new IngressError(file, `${at ? `${at}.` : ""}metadata.name`, `Secret ${key} is given twice (also in ${secrets.get(key)!.file})`, "give each Secret once");
          secrets.set(key, sec);
          return;
        }
        if (item.kind !== "Ingress") {
          notes.push(`${file}${at}: ${String(item.kind ?? "an object without kind")} ${String((item.metadata as Obj | undefined)?.name ?? "")} ignored (only networking.k8s.io/v1 Ingress is translated)`.replace(/ +\(/, " ("));
          return;
        }
        out.push(readIngress(file, at, item));
      });
    });
  }
  return out;
}

/** A v1 Secret's data (base64, decoded) and stringData (which wins, as the API server merges it). */
function readSecret(file: string, at: string, o: Obj): SecretDoc {
  const f = (p: string) => (at ? `${at}.${p}` : p);
  const meta = isObj(o.metadata) ? o.metadata : {};
  if (typeof meta.name !== "string" || !meta.name) throw new IngressError(file, f("metadata.name"), "is required", "name the Secret");
  const namespace = typeof meta.namespace === "string" && meta.namespace ? meta.namespace : "default";
  const data: Record<string, string> = {};
  for (const [field, b64] of [["data", true], ["stringData", false]] as const) {
    const m = o[field] ?? {};
    if (!isObj(m)) throw new IngressError(file, f(field), "must be a map of strings", `write ${field}: {key: value}`);
    for (const [k, v] of Object.entries(m)) {
      if (typeof v !== "string") throw new IngressError(file, f(`${field}.${k}`), `must be a string, got ${JSON.stringify(v)}`, "quote the value");
      if (b64 && !/^[A-Za-z0-9+/]*={0,2}$/.test(v.replace(/\s+/g, ""))) throw new IngressError(file, f(`${field}.${k}`), "is not base64 (Secret data values are base64-encoded)", "encode it (base64 -w0) or move it to stringData");
      data[k] = b64 ? Buffer.from(v, "base64").toString("utf8") : v;
    }
  }
  return { file, at, namespace, name: meta.name, type: typeof o.type === "string" ? o.type : "Opaque", data };
}

function readBackend(file: string, field: string, b: unknown, namespace: string): Backend {
  if (!isObj(b)) throw new IngressError(file, field, "must be a backend object", "write backend: {service: {name: <svc>, port: {number: <n>}}}");
  if (b.resource !== undefined) throw new IngressError(file, `${field}.resource`, "resource backends cannot be translated", "point the path at a Service (backend.service)");
  const s = b.service;
  if (!isObj(s) || typeof s.name !== "string" || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(s.name)) {
    throw new IngressError(file, `${field}.service.name`, `must be a Service name (DNS label), got ${JSON.stringify(isObj(s) ? s.name : s)}`, "name the backend Service");
  }
  const p = s.port;
  let port: number | string;
  if (isObj(p) && Number.isInteger(p.number) && (p.number as number) > 0 && (p.number as number) < 65536) port = p.number as number;
  else if (isObj(p) && typeof p.name === "string" && p.name) port = p.name;
  else throw new IngressError(file, `${field}.service.port`, `must be {number: 1-65535} or {name: <port name>}, got ${JSON.stringify(p)}`, "set the Service port");
  return { service: s.name, namespace, port };
}

function readIngress(file: string, at: string, o: Obj): Ingress {
  const f = (p: string) => (at ? `${at}.${p}` : p);
  if (o.apiVersion !== "networking.k8s.io/v1") {
    throw new IngressError(file, f("apiVersion"), `must be networking.k8s.io/v1, got ${JSON.stringify(o.apiVersion)}`, "convert the Ingress to networking.k8s.io/v1 (extensions/v1beta1 and networking.k8s.io/v1beta1 were removed in Kubernetes 1.22)");
  }
  const meta = isObj(o.metadata) ? o.metadata : {};
  if (typeof meta.name !== "string" || !meta.name) throw new IngressError(file, f("metadata.name"), "is required", "name the Ingress");
  const namespace = typeof meta.namespace === "string" && meta.namespace ? meta.namespace : "default";
  const raw: Record<string, string> = {};
  const ann = new Map<string, { value: string; key: string }>();
  const annotations = meta.annotations ?? {};
  if (!isObj(annotations)) throw new IngressError(file, f("metadata.annotations"), "must be a map of strings", "write annotations as key: \"value\"");
  for (const [k, v] of Object.entries(annotations)) {
    if (typeof v !== "string") throw new IngressError(file, f(`metadata.annotations["${k}"]`), `must be a string, got ${JSON.stringify(v)} (Kubernetes rejects non-string annotations)`, `quote the value: "${k}": "${String(v)}"`);
    raw[k] = v;
    for (const p of PREFIXES) {
      if (!k.startsWith(p)) continue;
      const short = k.slice(p.length);
      if (p === "higress.io/" || !ann.has(short)) ann.set(short, { value: v, key: k });
    }
  }
  const spec = isObj(o.spec) ? o.spec : {};
  const ing: Ingress = { file, at, namespace, name: meta.name, ann, raw, rules: [], tls: [] };
  if (typeof spec.ingressClassName === "string") ing.ingressClass = spec.ingressClassName;
  if (spec.defaultBackend !== undefined) ing.defaultBackend = readBackend(file, f("spec.defaultBackend"), spec.defaultBackend, namespace);
  const rules = spec.rules ?? [];
  if (!Array.isArray(rules)) throw new IngressError(file, f("spec.rules"), "must be a list", "write rules: [{host, http: {paths: [...]}}]");
  rules.forEach((r: unknown, i: number) => {
    const rp = f(`spec.rules[${i}]`);
    if (!isObj(r)) throw new IngressError(file, rp, "must be an object", "write {host, http: {paths: [...]}}");
    const host = typeof r.host === "string" ? r.host.toLowerCase() : "";
    if (host && !/^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(host)) {
      throw new IngressError(file, `${rp}.host`, `'${r.host}' is not a DNS name (a leading "*." is the only wildcard)`, "fix the host");
    }
    const paths: Ingress["rules"][number]["paths"] = [];
    const http = r.http;
    if (http !== undefined) {
      if (!isObj(http) || !Array.isArray(http.paths) || http.paths.length === 0) throw new IngressError(file, `${rp}.http.paths`, "must be a non-empty list", "add paths: [{path, pathType, backend}]");
      http.paths.forEach((p: unknown, j: number) => {
        const pp = `${rp}.http.paths[${j}]`;
        if (!isObj(p)) throw new IngressError(file, pp, "must be an object", "write {path, pathType, backend}");
        const pathType = p.pathType;
        if (pathType !== "Exact" && pathType !== "Prefix" && pathType !== "ImplementationSpecific") {
          throw new IngressError(file, `${pp}.pathType`, `must be Exact, Prefix or ImplementationSpecific, got ${JSON.stringify(pathType)}`, "set pathType (it is required in networking.k8s.io/v1)");
        }
        const path = p.path === undefined && pathType === "ImplementationSpecific" ? "/" : p.path;
        if (typeof path !== "string" || !path.startsWith("/")) throw new IngressError(file, `${pp}.path`, `must be an absolute path, got ${JSON.stringify(p.path)}`, "start the path with /");
        if (pathType !== "ImplementationSpecific" && /[^A-Za-z0-9/._~%!$&'()*+,;=:@-]/.test(path)) {
          throw new IngressError(file, `${pp}.path`, `'${path}' has characters a ${pathType} path cannot (regex paths need ImplementationSpecific and use-regex, which tollgate does not translate)`, "use a plain path");
        }
        paths.push({ path, pathType, backend: readBackend(file, `${pp}.backend`, p.backend, namespace), at: pp });
      });
    }
    ing.rules.push({ host, paths });
  });
  const tls = spec.tls ?? [];
  if (!Array.isArray(tls)) throw new IngressError(file, f("spec.tls"), "must be a list", "write tls: [{hosts: [...], secretName}]");
  tls.forEach((t: unknown, i: number) => {
    if (!isObj(t)) throw new IngressError(file, f(`spec.tls[${i}]`), "must be an object", "write {hosts, secretName}");
    ing.tls.push({ hosts: Array.isArray(t.hosts) ? t.hosts.map(String) : [], secretName: typeof t.secretName === "string" ? t.secretName : undefined });
  });
  return ing;
}
