import pino from 'pino';
import type { RequestContext } from '../pipeline/request-context.js';
import type { Logger } from './logger.js';

/** Writes the one access line of a finished request. */
export type AccessLogWriter = (ctx: RequestContext, status: number, bytes: number, durationMs: number) => void;

/**
 * The access line (SPEC §3 Logs), in the same JSON shape pino writes for every other event,
 * serialised by hand onto the logger's own destination. It is the one log line per request, so
 * it skips pino's generic path: redaction of paths it cannot contain and per-call object
 * walking cost more than proxying on a small machine (docs/performance.md). Escaping is exactly
 * JSON's: a string with anything to escape goes through JSON.stringify.
 */
export function createAccessLogWriter(logger: Logger): AccessLogWriter {
  const stream = (logger as unknown as Record<symbol, { write(line: string): unknown }>)[pino.symbols.streamSym];
  if (!stream) return (ctx, status, bytes, ms) => logger.info(fields(ctx, status, bytes, ms));
  const clock = createIsoClock();
  // The logger's bindings, pino-serialised (`,"worker":2` in a worker process, else empty).
  const bindings = String((logger as unknown as Record<symbol, unknown>)[pino.symbols.chindingsSym] ?? '');
  // Labels are quoted on each line rather than cached: a regex test costs less than a cache
  // that, with thousands of hosts, lives in the old generation and churns there.
  return (ctx, status, bytes, durationMs) => {
    if (!logger.isLevelEnabled('info')) return;
    stream.write(
      `{"level":"info","time":"${clock()}"${bindings},"event":"access","requestId":${jsonString(ctx.requestId)}` +
        `,"clientIp":${jsonString(ctx.clientIp)},"host":${jsonString(ctx.hostLabel)}` +
        `,"method":${jsonString(ctx.req.method ?? '')},"path":${jsonString(ctx.originalUrl ?? ctx.req.url ?? '')}` +
        `,"status":${status},"bytes":${bytes},"durationMs":${Math.round(durationMs * 1000) / 1000}` +
        `,"route":${jsonString(ctx.routeLabel)},"upstream":${ctx.targetLabel === undefined ? 'null' : jsonString(ctx.targetLabel)}` +
        `${ctx.bytesIn === undefined ? '' : `,"bytesIn":${ctx.bytesIn}`}}\n`,
    );
  };
}

/** Characters JSON.stringify would escape: quote, backslash, controls, lone surrogate halves. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A JSON string literal; request ids, addresses and most paths need no escaping, and skip stringify. */
export function jsonString(value: string): string {
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
}

/**
 * `Date#toISOString()` of now, as pino's isoTime writes it. The formatting is done once per
 * second; each call adds the milliseconds, which costs far less than formatting a Date.
 */
export function createIsoClock(now: () => number = Date.now): () => string {
  let second = -1;
  let prefix = '';
  return () => {
    const ms = now();
    const s = Math.floor(ms / 1000);
    if (s !== second) {
      second = s;
      prefix = new Date(s * 1000).toISOString().slice(0, 20); // "YYYY-MM-DDTHH:MM:SS."
    }
    const frac = ms - s * 1000;
    return `${prefix}${frac < 10 ? '00' : frac < 100 ? '0' : ''}${frac}Z`;
  };
}

function fields(ctx: RequestContext, status: number, bytes: number, durationMs: number): Record<string, unknown> {
  return {
    event: 'access',
    requestId: ctx.requestId,
    clientIp: ctx.clientIp,
    host: ctx.hostLabel,
    method: ctx.req.method,
    path: ctx.originalUrl ?? ctx.req.url,
    status,
    bytes,
    durationMs: Math.round(durationMs * 1000) / 1000,
    route: ctx.routeLabel,
    upstream: ctx.targetLabel ?? null,
    ...(ctx.bytesIn === undefined ? {} : { bytesIn: ctx.bytesIn }),
  };
}
