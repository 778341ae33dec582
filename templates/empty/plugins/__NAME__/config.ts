// Parses and checks one __NAME__ config (the global part or one `_rules_` entry). Every error names its
// field (r.fail("field", "must be …")); nothing here runs on the request path.
import { ConfigReader } from "tollgate/assembly";
import { TOP_KEYS } from "./constants";

export class __CLASS__Config {}

/** The config, or null with the first error recorded in `r` (parseRuleSet logs it at critical). */
export function parseConfig(r: ConfigReader): __CLASS__Config | null {
  if (!r.allowOnly(TOP_KEYS)) return null;
  return new __CLASS__Config();
}
