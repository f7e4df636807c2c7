import pino, { type Logger, type DestinationStream } from 'pino';
import { LineBatcher, type LineSink } from './line-batcher.js';

export type { Logger } from 'pino';

/** Paths pino blanks out wherever they appear in a log line. */
const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  '*.password',
  'users.*',
  '*.users.*',
];

/**
 * The process logger: pino JSON on stdout (or a given destination, for tests). A process of a
 * multi-process instance passes its `worker` number (0 for the supervisor): every line carries
 * it, and stdout, shared by all, gets each line whole.
 */
export function createLogger(level = 'info', destination?: DestinationStream, worker?: number): Logger {
  const options = {
    level,
    base: worker === undefined ? undefined : { worker },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return pino(options, destination ?? stdoutDestination(worker !== undefined));
}

let stdout: LineBatcher | undefined;
const PIPE_BUF = 4096;

/**
 * Stdout, batched: one write per ~16 KiB of log lines instead of one per access line. Flushed
 * every second, so a quiet gateway still shows its lines promptly, and synchronously when the
 * process exits. One per process, however many loggers write to it.
 */
function stdoutDestination(shared: boolean): LineBatcher {
  if (stdout) return stdout;
  // Registered before pino's own exit hooks for the SonicBoom below, so that the batch reaches
  // it before pino flushes and ends it. On `exit` only synchronous writes can still happen.
  const quietly = (write: () => void) => () => {
    try {
      write();
    } catch {
      // stdout is closed or already ended: nothing left to write to.
    }
  };
  process.on('beforeExit', quietly(() => batcher.flush()));
  process.on('exit', quietly(() => batcher.flushSync()));
  // Several processes writing to one pipe: a write of at most PIPE_BUF bytes (4 KiB on Linux)
  // is never interleaved with another's, so each process writes whole lines, 4 KiB at most.
  const maxWrite = shared ? PIPE_BUF : undefined;
  const sink = pino.destination({ dest: 1, minLength: 0, sync: false, contentMode: 'buffer', ...(maxWrite ? { maxWrite } : {}) });
  const batcher = new LineBatcher(sink as unknown as LineSink, maxWrite ?? 16_384, maxWrite);
  setInterval(() => batcher.flush(), 1000).unref();
  stdout = batcher;
  return batcher;
}
