import { existsSync, readFileSync } from "node:fs";
import { CliError, UsageError } from "./errors.ts";

/** Deeper than any plugin config: schema checks, JSON.stringify and the plugins' readers would recurse that far. */
export const MAX_CONFIG_DEPTH = 64;

/** Reads a JSON or YAML plugin config file (gen, validate); errors name the file and the fix. */
export async function readConfigFile(file: string): Promise<Record<string, unknown>> {
  if (!existsSync(file)) throw new UsageError(`config file '${file}' does not exist`);
  const text = readFileSync(file, "utf8");
  let value: unknown;
  try {
    if (/\.ya?ml$/i.test(file)) value = (await import("yaml")).parse(text);
    else value = JSON.parse(text);
  } catch (e) {
    if (e instanceof RangeError) throw new CliError(`${file}: cannot parse: nested too deep for the parser`, 1, `a plugin config is a few levels deep (at most ${MAX_CONFIG_DEPTH}); check the file is the config you meant`);
    throw new CliError(`${file}: cannot parse: ${(e as Error).message}`, 1, "fix the syntax (JSON, or YAML for .yaml/.yml files)");
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) throw new CliError(`${file}: the config must be a JSON object (the WasmPlugin pluginConfig), got ${Array.isArray(value) ? "a list" : JSON.stringify(value)}`, 1, "wrap the settings in { … }");
  const deep = tooDeep(value);
  if (deep) throw new CliError(`${file}: nested more than ${MAX_CONFIG_DEPTH} levels deep at ${deep}`, 1, `a plugin config is a few levels deep; check the file is the config you meant (the schema is in plugins/<name>/plugin.json)`);
  return value as Record<string, unknown>;
}

/** The path of the first value nested deeper than MAX_CONFIG_DEPTH, or null; iterative, so any depth is safe. */
function tooDeep(root: unknown): string | null {
  const stack: Array<[unknown, string, number]> = [[root, "", 0]];
  while (stack.length) {
    const [v, path, depth] = stack.pop()!;
    if (!v || typeof v !== "object") continue;
    if (depth >= MAX_CONFIG_DEPTH) return path.length > 80 ? `${path.slice(0, 80)}…` : path || "the top";
    for (const [k, x] of Object.entries(v)) stack.push([x, Array.isArray(v) ? `${path}[${k}]` : path ? `${path}.${k}` : k, depth + 1]);
  }
  return null;
}
