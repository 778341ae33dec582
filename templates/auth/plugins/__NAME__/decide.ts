// The decision, pure: whether a request may pass, from the key it presented (no host calls), so it is
// table-tested without a proxy.
import { constantTimeEquals } from "tollgate/assembly";
import { __CLASS__Config } from "./config";

// @ts-ignore: decorator
@inline export const ALLOW: u8 = 0;
// @ts-ignore: decorator
@inline export const MISSING: u8 = 1;
// @ts-ignore: decorator
@inline export const DENIED: u8 = 2;

/** The request as the decision sees it; stream.ts reads it from the host. */
export class RequestView {
  /** The key header's value, null when absent. */
  key: string | null = null;
}

/** ALLOW, MISSING or DENIED. Every configured key is compared in constant time (no early exit). */
export function decide(cfg: __CLASS__Config, req: RequestView): u8 {
  const key = req.key;
  if (key === null || key.length == 0) return MISSING;
  let found = false;
  for (let i = 0; i < cfg.keys.length; i++) {
    if (constantTimeEquals(unchecked(cfg.keys[i]), key)) found = true;
  }
  return found ? ALLOW : DENIED;
}
