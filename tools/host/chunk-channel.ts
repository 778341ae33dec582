// The request body on its way from the router to a streaming upstream (HttpStreamOptions.streamRequestBody).

/** A single-consumer queue of body chunks: the router pushes, the upstream request pulls. */
export class ChunkChannel implements AsyncIterable<Uint8Array> {
  private readonly chunks: Uint8Array[] = [];
  private waiter: (() => void) | null = null;
  private ended = false;
  private error: Error | null = null;

  push(chunk: Uint8Array): void {
    if (this.ended) return;
    if (chunk.length) this.chunks.push(chunk);
    this.wake();
  }

  end(error?: Error): void {
    if (this.ended) return;
    this.ended = true;
    if (error) this.error = error;
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (;;) {
      while (this.chunks.length) yield this.chunks.shift()!;
      if (this.error) throw this.error;
      if (this.ended) return;
      await new Promise<void>((r) => (this.waiter = r));
    }
  }
}
