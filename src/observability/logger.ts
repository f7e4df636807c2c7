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

/** The process logger: pino JSON on stdout (or a given destination, for tests). */
export function createLogger(level = 'info', destination?: DestinationStream): Logger {
  const options = {
    level,
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return pino(options, destination ?? stdoutDestination());
}

let stdout: LineBatcher | undefined;

/**
 * Stdout, batched: one write per ~16 KiB of log lines instead of one per access line. Flushed
 * every second, so a quiet gateway still shows its lines promptly, and synchronously when the
 * process exits. One per process, however many loggers write to it.
 */
function stdoutDestination(): LineBatcher {
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
  const batcher = new LineBatcher(pino.destination({ dest: 1, minLength: 0, sync: false, contentMode: 'buffer' }) as unknown as LineSink);
  setInterval(() => batcher.flush(), 1000).unref();
  stdout = batcher;
  return batcher;
}
