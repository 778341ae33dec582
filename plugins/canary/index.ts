// canary: decides a version tag per request and writes it into `tag_header`; Envoy routes on that
// header (VirtualService / route header match). Registration only: the contexts are in stream.ts, the
// decision in decide.ts, the config in config.ts.
export * from "tollgate/assembly/exports-headers";
import { registerRootContext, RootContext } from "tollgate/assembly";
import { PLUGIN } from "./constants";
import { CanaryRoot } from "./stream";

registerRootContext(PLUGIN, (id: u32): RootContext => new CanaryRoot(id));
