// Where a parser records why it failed: the first error wins, so one precise line reaches the log.

/** Shared by a parser and its children so the first error anywhere wins. */
export class ErrorSink {
  message: string = "";

  /** Records `message` unless an error is already recorded. */
  fail(message: string): void {
    if (this.message.length == 0) this.message = message;
  }
}
