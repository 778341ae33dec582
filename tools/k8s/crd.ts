// Validates Kubernetes objects against the official CRDs (tools/k8s/crds/*.yaml, copied verbatim), making the
// checks `kubectl apply --dry-run=server` makes: the structural openAPIV3Schema (with strict field validation:
// unknown fields are errors), ObjectMeta basics, list-map key uniqueness, and the CEL x-kubernetes-validations.
// CEL: the CRDs use a small, fixed set of rules; each is implemented below keyed by its exact text. A rule not
// in the table is reported as an error, so a CRD update cannot silently drop a check.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { parseAllDocuments } from "yaml";
import { repoRoot } from "../paths.ts";

type Schema = Record<string, any>;
interface CrdVersion { group: string; kind: string; version: string; schema: Schema }

let crds: Map<string, CrdVersion> | undefined;

/** apiVersion + kind → the CRD version's schema, from tools/k8s/crds/*.yaml. */
function loadCrds(): Map<string, CrdVersion> {
  if (crds) return crds;
  crds = new Map();
  for (const file of ["istio.yaml", "higress.yaml"]) {
    const text = readFileSync(join(repoRoot(), "tools", "k8s", "crds", file), "utf8");
    for (const doc of parseAllDocuments(text)) {
      const crd = doc.toJS() as Schema | null;
      if (!crd || crd.kind !== "CustomResourceDefinition") continue;
      for (const v of crd.spec.versions) {
        const key = `${crd.spec.group}/${v.name}/${crd.spec.names.kind}`;
        crds.set(key, { group: crd.spec.group, kind: crd.spec.names.kind, version: v.name, schema: v.schema.openAPIV3Schema });
      }
    }
  }
  return crds;
}

/** The apiVersion/kind pairs the bundled CRDs define. */
export function knownKinds(): string[] {
  return [...loadCrds().keys()];
}

/** Structural schema → JSON Schema for ajv. Objects with properties reject unknown fields (kubectl's strict
 *  field validation) unless x-kubernetes-preserve-unknown-fields; nullable adds null; int-or-string is a union. */
export function toJsonSchema(s: Schema): Schema {
  const out: Schema = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === "properties") out.properties = Object.fromEntries(Object.entries(v as Schema).map(([pk, pv]) => [pk, toJsonSchema(pv as Schema)]));
    else if (k === "items" || k === "not") out[k] = toJsonSchema(v as Schema);
    else if (k === "additionalProperties") out[k] = typeof v === "boolean" ? v : toJsonSchema(v as Schema);
    else if (k === "oneOf" || k === "anyOf" || k === "allOf") out[k] = (v as Schema[]).map(toJsonSchema);
    else if (k === "description" || k.startsWith("x-kubernetes-") || k === "nullable") continue;
    else out[k] = v;
  }
  if (s["x-kubernetes-int-or-string"]) {
    delete out.type;
    out.anyOf = [...(out.anyOf ?? []), { type: "integer" }, { type: "string" }];
  }
  if (s.type === "object" && !s["x-kubernetes-preserve-unknown-fields"] && s.additionalProperties === undefined) {
    // `properties: {}`-less objects without additionalProperties (e.g. metadata) are validated elsewhere.
    if (s.properties) out.additionalProperties = false;
  }
  if (s.nullable && typeof out.type === "string") out.type = [out.type, "null"];
  return out;
}

let ajv: Ajv | undefined;
const compiled = new Map<string, ValidateFunction>();

