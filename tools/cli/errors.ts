import { ToolError } from "../errors.ts";

/** An error a command reports as a message (no stack) and exit code; say what is wrong and the fix. */
export class CliError extends ToolError {
  constructor(message: string, readonly exitCode = 1, hint?: string) {
    super(message, hint);
  }
}

/** A usage mistake: wrong flags or arguments (exit 2). */
export class UsageError extends CliError {
  constructor(message: string, hint?: string) {
    super(message, 2, hint);
  }
}
