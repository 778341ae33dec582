// What tools/k8s throws; the CLI entry turns these into messages and exit codes (tools/cli/index.ts).
import { ToolError } from "../errors.ts";

/** A flag or argument the generators cannot use (a usage mistake: the CLI exits 2). */
export class GenError extends ToolError {}

/** The input files hold nothing to generate from (no Ingress, no routes). */
export class GenInputError extends ToolError {}

/** What was generated is rejected by the CRDs, the Envoy protos or the plugin itself: a tollgate bug. */
export class GenOutputError extends ToolError {}

/** A translation problem in an Ingress: the file, the field (YAML path) and how to fix it. */
export class IngressError extends ToolError {
  constructor(readonly file: string, readonly field: string, readonly problem: string, readonly fix: string) {
    super(`${file}: ${field}: ${problem}`, fix);
  }
}
