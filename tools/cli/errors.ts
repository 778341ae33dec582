/** An error the CLI reports as a message (no stack) and exit code; say what is wrong and the fix. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1, readonly hint?: string) {
    super(message);
    this.name = "CliError";
  }
}

/** A usage mistake: wrong flags or arguments (exit 2). */
export class UsageError extends CliError {
  constructor(message: string, hint?: string) {
    super(message, 2, hint);
    this.name = "UsageError";
  }
}
