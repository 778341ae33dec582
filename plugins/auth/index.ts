// auth: API keys, Basic, JWT (HS256/RS256/ES256; inline JWKS or remote with OIDC discovery) consumers with
// Higress-style allow lists, and Envoy ext_authz-style external authorization. Registration only: the
// contexts are in stream.ts, the credential choice in decide.ts, the config in config.ts.
export * from "tollgate/assembly/exports-headers";
// A request waiting for its decision keeps its body and trailers waiting (stream.ts hold/proceed).
export * from "tollgate/assembly/exports-request-body";
import { registerRootContext, RootContext } from "tollgate/assembly";
import { PLUGIN } from "./constants";
import { AuthRoot } from "./stream";

registerRootContext(PLUGIN, (id: u32): RootContext => new AuthRoot(id));
