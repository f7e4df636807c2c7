import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/observability/logger.js';

/** A pino logger whose lines are parsed and kept in memory, for assertions on log events. */
export interface LogSink {
  readonly logger: Logger;
  readonly lines: Record<string, unknown>[];
  find(match: Record<string, unknown>): Record<string, unknown> | undefined;
  filter(match: Record<string, unknown>): Record<string, unknown>[];
  /** Every raw line as written, to check that secrets never appear. */
  text(): string;
}

export function createLogSink(level = 'debug'): LogSink {
  const lines: Record<string, unknown>[] = [];
  let raw = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      const text = chunk.toString();
      raw += text;
      for (const line of text.split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const matches = (line: Record<string, unknown>, match: Record<string, unknown>) => Object.entries(match).every(([k, v]) => line[k] === v);
  return {
    logger: createLogger(level, stream),
    lines,
    find: (match) => lines.find((l) => matches(l, match)),
    filter: (match) => lines.filter((l) => matches(l, match)),
    text: () => raw,
  };
}
