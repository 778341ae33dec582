// The plugin-facing library: contexts, host calls, and (as they land) config, rules and HTTP helpers.
// Plugins import from here only, never from the SDK, so the runtime underneath can change.
export { Action, LogLevel, RootContext, HttpContext, registerRootContext, awaitCallout, log } from "./runtime";
export * from "./host";
