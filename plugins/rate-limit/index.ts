// rate-limit: per-client limits shared by all worker VMs of a proxy (state in shared data).
// Registration only: the contexts are in stream.ts, the decision in decide.ts, the config in config.ts.
export * from "tollgate/assembly/exports";
import { registerRootContext, RootContext } from "tollgate/assembly";
import { PLUGIN } from "./constants";
import { RateLimitRoot } from "./stream";

registerRootContext(PLUGIN, (id: u32): RootContext => new RateLimitRoot(id));
