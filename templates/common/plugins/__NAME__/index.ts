// __NAME__: registration only. The config is read in config.ts, the decision made in decide.ts, and
// stream.ts turns it into host calls.
// The headers-only callbacks: Envoy skips the ones a module does not export (tollgate/assembly/exports-request-body adds the request body hooks).
export * from "tollgate/assembly/exports-headers";
import { registerRootContext, RootContext } from "tollgate/assembly";
import { PLUGIN } from "./constants";
import { __CLASS__Root } from "./stream";

registerRootContext(PLUGIN, (id: u32): RootContext => new __CLASS__Root(id));
