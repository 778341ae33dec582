// The plugins of the project tollgate runs in: which exist and are built (discover.ts), their plugin.json
// metadata and config schema check (meta.ts, schema-errors.ts), a plugin's own verdict on a config
// (verdict.ts), and the errors all of it throws (errors.ts).
export { assertBuilt, assertPlugin, bundledPluginNames, isBundledPlugin, pluginEntry, pluginMetaFile, pluginNames } from "./discover.ts";
export { PluginMetaError, PluginNotBuiltError, UnknownPluginError } from "./errors.ts";
export { checkConfig, loadPluginMeta, PHASES, sortByPhase, type Phase, type PluginMeta } from "./meta.ts";
export { formatSchemaErrors, jsonPath } from "./schema-errors.ts";
export { configurationBytes, pluginVerdict, type PluginVerdict } from "./verdict.ts";
