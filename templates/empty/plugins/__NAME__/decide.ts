// The decision, pure: what __NAME__ does for a request, from a small view of it (no host calls).
import { __CLASS__Config } from "./config";

/** The request as the decision sees it; stream.ts fills it from the host. */
export class RequestView {
  method: string = "";
}

/** True when the request goes on unchanged (the skeleton passes everything). */
export function passes(cfg: __CLASS__Config, req: RequestView): bool {
  return true;
}
