// auth: API keys, Basic, JWT (HS256/RS256/ES256) consumers with Higress-style allow lists, and Envoy
// ext_authz-style external authorization. Entry only: configuration in config.ts, the request flow in
// stream.ts, decisions in credentials.ts / jwt.ts.
export * from "../../assembly/exports";
import { HttpContext, randomU32, registerRootContext, RootContext } from "../../assembly";
import { TokenCache } from "./cache";
import { parseAuthConfig } from "./config";
import { AuthRoot, AuthStream } from "./stream";

class AuthPluginRoot extends AuthRoot {
  onConfigure(config: string): bool {
    const plugin = parseAuthConfig(config);
    // parseAuthConfig has logged the field and the rule at critical.
    if (plugin === null) return false;
    this.plugin = plugin;
    const jwt = plugin.config.jwt;
    const seed = (<u64>randomU32() << 32) | <u64>randomU32();
    this.cache = new TokenCache(jwt !== null ? jwt.cacheSize : 0, seed);
    this.startRemote(plugin);
    return true;
  }

  createHttpContext(id: u32): HttpContext | null {
    return new AuthStream(id, this);
  }
}

registerRootContext("auth", (id: u32): RootContext => new AuthPluginRoot(id));
