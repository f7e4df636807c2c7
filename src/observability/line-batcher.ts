import type { DestinationStream } from 'pino';

/** The part of a SonicBoom destination (in buffer mode) the batcher drives. */
export interface LineSink {
  write(data: Buffer): unknown;
  flush(cb?: (err?: Error) => void): void;
  flushSync(): void;
}

const CAPACITY = 64 * 1024;

/**
 * Encodes log lines into a buffer as they come and hands the sink about `batchBytes` at a
 * time. A gateway writes one access line per request, so the per-line cost matters:
 * - SonicBoom's own buffering appends each line to a growing string and measures its UTF-8
 *   length on every write, flattening the string each time;
 * - holding lines as strings until a batch is full keeps them alive across garbage
 *   collections, which then copy and promote them: that cost more than building the lines.
 * Here each line is encoded at once (its string dies young) into memory outside the JS heap,
 * and the system call is paid once per batch.
 *
 * Lines are kept in order, and are written when the batch is full, on `flush()` (the logger
 * calls it every second) and, synchronously, when the process exits.
 */
export class LineBatcher implements DestinationStream {
  private buf = Buffer.allocUnsafe(CAPACITY);
  private used = 0;

  /**
   * `maxBatch`: when set, no write is longer (unless one line is), and every write ends at the
   * end of a line: for a pipe shared by several processes, where short writes are atomic.
   */
  constructor(
    private readonly sink: LineSink,
    private readonly batchBytes = 16_384,
    private readonly maxBatch?: number,
  ) {}

  write(line: string): void {
    // A UTF-16 code unit takes at most 3 bytes in UTF-8.
    if (this.used + line.length * 3 > CAPACITY) {
      this.drain();
      if (line.length * 3 > CAPACITY) {
        this.sink.write(Buffer.from(line, 'utf8'));
        return;
      }
    }
    const before = this.used;
    this.used += this.buf.write(line, this.used, 'utf8');
    if (this.maxBatch !== undefined && this.used > this.maxBatch && before > 0) {
      // This line would make the batch too long: write the lines before it alone.
      this.sink.write(Buffer.from(this.buf.subarray(0, before)));
      this.buf.copy(this.buf, 0, before, this.used);
      this.used -= before;
    }
    if (this.used >= this.batchBytes) this.drain();
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
    if (this.used === 0) return;
    // The sink keeps the bytes until written; the buffer is reused at once.
    const batch = Buffer.from(this.buf.subarray(0, this.used));
    this.used = 0;
    this.sink.write(batch);
  }
}
