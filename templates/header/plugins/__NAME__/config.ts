// Parses and checks one __NAME__ config (the global part or one `_rules_` entry). Every error names its
// field; nothing here runs on the request path.
import { ConfigReader, framingHeaderProblem, toLowerAscii } from "tollgate/assembly";
import { TOP_KEYS } from "./constants";

export class __CLASS__Config {
  /** Response header to set (lower-case). */
  header: string = "";
  value: string = "";
  /** Methods whose responses get the header; empty = every method. */
  methods: string[] = [];
}

/** The config, or null with the first error recorded in `r` (parseRuleSet logs it at critical). */
export function parseConfig(r: ConfigReader): __CLASS__Config | null {
  if (!r.allowOnly(TOP_KEYS) || !r.require("header")) return null;
  const c = new __CLASS__Config();
  c.header = toLowerAscii(r.str("header", ""));
  c.value = r.str("value", "");
  c.methods = r.strList("methods", []);
  if (!r.ok()) return null;
  if (c.header.length == 0 || c.header.startsWith(":")) {
    r.fail("header", "must be a header name, not empty and not a pseudo-header, got \"" + c.header + "\"");
    return null;
  }
  const framing = framingHeaderProblem(c.header);
  if (framing.length > 0) {
    r.fail("header", framing);
    return null;
  }
  if (c.value.length > 1024) {
    r.fail("value", "must be at most 1024 characters");
    return null;
  }
  return c;
}
