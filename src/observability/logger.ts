import pino, { type Logger, type DestinationStream } from 'pino';

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
  // Buffered stdout: one write per ~4 KiB of log lines instead of one per access line.
  // Flushed on shutdown and on a timer, so a quiet gateway still shows its lines promptly.
  const dest = destination ?? pino.destination({ dest: 1, minLength: 4096, sync: false });
  const logger = pino(options, dest);
  if (!destination) setInterval(() => logger.flush(), 1000).unref();
  return logger;
}
