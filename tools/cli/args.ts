import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./errors.ts";

/** One option of a command, documented as `[type] description (default: x)`. */
export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
  default?: string | boolean | string[];
  description: string;
  valueName?: string;
}

/**
 * A CLI verb: its help text, options and body. Commands throw typed errors (a ToolError: CliError, UsageError or
 * a library module's own); the entry (index.ts) maps them to messages and exit codes; nothing calls process.exit.
 */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  description?: string;
  options: Record<string, OptionSpec>;
  run(args: ParsedArgs): Promise<number | void>;
}

export interface ParsedArgs {
  positionals: string[];
  values: Record<string, string | boolean | string[] | undefined>;
}

/** Parses argv for a command; unknown flags are usage errors naming the flag and the help command. */
export function parseCommandArgs(cmd: Command, argv: string[]): ParsedArgs {
  const options: ParseArgsConfig["options"] = {};
  for (const [name, o] of Object.entries(cmd.options)) {
    const opt: NonNullable<ParseArgsConfig["options"]>[string] = { type: o.type };
    if (o.short) opt.short = o.short;
    if (o.multiple) opt.multiple = true;
    if (o.default !== undefined) opt.default = o.default as never;
    options![name] = opt;
  }
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: values as ParsedArgs["values"], positionals };
  } catch (e) {
    throw new UsageError((e as Error).message, `run 'tollgate ${cmd.name} --help' for the options`);
  }
}

/** Help text: usage, description, and one line per option in vite's `[type] description (default: x)` form. */
export function formatHelp(cmd: Command): string {
  const lines = [`Usage: tollgate ${cmd.usage}`, "", cmd.summary];
  if (cmd.description) lines.push("", cmd.description.trim());
  const opts = Object.entries(cmd.options);
  lines.push("", "Options:");
  const rows = opts.map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : "    "}--${name}${o.type === "string" ? ` <${o.valueName ?? "value"}>` : ""}`;
    const def = o.default !== undefined && o.default !== false ? ` (default: ${Array.isArray(o.default) ? o.default.join(",") : o.default})` : "";
    return [flag, `[${o.multiple ? `${o.type}[]` : o.type}] ${o.description}${def}`];
  });
  rows.push(["-h, --help", "[boolean] show this help"]);
  const width = Math.max(...rows.map((r) => r[0].length)) + 2;
  for (const [f, d] of rows) lines.push(`  ${f.padEnd(width)}${d}`);
  return lines.join("\n");
}

export function str(v: ParsedArgs["values"][string]): string | undefined {
  return typeof v === "string" ? v : undefined;
}

export function list(v: ParsedArgs["values"][string]): string[] {
  if (Array.isArray(v)) return v;
  return typeof v === "string" ? [v] : [];
}
