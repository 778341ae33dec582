// cors: Cross-Origin Resource Sharing at the gateway (Higress cors 2.0.1 semantics, see README.md).
// Registration only: the contexts are in stream.ts, the decision in decide.ts, the config in config.ts.
export * from "tollgate/assembly/exports-headers";
import { registerRootContext, RootContext } from "tollgate/assembly";
import { PLUGIN } from "./constants";
import { CorsRoot } from "./stream";

registerRootContext(PLUGIN, (id: u32): RootContext => new CorsRoot(id));
