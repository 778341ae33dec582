// What every `gen <kind>` module implements, and the flag readers several kinds share.
import type { ParsedArgs } from "../args.ts";
import { UsageError } from "../errors.ts";

export type Obj = Record<string, unknown>;

/** What a kind hands back: the documents to print, and what the CRDs / Envoy protos reject in them. */
export interface GenOutput {
  docs: unknown[];
  errors: string[];
  /** Printed instead of the docs as YAML (gen dashboard: JSON for Grafana's import). */
  text?: string;
}

/**
 * A kind's module default-exports this: it gets the operands after the kind (plugin names or files) and the
 * parsed flags, and throws a ToolError (UsageError, CliError, the generators' GenError, …) on bad input.
 */
export type GenKind = (operands: string[], values: ParsedArgs["values"]) => Promise<GenOutput>;

/** `k=v` flag values as a record. */
export function kv(values: string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf("=");
    if (i <= 0) throw new UsageError(`--${flag} '${v}' must be key=value`, `e.g. --${flag} app=productpage`);
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

/** The flag's value when it is one of `allowed`, undefined when absent. */
export function oneOf<T extends string>(flag: string, v: string | undefined, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (!allowed.includes(v as T)) throw new UsageError(`--${flag} must be one of ${allowed.join(", ")}, got '${v}'`);
  return v as T;
}
