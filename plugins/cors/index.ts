// cors: Cross-Origin Resource Sharing at the gateway (Higress cors 2.0.1 semantics, see README.md).
// Entry only: registers the root context under root_id "cors" and wires the hooks to filter.ts.
export * from "../../assembly/exports";
import { HttpContext, registerRootContext, RootContext, RuleSet } from "../../assembly";
import { parseConfig } from "./config";
import { CorsStreamState, decideRequest, decorateResponse } from "./filter";
import { CorsPolicy } from "./policy";

class CorsRoot extends RootContext {
  rules: RuleSet<CorsPolicy> | null = null;

  onConfigure(config: string): bool {
    const rules = parseConfig(config);
    if (rules === null) return false;
    this.rules = rules;
    return true;
  }

  createHttpContext(id: u32): HttpContext | null {
    const rules = this.rules;
    return rules === null ? null : new CorsStream(id, this, rules);
  }
}

class CorsStream extends CorsStreamState {
  onRequestHeaders(numHeaders: u32, endOfStream: bool): u32 {
    return decideRequest(this);
  }

  onResponseHeaders(numHeaders: u32, endOfStream: bool): u32 {
    return decorateResponse(this);
  }
}

registerRootContext("cors", (id: u32): RootContext => new CorsRoot(id));
