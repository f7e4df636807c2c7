import type { DestinationStream } from 'pino';

/** The part of pino's SonicBoom destination the batcher drives. */
export interface LineSink {
  write(data: string): unknown;
  flush(cb?: (err?: Error) => void): void;
  flushSync(): void;
}

/**
 * Collects log lines and hands them to the sink in batches of about `batchChars`, as one
 * string. SonicBoom's own buffering appends each line to a growing string and measures that
 * string's UTF-8 length on every write, which flattens the string each time and made a
 * gateway's one access line per request cost more than the logic that produced it
 * (docs/performance.md). Here a line costs one concatenation (V8 links the strings without
 * copying); the flattening, the length and the system call are paid once per batch. That is
 * also cheaper than collecting lines in an array and joining them.
 *
 * Lines are kept in order, and are written when the batch is full, on `flush()` (the logger
 * calls it every second) and, synchronously, when the process exits.
 */
export class LineBatcher implements DestinationStream {
  private pending = '';

  constructor(
    private readonly sink: LineSink,
    private readonly batchChars = 16_384,
  ) {}

  write(line: string): void {
    this.pending += line;
    if (this.pending.length >= this.batchChars) this.drain();
  }

  /** Hands the pending lines to the sink; `cb` runs once the sink has written them. */
  flush(cb?: (err?: Error) => void): void {
    this.drain();
    if (cb) this.sink.flush(cb);
  }

  /** Writes everything now, blocking: for process exit. */
  flushSync(): void {
    this.drain();
    this.sink.flushSync();
  }

  private drain(): void {
    if (this.pending === '') return;
    const batch = this.pending;
    this.pending = '';
    this.sink.write(batch);
  }
}
