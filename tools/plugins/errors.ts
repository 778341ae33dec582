import { ToolError } from "../errors.ts";

/** A name that is not a plugin under plugins/ (a usage mistake: the CLI exits 2). */
export class UnknownPluginError extends ToolError {
  constructor(readonly plugin: string, readonly missing: string, readonly known: string[]) {
    super(`no plugin named '${plugin}' (${missing} does not exist)`, known.length ? `one of: ${known.join(", ")}` : "add plugins/<name>/index.ts and plugin.json");
  }
}

/** plugins/<name>/plugin.json is unreadable or breaks a rule; `field` is the offending key ("" for the file). */
export class PluginMetaError extends ToolError {
  constructor(readonly file: string, readonly field: string, readonly rule: string, hint = `edit ${file}`) {
    super(field ? `${file}: '${field}' ${rule}` : `${file}: ${rule}`, hint);
  }
}

/** dist/plugins/<name>.wasm (or the file given) is not there: the plugin was not built. */
export class PluginNotBuiltError extends ToolError {
  constructor(readonly file: string, readonly plugin: string, why?: string) {
    super(`${file} does not exist${why ? ` (${why})` : ""}`, `run 'tollgate build ${plugin}' first`);
  }
}
