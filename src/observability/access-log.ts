import type { ServerResponse } from 'node:http';
import type { RequestContext } from '../pipeline/request-context.js';
import type { Logger } from './logger.js';

/** Status logged when the client went away before the response was complete (nginx's 499). */
export const CLIENT_CLOSED = 499;

/** The status a finished exchange is logged and counted with. */
export function finalStatus(res: ServerResponse): number {
  return res.writableFinished || res.headersSent ? res.statusCode : CLIENT_CLOSED;
}

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
