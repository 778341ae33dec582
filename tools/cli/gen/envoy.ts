// gen envoy: a static Envoy bootstrap, listener → plugins → router → --upstream.
import { list, str } from "../args.ts";
import { UsageError } from "../errors.ts";
import type { GenKind, Obj } from "./kind.ts";
import { pluginInputs } from "./plugin-inputs.ts";

const envoy: GenKind = async (plugins, v) => {
  const { inputs, k8s } = await pluginInputs("envoy", plugins, v);
  const { envoyBootstrap, parseHostPort } = await import("../../k8s/generate.ts");
  const { checkBootstrap } = await import("../../k8s/check.ts");
  const ups = list(v.upstream);
  if (ups.length !== 1) throw new UsageError("gen envoy needs one --upstream host:port", "e.g. --upstream 127.0.0.1:8080");
  const adminArg = str(v.admin)!;
  const dir = str(v["wasm-dir"])!.replace(/\/+$/, "");
  const bootstrap: Obj = envoyBootstrap(inputs, {
    upstream: parseHostPort(ups[0], "--upstream"),
    listen: parseHostPort(str(v.listen)!, "--listen"),
    admin: adminArg === "none" ? null : parseHostPort(adminArg, "--admin"),
    wasmFile: (n) => `${dir}/${n}.wasm`,
    failStrategy: k8s.failStrategy,
    phase: k8s.phase,
    priority: k8s.priority,
  });
  return { docs: [bootstrap], errors: checkBootstrap(bootstrap) };
};
export default envoy;
