// Parses and checks one __NAME__ config (the global part or one `_rules_` entry). Every error names its
// field; nothing here runs on the request path.
import { ConfigReader, toLowerAscii, writableHeaderProblem } from "tollgate/assembly";
import { DEFAULT_HEADER, MAX_KEYS, PLUGIN, TOP_KEYS } from "./constants";

export class __CLASS__Config {
  /** The keys a client may present. */
  keys: string[] = [];
  /** Request header carrying the key (lower-case); removed before the request goes upstream. */
  header: string = DEFAULT_HEADER;
}

/** The config, or null with the first error recorded in `r` (parseRuleSet logs it at critical). */
export function parseConfig(r: ConfigReader): __CLASS__Config | null {
  if (!r.allowOnly(TOP_KEYS) || !r.require("keys")) return null;
  const c = new __CLASS__Config();
  c.keys = r.strList("keys", []);
  c.header = toLowerAscii(r.str("header", DEFAULT_HEADER));
  if (!r.ok()) return null;
  if (c.keys.length == 0 || c.keys.length > MAX_KEYS) {
    r.fail("keys", "must list 1 to " + MAX_KEYS.toString() + " keys");
    return null;
  }
  for (let i = 0; i < c.keys.length; i++) {
    if (c.keys[i].length < 16) {
      r.fail("keys[" + i.toString() + "]", "must be at least 16 characters (a guessable key is no key)");
      return null;
    }
  }
  if (c.header.length == 0 || c.header.startsWith(":")) {
    r.fail("header", "must be a header name, not empty and not a pseudo-header");
    return null;
  }
  const problem = writableHeaderProblem(c.header, PLUGIN);
  if (problem.length > 0) {
    r.fail("header", problem);
    return null;
  }
  return c;
}
