// The plugin-facing library: contexts, host calls, config reading, `_rules_`, and HTTP helpers.
// Plugins import from here only, never from the SDK, so the runtime underneath can change.
export { Action, LogLevel, RootContext, HttpContext, registerRootContext, awaitCallout, log } from "./runtime";
export * from "./host";
export { JsonKind, JsonValue, parseJson, jsonError, describeJson, formatNumber } from "./json";
export { ConfigReader, ErrorSink } from "./config";
export { Rule, RuleSet, parseRuleSet, ruleSetError, domainMatches, serviceMatches } from "./rules";
export { StringTable } from "./table";
export {
  cookieValue, queryParam, percentDecode, pathWithoutQuery, hostWithoutPort, sanitizeHeaderValue,
  equalsIgnoreCase, toLowerAscii, trimOws, constantTimeEquals, localReply,
} from "./http";
