// gen from-ingress: Kubernetes Ingress files (ingress-nginx / Higress annotations) → Istio, Higress or Envoy.
import { list, str } from "../args.ts";
import { UsageError } from "../errors.ts";
import { kv, oneOf, type GenKind } from "./kind.ts";

const fromIngressKind: GenKind = async (files, v) => {
  const { parseHostPort } = await import("../../k8s/generate.ts");
  const { fromIngress, TARGETS } = await import("../../k8s/from-ingress.ts");
  const target = oneOf("target", str(v.target), TARGETS)!;
  const base = Number(str(v["echo-base-port"]));
  if (!Number.isInteger(base) || base < 1 || base > 65000) throw new UsageError(`--echo-base-port must be an integer 1-65000, got '${str(v["echo-base-port"])}'`);
  const adminArg = str(v.admin)!;
  const r = await fromIngress({
    files,
    target,
    url: list(v.url)[0],
    namespace: str(v.namespace),
    upstreams: kv(list(v.upstream), "upstream"),
    echoBasePort: base,
    listen: parseHostPort(str(v.listen)!, "--listen"),
    admin: adminArg === "none" ? null : parseHostPort(adminArg, "--admin"),
    wasmDir: str(v["wasm-dir"]),
  });
  for (const l of r.notes) console.error(l);
  for (const c of r.echoClusters) console.error(`upstream: ${c} → http://127.0.0.1:${r.clusters.get(c)!.port} (start it with: tollgate echo --port ${r.clusters.get(c)!.port} --name ${c}; or pass --upstream ${c.split(".")[0]}=host:port)`);
  // fromIngress validated what it built (CRDs / Envoy protos) before returning.
  return { docs: r.docs, errors: [] };
};
export default fromIngressKind;
