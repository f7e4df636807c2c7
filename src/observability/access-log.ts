import type { RequestContext } from '../pipeline/request-context.js';
import type { Logger } from './logger.js';

/** Writes the one access line of a request (SPEC §3 Logs). */
export function writeAccessLog(log: Logger, ctx: RequestContext, status: number, bytes: number, durationMs: number): void {
  log.info({
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
  });
}
