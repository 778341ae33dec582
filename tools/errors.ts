/**
 * Base of the errors library modules under tools/ throw about their input or environment: what is wrong, and
 * a hint how to fix it. Each module subclasses it (UnknownPluginError, GenError, CompileError, …); the CLI
 * entry (tools/cli/index.ts) is the one place that turns them into messages and exit codes. Anything that
 * is not a ToolError is a tollgate bug.
 */
export class ToolError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
    this.name = new.target.name;
  }
}
