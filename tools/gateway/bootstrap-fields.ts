// Reading proto3-JSON fields of an already proto-valid bootstrap the way Envoy reads them (snake_case or
// lowerCamelCase, BoolValue spellings, a single value for a repeated field, enums by name or number), and
// collecting every field outside the embedded subset as a problem naming its YAML path.
import { protoBool, protoList } from "../envoy/proto-json.ts";
import { enumName } from "../envoy/validate.ts";

/** The reason given for everything outside the subset. */
export const UNSUPPORTED = "not supported by the embedded engine; run with --engine envoy";

export type Obj = Record<string, unknown>;

/** Collects subset problems while walking the already proto-valid document. */
export class Reader {
  problems: string[] = [];

  unsupported(path: string, what?: string): void {
    this.problems.push(`${path}: ${what ? `${what} is ` : ""}${UNSUPPORTED}`);
  }

  invalid(path: string, msg: string): void {
    this.problems.push(`${path}: ${msg}`);
  }

  /** Flags every present key outside `allowed`; `null` values count as absent (proto3 JSON). */
  only(obj: Obj, path: string, allowed: string[]): void {
    for (const [k, v] of Object.entries(obj)) {
      if (v === null || v === undefined) continue;
      if (!allowed.includes(snake(k))) this.unsupported(join(path, k), `field '${k}'`);
    }
  }
}

export function snake(k: string): string {
  return k.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase());
}

export function join(path: string, key: string | number): string {
  return typeof key === "number" ? `${path}[${key}]` : path ? `${path}.${key}` : key;
}

/** proto3 JSON accepts snake_case and lowerCamelCase for the same field. */
export function get(obj: Obj | undefined | null, key: string): unknown {
  if (!obj) return undefined;
  if (obj[key] !== undefined && obj[key] !== null) return obj[key];
  const camel = key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  const v = obj[camel];
  return v === null ? undefined : v;
}

export function obj(v: unknown): Obj {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {};
}

/** A repeated field (a single value is a list of one, as Envoy reads it). */
export function arr(v: unknown): unknown[] {
  return protoList(v);
}

/** A bool or BoolValue field as Envoy reads it (true, "yes", "Y", "1", …; see proto-json.ts); `def` when unset. */
export function bool(v: unknown, def = false): boolean {
  return protoBool(v) ?? def;
}

/** Package prefix of the Envoy config protos (enum type names). */
export const API = "envoy.config.";
/** An enum field given by name or number (proto3 JSON), as its name; `def` when unset. */
export function enumOf(type: string, v: unknown, def: string): string {
  if (v === undefined || v === null) return def;
  return enumName(type, v) ?? String(v);
}

export function str(v: unknown, def = ""): string {
  return typeof v === "string" ? v : def;
}

/** google.protobuf.Duration JSON ("1.5s") → milliseconds. */
export function durationMs(v: unknown, def: number): number {
  if (typeof v !== "string") return def;
  const m = /^(-?\d+(?:\.\d+)?)s$/.exec(v);
  return m ? Math.round(Number(m[1]) * 1000) : def;
}
