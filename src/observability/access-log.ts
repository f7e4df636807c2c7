import pino from 'pino';
import type { RequestContext } from '../pipeline/request-context.js';
import type { Logger } from './logger.js';

/** Writes the one access line of a finished request. */
export type AccessLogWriter = (ctx: RequestContext, status: number, bytes: number, durationMs: number) => void;

/**
 * The access line (SPEC §3 Logs), in the same JSON shape pino writes for every other event,
 * serialised by hand onto the logger's own destination. It is the one log line per request, so
 * it skips pino's generic path: redaction of paths it cannot contain and per-call object
 * walking cost more than proxying on a small machine (docs/performance.md). Strings still go
 * through JSON.stringify, so escaping is exactly JSON's.
 */
export function createAccessLogWriter(logger: Logger): AccessLogWriter {
  const stream = (logger as unknown as Record<symbol, { write(line: string): unknown }>)[pino.symbols.streamSym];
  if (!stream) return (ctx, status, bytes, ms) => logger.info(fields(ctx, status, bytes, ms));
  let lastMs = 0;
  let lastIso = '';
  return (ctx, status, bytes, durationMs) => {
    if (!logger.isLevelEnabled('info')) return;
    const now = Date.now();
    if (now !== lastMs) {
      lastMs = now;
      lastIso = new Date(now).toISOString();
    }
    stream.write(
      `{"level":"info","time":"${lastIso}","event":"access","requestId":${JSON.stringify(ctx.requestId)}` +
        `,"clientIp":${JSON.stringify(ctx.clientIp)},"host":${JSON.stringify(ctx.hostLabel)}` +
        `,"method":${JSON.stringify(ctx.req.method ?? '')},"path":${JSON.stringify(ctx.originalUrl ?? ctx.req.url ?? '')}` +
        `,"status":${status},"bytes":${bytes},"durationMs":${Math.round(durationMs * 1000) / 1000}` +
        `,"route":${JSON.stringify(ctx.routeLabel)},"upstream":${ctx.targetLabel === undefined ? 'null' : JSON.stringify(ctx.targetLabel)}}\n`,
    );
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
  };
}
