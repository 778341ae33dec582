// rate-limit: per-client limits shared by all worker VMs of a proxy (state in shared data).
// Registration only: the contexts are in stream.ts, the decision in decide.ts, the config in config.ts.
export * from "tollgate/assembly/exports-headers";
// A request waiting for the rate limit service keeps its body and trailers waiting (stream.ts).
export * from "tollgate/assembly/exports-request-body";
import { registerRootContext, RootContext } from "tollgate/assembly";
import { PLUGIN } from "./constants";
import { RateLimitRoot } from "./stream";

registerRootContext(PLUGIN, (id: u32): RootContext => new RateLimitRoot(id));