function ajvInstance(): Ajv {
  if (ajv) return ajv;
  // Kubernetes uses Go RE2 patterns, which JS reads without the unicode flag.
  ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
  ajv.addFormat("int32", { type: "number", validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat("int64", { type: "number", validate: (n: number) => Number.isInteger(n) });
  ajv.addFormat("double", { type: "number", validate: (n: number) => Number.isFinite(n) });
  ajv.addFormat("byte", { type: "string", validate: (s: string) => /^[A-Za-z0-9+/]*={0,2}$/.test(s) && s.length % 4 === 0 });
  ajv.addFormat("date-time", { type: "string", validate: (s: string) => !Number.isNaN(Date.parse(s)) });
  return ajv;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Validates one object (apiVersion, kind, metadata, spec); returns errors as `<path>: <message>` (empty = valid). */
export function validateK8sObject(obj: unknown): string[] {
  if (!obj || typeof obj !== "object" || Array.isArray(obj)) return ["(root): must be an object"];
  const o = obj as Schema;
  const key = `${o.apiVersion}/${o.kind}`;
  const crd = loadCrds().get(key);
  if (!crd) return [`(root): no bundled CRD defines apiVersion '${o.apiVersion}' kind '${o.kind}' (known: ${knownKinds().join(", ")})`];
  const errors: string[] = [];
  errors.push(...validateMetadata(o.metadata));
  let fn = compiled.get(key);
  if (!fn) {
    const schema = toJsonSchema(crd.schema);
    // The API server adds the type and object meta to every CRD's root.
    schema.properties = { apiVersion: { type: "string" }, kind: { type: "string" }, metadata: { type: "object" }, ...schema.properties };
    fn = ajvInstance().compile(schema);
    compiled.set(key, fn);
  }
  if (!fn(obj)) errors.push(...(fn.errors ?? []).filter((e) => !e.instancePath.startsWith("/metadata/")).map(formatAjvError));
  walkK8s(crd.schema, o, "", errors, o);
  return errors;
}

function validateMetadata(m: unknown): string[] {
  if (!m || typeof m !== "object") return ["metadata: required object"];
  const meta = m as Schema;
  const errs: string[] = [];
  if (typeof meta.name !== "string" || meta.name.length === 0) errs.push("metadata.name: required");
  else if (meta.name.length > 253 || !DNS_SUBDOMAIN.test(meta.name)) errs.push(`metadata.name: '${meta.name}' must be a lowercase RFC 1123 subdomain`);
  if (meta.namespace !== undefined && (typeof meta.namespace !== "string" || meta.namespace.length > 63 || !DNS_LABEL.test(meta.namespace))) {
    errs.push(`metadata.namespace: '${meta.namespace}' must be a lowercase RFC 1123 label`);
  }
  for (const f of ["labels", "annotations"]) {
    if (meta[f] === undefined) continue;
    if (typeof meta[f] !== "object" || Array.isArray(meta[f])) errs.push(`metadata.${f}: must be a map of strings`);
    else for (const [k, v] of Object.entries(meta[f] as Schema)) if (typeof v !== "string") errs.push(`metadata.${f}.${k}: must be a string`);
  }
  const allowed = new Set(["name", "namespace", "labels", "annotations", "generateName", "finalizers", "ownerReferences"]);
  for (const k of Object.keys(meta)) if (!allowed.has(k)) errs.push(`metadata.${k}: unknown field`);
  return errs;
}

export function formatAjvError(e: ErrorObject): string {
  const path = e.instancePath.replace(/^\//, "").split("/").filter(Boolean).map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`)).join("").replace(/^\./, "") || "(root)";
  if (e.keyword === "additionalProperties") return `${path}: unknown field '${(e.params as { additionalProperty: string }).additionalProperty}'`;
  if (e.keyword === "enum") return `${path}: ${e.message} (${(e.params as { allowedValues: unknown[] }).allowedValues.join(", ")})`;
  return `${path}: ${e.message}`;
}

/** Walks data with its schema: list-map key uniqueness and CEL rules at every node that has them. */
function walkK8s(s: Schema, v: unknown, path: string, errors: string[], root: Schema): void {
  if (v === undefined || v === null || !s) return;
  for (const r of (s["x-kubernetes-validations"] ?? []) as Array<{ rule: string; message?: string }>) {
    const impl = CEL_RULES[r.rule];
    if (!impl) errors.push(`${path || "(root)"}: CEL rule not implemented by tollgate's checker: ${r.rule}`);
    else if (!impl(v)) errors.push(`${path || "(root)"}: ${r.message ?? `failed rule: ${r.rule}`}`);
  }
  if (Array.isArray(v)) {
    if (s["x-kubernetes-list-type"] === "map" && Array.isArray(s["x-kubernetes-list-map-keys"])) {
      const seen = new Set<string>();
      for (const item of v) {
        const k = JSON.stringify((s["x-kubernetes-list-map-keys"] as string[]).map((mk) => (item as Schema)?.[mk]));
        if (seen.has(k)) errors.push(`${path}: duplicate entry for key ${k}`);
        seen.add(k);
      }
    }
    if (s.items) v.forEach((item, i) => walkK8s(s.items, item, `${path}[${i}]`, errors, root));
    return;
  }
  if (typeof v === "object") {
    const obj = v as Schema;
    if (s.properties) for (const [k, ps] of Object.entries(s.properties as Schema)) walkK8s(ps, obj[k], path ? `${path}.${k}` : k, errors, root);
    if (s.additionalProperties && typeof s.additionalProperties === "object") {
      for (const [k, item] of Object.entries(obj)) walkK8s(s.additionalProperties, item, `${path}.${k}`, errors, root);
    }
  }
}

// ---- CEL rules (exact text from the CRDs → the same predicate in JS) ----

/** Go's url.ParseRequestURI scheme handling, which the Kubernetes CEL url library uses. */
function goUrlScheme(s: string): string | null {
  if (/[\x00-\x20\x7f]/.test(s)) return null;
  const m = /^([a-zA-Z][a-zA-Z0-9+.\-]*):/.exec(s);
  if (!m) return s.startsWith("/") ? "" : null; // no scheme: only an absolute path is a request URI
  return m[1].toLowerCase();
}

/** CEL/Go duration literal ("1.5s", "300ms", "1h2m") in nanoseconds, or null when invalid. */
export function parseDuration(s: string): number | null {
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  const unit: Record<string, number> = { ns: 1, us: 1e3, "µs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  let str = s;
  let sign = 1;
  if (str.startsWith("-") || str.startsWith("+")) {
    sign = str[0] === "-" ? -1 : 1;
    str = str.slice(1);
  }
  if (str === "0") return 0;
  if (str === "") return null;
  let total = 0;
  re.lastIndex = 0;
  let pos = 0;
  for (let m = re.exec(str); m; m = re.exec(str)) {
    total += Number(m[1]) * unit[m[2]];
    pos = re.lastIndex;
  }
  return pos === str.length && pos > 0 ? sign * total : null;
}

const has = (o: unknown, k: string) => !!o && typeof o === "object" && (o as Schema)[k] !== undefined;
const URL_SCHEMES = ["", "http", "https", "oci", "file"];

export const CEL_RULES: Record<string, (self: any) => boolean> = {
  "(has(self.selector) ? 1 : 0) + (has(self.targetRef) ? 1 : 0) + (has(self.targetRefs) ? 1 : 0) <= 1": (self) =>
    Number(has(self, "selector")) + Number(has(self, "targetRef")) + Number(has(self, "targetRefs")) <= 1,
  "(has(self.workloadSelector) ? 1 : 0) + (has(self.targetRefs) ? 1 : 0) <= 1": (self) =>
    Number(has(self, "workloadSelector")) + Number(has(self, "targetRefs")) <= 1,
  'self.all(key, !key.contains("*"))': (self) => Object.keys(self).every((k) => !k.includes("*")),
  "self.all(key, key.size() != 0)": (self) => Object.keys(self).every((k) => k.length !== 0),
  '!self.contains("*")': (self) => !String(self).includes("*"),
  "self.size() == 0": (self) => String(self).length === 0,
  'isURL(self) ? (url(self).getScheme() in ["", "http", "https", "oci", "file"]) : (isURL("http://" + self) &&\nurl("http://" + self).getScheme() in ["", "http", "https", "oci", "file"])':
    (self) => {
      const direct = goUrlScheme(String(self));
      if (direct !== null) return URL_SCHEMES.includes(direct);
      return goUrlScheme(`http://${self}`) !== null;
    },
  '(has(self.valueFrom) ? self.valueFrom : "") != "HOST" || !has(self.value)': (self) => (self.valueFrom ?? "") !== "HOST" || !has(self, "value"),
  'has(self.context) ? ((self.context == "WAYPOINT") ? has(self.waypoint) : !has(self.waypoint)) : !has(self.waypoint)': (self) =>
    has(self, "context") ? (self.context === "WAYPOINT" ? has(self, "waypoint") : !has(self, "waypoint")) : !has(self, "waypoint"),
  "0 < self && self <= 65535": (self) => 0 < self && self <= 65535,
  "duration(self) >= duration('1ms')": (self) => {
    const d = parseDuration(String(self));
    return d !== null && d >= 1e6;
  },
};

/** Every CEL rule text in the bundled CRDs (for the test that all are implemented). */
export function allCelRules(): string[] {
  const rules = new Set<string>();
  const walk = (s: unknown): void => {
    if (Array.isArray(s)) s.forEach(walk);
    else if (s && typeof s === "object") {
      for (const [k, v] of Object.entries(s as Schema)) {
        if (k === "x-kubernetes-validations") for (const r of v as Array<{ rule: string }>) rules.add(r.rule);
        else walk(v);
      }
    }
  };
  for (const c of loadCrds().values()) walk(c.schema);
  return [...rules];
}
