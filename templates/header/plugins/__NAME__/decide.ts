// The decision, pure: what __NAME__ does for a request, from a small view of it (no host calls), so it is
// table-tested without a proxy.
import { __CLASS__Config } from "./config";

/** The request as the decision sees it; stream.ts reads it from the host. */
export class RequestView {
  method: string = "";
}

/** True when the response to `req` gets the configured header. */
export function addsHeader(cfg: __CLASS__Config, req: RequestView): bool {
  if (cfg.methods.length == 0) return true;
  for (let i = 0; i < cfg.methods.length; i++) {
    if (unchecked(cfg.methods[i]) == req.method) return true;
  }
  return false;
}
